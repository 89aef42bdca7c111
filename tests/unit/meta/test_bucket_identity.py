"""A bucket is an identity, not a name: ids made at creation, carried by grants, links, revocations and
audit rows, and given to the data of a store made before ids existed (the ``_V4`` migration)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from satchel.core.models import AuditEvent, AuditQuery, Bucket, Link, LinkKind, Permission, Role
from satchel.meta import schema, sqlite_db
from satchel.meta.sqlite import SqliteStore
from tests.unit.meta.conftest import World


def test_every_bucket_gets_a_fresh_random_id(world: World, store: SqliteStore) -> None:
    first = world.bucket.id
    assert len(first) == 32 and int(first, 16) >= 0
    assert store.get_bucket("photos") == world.bucket
    store.delete_bucket("photos")
    again = store.create_bucket(Bucket("photos", world.account.id, world.user.id, 2000.0))
    assert again.id and again.id != first
    assert store.get_bucket("photos") == again


def test_grants_carry_their_bucket_id_and_die_with_the_bucket(world: World, store: SqliteStore) -> None:
    bob = store.create_user(world.account.id, "bob", Role.MEMBER)
    grant = store.add_grant(bob.id, "photos", "", Permission.READ)
    assert grant.bucket_id == world.bucket.id
    store.delete_bucket("photos")
    store.create_bucket(Bucket("photos", world.account.id, world.user.id, 2000.0))
    assert store.list_grants(user_id=bob.id) == []


def test_links_and_their_mint_events_commit_together(world: World, store: SqliteStore) -> None:
    link = Link("L1", LinkKind.S3V4, world.user.id, "AK1", "photos", "a", "GET", 1.0, 99.0,
                bucket_id=world.bucket.id)
    event = AuditEvent(time=1.0, action="mint", outcome="allowed", link_id="L1", bucket="photos",
                       bucket_id=world.bucket.id)
    store.create_links([link], [event])
    assert store.get_link("L1") == link
    assert [(e.link_id, e.bucket_id) for e in store.query_audit(AuditQuery())] == [("L1", world.bucket.id)]
    # A failure anywhere in the batch leaves neither the link nor its event.
    with pytest.raises(sqlite3.IntegrityError):
        store.create_links([Link("L2", LinkKind.S3V4, world.user.id, "AK1", "photos", "b", "GET", 1.0, 99.0),
                            link], [AuditEvent(time=2.0, action="mint", outcome="allowed", link_id="L2")])
    assert store.get_link("L2") is None
    assert [e.link_id for e in store.query_audit(AuditQuery())] == ["L1"]


_OLD_ROWS = [
    "INSERT INTO accounts (id, name, created) VALUES ('A', 'acme', 1)",
    "INSERT INTO users (id, account_id, name, role, status, created) VALUES ('U', 'A', 'alice', 'member', "
    "'active', 1)",
    "INSERT INTO buckets (name, account_id, owner_user_id, created) VALUES ('photos', 'A', 'U', 1)",
    "INSERT INTO buckets (name, account_id, owner_user_id, created) VALUES ('docs', 'A', 'U', 1)",
    "INSERT INTO grants (id, user_id, bucket, prefix, permission, created) VALUES ('G', 'U', 'docs', '', 'read', 1)",
    "INSERT INTO links (id, kind, user_id, bucket, key, method, created, expires) VALUES "
    "('L1', 's3v4', 'U', 'photos', 'a', 'GET', 1, 9), ('L2', 's3v4', 'U', 'gone', 'a', 'GET', 1, 9)",
    "INSERT INTO revocations (id, scope, target, bucket, before, created) VALUES "
    "('R1', 'prefix', 'p/', 'photos', 1, 1), ('R2', 'bucket', 'docs', NULL, 1, 1), "
    "('R3', 'user', 'U', NULL, 1, 1), ('R4', 'object', 'k', 'gone', 1, 1)",
    "INSERT INTO audit_events (id, time, action, outcome, bucket) VALUES "
    "('E1', 1, 'mint', 'allowed', 'photos'), ('E2', 2, 'use', 'refused', 'gone'), ('E3', 3, 'use', 'refused', NULL)",
]


def test_migration_gives_existing_data_the_ids_of_current_buckets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.sqlite3"
    previous = schema.MIGRATIONS[: schema.MIGRATIONS.index(schema._V4)]
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", previous)
    old = sqlite_db.SqliteDatabase(path)
    with old.transaction() as c:
        for statement in _OLD_ROWS:
            c.execute(statement)
    assert old.schema_version() == len(previous)
    old.close()
    monkeypatch.undo()

    store = SqliteStore(path)
    try:
        assert store.schema_version() == len(schema.MIGRATIONS)
        photos, docs = store.get_bucket("photos"), store.get_bucket("docs")
        assert photos is not None and docs is not None
        assert len(photos.id) == 32 and len(docs.id) == 32 and photos.id != docs.id
        assert [g.bucket_id for g in store.list_grants()] == [docs.id]
        assert store.get_link("L1").bucket_id == photos.id  # type: ignore[union-attr]
        assert store.get_link("L2").bucket_id is None  # type: ignore[union-attr]  # no bucket: matches none
        assert {r.id: r.bucket_id for r in store.list_revocations()} == {
            "R1": photos.id, "R2": docs.id, "R3": None, "R4": None}
        assert [(e.id, e.bucket_id) for e in store.query_audit(AuditQuery())] == [
            ("E1", photos.id), ("E2", None), ("E3", None)]
        assert [e.id for e in store.query_audit(AuditQuery(bucket_id=photos.id))] == ["E1"]
        # The name is reused afterwards: the old rows stay with the old id.
        store.delete_bucket("photos")
        reused = store.create_bucket(Bucket("photos", "A", "U", 5.0))
        assert reused.id != photos.id
        assert store.list_links(bucket_id=reused.id) == []
        assert store.query_audit(AuditQuery(bucket_id=reused.id)) == []
    finally:
        store.close()


def test_the_migration_adds_columns_and_indexes_only() -> None:
    """Never a rebuilt table: the script must apply on top of other branches' column additions."""
    for statement in schema.statements(schema._V4, "postgresql"):
        head = " ".join(statement.split()[:3]).upper()
        assert head.startswith(("ALTER TABLE", "UPDATE", "CREATE INDEX", "CREATE UNIQUE", "DROP INDEX")), statement
        if head.startswith("ALTER TABLE"):
            assert " ADD COLUMN " in statement
    assert "randomblob" not in schema.statements(schema._V4, "postgresql")[1]
