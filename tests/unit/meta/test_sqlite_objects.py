"""Objects: point reads, replacement, deletion, listing order and the blob bookkeeping around them."""

from __future__ import annotations

import functools
import random
import sqlite3
from collections.abc import Callable

import pytest

from satchel.core.errors import NoSuchBucket
from satchel.core.models import Bucket, ObjectRecord, ObjectSummary, Segment
from satchel.meta.sqlite import SqliteStore

from .conftest import World, blob_states, record

A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def test_put_get_round_trip_keeps_every_field(world: World, store: SqliteStore) -> None:
    r = ObjectRecord(
        bucket="photos",
        key="dir/naïve 😀.jpg",
        size=15,
        etag='"abc-2"',
        last_modified=1700000000.25,
        segments=(Segment(A, 10), Segment(B, 5)),
        headers={"content-type": "image/jpeg", "cache-control": "no-store"},
        user_meta={"owner": "ünïcode"},
        checksums={"crc32": "AAAAAA==-2"},
        parts_count=2,
        owner_user_id=world.user.id,
    )
    assert store.put_object(r) == []
    assert store.get_object("photos", r.key) == r
    assert store.get_object("photos", "other") is None
    assert store.get_object("elsewhere", r.key) is None
    assert blob_states(store) == {A: "live", B: "live"}


def test_existing_keys_answers_exactly_across_query_chunks(world: World, store: SqliteStore) -> None:
    present = [f"k{i:04d}" for i in range(0, 1200, 2)] + ["dir/naïve 😀", "100%_*"]
    for key in present:
        store.put_object(record(key, A))
    store.create_bucket(Bucket("other", world.account.id, world.user.id, 1.0))
    store.put_object(record("k0001", B, bucket="other"))  # same key, another bucket: not counted
    asked = [f"k{i:04d}" for i in range(1200)] + ["dir/naïve 😀", "100%_*", "100%", "dir/"]
    assert store.existing_keys("photos", asked) == set(present)
    assert store.existing_keys("photos", []) == set()
    assert store.existing_keys("nope", asked) == set()


def test_put_into_missing_bucket_changes_nothing(world: World, store: SqliteStore) -> None:
    with pytest.raises(NoSuchBucket):
        store.put_object(record("k", A, bucket="nope"))
    assert blob_states(store) == {}


def test_replacing_returns_the_old_blobs_dead(world: World, store: SqliteStore) -> None:
    store.put_object(record("k", A, B))
    assert sorted(store.put_object(record("k", C))) == [A, B]
    assert store.get_object("photos", "k") == record("k", C)
    assert blob_states(store) == {A: "dead", B: "dead", C: "live"}
    assert sorted(store.dead_blobs()) == [A, B]


def test_replacement_sharing_a_blob_keeps_it_alive(world: World, store: SqliteStore) -> None:
    store.put_object(record("k", A, B))
    assert store.put_object(record("k", B, C)) == [A]
    assert blob_states(store) == {A: "dead", B: "live", C: "live"}


def test_delete_object(world: World, store: SqliteStore) -> None:
    store.put_object(record("k", A, B))
    assert sorted(store.delete_object("photos", "k")) == [A, B]
    assert store.get_object("photos", "k") is None
    assert store.delete_object("photos", "k") == []
    assert store.delete_object("nope", "k") == []
    assert blob_states(store) == {A: "dead", B: "dead"}


