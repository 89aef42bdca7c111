"""The delivery loop each worker runs: claim due deliveries from the durable queue, POST them signed, settle.

Claiming is one write transaction (``Store.claim_webhook_deliveries``) that marks rows with this worker's
claim and a lease, so two workers never send the same delivery, and one that dies mid-send only delays it
until its lease ends. A delivery is settled (delivered: deleted; failed: retried later with backoff and
jitter; dead: kept for the bucket's admins) in another write. A receiver may still see a delivery twice
(a worker that sent it and died before settling): the event id in the body is the deduplication key.

Sending happens on the event loop with asyncio streams, at most :data:`BATCH` at a time per worker, each
bounded by ``webhook_timeout``; no request ever waits for it. Claims are fair (``claim_webhook_deliveries``):
at most ``webhook_max_inflight_per_endpoint`` sends under way per webhook across the node (and
``webhook_max_inflight_per_user`` for one user's webhooks), the next slot to the user with the fewest, one per webhook
before a second for any, first tries before retries; so one account's dead receivers cannot hold the slots
another account's deliveries need.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from urllib.parse import urlsplit

from satchel import metrics
from satchel.core import webhookqueue
from satchel.core.errors import ServiceUnavailable
from satchel.core.masterkey import SealedValueError
from satchel.core.node import Node
from satchel.core.webhooks import unseal
from satchel.meta.webhooks import DEAD, DELIVERED, ClaimedDelivery, DeliveryOutcome
from satchel.signing import webhook as signing
from satchel.webhooks import outbound

log = logging.getLogger("satchel.webhooks")

#: Deliveries one worker sends at once (its sending slots).
BATCH = 16


async def run(node: Node) -> None:
    """Deliver forever; cancel to stop (claims still held lapse with their lease).

    Each delivery is settled as soon as its own try ends, and free slots are claimed again at once: a receiver
    that never answers keeps at most ``webhook_max_inflight_per_endpoint`` slots busy until its timeout, never
    the whole worker."""
    claimer = f"{os.getpid()}-{secrets.token_hex(4)}"
    settings = node.settings
    # Retries planned under an earlier, longer webhook_retry_max_delay come no later than the current one allows.
    try:
        await node.write(node.store.cap_webhook_retries, node.clock.now() + settings.webhook_retry_max_delay)
    except Exception:
        log.exception("webhook retries could not be brought within webhook_retry_max_delay; delivering anyway")
    sending: set[asyncio.Task[None]] = set()
    store_down = False  # a metadata outage is said once when it starts and once when it ends, not per poll
    try:
        while True:
            started = 0
            try:
                started = await start_due(node, claimer, sending)
                pending, dead = await node.read(node.store.webhook_queue_depth)
                metrics.WEBHOOK_QUEUE.labels("pending").set(pending)
                metrics.WEBHOOK_QUEUE.labels("dead").set(dead)
                if store_down:
                    log.warning("webhook delivery resumed: the metadata store answers again")
                    store_down = False
            except ServiceUnavailable as exc:
                if not store_down:
                    log.warning("webhook delivery waits for the metadata store: %s", exc.message)
                    store_down = True
            except Exception:
                log.exception("webhook delivery failed; retrying later")
            if started and len(sending) < BATCH:
                continue  # maybe more due: look again at once
            if sending:
                await asyncio.wait(sending, timeout=settings.webhook_poll_interval,
                                   return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(settings.webhook_poll_interval)
    finally:
        for task in list(sending):
            task.cancel()


async def start_due(node: Node, claimer: str, sending: set[asyncio.Task[None]]) -> int:
    """Claim due deliveries for this worker's free slots and start sending them; how many were started."""
    settings = node.settings
    free = BATCH - len(sending)
    now = node.clock.now()
    # A read: the common empty case costs no write transaction.
    if free <= 0 or not await node.read(node.store.webhook_due, now):
        return 0
    claim = f"{claimer}-{secrets.token_hex(4)}"
    lease = 2 * settings.webhook_timeout + 30  # time to send and settle, whatever the receiver does
    claimed: list[ClaimedDelivery] = await node.write(
        node.store.claim_webhook_deliveries, claim, now=now, lease=lease, limit=free,
        per_endpoint=settings.webhook_max_inflight_per_endpoint, per_user=settings.webhook_max_inflight_per_user)
    for item in claimed:
        task = asyncio.create_task(_send_and_settle(node, item))
        sending.add(task)
        task.add_done_callback(sending.discard)
    return len(claimed)


