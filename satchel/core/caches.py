"""Per-worker caches of slowly changing metadata, kept honest by the store generation.

Every change to users, keys, grants, bucket settings and revocations bumps one counter in the store
(in the same transaction). A cache compares that counter before answering — reading it at most every
:data:`GENERATION_TTL` seconds, so the hot path costs one small read per few milliseconds instead of
several per request — and drops everything when it moved. A revocation therefore takes effect on
every worker and every node within ``GENERATION_TTL`` seconds.
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

    def expire(self) -> None:
        """Read the generation again on the next call."""
        self._checked_at = float("-inf")

    def relax(self, ttl: float | None) -> None:
        """Re-read at most every ``ttl`` seconds (None: the default again). A store that announces
        changes (PostgreSQL's change listener calls :meth:`expire`) relaxes the polling while it can."""
        self._ttl = self._default_ttl if ttl is None else ttl

    def current(self) -> int:
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
        if len(self._items) >= self._max:
            self._items.clear()
        self._items[key] = found
        return found
