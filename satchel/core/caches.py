"""Per-worker caches of slowly changing metadata, kept honest by the store generation.

Every change to users, keys, grants, bucket settings and revocations bumps one counter in the store
(in the same transaction). A cache compares that counter before answering — reading it at most every
:data:`GENERATION_TTL` seconds, so the hot path costs one small read per few milliseconds instead of
several per request — and drops everything when it moved. A revocation therefore takes effect on
every worker and every node within ``GENERATION_TTL`` seconds.

On a store whose reads block (PostgreSQL, ``Store.reads_inline`` False) the event loop never reads the
generation: the change listener's thread reads it on every notification and at least every
``LISTENING_TTL`` and publishes it (:meth:`GenerationGate.publish`), and ``current()`` answers from memory. A miss
of a cache loads through ``Node.read`` (the front-ends warm what a request needs at its entry, see
``Node.warm``); a sync getter that still misses on the loop reads the store there, and the store's loop
guard (``meta/loopguard.py``) counts it: a bug to fix, never silent. Loads may run in reader threads:
a value loaded while the generation moved is not kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from satchel.core.models import Bucket
from satchel.meta.store import Store

GENERATION_TTL = 0.005
_MISSING = object()


class GenerationGate:
    def __init__(self, store: Store, *, ttl: float = GENERATION_TTL,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._ttl = self._default_ttl = ttl
        self._monotonic = monotonic
        self._checked_at = float("-inf")
        self._value = -1
        self._pushed = False

    @property
    def pushed(self) -> bool:
        """Whether a watcher thread publishes the generation (the loop then never reads it)."""
        return self._pushed

    def publish(self, generation: int | None) -> None:
        """The generation as a watcher thread just read it; from now on :meth:`current` answers it without
        reading. None: the watcher stopped (PostgreSQL away): poll the store again as on SQLite."""
        if generation is None:
            self._pushed = False
            self._checked_at = float("-inf")
            return
        self._value = max(self._value, generation) if self._pushed else generation
        self._pushed = True

    def advance(self, generation: int) -> None:
        """A generation this worker read itself (after its own write): never go back, never start pushing."""
        if self._pushed:
            self._value = max(self._value, generation)

    def expire(self) -> None:
        """Read the generation again on the next call."""
        self._checked_at = float("-inf")

    def relax(self, ttl: float | None) -> None:
        """Re-read at most every ``ttl`` seconds (None: the default again). A store that announces
        changes (PostgreSQL's change listener calls :meth:`expire`) relaxes the polling while it can."""
        self._ttl = self._default_ttl if ttl is None else ttl

    def current(self) -> int:
        if self._pushed:
            return self._value
        now = self._monotonic()
        if now - self._checked_at >= self._ttl:
            self._value = self._store.generation()
            self._checked_at = now
        return self._value


class BucketCache:
    """Bucket settings by name (including "no such bucket"), valid for one generation. The bucket policy
    is one of them (``Bucket.policy``; parsed once per document, ``core/policy.compiled``)."""

    def __init__(self, store: Store, gate: GenerationGate, *, max_entries: int = 10000) -> None:
        self._store = store
        self._gate = gate
        self._generation = -1
        self._items: dict[str, Bucket | None] = {}
        self._max = max_entries

    def get(self, name: str) -> Bucket | None:
        generation = self._gate.current()
        if generation != self._generation:
            self._items.clear()
            self._generation = generation
        found = self._items.get(name, _MISSING)
        if found is _MISSING:
            found = self._store.get_bucket(name)
            if self._generation != generation:
                return found  # the generation moved while it loaded (another thread): do not keep it
            if len(self._items) >= self._max:
                self._items.clear()
            self._items[name] = found
        return found  # type: ignore[return-value]


_T = TypeVar("_T")


class KeyedCache(Generic[_T]):
    """``load(key)`` by key (including "none"), valid for one generation: bucket settings kept outside the
    bucket's row, whose writes bump the generation too (lifecycle rules, ``core/lifecycle.py``)."""

    def __init__(self, gate: GenerationGate, load: Callable[[str], _T], *, max_entries: int = 10000) -> None:
        self._gate = gate
        self._load = load
        self._generation = -1
        self._items: dict[str, _T] = {}
        self._max = max_entries

    def get(self, key: str) -> _T:
        generation = self._gate.current()
        if generation != self._generation:
            self._items.clear()
            self._generation = generation
        if key in self._items:
            return self._items[key]
        found = self._load(key)
        if self._generation != generation:
            return found  # the generation moved while it loaded (another thread): do not keep it
        if len(self._items) >= self._max:
            self._items.clear()
        self._items[key] = found
        return found
