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


def queue(store: SqliteStore, world: World, count: int, queue_max: int = 100, user_max: int = 100,
          endpoint: str = "h1", creator: str | None = None, at: float = 100.0) -> int:
    events = [use(world, at + i) for i in range(count)]
    return store.add_audit_events(
        events, [QueuedDelivery(e, endpoint, world.bucket.id, creator or world.user.id) for e in events],
        queue_max=queue_max, user_max=user_max)


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


def test_each_creator_has_its_share(store: SqliteStore, world: World) -> None:
    """The share is per user who set the webhooks, whatever the bucket: many buckets (or a member's link
    webhook in the owner's bucket) cannot crowd out another user's notifications."""
    from satchel.core.models import Bucket, Role

    bob = store.create_user(world.account.id, "bob", Role.MEMBER)
    other = store.create_bucket(Bucket("other", world.account.id, world.user.id, 1.0))
    store.put_webhook(hook(world))  # alice's, on photos
    store.put_webhook(StoredWebhook("h2", other.id, BUCKET_SCOPE, "https://x/", b"s", 1.0, world.user.id))
    store.put_webhook(StoredWebhook("m1", world.bucket.id, LINKS_SCOPE, "https://y/", b"s", 1.0, bob.id), ["L1"])
    assert queue(store, world, 2, queue_max=10, user_max=3) == 0
    assert queue(store, world, 2, queue_max=10, user_max=3, endpoint="h2") == 1  # alice's other bucket: same share
    assert queue(store, world, 5, queue_max=10, user_max=3, endpoint="m1", creator=bob.id) == 2  # bob floods his
    assert queue(store, world, 1, queue_max=10, user_max=4) == 0  # alice's bucket webhook still has room
    assert store.webhook_queue_depth() == (7, 0)


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
    store.add_audit_events([e := use(world, 50.0, "L3")], [QueuedDelivery(e, "m2", world.bucket.id, world.user.id)],
                           queue_max=10, user_max=10)
    assert store.prune_webhooks(200.0, 10) == 0  # m1: L2 still usable; m2: a delivery still pending
    claimed = store.claim_webhook_deliveries("a", now=200.0, lease=10, limit=5)
    store.finish_webhook_deliveries([DeliveryOutcome(claimed[0].id, "a", DEAD, 1, 200.0)], dead_max=10)
    assert store.prune_webhooks(200.0, 10) == 1  # m2 now
    assert store.prune_webhooks(600.0, 10) == 1  # m1 once L2 expired
    assert set(store.webhook_targets([world.bucket.id], ["L1", "L2", "L3"])[1]) == set()
    assert store.get_bucket_webhook(world.bucket.id) is not None
    assert len(store.list_webhook_deliveries(world.bucket.id, DEAD, 10)) == 1  # still listed


def test_claim_caps_each_endpoint_and_goes_round_robin(store: SqliteStore, world: World) -> None:
    """A hanging receiver with many due deliveries holds at most ``per_endpoint`` sends, whichever worker
    claims; another endpoint's due delivery is claimed in the same round, and first tries go before retries."""
    from satchel.core.models import Role

    bob = store.create_user(world.account.id, "bob", Role.MEMBER)
    for endpoint in ("a1", "a2", "a3"):
        store.put_webhook(hook(world, endpoint, LINKS_SCOPE), [endpoint + "-link"])
        queue(store, world, 6, endpoint=endpoint)
    store.put_webhook(StoredWebhook("b1", world.bucket.id, LINKS_SCOPE, "https://b/", b"s", 1.0, bob.id), ["bl"])
    queue(store, world, 1, endpoint="b1", creator=bob.id, at=150.0)  # the newest of all
    first = store.claim_webhook_deliveries("w1", now=200.0, lease=10, limit=4, per_endpoint=2)
    assert {d.webhook.id for d in first} == {"a1", "a2", "a3", "b1"}  # one each before a second for any
    second = store.claim_webhook_deliveries("w2", now=200.0, lease=10, limit=16, per_endpoint=2)
    assert sorted(d.webhook.id for d in second) == ["a1", "a2", "a3"]  # one more each: 2 in flight per endpoint
    assert store.claim_webhook_deliveries("w3", now=201.0, lease=10, limit=16, per_endpoint=2) == []
    # a retry and a first try both due on one endpoint: the first try goes first
    held = [d for d in first + second if d.webhook.id == "a1"]
    store.finish_webhook_deliveries([DeliveryOutcome(held[0].id, held[0].claim, PENDING, 1, 150.0),
                                     DeliveryOutcome(held[1].id, held[1].claim, DELIVERED, 1, 200.0)], dead_max=10)
    (next_one,) = store.claim_webhook_deliveries("w4", now=202.0, lease=10, limit=1, per_endpoint=2)
    assert next_one.webhook.id == "a1" and next_one.attempts == 0