@pytest.mark.sqlite_only
def test_failed_transaction_changes_nothing(world: World, store: SqliteStore) -> None:
    """Make the last statement of put_object fail: the object row written before it rolls back."""
    store.put_object(record("k", A))
    conn = store._db.conn()
    conn.execute(
        "CREATE TEMP TRIGGER refuse_dead BEFORE UPDATE ON blobs WHEN NEW.state = 'dead' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        store.put_object(record("k", B))
    assert store.get_object("photos", "k") == record("k", A)
    assert blob_states(store) == {A: "live"}
    assert not conn.in_transaction
    conn.execute("DROP TRIGGER refuse_dead")
    assert store.put_object(record("k", B)) == [A]


def test_blob_bookkeeping_rows(world: World, store: SqliteStore) -> None:
    store.put_object(record("k", A))
    store.put_object(record("k", B))
    assert store.known_blobs([A, B, C]) == {A, B}
    assert store.known_blobs([]) == set()
    many = [f"{i:032x}" for i in range(1200)]  # more than one IN (...) batch
    assert store.known_blobs([*many, A]) == {A}
    store.forget_blobs([A, B])  # only dead rows are forgotten: B is live
    assert blob_states(store) == {B: "live"}
    assert store.dead_blobs() == []


def test_dead_blobs_limit_and_order(world: World, store: SqliteStore) -> None:
    ids = [f"{i:032x}" for i in range(5)]
    for blob_id in ids:
        store.put_object(record("k", blob_id))
    store.delete_object("photos", "k")
    assert store.dead_blobs(limit=2) == ids[:2]
    assert set(store.dead_blobs()) == set(ids)


# --- listing ----------------------------------------------------------------------------------------
def _keys(records: list[ObjectSummary]) -> list[str]:
    return [r.key for r in records]


def test_list_objects_basics(world: World, store: SqliteStore) -> None:
    for key in ["b", "a/2", "a/1", "a0", "a", "c/x"]:
        store.put_object(record(key, A))
    assert _keys(store.list_objects("photos")) == ["a", "a/1", "a/2", "a0", "b", "c/x"]
    assert _keys(store.list_objects("photos", prefix="a/")) == ["a/1", "a/2"]
    assert _keys(store.list_objects("photos", prefix="a/", after="a/1")) == ["a/2"]
    assert _keys(store.list_objects("photos", prefix="a", after="a/2")) == ["a0"]
    assert _keys(store.list_objects("photos", after="a0", limit=1)) == ["b"]
    assert _keys(store.list_objects("photos", prefix="b", after="a")) == ["b"]  # marker before prefix
    assert _keys(store.list_objects("photos", prefix="b", after="c")) == []  # marker past prefix
    assert store.list_objects("photos", limit=0) == []
    assert store.list_objects("nope") == []
    assert store.list_objects("photos", prefix="zz") == []


UNICODE_ALPHABET = ["a", "b", "/", "~", "\x7f", "é", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff",
                    "😀", "\U00010000", "\U0010ffff"]


def test_list_objects_matches_an_oracle_on_unicode_keys(world: World, store: SqliteStore) -> None:
    """S3 order is binary UTF-8. The oracle sorts encoded bytes; the store must agree for every
    prefix (including ones ending in the highest code points) and marker."""
    rng = random.Random(42)
    keys = sorted({"".join(rng.choice(UNICODE_ALPHABET) for _ in range(rng.randint(1, 4))) for _ in range(400)})
    store.bulk_insert_objects(record(k, f"{i:032x}") for i, k in enumerate(keys))
    ordered = sorted(keys, key=lambda k: k.encode())
    assert _keys(store.list_objects("photos", limit=10_000)) == ordered
    for _ in range(400):
        prefix = "".join(rng.choice(UNICODE_ALPHABET) for _ in range(rng.randint(0, 2)))
        after = rng.choice([None, rng.choice(keys), "".join(rng.choice(UNICODE_ALPHABET) for _ in range(2))])
        limit = rng.choice([1, 3, 1000])
        expected = [k for k in ordered if k.startswith(prefix) and (after is None or k.encode() > after.encode())]
        got = _keys(store.list_objects("photos", prefix=prefix, after=after, limit=limit))
        assert got == expected[:limit], (prefix, after, limit)


def test_list_objects_prefix_of_highest_code_point(world: World, store: SqliteStore) -> None:
    keys = ["x\U0010ffff", "x\U0010ffffz", "x\U0010ffff\U0010ffff", "y", "x\uffff"]
    for i, k in enumerate(keys):
        store.put_object(record(k, f"{i:032x}"))
    got = _keys(store.list_objects("photos", prefix="x\U0010ffff"))
    assert got == ["x\U0010ffff", "x\U0010ffffz", "x\U0010ffff\U0010ffff"]
    assert _keys(store.list_objects("photos", prefix="\U0010ffff")) == []


def _plans(store: SqliteStore, call: Callable[[], object]) -> list[str]:
    """EXPLAIN QUERY PLAN of every SELECT on objects that ``call()`` really ran, with its parameters."""
    conn = store._db.conn()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    plans = []
    for sql in seen:
        if sql.startswith("SELECT") and "FROM objects" in sql:
            plans += [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    return plans


@pytest.mark.sqlite_only
def test_listing_is_an_index_range_scan_over_100k_objects(world: World, store: SqliteStore) -> None:
    count = store.bulk_insert_objects(
        record(f"dir{i % 10}/file{i:06d}", f"{i:032x}") for i in range(100_000)
    )
    assert count == 100_000
    cases: list[dict[str, str]] = [
        {"prefix": "dir3/", "after": "dir3/file050003"},
        {"prefix": "dir3/"},
        {"after": "dir5/"},
        {},
    ]
    for kwargs in cases:
        page = store.list_objects("photos", limit=1000, **kwargs)
        assert len(page) == 1000
        plans = _plans(store, functools.partial(store.list_objects, "photos", limit=1000, **kwargs))
        assert plans, kwargs
        assert all(p.startswith("SEARCH objects USING") for p in plans), plans
        assert not any("TEMP B-TREE" in p for p in plans), plans
        assert any("key>" in p for p in plans), plans  # the key bound drives the search
    page = store.list_objects("photos", prefix="dir3/", after="dir3/file050003", limit=1000)
    assert page[0].key == "dir3/file050013" and page[-1].key == "dir3/file060003"
    # Point reads use the primary key too.
    plans = _plans(store, lambda: store.get_object("photos", "dir3/file000003"))
    assert plans and all("USING INDEX sqlite_autoindex_objects_1 (bucket=? AND key=?)" in p for p in plans)


def test_bulk_insert_registers_blobs_live(world: World, store: SqliteStore) -> None:
    store.bulk_insert_objects([record("k1", A), record("k2", B, C)], batch=1)
    assert blob_states(store) == {A: "live", B: "live", C: "live"}
    with pytest.raises(sqlite3.IntegrityError):
        store.bulk_insert_objects([record("k3", D), record("k1", D)])  # k1 exists: nothing is inserted
    assert store.get_object("photos", "k3") is None
    assert D not in blob_states(store)
