"""Deletions of upstream blobs, carried out ``blobs_delete_delay`` seconds after they were asked for.

An upstream object cannot be held open the way a local file can (see ``s3.py``): what keeps a read that
started before a DELETE or an overwrite from being cut short is that the bytes stay upstream for a
while after the metadata stopped referencing them. Every ``BlobStore.delete()`` lands here; the ids wait
in memory, in the order they came, and one background task deletes them (``DeleteObjects``, 1000 keys
a request) once they are due.

Crash safety without a table: the rows of those blobs are already gone from the metadata, so a pending
deletion lost to a crash, a restart or a full queue leaves an *orphan*, which the garbage collector
finds (``orphans()``: unknown to the metadata, older than ``orphan_grace``) and hands back to
``delete()``, which waits the delay again. So no upstream object is ever deleted sooner than the delay
after ``delete()`` was called for it, by any worker or node; it only ever waits longer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: Ids waiting at most, per process (~100 bytes each); beyond, a deletion is left to the orphan pass.
MAX_PENDING = 200_000
#: Seconds before a failed batch (upstream down) is tried again.
RETRY_AFTER = 30.0


class DeferredDeletes:
    def __init__(self, delay: float, delete_now: Callable[[list[str]], Awaitable[None]]) -> None:
        self.delay = delay
        self._delete_now = delete_now
        self._queue: collections.deque[tuple[float, list[str]]] = collections.deque()
        #: Every id in the queue: a blob asked for twice (the collector finds a pending one as an
        #: orphan) waits once.
        self.pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def delete(self, blob_ids: list[str]) -> None:
        fresh = [blob_id for blob_id in dict.fromkeys(blob_ids) if blob_id not in self.pending]
        if not fresh:
            return
        if self.delay <= 0:
            await self._delete_now(fresh)
            return
        room = MAX_PENDING - len(self.pending)
        if room < len(fresh):
            log.warning("%d blob deletions left to the orphan collector: %d already wait",
                        len(fresh) - max(room, 0), len(self.pending))
            fresh = fresh[: max(room, 0)]
        if fresh:
            self._queue.append((time.monotonic() + self.delay, fresh))
            self.pending.update(fresh)
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._queue:
            due, ids = self._queue[0]
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            self._queue.popleft()
            try:
                await self._delete_now(ids)
            except Exception:
                # The upstream is down: try again later; a crash meanwhile leaves orphans (see above).
                log.warning("could not delete %d blobs upstream; retrying in %g s", len(ids), RETRY_AFTER)
                self._queue.append((time.monotonic() + RETRY_AFTER, ids))
                continue
            self.pending.difference_update(ids)

    def close(self) -> None:
        """Give up the waiting deletions: they are orphans now, for the next collector to delete after the
        delay (deleting them at once could cut short a read another node is serving)."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(RuntimeError):  # the loop that ran it is closed already
                self._task.cancel()
        if self.pending:
            log.info("%d blob deletions left to the orphan collector at shutdown", len(self.pending))
        self._queue.clear()
        self.pending.clear()
