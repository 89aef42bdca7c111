"""One node's working set: settings, stores, clock, caches and the writer thread.

Every front-end receives the same :class:`Node`; core services take it as their first argument. It is
built once per worker process (``app.py``), never per request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from satchel.blobs.base import BlobStore
from satchel.clock import Clock, SystemClock
from satchel.config import Settings
from satchel.core.admission import RevocationList
from satchel.core.audit import AuditLog
from satchel.core.caches import BucketCache, GenerationGate, KeyedCache
from satchel.core.credentials import CredentialCache
from satchel.core.errors import ServiceUnavailable
from satchel.core.models import Bucket
from satchel.core.sightings import Sightings
from satchel.core.tempurlkeys import TempUrlKeyCache
from satchel.core.writer import MetadataWriter
from satchel.meta import loopguard
from satchel.meta.store import Store

T = TypeVar("T")


@dataclass
class Node:
    settings: Settings
    store: Store
    blobs: BlobStore
    #: Decrypted access keys and principals, per worker, invalidated by the store generation.
    credentials: CredentialCache
    clock: Clock = field(default_factory=SystemClock)
    #: Metadata writes run in its thread, one at a time per process, with group commit (see
    #: ``core/writer.py``): SQLite admits one writer anyway, and a commit that waits for fsync must
    #: not stall the event loop.
    _writer: MetadataWriter = field(init=False)
    #: Reader threads of ``read`` (None: reads run inline).
    _readers: ThreadPoolExecutor | None = field(init=False, default=None)
    loop_guard: loopguard.LoopGuard | None = field(init=False, default=None)

    async def read(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a metadata read (or a sync helper that reads) without blocking the event loop.

        Inline on a store whose reads are in-process (SQLite: measured cheaper than any hop, see
        ``bench/README.md``); otherwise in a bounded pool of reader threads (``postgres_pool_size`` - 1:
        one per pooled connection, one left for the writer), so the loop only awaits.
        """
        if self._readers is None:
            return fn(*args, **kwargs)
        hop = asyncio.get_running_loop().run_in_executor(self._readers, functools.partial(fn, *args, **kwargs))
        # Bounded here, not by the driver: a server that froze (SIGSTOP, a hung disk) still ACKs, so no
        # socket timeout fires while a statement waits for its answer. A read still queued is dropped; one
        # running is left to its thread (the pool's threads and connections stay bounded) and its answer
        # is thrown away.
        try:
            done, _ = await asyncio.wait({hop}, timeout=self.store_bound)
        except asyncio.CancelledError:
            hop.cancel()
            raise
        if not done:
            hop.cancel()
            raise ServiceUnavailable(f"The metadata database did not answer within {self.store_bound:g} s. "
                                     "Retry.")
        return hop.result()

    @property
    def store_bound(self) -> float:
        """The longest a request waits on one metadata read or write (``postgres_timeout``) before its 503."""
        return self.settings.postgres_timeout

    async def refresh(self) -> None:
        """Make this worker's next lookups see every change committed so far (its own write, or a write
        checked again once its body arrived): on PostgreSQL the generation is read now, off the loop."""
        self.gate.expire()
        self.credentials.expire()
        if self.gate.pushed:
            generation = await self.read(self.store.generation)
            self.gate.advance(generation)
            self.credentials.advance(generation)

    async def warm(self, bucket: str | None) -> None:
        """Load what a request on ``bucket`` reads from the caches (bucket settings, lifecycle rules,
        revocations) through the read hop, so that the sync getters then answer from memory. Nothing
        to do where reads run inline anyway."""
        if self._readers is not None:
            await self.read(self._warm, bucket)

    def _warm(self, bucket: str | None) -> None:
        self.revocations.current()
        found = self.buckets.get(bucket) if bucket else None
        if found is not None:
            self.lifecycles.get(found.id)

    async def write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a blocking metadata write off the event loop (see :class:`MetadataWriter`); on a store whose
        calls are round trips, bounded by :attr:`store_bound` (a 503 after it, see ``MetadataWriter.run``)."""
        bound = None if self._readers is None else self.store_bound
        answered = True
        try:
            return await self._writer.run(fn, *args, bound=bound, **kwargs)
        except ServiceUnavailable:
            answered = False  # no refresh then: the request's 503 must not wait on the database again
            raise
        finally:
            # This worker's own changes (bucket settings, revocations) are visible to its next request
            # at once; other workers and nodes see them within GENERATION_TTL.
            self.gate.expire()
            if self.gate.pushed and answered:
                await self.refresh()

    def __post_init__(self) -> None:
        self._writer = MetadataWriter(self.store.group)
        # One reader per pooled connection but one, which the writer thread keeps: a reader never waits
        # for a connection behind the others and the writer.
        self._readers = None if self.store.reads_inline else ThreadPoolExecutor(
            max_workers=max(1, self.settings.postgres_pool_size - 1), thread_name_prefix="satchel-read")
        #: Store calls made on the event loop (``meta/loopguard.py``): counted on PostgreSQL.
        self.loop_guard = loopguard.install(self.store, default="off" if self.store.reads_inline else "count")
        self.gate = GenerationGate(self.store)
        self.store.watch(self.gate)
        self.store.watch(self.credentials)
        self.buckets = BucketCache(self.store, self.gate)
        self.revocations = RevocationList(self.store, self.gate)
        self.audit = AuditLog(self.store, self.write, self.bucket_id,
                              webhook_queue_max=self.settings.webhook_queue_max,
                              webhook_user_max=self.settings.webhook_queue_max_per_user,
                              webhook_account_max=self.settings.webhook_queue_max_per_account, read=self.read)
        self.sightings = Sightings(self.store, self.write)
        self.tempurl_keys = TempUrlKeyCache(self.store, self.gate, self.credentials.master_key)
        #: Lifecycle rules (as stored) by bucket id: GET/HEAD/PUT consult them for ``x-amz-expiration``.
        self.lifecycles = KeyedCache(self.gate, self.store.get_lifecycle)

    def bucket(self, name: str) -> Bucket | None:
        """Bucket settings through the per-worker cache (see ``core/caches.py``)."""
        return self.buckets.get(name)

    def bucket_id(self, name: str) -> str | None:
        """The id of the bucket that holds ``name`` now (cached), or None."""
        bucket = self.buckets.get(name)
        return bucket.id if bucket is not None else None

    def close(self) -> None:
        self._writer.close()
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        self.store.close()
        self.blobs.close()
