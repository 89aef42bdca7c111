"""The sharing half of the SQLite store: link registry, exact use counting, revocations, audit."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from satchel.core.errors import NotFound
from satchel.core.models import AuditEvent, AuditQuery, Link, LinkKind, Revocation, RevocationScope
from satchel.core.sightings import Sightings
from satchel.meta.sqlite import SqliteStore
from tests.unit.meta.conftest import World


def link(link_id: str, world: World, *, key: str = "a.txt", created: float = 100.0, max_uses: int | None = None,
         expires: float = 1000.0) -> Link:
    return Link(link_id, LinkKind.S3V4, world.user.id, "AK1", "photos", key, "GET", created, expires,
                max_uses=max_uses, bucket_id=world.bucket.id)


def test_links_round_trip_and_listing_order(world: World, store: SqliteStore) -> None:
    store.create_links([link("l1", world, created=1.0), link("l2", world, key="dir/b", created=2.0)])
    assert store.get_link("l1") == link("l1", world, created=1.0)
    assert store.get_link("missing") is None
    assert [x.id for x in store.list_links()] == ["l2", "l1"]
    assert [x.id for x in store.list_links(key_prefix="dir/")] == ["l2"]
    assert [x.id for x in store.list_links(user_ids=[world.user.id], bucket_id=world.bucket.id)] == ["l2", "l1"]
    assert store.list_links(bucket_id="another-bucket-of-that-name") == []
    assert store.list_links(user_ids=["somebody-else"]) == []
    assert store.list_links(user_ids=[]) == []


def test_revoke_is_idempotent_and_hides_from_active(world: World, store: SqliteStore) -> None:
    store.create_links([link("l1", world)])
    assert store.revoke_link("l1", 50.0).revoked == 50.0
    assert store.revoke_link("l1", 60.0).revoked == 50.0  # the first revocation time stays
    assert store.list_links(active_at=10.0) == []
    with pytest.raises(NotFound):
        store.revoke_link("nope", 1.0)


def test_consume_counts_exactly_and_stops_at_the_limit(world: World, store: SqliteStore) -> None:
    store.create_links([link("once", world, max_uses=1), link("twice", world, max_uses=2)])
    first = store.consume_link("once", 10.0)
    assert first is not None and first.uses == 1 and first.last_used == 10.0
    assert store.consume_link("once", 11.0) is None
    assert store.consume_link("twice", 12.0) is not None
    assert store.consume_link("twice", 13.0) is not None
    assert store.consume_link("twice", 14.0) is None
    assert store.consume_link("missing", 1.0) is None


def test_consume_refuses_revoked_and_expired(world: World, store: SqliteStore) -> None:
    store.create_links([link("r", world), link("e", world, expires=20.0)])
    store.revoke_link("r", 5.0)
    assert store.consume_link("r", 6.0) is None
    assert store.consume_link("e", 21.0) is None


def test_one_time_link_is_used_once_under_concurrency(world: World, store: SqliteStore) -> None:
    store.create_links([link("once", world, max_uses=1)])
    results: list[Link | None] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(store.consume_link("once", 10.0))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


def test_batched_use_counts(world: World, store: SqliteStore) -> None:
    store.create_links([link("l1", world)])
    store.count_link_uses({"l1": (3, 40.0)})
    store.count_link_uses({"l1": (2, 30.0)})
    got = store.get_link("l1")
    assert got is not None and (got.uses, got.last_used) == (5, 40.0)


def test_revocations_bump_the_generation(world: World, store: SqliteStore) -> None:
    before = store.generation()
    revocation = Revocation("r1", RevocationScope.PREFIX, "dir/", "photos", 99.0, 100.0, world.user.id)
    store.add_revocation(revocation)
    assert store.generation() > before
    assert store.list_revocations() == [revocation]


def test_audit_filters(world: World, store: SqliteStore) -> None:
    events = [
        AuditEvent(time=1.0, action="mint", outcome="allowed", kind="s3v4", bucket="photos", key="a", user_id="u1",
                   bucket_id="P1"),
        AuditEvent(time=2.0, action="use", outcome="refused", kind="s3v4", bucket="photos", key="b/c", user_id="u1",
                   reason="AccessDenied: Request has expired", bucket_id="P1"),
        AuditEvent(time=3.0, action="use", outcome="allowed", kind="s3v2", bucket="other", key="a", user_id="u2",
                   bucket_id="O1"),
        # The same name, a later bucket: the events of "P1" are not its events.
        AuditEvent(time=4.0, action="use", outcome="refused", kind="s3v4", bucket="photos", key="a", user_id="u3",
                   bucket_id="P2"),
    ]
    store.add_audit_events(events)
    assert [e.time for e in store.query_audit(AuditQuery())] == [1.0, 2.0, 3.0, 4.0]
    assert store.query_audit(AuditQuery(until=2.0))[0].bucket_id == "P1"
    assert [e.time for e in store.query_audit(AuditQuery(bucket_id="P1", outcome="refused"))] == [2.0]
    assert [e.time for e in store.query_audit(AuditQuery(bucket_id="P2"))] == [4.0]
    assert [e.time for e in store.query_audit(AuditQuery(key_prefix="b/"))] == [2.0]
    assert [e.time for e in store.query_audit(AuditQuery(since=2.0, until=3.0))] == [2.0]
    assert [e.time for e in store.query_audit(AuditQuery(kind="s3v2"))] == [3.0]
    assert [e.time for e in store.query_audit(AuditQuery(visible_users=("u2",)))] == [3.0]
    assert [e.time for e in store.query_audit(AuditQuery(visible_users=("u2",), visible_bucket_ids=("P1",)))] == [
        1.0, 2.0, 3.0]
    assert [e.time for e in store.query_audit(AuditQuery(visible_users=(), visible_bucket_ids=("P2",)))] == [4.0]
    assert store.query_audit(AuditQuery(visible_users=(), visible_bucket_ids=())) == []
    # The newest events within the limit, handed back in time order.
    assert [e.time for e in store.query_audit(AuditQuery(limit=1))] == [4.0]
    assert [e.time for e in store.query_audit(AuditQuery(limit=2))] == [3.0, 4.0]
    assert all(e.id for e in store.query_audit(AuditQuery()))


def test_first_sightings_are_kept_until_expiry_then_pruned(store: SqliteStore) -> None:
    assert store.sight_link("f1", 100.0, 200.0) == 100.0
    assert store.sight_link("f1", 150.0, 200.0) == 100.0  # the first sighting stays
    assert store.sight_link("f2", 150.0, 160.0) == 150.0
    # A later sighting of anything prunes expired rows: f2 expired at 160, so it is seen afresh.
    assert store.sight_link("f3", 170.0, 300.0) == 170.0
    assert store.sight_link("f2", 171.0, 400.0) == 171.0
    assert store.sight_link("f1", 180.0, 200.0) == 100.0


def test_sightings_cache_answers_without_the_store(store: SqliteStore) -> None:
    writes: list[str] = []

    async def write(fn: Any, *args: Any) -> float:
        writes.append(args[0])
        return float(fn(*args))

    async def run() -> list[float]:
        seen = Sightings(store, write)
        return [await seen.first_seen("fp", now, 500.0) for now in (100.0, 200.0, 300.0)]

    assert asyncio.run(run()) == [100.0, 100.0, 100.0]
    assert writes == ["fp"]  # one store round trip per worker and URL
