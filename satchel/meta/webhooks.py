"""Records of the webhook tables (link notifications): endpoints, and the deliveries of the durable queue.

``core/webhooks.py`` decides what is queued and for whom; ``webhooks/delivery.py`` claims, sends and settles
deliveries; the store keeps these rows (``meta/sqlite_webhooks.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from satchel.core.models import AuditEvent

#: ``webhook_endpoints.scope``: a bucket's webhook (every use of a link into the bucket), or the one of a mint
#: call (the uses of the links it minted, whose ids are in ``webhook_links``).
BUCKET_SCOPE = "bucket"
LINKS_SCOPE = "links"
#: ``webhook_deliveries.state``. A delivered row is deleted; a dead one is kept (bounded) for its bucket's admins.
PENDING = "pending"
DEAD = "dead"
#: What :class:`DeliveryOutcome.state` may also say: delivered (delete the row).
DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class StoredWebhook:
    """An endpoint; its HMAC secret stays sealed (master key, bound to ``id``) until a delivery signs with it."""

    id: str
    bucket_id: str
    scope: str
    url: str
    secret_ciphertext: bytes
    created: float
    created_by: str


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """One audit event to notify to one endpoint; written in the event's own transaction. ``creator`` (the
    user who set the endpoint) is whose share of the queue it takes."""

    event: AuditEvent
    endpoint_id: str
    bucket_id: str
    creator: str


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A due delivery this worker holds under ``claim`` until its lease ends; ``event`` is None when audit
    retention already removed the event (nothing left to send)."""

    id: str
    claim: str
    attempts: int
    created: float
    event: AuditEvent | None
    webhook: StoredWebhook


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What became of a claimed delivery: ``delivered`` (row deleted), ``pending`` (retry at ``next_attempt``)
    or ``dead``."""

    id: str
    claim: str
    state: str
    attempts: int
    next_attempt: float
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A queued or dead delivery as the management API lists it."""

    id: str
    endpoint_id: str
    event_id: str
    state: str
    created: float
    attempts: int
    next_attempt: float
    last_status: int | None
    last_error: str | None
