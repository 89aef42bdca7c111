"""Accounts, users, access keys, grants, buckets and the generation counter."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from satchel.core.errors import BucketNotEmpty, Conflict, NoSuchBucket, NotFound
from satchel.core.models import Bucket, CorsRule, Part, Permission, Role, Status, Upload
from satchel.meta.sqlite import SqliteStore

from .conftest import World, blob_states, record


def test_accounts(store: SqliteStore) -> None:
    b = store.create_account("beta")
    a = store.create_account("alpha")
    assert store.get_account(a.id) == a
    assert store.get_account_by_name("beta") == b
    assert store.get_account("nope") is None
    assert store.get_account_by_name("nope") is None
    assert store.list_accounts() == [a, b]
    assert len(a.id) == 32 and a.id != b.id
    with pytest.raises(Conflict):
        store.create_account("alpha")


def test_users(store: SqliteStore) -> None:
    acme = store.create_account("acme")
    other = store.create_account("other")
    bob = store.create_user(acme.id, "bob", Role.ADMIN, password_hash="$argon2id$x")
    amy = store.create_user(acme.id, "amy", Role.MEMBER)
    zed = store.create_user(other.id, "zed", Role.MEMBER)
    assert bob.status is Status.ACTIVE and bob.role is Role.ADMIN and bob.password_hash == "$argon2id$x"
    assert store.get_user(bob.id) == bob
    assert store.get_user_by_name("amy") == amy
    assert store.get_user("nope") is None and store.get_user_by_name("nope") is None
    assert store.list_users() == [amy, bob, zed]
    assert store.list_users(acme.id) == [amy, bob]
    with pytest.raises(Conflict):
        store.create_user(other.id, "bob", Role.MEMBER)  # names are unique across the node
    with pytest.raises(NotFound):
        store.create_user("no-such-account", "carl", Role.MEMBER)


def test_update_user_changes_only_given_fields(store: SqliteStore) -> None:
    acme = store.create_account("acme")
    bob = store.create_user(acme.id, "bob", Role.MEMBER, password_hash="h1")
    changed = store.update_user(bob.id, status=Status.DISABLED)
    assert changed.status is Status.DISABLED
    assert changed.role is Role.MEMBER and changed.password_hash == "h1"
    changed = store.update_user(bob.id, role=Role.ADMIN, password_hash=None)
    assert changed.role is Role.ADMIN and changed.password_hash is None
    assert store.get_user(bob.id) == changed
    assert store.update_user(bob.id) == changed
    with pytest.raises(NotFound):
        store.update_user("nope", status=Status.ACTIVE)


def test_delete_user_cascades_keys_and_grants(world: World, store: SqliteStore) -> None:
    helper = store.create_user(world.account.id, "helper", Role.MEMBER)
    store.create_access_key(helper.id, "AKIAHELPER", b"cipher")
    store.add_grant(helper.id, "photos", "", Permission.READ)
    store.delete_user(helper.id)
    assert store.get_user(helper.id) is None
    assert store.get_access_key("AKIAHELPER") is None
    assert store.list_grants(user_id=helper.id) == []
    with pytest.raises(NotFound):
        store.delete_user(helper.id)


def test_delete_user_refused_while_owning_buckets(world: World, store: SqliteStore) -> None:
    store.create_access_key(world.user.id, "AKIAALICE", b"cipher")
    with pytest.raises(Conflict):
        store.delete_user(world.user.id)
    assert store.get_user(world.user.id) == world.user
    assert store.get_access_key("AKIAALICE") is not None  # nothing happened
    store.delete_bucket("photos")
    store.delete_user(world.user.id)
    assert store.get_access_key("AKIAALICE") is None


def test_access_keys(world: World, store: SqliteStore) -> None:
    key = store.create_access_key(world.user.id, "AKIA1", b"\x00\xffsecret")
    assert key.status is Status.ACTIVE and key.secret_ciphertext == b"\x00\xffsecret"
    assert store.get_access_key("AKIA1") == key
    assert store.get_access_key("AKIA2") is None
    other = store.create_user(world.account.id, "other", Role.MEMBER)
    key2 = store.create_access_key(other.id, "AKIA2", b"x")
    assert store.list_access_keys() == [key, key2]
    assert store.list_access_keys(other.id) == [key2]
    with pytest.raises(Conflict):
        store.create_access_key(other.id, "AKIA1", b"y")
    with pytest.raises(NotFound):
        store.create_access_key("nope", "AKIA3", b"y")
    updated = store.update_access_key("AKIA1", status=Status.DISABLED)
    assert updated.status is Status.DISABLED
    assert updated.secret_ciphertext == key.secret_ciphertext
    with pytest.raises(NotFound):
        store.update_access_key("AKIA9", status=Status.ACTIVE)
    store.delete_access_key("AKIA1")
    assert store.get_access_key("AKIA1") is None
    with pytest.raises(NotFound):
        store.delete_access_key("AKIA1")


def test_grants(world: World, store: SqliteStore) -> None:
    bob = store.create_user(world.account.id, "bob", Role.MEMBER)
    store.create_bucket(Bucket("docs", world.account.id, None, 1.0))
    g1 = store.add_grant(bob.id, "photos", "", Permission.READ)
    g2 = store.add_grant(bob.id, "photos", "shared/", Permission.READ_WRITE)
    g3 = store.add_grant(world.user.id, "docs", "", Permission.READ)
    assert g1.permission is Permission.READ and g1.bucket == "photos" and g1.prefix == ""
    assert store.list_grants(user_id=bob.id) == [g1, g2]
    assert store.list_grants(bucket="docs") == [g3]
    assert store.list_grants(user_id=bob.id, bucket="photos") == [g1, g2]
    assert len(store.list_grants()) == 3
    # Same (user, bucket, prefix) again: the permission is replaced, no duplicate appears.
    again = store.add_grant(bob.id, "photos", "", Permission.READ_WRITE)
    assert again.id == g1.id and again.permission is Permission.READ_WRITE
    assert len(store.list_grants(user_id=bob.id)) == 2
    with pytest.raises(NotFound):
        store.add_grant("nope", "photos", "", Permission.READ)
    with pytest.raises(NoSuchBucket):
        store.add_grant(bob.id, "no-such-bucket", "", Permission.READ)
    store.remove_grant(g2.id)
    assert store.list_grants(user_id=bob.id) == [again]
    with pytest.raises(NotFound):
        store.remove_grant(g2.id)


def test_buckets(world: World, store: SqliteStore) -> None:
    other = store.create_account("other")
    contract = store.create_bucket(Bucket("archive", world.account.id, None, 2.0))
    foreign = store.create_bucket(Bucket("zz-other", other.id, None, 3.0))
    assert store.get_bucket("archive") == contract
    assert store.get_bucket("nope") is None
    assert store.list_buckets() == [contract, world.bucket, foreign]
    assert store.list_buckets(world.account.id) == [contract, world.bucket]
    with pytest.raises(Conflict):
        store.create_bucket(Bucket("archive", other.id, None, 4.0))
    with pytest.raises(NotFound):
        store.create_bucket(Bucket("new", "no-account", None, 4.0))
    with pytest.raises(NotFound):
        store.create_bucket(Bucket("new", other.id, "no-user", 4.0))
    assert store.get_bucket("new") is None


def test_update_bucket_settings(world: World, store: SqliteStore) -> None:
    rules = (CorsRule(("https://example.com",), ("GET", "HEAD"), ("*",), ("ETag",), 600, "main"),)
    b = store.update_bucket("photos", public_read=True, cors=rules, max_link_lifetime=3600)
    assert (b.public_read, b.cors, b.max_link_lifetime) == (True, rules, 3600)
    assert store.get_bucket("photos") == b
    b = store.update_bucket("photos", cors=None)
    assert b.cors is None and b.public_read is True and b.max_link_lifetime == 3600
    b = store.update_bucket("photos", public_read=False, max_link_lifetime=None)
    assert b == world.bucket
    with pytest.raises(NoSuchBucket):
        store.update_bucket("nope", public_read=True)


def test_delete_bucket(world: World, store: SqliteStore) -> None:
    bob = store.create_user(world.account.id, "bob", Role.MEMBER)
    store.add_grant(bob.id, "photos", "", Permission.READ)
    store.put_object(record("k", "a" * 32))
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket("photos")
    store.delete_object("photos", "k")
    # Unfinished uploads do not keep the bucket (S3 deletes them with it); their parts' blobs die with it.
    upload = store.create_upload(Upload("", "photos", "big", 1.0, None))
    store.put_part(Part(upload.upload_id, 1, 10, "e", "q" * 32, 2.0, {}))
    store.put_part(Part(upload.upload_id, 2, 10, "e", "r" * 32, 2.0, {}))
    assert sorted(store.delete_bucket("photos")) == ["q" * 32, "r" * 32]
    assert blob_states(store)["q" * 32] == blob_states(store)["r" * 32] == "dead"
    assert store.get_upload("photos", upload.upload_id) is None and store.list_parts(upload.upload_id) == []
    assert store.get_bucket("photos") is None
    assert store.list_grants(bucket="photos") == []
    with pytest.raises(NoSuchBucket):
        store.delete_bucket("photos")
    # A bucket re-created under the same name does not inherit the old grants.
    store.create_bucket(Bucket("photos", world.account.id, None, 9.0))
    assert store.list_grants(bucket="photos") == []


def test_generation_moves_with_every_security_relevant_change(world: World, store: SqliteStore) -> None:
    steps: list[Callable[[], object]] = [
        lambda: store.create_user(world.account.id, "bob", Role.MEMBER),
        lambda: store.update_user(world.user.id, status=Status.DISABLED),
        lambda: store.create_access_key(world.user.id, "AKIA1", b"c"),
        lambda: store.update_access_key("AKIA1", status=Status.DISABLED),
        lambda: store.delete_access_key("AKIA1"),
        lambda: store.add_grant(world.user.id, "photos", "", Permission.READ),
        lambda: store.remove_grant(store.list_grants()[0].id),
        lambda: store.create_bucket(Bucket("more", world.account.id, None, 1.0)),
        lambda: store.update_bucket("more", public_read=True),
        lambda: store.delete_bucket("more"),
        lambda: store.delete_user(store.get_user_by_name("bob").id),  # type: ignore[union-attr]
    ]
    seen = [store.generation()]
    for step in steps:
        step()
        seen.append(store.generation())
    assert all(b > a for a, b in itertools.pairwise(seen)), seen
    # Object writes are not credential changes: caches must not be flushed by them.
    before = store.generation()
    store.put_object(record("k", "a" * 32))
    store.delete_object("photos", "k")
    assert store.generation() == before


def test_failed_change_leaves_generation_alone(world: World, store: SqliteStore) -> None:
    before = store.generation()
    with pytest.raises(NotFound):
        store.update_user("nope", status=Status.DISABLED)
    with pytest.raises(Conflict):
        store.delete_user(world.user.id)
    assert store.generation() == before


def test_object_writes_commit_only_into_the_bucket_they_were_authorised_against(world: World,
                                                                                store: SqliteStore) -> None:
    """A write names its bucket, but was authorised against one bucket id: when that bucket was deleted
    and another took its name meanwhile, every write is refused, and none of its blobs becomes live."""
    old = world.bucket.id
    upload = store.create_upload(Upload("", "photos", "big", 1.0, None), bucket_id=old)
    store.put_part(Part(upload.upload_id, 1, 10, "e", "p" * 32, 2.0, {}))
    store.abort_upload(upload.upload_id)
    store.delete_bucket("photos")
    with pytest.raises(NoSuchBucket):
        store.put_object(record("k", "a" * 32), bucket_id=old)  # the bucket is gone
    new = store.create_bucket(Bucket("photos", store.create_account("rival").id, None, 9.0)).id
    with pytest.raises(NoSuchBucket):
        store.put_object(record("k", "a" * 32), bucket_id=old)  # its name is another bucket's
    with pytest.raises(NoSuchBucket):
        store.create_upload(Upload("", "photos", "big", 1.0, None), bucket_id=old)
    assert store.get_object("photos", "k") is None and store.list_uploads("photos") == []
    assert "a" * 32 not in blob_states(store)
    store.put_object(record("k", "b" * 32), bucket_id=new)
    with pytest.raises(NoSuchBucket):
        store.delete_object("photos", "k", bucket_id=old)
    assert store.get_object("photos", "k") is not None
    late = store.create_upload(Upload("", "photos", "big", 1.0, None), bucket_id=new)
    store.put_part(Part(late.upload_id, 1, 10, "e", "c" * 32, 2.0, {}))
    with pytest.raises(NoSuchBucket):
        store.complete_upload(late.upload_id, record("big", "c" * 32), bucket_id=old)
    assert store.get_object("photos", "big") is None and store.list_uploads("photos") != []
    store.complete_upload(late.upload_id, record("big", "c" * 32), bucket_id=new)
    assert store.delete_object("photos", "k", bucket_id=new) == ["b" * 32]
