"""ACLs and Block Public Access in the SQLite store: what authorize() reads travels with buckets and objects."""

from __future__ import annotations

import dataclasses

import pytest

from satchel.core.errors import NoSuchBucket, NoSuchKey
from satchel.core.models import ALL_USERS, AclGrant, PublicAccessBlock, Upload
from satchel.meta.sqlite import SqliteStore

from .conftest import World, record

A, B = "a" * 32, "b" * 32
PUBLIC = (AclGrant(ALL_USERS, "READ"),)


def test_an_object_acl_goes_with_its_version(world: World, store: SqliteStore) -> None:
    store.put_object(dataclasses.replace(record("k", A), acl=PUBLIC))
    first = store.get_object("photos", "k")
    assert first is not None and first.acl == PUBLIC
    store.put_object(record("k", B, size=3))  # an overwrite asks for nothing: private
    second = store.get_object("photos", "k")
    assert second is not None and second.acl == ()
    # Setting the ACL of a version no longer current changes nothing.
    with pytest.raises(NoSuchKey):
        store.set_object_acl("photos", "k", first.etag, first.last_modified + 1, PUBLIC)
    store.set_object_acl("photos", "k", second.etag, second.last_modified, (AclGrant(world.user.id, "READ"),))
    third = store.get_object("photos", "k")
    assert third is not None and third.acl == (AclGrant(world.user.id, "READ"),)


def test_an_upload_keeps_its_acl(world: World, store: SqliteStore) -> None:
    upload = Upload("u1", "photos", "k", 1.0, world.user.id, acl=PUBLIC)
    store.create_upload(upload)
    assert store.get_upload("photos", "u1") == upload


def test_bucket_acl_and_blocks_load_with_the_bucket(world: World, store: SqliteStore) -> None:
    generation = store.generation()
    updated = store.set_bucket_acl("photos", (AclGrant(ALL_USERS, "WRITE"),), True)
    assert (updated.public_read, updated.acl) == (True, (AclGrant(ALL_USERS, "WRITE"),))
    assert store.generation() > generation  # every worker's cached bucket is read again
    own = PublicAccessBlock(block_public_acls=True)
    assert store.set_bucket_public_block("photos", own).public_block == own
    account = PublicAccessBlock(ignore_public_acls=True, restrict_public_buckets=True)
    store.set_account_public_block(world.account.id, account)
    loaded = store.get_bucket("photos")
    assert loaded is not None and (loaded.public_block, loaded.account_public_block) == (own, account)
    assert store.get_account_public_block(world.account.id) == account
    assert [b.account_public_block for b in store.list_buckets()] == [account]
    store.set_account_public_block(world.account.id, None)
    store.set_bucket_public_block("photos", None)
    loaded = store.get_bucket("photos")
    assert loaded is not None and (loaded.public_block, loaded.account_public_block) == (None, None)
    with pytest.raises(NoSuchBucket):
        store.set_bucket_acl("nope", (), False)
