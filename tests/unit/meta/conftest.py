"""A fresh SQLite store per test, with one account, one member and one bucket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.core.models import Account, Bucket, ObjectRecord, Role, Segment, User
from satchel.meta.sqlite import SqliteStore


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every store test runs on both engines, unless its module says ``ENGINES = ("sqlite",)`` (tests of
    SQLite's own file, locking or pragmas; one test: ``@pytest.mark.sqlite_only``)."""
    if "engine" in metafunc.fixturenames:
        engines = getattr(metafunc.module, "ENGINES", ("sqlite", "postgresql"))
        if metafunc.definition.get_closest_marker("sqlite_only"):
            engines = ("sqlite",)
        metafunc.parametrize("engine", engines)


@pytest.fixture
def store(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SqliteStore]:
    if engine == "postgresql":
        from satchel.meta.postgres import PostgresStore

        s: SqliteStore = PostgresStore(request.getfixturevalue("pg_url"))
    else:
        s = SqliteStore(tmp_path / "meta.sqlite3")
    yield s
    s.close()


@dataclass
class World:
    account: Account
    user: User
    bucket: Bucket


@pytest.fixture
def world(store: SqliteStore) -> World:
    account = store.create_account("acme")
    user = store.create_user(account.id, "alice", Role.MEMBER)
    bucket = store.create_bucket(Bucket("photos", account.id, user.id, 1000.0))
    return World(account, user, bucket)


def record(key: str, *blob_ids: str, bucket: str = "photos", size: int = 10) -> ObjectRecord:
    """An object whose segments are ``blob_ids`` (one per argument)."""
    return ObjectRecord(
        bucket=bucket,
        key=key,
        size=size * len(blob_ids),
        etag=f'"{key}"',
        last_modified=1234.5,
        segments=tuple(Segment(b, size) for b in blob_ids),
    )


def blob_states(store: SqliteStore) -> dict[str, str]:
    """Every blob row, id -> state."""
    return dict(store._db.conn().execute("SELECT blob_id, state FROM blobs").fetchall())
