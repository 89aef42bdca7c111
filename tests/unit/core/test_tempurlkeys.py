"""TempURL keys: who sets and sees them (``authorize(TEMPURL_KEY_ADMIN)``), sealed at rest, the per-worker
cache, and the setter as the principal of every URL signed with a key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from satchel.app import SatchelApp
from satchel.config import Settings
from satchel.core import swiftlinks, tempurlkeys
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchBucket
from satchel.core.links import LinkSpec
from satchel.core.models import (
    AccessKey,
    Bucket,
    LinkKind,
    ObjectRecord,
    Permission,
    Principal,
    Role,
    Segment,
    Status,
    User,
)
from satchel.core.node import Node
from satchel.core.tempurlkeys import KeyChange, KeyScope
from satchel.signing import tempurl


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


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


# --- TempURLs minted for a caller (links API "kind": "swift") ---------------------------------------------------


def _mint(world: World, user: User, keys: tuple[str, ...], **spec: Any) -> list[swiftlinks.SwiftLink]:
    access_key = AccessKey("AKIDTEST", user.id, "x" * 40, Status.ACTIVE, 0.0)
    link_spec = LinkSpec(bucket="photos", keys=keys, kind=LinkKind.SWIFT, **spec)

    async def run() -> list[swiftlinks.SwiftLink]:
        made = await swiftlinks.mint_swift_links(world.node, world.principal(user), access_key, link_spec,
                                                 client_ip="192.0.2.1", user_agent="test", request_id="R1")
        await world.node.audit.flush()
        return made
    return asyncio.run(run())


def _put(world: World, key: str) -> None:
    world.node.store.put_object(ObjectRecord("photos", key, 1, "etag", 1.0, (Segment("c" * 32, 1),)))


def test_swift_links_need_a_key(world: World) -> None:
    _put(world, "cat.jpg")
    with pytest.raises(InvalidArgument, match="you set none on container photos"):
        _mint(world, world.owner, ("cat.jpg",))


def test_swift_links_verify_with_the_newest_container_key(world: World) -> None:
    _put(world, "a b/cat ü.jpg")
    _change(world, world.admin, None, KeyChange(1, "account-key-1"))
    _change(world, world.owner, world.bucket, KeyChange(1, "container-old"))
    world.node.clock = FixedClock(world.node.clock.now() + 5)
    _change(world, world.owner, world.bucket, KeyChange(2, "container-new"))
    (made,) = _mint(world, world.owner, ("a b/cat ü.jpg",), mode="view", expires_in=600)
    assert made.url is not None and made.url.endswith("&inline")
    split = urlsplit(made.url)
    assert split.path == "/v1/AUTH_acme/photos/a%20b/cat%20%C3%BC.jpg"
    params = tempurl.parse_query(parse_qsl(split.query, keep_blank_values=True))
    assert params is not None and params.inline and params.signature.algorithm == "sha256"
    request = tempurl.Request("GET", "AUTH_acme", "photos", "a b/cat ü.jpg", None)
    assert tempurl.verify(params, request, [b"container-old", b"container-new"], allowed=("sha256",),
                          now=world.node.clock.now()) == 1
    rows = world.node.store._db.conn().execute(  # type: ignore[attr-defined]
        "SELECT action, kind, user_id, key, link_id FROM audit_events WHERE action = 'mint'").fetchall()
    assert rows == [("mint", "swift", world.owner.id, "a b/cat ü.jpg", None)]


def test_swift_links_follow_the_share_right(world: World) -> None:
    _put(world, "cat.jpg")
    _change(world, world.owner, world.bucket, KeyChange(1, "container-key-1"))
    stranger = world.node.store.create_user(world.account_id, "reader", Role.MEMBER)
    world.node.store.add_grant(stranger.id, "photos", "", Permission.READ)  # no share right
    (made,) = _mint(world, stranger, ("cat.jpg",))
    assert made.url is None and isinstance(made.error, AccessDenied)
    with pytest.raises(InvalidArgument, match="max_uses"):
        _mint(world, world.owner, ("cat.jpg",), max_uses=1)


def test_swift_links_are_signed_only_with_the_callers_own_key(world: World) -> None:
    """A TempURL acts as its key's setter: minted for anyone else, it would outlive that caller's rights."""
    _put(world, "cat.jpg")
    _change(world, world.admin, None, KeyChange(1, "account-key-1"))
    with pytest.raises(InvalidArgument, match="you set none"):
        _mint(world, world.owner, ("cat.jpg",), mode="download", filename="Cat picture.jpg")
    (made,) = _mint(world, world.admin, ("cat.jpg",), mode="download", filename="Cat picture.jpg")
    assert made.url is not None
    world.node.store.update_user(world.admin.id, role=Role.MEMBER)  # the setter is demoted
    world.node.credentials.invalidate()  # what every worker does within GENERATION_TTL
    (refused,) = _mint(world, world.admin, ("cat.jpg",))
    assert refused.url is None and isinstance(refused.error, AccessDenied)


def test_sha1_only_when_nothing_else_is_allowed(tmp_path: Path) -> None:
    assert swiftlinks.SIGNING_DIGESTS[0] == "sha256"
    assert Settings(data_dir=tmp_path, tempurl_digests="sha1").tempurl_allowed_digests == {"sha1"}
    with pytest.raises(ValueError, match="md5"):
        Settings(data_dir=tmp_path, tempurl_digests="md5")


def test_cache_bounded(world: World) -> None:
    _change(world, world.admin, None, KeyChange(1, "account-key-1"))
    cache = tempurlkeys.TempUrlKeyCache(world.node.store, world.node.gate, world.node.credentials.master_key,
                                        max_entries=1)
    other = world.node.store.create_bucket(Bucket("other", world.account_id, world.owner.id, 1.0))
    for _ in range(2):  # each call overflows the cache of one entry and starts it over
        assert [k.secret for k in cache.keys(world.account_id, world.bucket)] == [b"account-key-1"]
        assert [k.secret for k in cache.keys(world.account_id, other)] == [b"account-key-1"]


def test_no_change_and_bad_slot(world: World) -> None:
    _change(world, world.member, None)  # nothing asked: nothing decided, nothing refused
    with pytest.raises(InvalidArgument, match="slots 1 and 2"):
        _change(world, world.admin, None, KeyChange(3, "account-key-3"))


def test_swift_links_unknown_bucket(world: World) -> None:
    with pytest.raises(NoSuchBucket):
        asyncio.run(swiftlinks.mint_swift_links(
            world.node, world.principal(world.owner), AccessKey("AKID", world.owner.id, "x" * 40, Status.ACTIVE, 0.0),
            LinkSpec(bucket="nope", keys=("k",), kind=LinkKind.SWIFT), client_ip="", user_agent="", request_id=""))


def test_demoted_setter_needs_the_share_right(world: World) -> None:
    """An admin sets the account key, then becomes a member with a read grant: URLs signed with the key act
    through a link, so they work only while that grant also carries the share right."""
    _change(world, world.admin, None, KeyChange(1, "account-key-1"))
    (key,) = world.node.tempurl_keys.keys(world.account_id, None)
    store = world.node.store
    store.update_user(world.admin.id, role=Role.MEMBER)
    grant = store.add_grant(world.admin.id, "photos", "", Permission.READ)
    world.node.credentials.invalidate()
    read = Resource(bucket=world.bucket, key="cat.jpg")
    assert authorize(world.principal(world.admin), Action.OBJECT_READ, read)  # directly: yes
    assert not authorize(tempurlkeys.setter(world.node, key), Action.OBJECT_READ, read)  # through the URL: no
    store.remove_grant(grant.id)
    store.add_grant(world.admin.id, "photos", "", Permission.READ, share=True)
    world.node.credentials.invalidate()
    assert authorize(tempurlkeys.setter(world.node, key), Action.OBJECT_READ, read)
