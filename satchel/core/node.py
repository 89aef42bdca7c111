"""One node's working set: settings, stores, clock, caches and the writer thread.

Every front-end receives the same :class:`Node`; core services take it as their first argument. It is
built once per worker process (``app.py``), never per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from satchel.blobs.base import BlobStore
from satchel.clock import Clock, SystemClock
from satchel.config import Settings
from satchel.core.admission import RevocationList
from satchel.core.audit import AuditLog
from satchel.core.caches import BucketCache, GenerationGate, KeyedCache
from satchel.core.credentials import CredentialCache
from satchel.core.models import Bucket
from satchel.core.sightings import Sightings
from satchel.core.tempurlkeys import TempUrlKeyCache
from satchel.core.writer import MetadataWriter
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

    async def write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a blocking metadata write off the event loop (see :class:`MetadataWriter`)."""
        try:
            return await self._writer.run(fn, *args, **kwargs)
        finally:
            # This worker's own changes (bucket settings, revocations) are visible to its next request
            # at once; other workers and nodes see them within GENERATION_TTL.
            self.gate.expire()

    def __post_init__(self) -> None:
        self._writer = MetadataWriter(self.store.group)
        self.gate = GenerationGate(self.store)
        self.store.watch(self.gate)
        self.store.watch(self.credentials)
        self.buckets = BucketCache(self.store, self.gate)
        self.revocations = RevocationList(self.store, self.gate)
        self.audit = AuditLog(self.store, self.write, self.bucket_id,
                              webhook_queue_max=self.settings.webhook_queue_max,
                              webhook_user_max=self.settings.webhook_queue_max_per_user,
                              webhook_account_max=self.settings.webhook_queue_max_per_account)
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
        self.store.close()
        self.blobs.close()
