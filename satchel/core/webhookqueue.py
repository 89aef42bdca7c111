"""The webhook queue's rules (link notifications, see ``core/webhooks.py``): which deliveries an audit batch
makes, what a delivery's body is, and when a failed one is tried again or given up. No I/O but the store
reads of :func:`queued_for`, which runs in the audit writer's batch."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import asdict

import orjson

from satchel.core.models import AuditEvent
from satchel.meta.store import Store, StoreWrite
from satchel.meta.webhooks import DEAD, DELIVERED, PENDING, QueuedDelivery, StoredWebhook

#: The event type of every notification (the only one so far).
USE_EVENT = "link.use"
#: Endpoints removed per transaction by :func:`prune_endpoints`.
PRUNE_BATCH = 1000

log = logging.getLogger("satchel.webhooks")


def queued_for(store: Store, events: Sequence[AuditEvent]) -> list[QueuedDelivery]:
    """The deliveries ``events`` make: each link use goes to its bucket's webhook (a bucket setting, which stays
    when whoever set it loses control of the bucket, as the bucket's other settings do), and to its link's when
    the link's signer made that webhook and is still active. Called by the audit writer, in the batch that
    stores the events.

    A refusal no signature was verified for (no signer: an unknown key, a bad signature, malformed auth, an
    unknown PAR token) is not notified: anyone can make those for nothing, by the thousand, and each would take
    a slot of the creator's share. It stays in the audit trail (:func:`unsigned_refusal`)."""
    uses = [e for e in events if e.action == "use" and e.bucket_id is not None and not unsigned_refusal(e)]
    if not uses:
        return []
    by_bucket, by_link = store.webhook_targets([e.bucket_id for e in uses if e.bucket_id],
                                               [e.link_id for e in uses if e.link_id])
    if not by_bucket and not by_link:
        return []
    active: dict[str, bool] = {}  # per creator, once per batch

    def creator_active(user_id: str) -> bool:
        if user_id not in active:
            user = store.get_user(user_id)
            active[user_id] = user is not None and user.active
        return active[user_id]

    queued = []
    for event in uses:
        assert event.bucket_id is not None
        bucket_hook = by_bucket.get(event.bucket_id)
        if bucket_hook is not None:
            queued.append(QueuedDelivery(event, bucket_hook.id, event.bucket_id, bucket_hook.created_by))
        link_hook = by_link.get(event.link_id) if event.link_id else None
        # Only to its signer, and only while that user is active: a disabled or deleted user learns nothing more.
        if (link_hook is not None and link_hook.created_by == event.user_id and link_hook.bucket_id == event.bucket_id
                and creator_active(link_hook.created_by)):
            queued.append(QueuedDelivery(event, link_hook.id, event.bucket_id, link_hook.created_by))
    return queued


def unsigned_refusal(event: AuditEvent) -> bool:
    """A refused use whose signer was never proven: every front-end sets ``user_id`` only once the signature
    (S3 SigV4/SigV2, POST policy, TempURL, FormPost) or the PAR token is verified; before that the claimed key
    id is kept in ``access_key_id`` only."""
    return event.outcome == "refused" and event.user_id is None


def payload(event: AuditEvent, webhook: StoredWebhook, delivery_id: str) -> bytes:
    """The JSON body: the audit event's fields (an audit row never holds a token or signature), its id and
    time, and which webhook it came through."""
    fields = asdict(event)
    return orjson.dumps({"type": USE_EVENT, "id": event.id, "time": event.time, "delivery": delivery_id,
                         "webhook": {"id": webhook.id, "scope": webhook.scope}, "event": fields},
                        option=orjson.OPT_SORT_KEYS)


def retry_delay(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before the next try after ``attempts`` failed ones: ``base * 2**(attempts-1)`` capped at ``cap``,
    then a random point in its upper half ("equal jitter": receivers that failed together do not all come
    back at once, and no retry comes much sooner than planned)."""
    ceiling = min(cap, base * 2.0 ** min(max(attempts - 1, 0), 62))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def settle(*, attempts: int, created: float, now: float, ok: bool, permanent: bool, max_attempts: int,
           max_age: float, base: float, cap: float, rng: random.Random | None = None) -> tuple[str, float]:
    """(state, next attempt) of a delivery whose ``attempts``-th try just ended: delivered, retried later, or
    dead (``permanent`` failure, tries used up, or the retry would come after ``max_age``)."""
    if ok:
        return DELIVERED, now
    if permanent or attempts >= max_attempts:
        return DEAD, now
    later = now + retry_delay(attempts, base=base, cap=cap, rng=rng)
    if later - created > max_age:
        return DEAD, now
    return PENDING, later


async def prune_endpoints(store: Store, write: StoreWrite, *, now: float) -> int:
    """Remove the webhooks nothing can notify any more (every link of their mint call expired or revoked, or
    their bucket deleted), in bounded batches, every ``gc_interval``; how many."""
    pruned = 0
    while True:
        removed: int = await write(store.prune_webhooks, now, PRUNE_BATCH)
        pruned += removed
        if removed < PRUNE_BATCH:
            break
    if pruned:
        log.info("webhooks: %d endpoints with no usable link or bucket left removed", pruned)
    return pruned
