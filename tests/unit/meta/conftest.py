"""A fresh store per test (on each engine: ``tests/unit/conftest.py``), with one account, one member and one
bucket."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from satchel.core.models import Account, Bucket, ObjectRecord, Role, Segment, User
from satchel.meta.sqlite import SqliteStore


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