def test_dead_bounded_per_bucket(store: SqliteStore, world: World) -> None:
    """Another bucket's failures never evict this bucket's dead deliveries."""
    from satchel.core.models import Bucket

    other = store.create_bucket(Bucket("other", world.account.id, world.user.id, 1.0))
    store.put_webhook(hook(world))
    store.put_webhook(StoredWebhook("h2", other.id, BUCKET_SCOPE, "https://x/", b"s", 1.0, world.user.id))
    queue(store, world, 2)
    store.add_audit_events(events := [use(world, 120.0 + i) for i in range(5)],
                           [QueuedDelivery(e, "h2", other.id, world.user.id) for e in events], queue_max=100,
                           user_max=100)
    claimed = store.claim_webhook_deliveries("a", now=200.0, lease=10, limit=20)
    store.finish_webhook_deliveries([DeliveryOutcome(d.id, "a", DEAD, 1, 200.0) for d in claimed], dead_max=3)
    assert len(store.list_webhook_deliveries(world.bucket.id, DEAD, 10)) == 2
    kept = store.list_webhook_deliveries(other.id, DEAD, 10)
    assert [d.created for d in kept] == [122.0, 123.0, 124.0]  # the bucket's oldest went


def test_lowered_retry_cap_applies_to_queued(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    queue(store, world, 2)
    (a, b) = store.claim_webhook_deliveries("a", now=200.0, lease=10, limit=5)
    store.finish_webhook_deliveries([DeliveryOutcome(a.id, "a", PENDING, 3, 5000.0),
                                     DeliveryOutcome(b.id, "a", PENDING, 1, 210.0)], dead_max=10)
    assert store.cap_webhook_retries(300.0) == 1
    assert sorted(d.next_attempt for d in store.list_webhook_deliveries(world.bucket.id, PENDING, 10)) == [210.0,
                                                                                                          300.0]


def test_count_link_webhooks(store: SqliteStore, world: World) -> None:
    store.put_webhook(hook(world))
    store.put_webhook(hook(world, "m1", LINKS_SCOPE), ["L1"])
    store.put_webhook(hook(world, "m2", LINKS_SCOPE), ["L2"])
    assert store.count_link_webhooks(world.user.id) == 2 and store.count_link_webhooks("nobody") == 0


def test_claim_caps_each_user_and_serves_the_least_busy_first(store: SqliteStore, world: World) -> None:
    """One user's many webhooks (many buckets) cannot take every sending slot: at most ``per_user`` under way,
    and a free slot goes to the user with the fewest under way, even when that user's delivery is the newest."""
    from satchel.core.models import Role

    bob = store.create_user(world.account.id, "bob", Role.MEMBER)
    for number in range(6):
        store.put_webhook(hook(world, f"a{number}", LINKS_SCOPE), [f"l{number}"])
        queue(store, world, 2, endpoint=f"a{number}")
    first = store.claim_webhook_deliveries("w1", now=200.0, lease=10, limit=16, per_endpoint=2, per_user=4)
    assert len(first) == 4 and len({d.webhook.id for d in first}) == 4
    store.put_webhook(StoredWebhook("b1", world.bucket.id, LINKS_SCOPE, "https://b/", b"s", 1.0, bob.id), ["bl"])
    queue(store, world, 1, endpoint="b1", creator=bob.id, at=190.0)
    (bobs,) = store.claim_webhook_deliveries("w2", now=200.0, lease=10, limit=16, per_endpoint=2, per_user=4)
    assert bobs.webhook.id == "b1"


def test_refused_uses_take_at_most_half_a_share(store: SqliteStore, world: World) -> None:
    """Refusals (even of a verified signer, who may be anyone holding an expired URL) fill at most half of the
    creator's share: the other half stays for the notifications of allowed uses."""
    store.put_webhook(hook(world))

    def send(count: int, outcome: str, at: float) -> int:
        events = [AuditEvent(time=at + i, action="use", outcome=outcome, kind="s3v4", bucket="photos",
                             bucket_id=world.bucket.id, user_id=world.user.id) for i in range(count)]
        return store.add_audit_events(events, [QueuedDelivery(e, "h1", world.bucket.id, world.user.id)
                                               for e in events], queue_max=100, user_max=10)

    assert send(20, "refused", 100.0) == 15  # 5 of 10
    assert send(1, "refused", 200.0) == 1  # still full for refusals, in a later batch
    assert send(7, "allowed", 300.0) == 2  # allowed uses get the rest of the share
    assert store.webhook_queue_depth() == (10, 0)


def test_each_account_has_its_share(store: SqliteStore, world: World) -> None:
    """An account admin making users, each with a share, fills only its account's; another account's webhooks
    keep theirs. A deleted setter's bucket webhook's deliveries still count for the account of the bucket."""
    from satchel.core.models import Bucket, Role

    users = [store.create_user(world.account.id, f"u{i}", Role.MEMBER) for i in range(3)]
    for i, user in enumerate(users):
        scope = BUCKET_SCOPE if i == 0 else LINKS_SCOPE  # u0's is the bucket's webhook: it outlives u0
        store.put_webhook(StoredWebhook(f"u{i}", world.bucket.id, scope, "https://x/", b"s", 1.0, user.id), [f"L{i}"])
    other_account = store.create_account("other")
    carol = store.create_user(other_account.id, "carol", Role.ADMIN)
    theirs = store.create_bucket(Bucket("theirs", other_account.id, carol.id, 1.0))
    store.put_webhook(StoredWebhook("c", theirs.id, BUCKET_SCOPE, "https://c/", b"s", 1.0, carol.id))

    def send(endpoint: str, creator: str, bucket_id: str, count: int) -> int:
        events = [use(world, 100.0 + i) for i in range(count)]
        return store.add_audit_events(events, [QueuedDelivery(e, endpoint, bucket_id, creator) for e in events],
                                      queue_max=100, user_max=4, account_max=6)

    assert send("u0", users[0].id, world.bucket.id, 4) == 0
    assert send("u1", users[1].id, world.bucket.id, 4) == 2  # the account's 6 reached
    assert send("u2", users[2].id, world.bucket.id, 4) == 4
    assert send("c", carol.id, theirs.id, 4) == 0  # another account: its own share
    store.delete_user(users[0].id)
    assert send("u2", users[2].id, world.bucket.id, 1) == 1  # u0's four still count for the account
    assert store.webhook_queue_depth() == (10, 0)


def test_refused_uses_take_at_most_half_an_accounts_share(store: SqliteStore, world: World) -> None:
    """Refusals spread over many users' webhooks (outsiders replaying signed URLs they may not use) fill at
    most half of the account's share, each user's half notwithstanding: the account's allowed uses still get
    the other half."""
    from satchel.core.models import Role

    users = [store.create_user(world.account.id, f"u{i}", Role.MEMBER) for i in range(4)]
    for i, user in enumerate(users):
        store.put_webhook(StoredWebhook(f"u{i}", world.bucket.id, LINKS_SCOPE, "https://x/", b"s", 1.0, user.id),
                          [f"L{i}"])

    def send(i: int, count: int, outcome: str, at: float) -> int:
        events = [AuditEvent(time=at + n, action="use", outcome=outcome, kind="s3v4", bucket="photos",
                             bucket_id=world.bucket.id, user_id=users[i].id) for n in range(count)]
        return store.add_audit_events(events, [QueuedDelivery(e, f"u{i}", world.bucket.id, users[i].id)
                                               for e in events], queue_max=100, user_max=4, account_max=8)

    assert send(0, 4, "refused", 100.0) == 2  # each user's half: 2
    assert send(1, 4, "refused", 200.0) == 2  # the account's half (4) now full of refusals
    assert send(2, 2, "refused", 300.0) == 2  # nothing more for refusals, though u2's own half is empty
    assert send(2, 4, "allowed", 400.0) == 0  # allowed uses keep the other half of the account's share
    assert send(3, 1, "allowed", 500.0) == 1  # the account's 8 reached
    assert store.webhook_queue_depth() == (8, 0)


def test_deleting_a_user_deletes_its_link_webhooks(store: SqliteStore, world: World) -> None:
    """A mint call's webhook, with its queued and dead deliveries, goes with its creator in the deleting
    transaction (nothing of it is sent, nor counted against the bucket's account); the bucket's webhook the
    user set stays with its own. A batch planned before the deletion, or for a disabled creator, queues
    nothing for a mint call's webhook."""
    from satchel.core.models import Role, Status

    mia = store.create_user(world.account.id, "mia", Role.MEMBER)
    store.put_webhook(StoredWebhook("bh", world.bucket.id, BUCKET_SCOPE, "https://b/", b"s", 1.0, mia.id))
    store.put_webhook(StoredWebhook("lh", world.bucket.id, LINKS_SCOPE, "https://l/", b"s", 1.0, mia.id), ["L"])
    queue(store, world, 3, endpoint="lh", creator=mia.id)
    queue(store, world, 2, endpoint="bh", creator=mia.id, at=200.0)
    (first,) = store.claim_webhook_deliveries("w", now=300.0, lease=10, limit=1)
    assert first.webhook.id == "lh"
    store.finish_webhook_deliveries([DeliveryOutcome(first.id, "w", DEAD, 1, 300.0, 500, "x")], dead_max=10)
    assert store.count_link_webhooks(mia.id) == 1

    store.delete_user(mia.id)
    assert store.count_link_webhooks(mia.id) == 0
    assert store.webhook_targets([], ["L"])[1] == {}
    remaining = store.list_webhook_deliveries(world.bucket.id, PENDING, 100) + \
        store.list_webhook_deliveries(world.bucket.id, DEAD, 100)
    assert {d.endpoint_id for d in remaining} <= {"bh"}
    assert [d.state for d in remaining] == [PENDING, PENDING]
    queue(store, world, 2, endpoint="lh", creator=mia.id, at=400.0)  # planned before the deletion
    assert store.webhook_queue_depth() == (2, 0)

    joe = store.create_user(world.account.id, "joe", Role.MEMBER)
    store.put_webhook(StoredWebhook("jl", world.bucket.id, LINKS_SCOPE, "https://j/", b"s", 1.0, joe.id), ["J"])
    store.update_user(joe.id, status=Status.DISABLED)
    before = store.webhook_queue_depth()
    queue(store, world, 2, endpoint="jl", creator=joe.id, at=500.0)
    assert store.webhook_queue_depth() == before  # disabled creator: its mint call's webhook hears nothing
    queue(store, world, 1, endpoint="bh", creator=mia.id, at=600.0)
    assert store.webhook_queue_depth()[0] == before[0] + 1  # the bucket's webhook still does


def test_disabling_a_user_drops_its_link_webhooks_pending_deliveries(store: SqliteStore, world: World) -> None:
    """Disabling a user: its mint calls' webhooks are sent nothing more, even for uses queued before; the
    endpoints stay (they hear of uses again once the user is enabled), and a bucket's webhook it set keeps its
    queue."""
    from satchel.core.models import Role, Status

    joe = store.create_user(world.account.id, "joe", Role.MEMBER)
    store.put_webhook(StoredWebhook("bh", world.bucket.id, BUCKET_SCOPE, "https://b/", b"s", 1.0, joe.id))
    store.put_webhook(StoredWebhook("jl", world.bucket.id, LINKS_SCOPE, "https://j/", b"s", 1.0, joe.id), ["J"])
    queue(store, world, 3, endpoint="jl", creator=joe.id)
    queue(store, world, 2, endpoint="bh", creator=joe.id, at=200.0)
    store.update_user(joe.id, status=Status.DISABLED)
    assert [d.endpoint_id for d in store.list_webhook_deliveries(world.bucket.id, PENDING, 100)] == ["bh", "bh"]
    store.update_user(joe.id, status=Status.ACTIVE)
    queue(store, world, 1, endpoint="jl", creator=joe.id, at=300.0)
    assert store.webhook_queue_depth() == (3, 0)
