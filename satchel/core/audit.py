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
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from satchel import metrics
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InsufficientStorage
from satchel.core.models import AuditEvent, AuditQuery, Principal
from satchel.core.webhookqueue import queued_for
from satchel.meta.store import Store, StoreWrite

log = logging.getLogger("satchel.audit")

FLUSH_INTERVAL = 0.25
#: Beyond this many buffered events a flush is started at once.
FLUSH_BATCH = 2000
#: Events deleted per transaction by retention: keeps each one short next to the request path's writes.
PRUNE_BATCH = 5000



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
        self._lock: asyncio.Lock | None = None
        self._early: asyncio.Task[None] | None = None
        self._disk_full = False  # said once when flushes start failing for want of space, once when they pass

    def record(self, event: AuditEvent) -> None:
        if event.bucket is not None and event.bucket_id is None:
            event.bucket_id = self._bucket_id(event.bucket)
        self._events.append(event)
        metrics.link_event(event.action, event.kind, event.outcome, event.reason)
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

    async def flush(self) -> None:
        """Write what is buffered; on failure the events are kept for the next try."""
        if self._lock is None:
            self._lock = asyncio.Lock()  # created on the serving loop, not at import or construction
        async with self._lock:
            events, self._events = self._events, []
            uses, self._uses = self._uses, {}
            if not events and not uses:
                return
            try:
                await self._write(self._persist, events, uses)
            except InsufficientStorage:
                # Expected until an operator makes room; a traceback every FLUSH_INTERVAL would only
                # fill the log (often on the same disk).
                if not self._disk_full:
                    log.warning("the disk is full: audit events wait in memory until there is room")
                self._disk_full = True
                self._keep(events, uses)
            except Exception:
                log.exception("could not write %d audit events; will retry", len(events))
                self._keep(events, uses)
            else:
                if self._disk_full:
                    log.warning("audit events written again: the disk has room")
                self._disk_full = False

    def _keep(self, events: list[AuditEvent], uses: dict[str, tuple[int, float]]) -> None:
        """Put back what a failed flush took, before what was recorded meanwhile."""
        self._events[:0] = events
        for link_id, (count, last) in uses.items():
            old_count, old_last = self._uses.get(link_id, (0, last))
            self._uses[link_id] = (old_count + count, max(old_last, last))

    async def query(self, principal: Principal, query: AuditQuery) -> list[AuditEvent]:
        """The events of ``query`` the principal may read (``AUDIT_READ``): those about buckets it controls
        and those signed by users it acts for; what happened up to this call is included."""
        visible = await self._read(visible_to, self._store, principal, query)
        await self.flush()
        found: list[AuditEvent] = await self._read(self._store.query_audit, visible)
        return found

    def _persist(self, events: list[AuditEvent], uses: dict[str, tuple[int, float]]) -> None:
        # Link notifications are queued with their events, in one transaction (core/webhookqueue.py).
        dropped = self._store.add_audit_events(events, queued_for(self._store, events),
                                               queue_max=self._webhook_queue_max, user_max=self._webhook_user_max,
                                               account_max=self._webhook_account_max)
        if dropped:
            metrics.WEBHOOK_DROPPED.inc(dropped)
            log.warning("webhook queue full (webhook_queue_max %d, webhook_queue_max_per_account %s, "
                        "webhook_queue_max_per_user %d, refused uses at most half of it): %d notifications "
                        "dropped", self._webhook_queue_max, self._webhook_account_max, self._webhook_user_max,
                        dropped)
        self._store.count_link_uses(uses)

    async def run(self) -> None:
        """Flush forever; cancel to stop (then call :meth:`flush` once more)."""
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()


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
