"""Garbage collection of blob files (dead blobs and crash orphans) and of abandoned multipart uploads.

Two kinds of garbage, two rules that keep every live byte safe:

- **Dead blobs** were marked dead by the metadata transaction that stopped referencing them (a
  replaced, deleted or aborted object or part). Their files are deleted first and their rows forgotten
  second, so a crash in between only leaves rows that the next run finds again.
  :func:`release_blobs` does this right after a transaction; :func:`collect_garbage` catches up on
  whatever a crash or an error left behind.
- **Orphans** are committed files that no row knows: the process died between ``commit()`` of the
  blob and the metadata transaction. Only files older than the grace period are considered, so a
  write in progress (blob committed, transaction not yet run) is never mistaken for one.
- **Unfinished writes** (a local temporary file, an upstream multipart upload: a blob still receiving
  its body) are removed only past :func:`write_grace`, which no live upload can reach: a body takes at
  most ``max_upload_seconds`` (then ``body_timeout`` for its end, ``orphan_grace`` for its commit).
  Not ``orphan_grace`` alone: that once aborted slow uploads still receiving data (a 16 MiB PUT over
  an hour with the defaults, 500 to its client). An age rather than a list of live writes, because it
  needs no coordination between nodes, and a node that died mid-upload has its leftovers collected all
  the same, by whichever node sweeps.
- **Abandoned uploads** (:func:`abort_abandoned_uploads`) were started longer ago than the
  ``abandoned_upload_age`` setting and never completed or aborted: S3's lifecycle rule
  ``AbortIncompleteMultipartUpload``, server-wide. Aborting one makes its parts dead blobs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from satchel import metrics
from satchel.blobs.base import BlobStore
from satchel.config import Settings
from satchel.core.errors import NoSuchUpload
from satchel.meta.store import Store, StoreWrite

log = logging.getLogger(__name__)

#: Ids handled per round trip: bounds memory and the length of each metadata transaction.
BATCH = 1000


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """A :data:`~satchel.meta.store.StoreWrite` for callers without a node (the admin CLI). A server
    passes ``Node.write``, so the collector's writes queue with the worker's others."""
    return await asyncio.to_thread(fn, *args)


def write_grace(settings: Settings) -> float:
    """Seconds an unfinished write must age before the collector removes what it left (the grace of
    :meth:`BlobStore.orphans`'s ``writes_before``).

    ``max_upload_seconds`` bounds a body (``core/receive.py``: checked as each piece arrives), a body
    that stops is cut after ``body_timeout``, and ``orphan_grace`` is the margin every write already
    gets between its steps (here: ``commit()``, the last part and ``CompleteMultipartUpload``). With no
    upload limit (0) nothing bounds a write; then an unfinished one is left for
    ``abandoned_upload_age`` (S3's own word for "abandoned"), and never collected when that is 0 too.
    """
    if settings.max_upload_seconds > 0:
        return settings.max_upload_seconds + settings.body_timeout + settings.orphan_grace
    if settings.abandoned_upload_age > 0:
        return float(max(settings.abandoned_upload_age, settings.orphan_grace))
    return float("inf")


@dataclass(frozen=True, slots=True)
class GcReport:
    dead_deleted: int
    orphans_deleted: int


async def release_blobs(store: Store, blobs: BlobStore, blob_ids: list[str], write: StoreWrite = in_thread) -> None:
    """Delete the files of blobs a transaction just made dead, then forget their rows.

    Never raises: the request that freed them has already succeeded, and a failure here only leaves
    dead rows that the next :func:`collect_garbage` retries.
    """
    if not blob_ids:
        return
    try:
        await blobs.delete(blob_ids)
        await write(store.forget_blobs, blob_ids)
    except Exception:
        log.exception("could not release %d dead blobs; the garbage collector will retry", len(blob_ids))


async def collect_garbage(
    store: Store, blobs: BlobStore, *, now: float, orphan_grace: float, write_grace: float,
    write: StoreWrite = in_thread
) -> GcReport:
    """One full pass: every dead blob, then every orphan older than ``now - orphan_grace`` and every
    unfinished write older than ``now - write_grace`` (:func:`write_grace`)."""
    dead_deleted = 0
    previous: list[str] = []
    while True:
        batch = await asyncio.to_thread(store.dead_blobs, BATCH)
        # The same batch twice means its rows cannot be forgotten: stop rather than spin.
        if not batch or batch == previous:
            break
        await blobs.delete(batch)
        await write(store.forget_blobs, batch)
        dead_deleted += len(batch)
        if len(batch) < BATCH:
            break
        previous = batch

    candidates = await asyncio.to_thread(blobs.orphans, now - orphan_grace, now - max(write_grace, orphan_grace))
    orphans_deleted = 0
    for start in range(0, len(candidates), BATCH):
        ids = candidates[start : start + BATCH]
        known = await asyncio.to_thread(store.known_blobs, ids)
        unknown = [blob_id for blob_id in ids if blob_id not in known]
        if unknown:
            await blobs.delete(unknown)
            orphans_deleted += len(unknown)
    metrics.GC_BACKLOG.labels("dead_blobs").set(dead_deleted)
    metrics.GC_BACKLOG.labels("orphan_blobs").set(orphans_deleted)
    metrics.GC_COLLECTED.labels("dead_blobs").inc(dead_deleted)
    metrics.GC_COLLECTED.labels("orphan_blobs").inc(orphans_deleted)
    if dead_deleted or orphans_deleted:
        log.info("garbage collection: %d dead blobs and %d orphans deleted", dead_deleted, orphans_deleted)
    return GcReport(dead_deleted=dead_deleted, orphans_deleted=orphans_deleted)


async def abort_abandoned_uploads(store: Store, blobs: BlobStore, *, now: float, age: float,
                                  write: StoreWrite = in_thread) -> int:
    """Abort every multipart upload started more than ``age`` seconds before ``now`` (``age`` 0: none);
    how many. Their part blobs are released at once."""
    if age <= 0:
        return 0
    aborted = 0
    while True:
        ids = await asyncio.to_thread(store.abandoned_uploads, now - age, BATCH)
        if aborted == 0:
            metrics.GC_BACKLOG.labels("abandoned_uploads").set(len(ids))
        for upload_id in ids:
            try:
                dead = await write(store.abort_upload, upload_id)
            except NoSuchUpload:
                continue  # completed or aborted by its client meanwhile
            await release_blobs(store, blobs, dead, write)
            aborted += 1
        if len(ids) < BATCH:
            break
    metrics.GC_COLLECTED.labels("abandoned_uploads").inc(aborted)
    if aborted:
        log.info("garbage collection: %d multipart uploads abandoned for over %d s aborted", aborted, age)
    return aborted
