"""The lifecycle worker: applies every bucket's enabled rules (``core/lifecycle.py``) in the background.

Each pass, for each bucket with rules: objects a ``Days``/``Date`` expiration has come due for are deleted
— as a DeleteObject would: one metadata transaction (which drops their tags) marks their blobs dead, and
the files go right after (``gc.release_blobs``) — and multipart uploads older than an
``AbortIncompleteMultipartUpload`` rule allows are aborted, and noncurrent versions a
``NoncurrentVersionExpiration`` has come due for are removed for good (``core/lifecycle_noncurrent.py``).
A delete is conditional on the object still being the version the pass looked at (same ETag and
Last-Modified), so an overwrite made meanwhile is never expired on the old version's age.

**One runner per deployment.** Every worker process of every node starts the loop, but a pass runs only
in the process that holds the job's lock, taken without waiting: on SQLite (one node) an exclusive
``flock`` on ``<data_dir>/lifecycle.lock``; on PostgreSQL (many nodes) a session-level advisory lock of
its own (``meta/postgres_db.py`` ``JobElector``). Either is released when its process dies, and another
worker (of any node) takes over at its next interval. Expiration and aborts are idempotent, but two
processes scanning the same buckets would only double the work. The garbage collector elects its
sweeper the same way on PostgreSQL (``app.py``; :func:`elected`).
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from satchel import metrics
from satchel.core import lifecycle, versioning
from satchel.core.errors import NoSuchBucket, NoSuchUpload, PreconditionFailed, VersioningChanged
from satchel.core.gc import release_blobs
from satchel.core.lifecycle import Rule
from satchel.core.lifecycle_noncurrent import expire_noncurrent
from satchel.core.models import ObjectRecord, ObjectSummary
from satchel.core.node import Node
from satchel.meta.store import JobLock

log = logging.getLogger(__name__)

#: Keys or uploads read per page.
PAGE = 1000
LOCK_NAME = "lifecycle.lock"


@dataclass(slots=True)
class LifecycleReport:
    expired: int = 0
    aborted: int = 0
    noncurrent_expired: int = 0


async def run_pass(node: Node, now: float) -> LifecycleReport:
    """One pass over every bucket that has rules. Errors in one bucket are logged and do not stop the others."""
    report = LifecycleReport()
    day = node.settings.lifecycle_day
    for name, bucket_id, stored in await asyncio.to_thread(node.store.lifecycle_buckets):
        rules = [rule for rule in lifecycle.load(stored) if rule.enabled]
        try:
            for rule in rules:
                if rule.expires:
                    report.expired += await _expire(node, name, bucket_id, rule, now, day)
                if rule.noncurrent_days is not None:  # before the markers: it may leave one alone
                    report.noncurrent_expired += await expire_noncurrent(node, name, bucket_id, rule, now, day)
                if rule.expired_object_delete_marker:
                    report.expired += await versioning.drop_expired_markers(node, name, bucket_id, rule.prefix,
                                                                            rule.selects)
                if rule.abort_days is not None:
                    report.aborted += await _abort(node, name, rule, now, day)
        except NoSuchBucket:
            continue  # deleted meanwhile: its rules went with it
        except Exception:
            log.exception("lifecycle rules of bucket %s could not be applied; retrying next pass", name)
    metrics.GC_COLLECTED.labels("lifecycle_expired").inc(report.expired)
    metrics.GC_COLLECTED.labels("lifecycle_aborted_uploads").inc(report.aborted)
    metrics.GC_COLLECTED.labels("lifecycle_noncurrent_expired").inc(report.noncurrent_expired)
    if report.expired or report.aborted or report.noncurrent_expired:
        log.info("lifecycle: %d objects expired, %d noncurrent versions expired, %d multipart uploads aborted",
                 report.expired, report.noncurrent_expired, report.aborted)
    return report


def _unchanged(seen: ObjectSummary) -> Callable[[ObjectRecord | None], None]:
    def precondition(current: ObjectRecord | None) -> None:
        if current is None or current.etag != seen.etag or current.last_modified != seen.last_modified:
            raise PreconditionFailed()
    return precondition


async def _expire(node: Node, bucket: str, bucket_id: str, rule: Rule, now: float, day: float) -> int:
    date = rule.expiration_time
    if date is not None and now < date:
        return 0
    expired = 0
    after: str | None = None
    while True:
        page = await asyncio.to_thread(node.store.list_objects, bucket, prefix=rule.prefix, after=after, limit=PAGE)
        for summary in page:
            if date is None and now < lifecycle.due(summary.last_modified, rule.expiration_days or 0, day):
                continue
            tags = await asyncio.to_thread(node.store.get_object_tags, bucket, summary.key) if rule.tags else None
            if not rule.selects(summary.key, summary.size, tags):
                continue
            # In a versioned bucket, expiring the current version puts a delete marker over it (as on AWS).
            marker = await node.read(versioning.version_for, node, bucket)
            try:
                dead = await node.write(node.store.delete_object, bucket, summary.key, _unchanged(summary),
                                        bucket_id=bucket_id, **({"marker": marker} if marker else {}))
            except (PreconditionFailed, VersioningChanged):
                continue  # overwritten or deleted since the page was read, or versioning changed: next pass
            await release_blobs(node.store, node.blobs, dead, node.write)
            expired += 1
        if len(page) < PAGE:
            return expired
        after = page[-1].key


async def _abort(node: Node, bucket: str, rule: Rule, now: float, day: float) -> int:
    aborted = 0
    key_marker: str | None = None
    upload_marker: str | None = None
    days = rule.abort_days or 0
    while True:
        page = await asyncio.to_thread(functools.partial(
            node.store.list_uploads, bucket, prefix=rule.prefix, key_marker=key_marker,
            upload_id_marker=upload_marker, limit=PAGE))
        for upload in page:
            if now < lifecycle.due(upload.initiated, days, day) or not rule.selects(upload.key):
                continue
            try:
                dead = await node.write(node.store.abort_upload, upload.upload_id)
            except NoSuchUpload:
                continue  # completed or aborted by its client meanwhile
            await release_blobs(node.store, node.blobs, dead, node.write)
            aborted += 1
        if len(page) < PAGE:
            return aborted
        key_marker, upload_marker = page[-1].key, page[-1].upload_id


class RunnerLock:
    """The node-wide ``flock`` that elects the one process running lifecycle passes (see module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def held(self) -> bool:
        """True when this process holds the lock (taking it now if it is free)."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class Election:
    """Whether this process runs a job now, logged when that changes (not on every check)."""

    def __init__(self, job: str, lock: JobLock) -> None:
        self.job = job
        self.lock = lock
        self.running = False

    async def held(self) -> bool:
        held = await asyncio.to_thread(self.lock.held)
        if held != self.running:
            self.running = held
            log.info("this process %s the %s job (pid %d)", "now runs" if held else "no longer runs",
                     self.job, os.getpid())
        return held

    def release(self) -> None:
        self.lock.release()


def elected(node: Node, job: str, fallback: JobLock | None = None) -> Election | None:
    """The election for ``job``: the store's deployment-wide lock (PostgreSQL), else ``fallback`` (a
    node's own lock), else None (every process runs it)."""
    lock = node.store.job_lock(job) or fallback
    return Election(job, lock) if lock is not None else None


async def lifecycle_loop(node: Node) -> None:
    """Every ``lifecycle_interval`` seconds, run a pass if this process is the deployment's runner."""
    election = elected(node, "lifecycle", RunnerLock(Path(node.settings.data_dir) / LOCK_NAME))
    assert election is not None
    try:
        while True:
            try:
                if await election.held():
                    await run_pass(node, node.clock.now())
            except Exception:
                log.exception("lifecycle pass failed; retrying later")
            await asyncio.sleep(node.settings.lifecycle_interval)
    finally:
        election.release()
