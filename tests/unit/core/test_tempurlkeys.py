"""TempURL keys: who sets and sees them (``authorize(TEMPURL_KEY_ADMIN)``), sealed at rest, the per-worker
cache, and the setter as the principal of every URL signed with a key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.app import SatchelApp
from satchel.config import Settings
from satchel.core import tempurlkeys
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.models import Bucket, Permission, Principal, Role, User
from satchel.core.node import Node
from satchel.core.tempurlkeys import KeyChange, KeyScope


@dataclass
class World:
    node: Node
    account_id: str
    bucket: Bucket
    owner: User
    member: User
    admin: User
    foreign_admin: User

    def principal(self, user: User) -> Principal:
        return self.node.credentials.principal_for_user(user.id)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    app = SatchelApp(Settings(data_dir=tmp_path))
    node = app.start()
    store = node.store
    account = store.create_account("acme")
    other = store.create_account("other")
    owner = store.create_user(account.id, "owner", Role.MEMBER)
    member = store.create_user(account.id, "member", Role.MEMBER)
    admin = store.create_user(account.id, "admin", Role.ADMIN)
    foreign_admin = store.create_user(other.id, "foreign", Role.ADMIN)
    bucket = store.create_bucket(Bucket("photos", account.id, owner.id, 1.0))
    store.add_grant(member.id, "photos", "", Permission.READ_WRITE, share=True)
    try:
        yield World(node, account.id, bucket, owner, member, admin, foreign_admin)
    finally:
        app.stop()


def _change(world: World, user: User, bucket: Bucket | None, *changes: KeyChange) -> None:
    async def run() -> None:
        await tempurlkeys.change_keys(world.node, world.principal(user), account_id=world.account_id, bucket=bucket,
                                      changes=changes)
        await world.node.audit.flush()
    asyncio.run(run())


@pytest.mark.parametrize(("who", "container", "allowed"), [
    ("admin", False, True), ("owner", False, False), ("member", False, False), ("foreign_admin", False, False),
    ("admin", True, True), ("owner", True, True), ("member", True, False), ("foreign_admin", True, False),
])
def test_who_may_set(world: World, who: str, container: bool, allowed: bool) -> None:
    user = getattr(world, who)
    bucket = world.bucket if container else None
    principal = world.principal(user)
    assert tempurlkeys.may_set(principal, world.account_id, bucket) is allowed
    # Never through a link, whoever it is.
    assert not tempurlkeys.may_set(principal.through_link(), world.account_id, bucket)
    if not allowed:
        with pytest.raises(AccessDenied):
            _change(world, user, bucket, KeyChange(1, "secret-key-1"))
        assert world.node.tempurl_keys.keys(world.account_id, world.bucket) == ()


def test_anonymous_and_accountless(world: World) -> None:
    assert not authorize(Principal(None), Action.TEMPURL_KEY_ADMIN, Resource(None, account_id=world.account_id))
    assert not authorize(world.principal(world.admin), Action.TEMPURL_KEY_ADMIN, Resource(None))


def test_keys_sealed_cached_ordered_and_cleared(world: World) -> None:
    _change(world, world.owner, world.bucket, KeyChange(2, "container-key-2"))
    _change(world, world.admin, None, KeyChange(1, "account-key-1"), KeyChange(2, "account-key-2"))
    keys = world.node.tempurl_keys.keys(world.account_id, world.bucket)
    assert [(k.scope, k.slot, k.secret) for k in keys] == [
        (KeyScope.ACCOUNT, 1, b"account-key-1"), (KeyScope.ACCOUNT, 2, b"account-key-2"),
        (KeyScope.CONTAINER, 2, b"container-key-2")]
    assert keys[2].set_by == world.owner.id and keys[0].set_by == world.admin.id
    assert "account-key" not in repr(keys)
    # Sealed at rest: the database never holds a key.
    raw = b"".join(bytes(row[0]) for row in world.node.store._db.conn().execute(  # type: ignore[attr-defined]
        "SELECT secret_ciphertext FROM tempurl_keys"))
    assert b"account-key" not in raw and b"container-key" not in raw
    # A ciphertext moved to another slot does not open.
    world.node.store._db.conn().execute(  # type: ignore[attr-defined]
        "UPDATE tempurl_keys SET slot = 3 WHERE slot = 2 AND bucket_id = ''")
    world.node.store._db.conn().execute("UPDATE generation SET value = value + 1")  # type: ignore[attr-defined]
    world.node.gate.expire()
    # Clearing a slot (rotation) takes the key away at once in this worker.
    _change(world, world.admin, None, KeyChange(1, None))
    keys = world.node.tempurl_keys.keys(world.account_id, world.bucket)
    assert [(k.slot, k.secret) for k in keys if k.scope is KeyScope.ACCOUNT] == [(3, b"")]


def test_shown_only_to_who_may_set(world: World) -> None:
    _change(world, world.admin, None, KeyChange(1, "account-key-1"))
    _change(world, world.owner, world.bucket, KeyChange(1, "container-key-1"))
    node = world.node
    assert tempurlkeys.shown_keys(node, world.principal(world.admin), world.account_id, None) == \
        {"Temp-URL-Key": "account-key-1"}
    assert tempurlkeys.shown_keys(node, world.principal(world.owner), world.account_id, world.bucket) == \
        {"Temp-URL-Key": "container-key-1"}
    assert tempurlkeys.shown_keys(node, world.principal(world.owner), world.account_id, None) == {}
    assert tempurlkeys.shown_keys(node, world.principal(world.member), world.account_id, world.bucket) == {}


def test_audited_without_the_value(world: World) -> None:
    _change(world, world.owner, world.bucket, KeyChange(1, "container-key-1"), KeyChange(2, None))
    rows = world.node.store._db.conn().execute(  # type: ignore[attr-defined]
        "SELECT action, kind, user_id, bucket_id, reason FROM audit_events ORDER BY id").fetchall()
    assert rows == [("tempurl-key", "swift", world.owner.id, world.bucket.id, "container key slot 1 set"),
                    ("tempurl-key", "swift", world.owner.id, world.bucket.id, "container key slot 2 cleared")]


@pytest.mark.parametrize("value", ["short", "x" * 257, "tab\tkey-123", "line\nkey-123"])
def test_bad_keys_refused_before_any_change(world: World, value: str) -> None:
    with pytest.raises(InvalidArgument):
        _change(world, world.admin, None, KeyChange(1, "good-key-123"), KeyChange(2, value))
    assert world.node.tempurl_keys.keys(world.account_id, None) == ()


def test_setter_acts_through_a_link(world: World) -> None:
    _change(world, world.owner, world.bucket, KeyChange(1, "container-key-1"))
    (key,) = world.node.tempurl_keys.keys(world.account_id, world.bucket)
    principal = tempurlkeys.setter(world.node, key)
    assert principal.via_link and principal.user is not None and principal.user.id == world.owner.id


def test_keys_die_with_their_container(world: World) -> None:
    _change(world, world.owner, world.bucket, KeyChange(1, "container-key-1"))
    world.node.store.delete_bucket("photos")
    again = world.node.store.create_bucket(Bucket("photos", world.account_id, world.owner.id, 2.0))
    assert world.node.tempurl_keys.keys(world.account_id, again) == ()
    assert world.node.store.list_tempurl_keys(world.account_id, [world.bucket.id]) == []


def test_slot_names() -> None:
    assert tempurlkeys.slot_for("temp-url-key") == 1 and tempurlkeys.slot_for("Temp-URL-Key-2") == 2
    assert tempurlkeys.slot_for("temp-url-key-3") is None
