"""The audit trail: every link minted, every use of any link (allowed or refused, with the reason),
every revocation.

Use and revocation events are buffered in memory and written in batches by the metadata writer
thread, at most :data:`FLUSH_INTERVAL` seconds after they happen, so auditing costs a list append on
the request path. The price: a crash loses at most that interval of those events (never any object
data). Use counts of links without a use limit ride along in the same batch; one-time links are
counted synchronously (``admission.count_use``) because exactness matters there. Mint events never wait
here: they commit in the transaction that registers their links (``Store.create_links``), so no
crash leaves a working link without its mint event.

Every event names its bucket by id as well as by name (who may read an event follows the bucket, not
the name): an event recorded without ``bucket_id`` gets the id of the bucket that holds its name
when it is recorded — for a request, the bucket it just acted on, read from the per-worker cache.

Recording never needs the database: when the cache cannot answer (the store is away, which is when
refused uses pile up), the id is looked up when the event is written. A batch is written whole or not at
all, and a batch tried again first checks whether its earlier try committed after all (a connection
dropped during COMMIT): nothing is written twice, no use is counted twice. A batch that keeps failing for
another reason than an unavailable store is split until the event at fault is alone, which is then
dropped (counted in ``satchel_audit_events_lost_total``, logged): one bad event never holds the others.
At most :data:`MAX_BUFFERED` events wait in memory; beyond that new ones are dropped, counted and logged
the same way, as are those still unwritten when the worker stops (:meth:`AuditLog.close`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from typing import Any

from satchel import metrics
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InsufficientStorage, ServiceUnavailable
from satchel.core.models import AuditEvent, AuditQuery, LinkKind, Principal
from satchel.core.webhookqueue import queued_for
from satchel.meta.store import Store, StoreWrite

log = logging.getLogger("satchel.audit")

FLUSH_INTERVAL = 0.25
#: Beyond this many buffered events a flush is started at once.
FLUSH_BATCH = 2000
#: Events deleted per transaction by retention: keeps each one short next to the request path's writes.
PRUNE_BATCH = 5000
#: At most this many events wait in memory for the store (a few hundred bytes each); newer ones are lost,
#: counted and logged (an outage at thousands of link uses a second lasts minutes before it drops any).
MAX_BUFFERED = 200_000
#: A batch that fails this many times for another reason than an unavailable store is split in two.
SPLIT_AFTER = 3
#: Failures that say "later", not "never": the batch waits whole for the store to come back.
_TRANSIENT = (ServiceUnavailable, InsufficientStorage, OSError, sqlite3.OperationalError)
#: Kinds whose link ids name rows of the link registry (``Store.get_link``).
_REGISTRY_KINDS = frozenset(k.value for k in LinkKind if k not in (LinkKind.PAR, LinkKind.SWIFT))


#: How an event recorded while the store was away gets its bucket (name and id) when it is written.
Resolver = Callable[[Store, AuditEvent], None]


@dataclasses.dataclass(slots=True)
class _Batch:
    events: list[AuditEvent]
    uses: dict[str, tuple[int, float]]
    #: Events whose bucket is looked up when written (the store could not answer when recorded), and how.
    unresolved: list[tuple[AuditEvent, Resolver]]
    tries: int = 0
    failures: int = 0  # those for another reason than an unavailable store


async def _inline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class AuditLog:
    def __init__(self, store: Store, write: StoreWrite,
                 bucket_id: Callable[[str], str | None] = lambda name: None, *, webhook_queue_max: int = 0,
                 webhook_user_max: int = 0, webhook_account_max: int | None = None,
                 read: StoreWrite | None = None) -> None:
        self._store = store
        #: How a query's reads reach the store (``Node.read``: off the loop where reads block).
        self._read: StoreWrite = read or _inline
        self._webhook_queue_max = webhook_queue_max
        self._webhook_user_max = webhook_user_max
        self._webhook_account_max = webhook_account_max
        self._write = write
        self._bucket_id = bucket_id
        self._events: list[AuditEvent] = []
        self._uses: dict[str, tuple[int, float]] = {}
        #: Buffered events (by ``id()``) whose bucket is looked up when they are written, and how.
        self._unresolved: dict[int, Resolver] = {}
        #: Batches taken from the buffer that did not commit (or might have): retried, oldest first.
        self._failed: deque[_Batch] = deque()
        self._waiting = 0  # events in ``_failed``
        self._lost = 0  # dropped since the last warning
        self._lock: asyncio.Lock | None = None
        self._early: asyncio.Task[None] | None = None
        self._disk_full = False  # said once when flushes start failing for want of space, once when they pass

    def record(self, event: AuditEvent, *, resolve_later: bool | Resolver = False) -> None:
        """Buffer ``event``; never raises for want of the store. ``resolve_later``: its bucket id is looked
        up when it is written (the caller could not read it: the store is away), by
        :func:`resolve_bucket_id` or the resolver given."""
        metrics.link_event(event.action, event.kind, event.outcome, event.reason)
        if len(self._events) + self._waiting >= MAX_BUFFERED:
            self._lose(1, f"the audit buffer is full (MAX_BUFFERED {MAX_BUFFERED} events waiting for the store)",
                       "buffer_full")
            return
        if callable(resolve_later):
            self._unresolved[id(event)] = resolve_later
        elif event.bucket is not None and event.bucket_id is None:
            if resolve_later:
                self._unresolved[id(event)] = resolve_bucket_id
            else:
                try:
                    event.bucket_id = self._bucket_id(event.bucket)
                except Exception:  # the store away: looked up when written
                    self._unresolved[id(event)] = resolve_bucket_id
        self._events.append(event)
        if len(self._events) >= FLUSH_BATCH and (self._early is None or self._early.done()):
            self._early = asyncio.get_running_loop().create_task(self.flush())

    def count_use(self, link_id: str, at: float) -> None:
        count, last = self._uses.get(link_id, (0, at))
        self._uses[link_id] = (count + 1, max(last, at))

    def give_back_use(self, link_id: str) -> None:
        """Take back one use counted by :meth:`count_use` (a write that then stored nothing): the batch adds
        -1, right whether or not the use has been written already."""
        count, last = self._uses.get(link_id, (0, 0.0))
        self._uses[link_id] = (count - 1, last)

    @property
    def buffered(self) -> int:
        """Events waiting to be written."""
        return len(self._events) + self._waiting

    def _lose(self, count: int, why: str, reason: str) -> None:
        metrics.AUDIT_LOST.labels(reason).inc(count)
        if self._lost == 0:
            log.error("audit events lost: %s", why)
        self._lost += count

    async def flush(self) -> None:
        """Write what is buffered: batches that failed before first, each alone, then what came since.
        A batch that fails is kept whole for the next flush (see the module's docstring)."""
        if self._lock is None:
            self._lock = asyncio.Lock()  # created on the serving loop, not at import or construction
        async with self._lock:
            if self._events or self._uses:
                events, self._events = self._events, []
                uses, self._uses = self._uses, {}
                unresolved = [(e, self._unresolved[id(e)]) for e in events if id(e) in self._unresolved] \
                    if self._unresolved else []
                self._unresolved.clear()
                self._failed.append(_Batch(events, uses, unresolved))
                self._waiting += len(events)
            while self._failed:
                batch = self._failed[0]
                if not await self._try(batch):
                    return
                self._failed.popleft()
                self._waiting -= len(batch.events)
            if self._lost:
                log.warning("audit events written again (%d were lost meanwhile)", self._lost)
                self._lost = 0

    async def close(self) -> None:
        """Write what is buffered one last time (a worker stopping); what still cannot be written is lost,
        and said so (counted as ``shutdown``, logged), not silently."""
        await self.flush()
        left = self.buffered
        if left:
            self._lost = 0
            self._lose(left, f"{left} could not be written before the worker stopped", "shutdown")
            self._events, self._failed, self._waiting = [], deque(), 0

    async def _try(self, batch: _Batch) -> bool:
        """Write one batch; False when it must wait (kept, possibly split, at the head of the queue)."""
        checked = batch.tries > 0  # an earlier try may have committed although it failed
        batch.tries += 1
        try:
            await self._write(self._persist, batch, checked)
        except InsufficientStorage:
            # Expected until an operator makes room; a traceback every FLUSH_INTERVAL would only
            # fill the log (often on the same disk).
            if not self._disk_full:
                log.warning("the disk is full: audit events wait in memory until there is room")
            self._disk_full = True
            return False
        except _TRANSIENT as exc:
            if batch.tries == 1:
                log.warning("could not write %d audit events (%s); will retry", len(batch.events), exc)
            return False
        except Exception:
            batch.failures += 1
            log.exception("could not write %d audit events; will retry", len(batch.events))
            if batch.failures >= SPLIT_AFTER:
                self._split(batch)
            return False
        if self._disk_full:
            log.warning("audit events written again: the disk has room")
        self._disk_full = False
        return True

    def _split(self, batch: _Batch) -> None:
        """Replace the head batch by its halves (the uses ride with the first), or drop it when it is one
        event that keeps failing."""
        self._failed.popleft()
        if len(batch.events) <= 1:
            self._waiting -= len(batch.events)
            self._lose(len(batch.events), "an event the store keeps refusing was dropped", "refused")
            if batch.uses:  # the counts alone
                self._failed.appendleft(_Batch([], batch.uses, [], tries=batch.tries))
            return
        half = len(batch.events) // 2
        for events, uses in ((batch.events[half:], {}), (batch.events[:half], batch.uses)):
            ids = {id(e) for e in events}
            self._failed.appendleft(_Batch(events, uses, [u for u in batch.unresolved if id(u[0]) in ids],
                                           tries=batch.tries))

    async def query(self, principal: Principal, query: AuditQuery) -> list[AuditEvent]:
        """The events of ``query`` the principal may read (``AUDIT_READ``): those about buckets it controls
        and those signed by users it acts for; what happened up to this call is included."""
        visible = await self._read(visible_to, self._store, principal, query)
        await self.flush()
        found: list[AuditEvent] = await self._read(self._store.query_audit, visible)
        return found

    def _persist(self, batch: _Batch, checked: bool) -> None:
        """One write (a savepoint of the writer's transaction): the events, their notifications and the
        use counts, all or nothing. ``checked``: first see whether an earlier try committed it."""
        events, uses = batch.events, batch.uses
        for event, resolve in batch.unresolved:
            resolve(self._store, event)
        # Link notifications are queued with their events, in one transaction (core/webhookqueue.py).
        dropped = self._store.add_audit_events(events, queued_for(self._store, events),
                                               queue_max=self._webhook_queue_max, user_max=self._webhook_user_max,
                                               account_max=self._webhook_account_max, uses=uses, once=checked)
        if dropped:
            metrics.WEBHOOK_DROPPED.inc(dropped)
            log.warning("webhook queue full (webhook_queue_max %d, webhook_queue_max_per_account %s, "
                        "webhook_queue_max_per_user %d, refused uses at most half of it): %d notifications "
                        "dropped", self._webhook_queue_max, self._webhook_account_max, self._webhook_user_max,
                        dropped)

    async def run(self) -> None:
        """Flush forever; cancel to stop (then call :meth:`flush` once more)."""
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()


def resolve_bucket_id(store: Store, event: AuditEvent) -> None:
    """Set the bucket id of an event recorded while the store was away: a minted link's use belongs to
    the bucket the link was minted for (if it is for this name), anything else to the bucket of its name."""
    if event.bucket_id is not None or event.bucket is None:
        return
    if event.link_id and event.kind in _REGISTRY_KINDS:
        link = store.get_link(event.link_id[:128])
        if link is not None and link.bucket == event.bucket:
            event.bucket_id = link.bucket_id
            return
    bucket = store.get_bucket(event.bucket)
    event.bucket_id = bucket.id if bucket is not None else None


def resolve_in_account(account: str | None, container: str | None) -> Resolver:
    """A resolver for a Swift link's event (TempURL, FormPost) refused before its path was checked: the
    bucket named by ``container`` when the path's ``account`` holds it (else the event has none: the
    operator's trail only)."""
    def resolve(store: Store, event: AuditEvent) -> None:
        owner = store.get_account_by_name(account) if account and container else None
        bucket = store.get_bucket(container) if owner is not None and container else None
        if owner is not None and bucket is not None and bucket.account_id == owner.id:
            event.bucket, event.bucket_id = bucket.name, bucket.id
    return resolve


async def prune_expired(store: Store, write: StoreWrite, *, now: float, retention_days: float) -> int:
    """Delete the events older than ``retention_days`` (0: keep all), in bounded batches that queue with
    the worker's other writes; how many."""
    if retention_days <= 0:
        return 0
    pruned = 0
    while True:
        deleted: int = await write(store.prune_audit, now - retention_days * 86400, PRUNE_BATCH)
        pruned += deleted
        if deleted < PRUNE_BATCH:
            break
    if pruned:
        log.info("audit retention: %d events older than %s days deleted", pruned, retention_days)
    return pruned


def visible_to(store: Store, principal: Principal, query: AuditQuery) -> AuditQuery:
    """``query`` narrowed to what ``authorize(principal, AUDIT_READ, ...)`` allows: the buckets and the
    signers (subject users) it may read events about. AccessDenied for anonymous or disabled callers.

    An event's signer is its ``user_id``, set only from a verified signature; never its
    ``access_key_id``, which for a refusal before verification is whatever key id the request claimed
    (anyone can write anyone's key id in a URL): such an event is its bucket's alone."""
    if principal.active_user is None:
        raise AccessDenied()
    users = tuple(u.id for u in store.list_users()
                  if authorize(principal, Action.AUDIT_READ, Resource(None, subject=u)))
    buckets = tuple(b.id for b in store.list_buckets()
                    if authorize(principal, Action.AUDIT_READ, Resource(bucket=b)))
    return dataclasses.replace(query, visible_users=users, visible_bucket_ids=buckets)