async def deliver_due(node: Node, claimer: str) -> bool:
    """Send one batch of due deliveries and wait for all of them (tests and one-off use); whether there was any."""
    sending: set[asyncio.Task[None]] = set()
    if not await start_due(node, claimer, sending):
        return False
    await asyncio.gather(*sending, return_exceptions=True)
    return True


async def _send_and_settle(node: Node, item: ClaimedDelivery) -> None:
    try:
        outcome = await _deliver(node, item)
    except Exception as exc:
        outcome = _crashed(node, item, exc)
    try:
        await node.write(node.store.finish_webhook_deliveries, [outcome],
                         dead_max=node.settings.webhook_dead_max_per_bucket)
    except Exception:
        log.exception("webhook delivery %s could not be settled; it is tried again when its lease ends", item.id)


def _settled(node: Node, item: ClaimedDelivery, attempts: int, *, ok: bool, permanent: bool = False,
             status: int | None = None, error: str | None = None) -> DeliveryOutcome:
    settings = node.settings
    state, next_attempt = webhookqueue.settle(
        attempts=attempts, created=item.created, now=node.clock.now(), ok=ok, permanent=permanent,
        max_attempts=settings.webhook_max_attempts, max_age=settings.webhook_max_age,
        base=settings.webhook_retry_delay, cap=settings.webhook_retry_max_delay)
    metrics.WEBHOOK_DELIVERIES.labels({DELIVERED: "delivered", DEAD: "dead"}.get(state, "failed")).inc()
    if state == DEAD:
        # Only the scheme and host: webhook URLs often carry a token in their path or query (Slack's do).
        log.warning("webhook delivery %s to %s dead after %d tries: %s", item.id, _origin(item.webhook.url),
                    attempts, error)
    return DeliveryOutcome(item.id, item.claim, state, attempts, next_attempt, status, error)


def _crashed(node: Node, item: ClaimedDelivery, exc: BaseException) -> DeliveryOutcome:
    """A try that raised (a bug): counted as a failed try, so it is retried and ends dead like any other,
    instead of being claimed again and again with no try counted."""
    log.error("webhook delivery %s failed unexpectedly", item.id, exc_info=exc)
    return _settled(node, item, item.attempts + 1, ok=False, error=f"internal error: {type(exc).__name__}")


async def _deliver(node: Node, item: ClaimedDelivery) -> DeliveryOutcome:
    settings = node.settings
    attempts = item.attempts + 1
    if item.event is None:  # audit retention removed the event: nothing left to say
        metrics.WEBHOOK_DELIVERIES.labels("skipped").inc()
        return DeliveryOutcome(item.id, item.claim, DELIVERED, attempts, node.clock.now())
    body = webhookqueue.payload(item.event, item.webhook, item.id)
    timestamp = int(time.time())  # the receiver compares it with its own wall clock
    try:
        secret = unseal(node.credentials.master_key, item.webhook)
    except SealedValueError:
        # Another master key sealed it (a data directory restored beside the wrong key): no try can succeed,
        # and an exception here would leave the batch unsettled, to be claimed again forever.
        return _settled(node, item, attempts, ok=False, permanent=True,
                        error="the webhook's secret does not open with this node's master key: set it again")
    headers = [
        (signing.TIMESTAMP_HEADER, str(timestamp)),
        (signing.SIGNATURE_HEADER, signing.sign(secret, timestamp, body)),
        ("X-Satchel-Event", webhookqueue.USE_EVENT),
        ("X-Satchel-Event-Id", item.event.id),
        ("X-Satchel-Delivery", item.id),
        ("X-Satchel-Attempt", str(attempts)),
    ]
    sent = await outbound.post(item.webhook.url, headers, body, timeout=settings.webhook_timeout,
                               allow_private=settings.webhook_allow_private)
    error = sent.error if sent.status is None else (None if sent.ok else f"answered {sent.status}")
    return _settled(node, item, attempts, ok=sent.ok, permanent=sent.permanent, status=sent.status, error=error)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
