"""The webhook tables on SQLite: endpoints, and the bounded durable queue written with the audit events."""

from __future__ import annotations

from satchel.core.models import AuditEvent
from satchel.meta.sqlite import SqliteStore
from satchel.meta.webhooks import (
    BUCKET_SCOPE,
    DEAD,
    DELIVERED,
    LINKS_SCOPE,
    PENDING,
    DeliveryOutcome,
    QueuedDelivery,
    StoredWebhook,
)
from tests.unit.meta.conftest import World


def hook(world: World, hook_id: str = "h1", scope: str = BUCKET_SCOPE) -> StoredWebhook:
    return StoredWebhook(hook_id, world.bucket.id, scope, "https://example.com/hook", b"sealed", 1.0, world.user.id)


def use(world: World, at: float = 100.0, link_id: str | None = None) -> AuditEvent:
    return AuditEvent(time=at, action="use", outcome="allowed", kind="s3v4", bucket="photos",
                      bucket_id=world.bucket.id, link_id=link_id, user_id=world.user.id)


def queue(store: SqliteStore, world: World, count: int, queue_max: int = 100, bucket_max: int = 100,
          bucket_id: str | None = None) -> int:
    events = [use(world, 100.0 + i) for i in range(count)]
    return store.add_audit_events(events, [QueuedDelivery(e, "h1", bucket_id or world.bucket.id) for e in events],
                                  queue_max=queue_max, bucket_max=bucket_max)


def test_bucket_webhook_replaced_and_deleted_with_its_deliveries(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    queue(store, world, 2)
    store.put_webhook(hook(world, "h2"))
    assert store.get_bucket_webhook(world.bucket.id) == hook(world, "h2")
    assert store.webhook_queue_depth() == (0, 0)  # the old endpoint's deliveries went with it
    removed = store.delete_bucket_webhook(world.bucket.id)
    assert removed is not None and removed.id == "h2"
    assert store.get_bucket_webhook(world.bucket.id) is None
    assert store.delete_bucket_webhook(world.bucket.id) is None


def test_targets_by_bucket_and_by_link(store: SqliteStore, world: World) -> None:
    assert store.webhook_targets([world.bucket.id], ["L1"]) == ({}, {})
    store.put_webhook(hook(world))
    store.put_webhook(hook(world, "m1", LINKS_SCOPE), ["L1", "L2"])
    by_bucket, by_link = store.webhook_targets([world.bucket.id, "other"], ["L1", "L3"])
    assert list(by_bucket) == [world.bucket.id] and by_bucket[world.bucket.id].id == "h1"
    assert list(by_link) == ["L1"] and by_link["L1"].id == "m1"


def test_queue_is_bounded_newest_dropped(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    assert queue(store, world, 3, queue_max=5) == 0
    assert queue(store, world, 4, queue_max=5) == 2
    assert store.webhook_queue_depth() == (5, 0)
    # the audit events are all stored, whatever the queue held
    assert store._db.conn().execute("SELECT COUNT(*) FROM audit_events").fetchone()[0] == 7


def test_each_bucket_has_its_share(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    assert queue(store, world, 5, queue_max=10, bucket_max=3) == 2  # this bucket's receiver is down...
    assert queue(store, world, 2, queue_max=10, bucket_max=3, bucket_id="another") == 0  # ...others still fit
    assert store.webhook_queue_depth() == (5, 0)


def test_one_claim_per_delivery_and_lease(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    queue(store, world, 3)
    assert store.webhook_due(200.0) and not store.webhook_due(50.0)
    first = store.claim_webhook_deliveries("a", now=200.0, lease=10, limit=2)
    second = store.claim_webhook_deliveries("b", now=200.0, lease=10, limit=5)
    assert len(first) == 2 and len(second) == 1
    assert {d.id for d in first}.isdisjoint(d.id for d in second)
    assert first[0].event is not None and first[0].event.time == 100.0 and first[0].webhook.id == "h1"
    assert store.claim_webhook_deliveries("c", now=205.0, lease=10, limit=5) == []
    assert len(store.claim_webhook_deliveries("c", now=211.0, lease=10, limit=5)) == 3  # the leases ended


def test_finish_delivered_retry_and_dead_bounded(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    queue(store, world, 3)
    a, b, c = store.claim_webhook_deliveries("a", now=200.0, lease=10, limit=5)
    store.finish_webhook_deliveries([
        DeliveryOutcome(a.id, "a", DELIVERED, 1, 200.0),
        DeliveryOutcome(b.id, "a", PENDING, 1, 260.0, 500, "answered 500"),
        DeliveryOutcome(c.id, "stale-claim", DEAD, 1, 200.0),  # not held by that claim: unchanged
    ], dead_max=1)
    assert store.webhook_queue_depth() == (2, 0)
    (retry,) = store.list_webhook_deliveries(world.bucket.id, PENDING, 10)[:1]
    assert retry.id == b.id and retry.attempts == 1 and retry.next_attempt == 260.0 and retry.last_status == 500
    again = store.claim_webhook_deliveries("b", now=300.0, lease=10, limit=5)
    store.finish_webhook_deliveries([DeliveryOutcome(d.id, "b", DEAD, 2, 300.0, None, "timeout") for d in again],
                                    dead_max=1)
    dead = store.list_webhook_deliveries(world.bucket.id, DEAD, 10)
    assert store.webhook_queue_depth() == (0, 1) and len(dead) == 1 and dead[0].last_error == "timeout"


def test_prune_endpoints_nothing_can_notify(store: SqliteStore, world: World) -> None:
    from satchel.core.models import Link, LinkKind

    def link(link_id: str, expires: float) -> Link:
        return Link(link_id, LinkKind.S3V4, world.user.id, None, "photos", "k", "GET", 0.0, expires,
                    bucket_id=world.bucket.id)

    store.create_links([link("L1", 100.0), link("L2", 500.0), link("L3", 100.0)])
    store.put_webhook(hook(world))  # the bucket's: kept while the bucket exists
    store.put_webhook(hook(world, "m1", LINKS_SCOPE), ["L1", "L2"])
    store.put_webhook(hook(world, "m2", LINKS_SCOPE), ["L3"])
    store.add_audit_events([e := use(world, 50.0, "L3")], [QueuedDelivery(e, "m2", world.bucket.id)], queue_max=10,
                           bucket_max=10)
    assert store.prune_webhooks(200.0, 10) == 0  # m1: L2 still usable; m2: a delivery still pending
    claimed = store.claim_webhook_deliveries("a", now=200.0, lease=10, limit=5)
    store.finish_webhook_deliveries([DeliveryOutcome(claimed[0].id, "a", DEAD, 1, 200.0)], dead_max=10)
    assert store.prune_webhooks(200.0, 10) == 1  # m2 now
    assert store.prune_webhooks(600.0, 10) == 1  # m1 once L2 expired
    assert set(store.webhook_targets([world.bucket.id], ["L1", "L2", "L3"])[1]) == set()
    assert store.get_bucket_webhook(world.bucket.id) is not None
    assert len(store.list_webhook_deliveries(world.bucket.id, DEAD, 10)) == 1  # still listed
