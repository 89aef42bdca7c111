"""Store calls made on an event-loop thread: counted always, refused in tests.

On PostgreSQL every store call is a network round trip; made on the event loop, it stalls every request
of the worker for that long (issue 14). Core reaches the store through ``Node.read``/``Node.write``, which
hop to threads; this guard is the proof that nothing else does. It wraps the public methods of one store
instance: a call made on a thread that runs an asyncio loop is counted by method name, logged once per
name at WARNING and, in ``raise`` mode, refused with :class:`StoreCalledOnLoop` (logged at ERROR, so a
refusal that something upstream swallowed still shows in the log).

The mode comes from ``SATCHEL_STORE_LOOP_GUARD``: ``count`` (the default on PostgreSQL), ``raise`` (the
tests), ``off``. SQLite stores are not wrapped unless the variable asks for it: on SQLite the event loop
calling reads directly is the design (``Node.read`` runs them inline), so there is nothing to count.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from satchel.meta.store import Store

log = logging.getLogger("satchel.meta.loopguard")

ENV = "SATCHEL_STORE_LOOP_GUARD"
#: Called at set-up or from any thread by design (the writer's transaction, the change listener; a job
#: lock, which only connects in its own ``held``, called in a thread).
_EXEMPT = frozenset({"close", "group", "watch", "backup_to", "schema_version", "job_lock"})


class StoreCalledOnLoop(RuntimeError):
    """A store call on an event-loop thread while the guard refuses them (a bug: hop it)."""


class LoopGuard:
    def __init__(self, mode: str) -> None:
        if mode not in ("count", "raise"):
            raise ValueError(f"{ENV} must be count, raise or off, not {mode!r}")
        self.mode = mode
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def seen(self, name: str) -> None:
        with self._lock:
            first = name not in self.calls
            self.calls[name] += 1
        if self.mode == "raise":
            log.error("store call on the event loop: %s", name)
            raise StoreCalledOnLoop(f"Store.{name} called on the event loop")
        if first:
            log.warning("store call on the event loop: %s (blocks the worker; hop it through Node.read)", name)


def _on_loop() -> bool:
    return asyncio._get_running_loop() is not None


def install(store: Store, *, default: str) -> LoopGuard | None:
    """Wrap ``store``'s methods per ``SATCHEL_STORE_LOOP_GUARD`` (else ``default``); None when off."""
    mode = os.environ.get(ENV, default).strip().lower() or default
    if mode == "off":
        return None
    guard = LoopGuard(mode)
    for name in dir(store):
        if name.startswith("_") or name in _EXEMPT:
            continue
        method = getattr(store, name)
        if not callable(method) or isinstance(method, type):
            continue

        def checked(*args: Any, __method: Callable[..., Any] = method, __name: str = name, **kwargs: Any) -> Any:
            if _on_loop():
                guard.seen(__name)
            return __method(*args, **kwargs)

        functools.update_wrapper(checked, method)
        setattr(store, name, checked)
    return guard
