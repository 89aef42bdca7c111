"""A full database (SQLITE_FULL) is InsufficientStorage, changes nothing, and passes once there is room.

``PRAGMA max_page_count`` makes SQLite answer SQLITE_FULL exactly as a full disk does, without one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from satchel.core.errors import InsufficientStorage
from satchel.core.models import Bucket
from satchel.core.writer import MetadataWriter
from satchel.meta.sqlite import SqliteStore
from tests.unit.meta.conftest import World
from tests.unit.meta.test_group_commit import bucket, queued_behind_a_blocker

ENGINES = ("sqlite",)  # SQLITE_FULL itself


def cap(store: SqliteStore, pages: int | None) -> None:
    """Cap this thread's connection at its current size (None: lift the cap)."""
    conn = store._db.conn()
    limit = conn.execute("PRAGMA page_count").fetchone()[0] if pages is None else pages
    conn.execute(f"PRAGMA max_page_count = {int(limit)}")


def test_a_full_database_refuses_with_insufficient_storage_and_recovers(store: SqliteStore, world: World) -> None:
    cap(store, None)
    made: list[str] = []
    for i in range(2000):
        name = f"b{i:04d}-" + "x" * 50
        try:
            store.create_bucket(bucket(world, name))
        except InsufficientStorage:
            break
        made.append(name)
    else:
        raise AssertionError("the database never filled up")
    assert {b.name for b in store.list_buckets()} == {"photos", *made}  # the refused one is not there
    assert store._db.conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    cap(store, 1 << 30)
    store.create_bucket(bucket(world, "after"))
    assert store.get_bucket("after") is not None


def test_grouped_writes_on_a_full_database_each_fail_with_insufficient_storage(store: SqliteStore,
                                                                               world: World) -> None:
    writer = MetadataWriter(store.group)
    names = [f"g{i:03d}-" + "y" * 55 for i in range(300)]
    calls: list[Any] = [lambda: cap(store, None)]
    calls += [lambda name=name: store.create_bucket(bucket(world, name)) for name in names]
    try:
        outcomes = asyncio.run(queued_behind_a_blocker(writer, calls))[1:]
        created = {o.name for o in outcomes if isinstance(o, Bucket)}
        failures = [o for o in outcomes if not isinstance(o, Bucket)]
        assert failures, "the database never filled up"
        assert all(isinstance(o, InsufficientStorage) for o in failures), {type(o) for o in failures}
        assert {b.name for b in store.list_buckets()} == {"photos", *created}
        asyncio.run(writer.run(cap, store, 1 << 30))
        assert asyncio.run(writer.run(store.create_bucket, bucket(world, "after"))).name == "after"
    finally:
        writer.close()
