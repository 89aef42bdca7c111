"""The Swift half of the SQLite store: tokens (pruning, per-key bound, death with key or user), metadata
(set, remove, size bound, atomic refusal), usage and content types."""

from __future__ import annotations

import pytest

from satchel.core.errors import MetadataTooLarge, NotFound
from satchel.core.models import Status
from satchel.meta.sqlite import SqliteStore
from satchel.meta.store import StoredToken
from tests.unit.meta.conftest import World, record


def _token(world: World, name: str, key: str = "AKID", created: float = 100.0, expires: float = 200.0) -> StoredToken:
    return StoredToken(name, world.user.id, key, world.account.id, created, expires)


@pytest.fixture
def keyed(store: SqliteStore, world: World) -> World:
    store.create_access_key(world.user.id, "AKID", b"sealed")
    store.create_access_key(world.user.id, "AKID2", b"sealed")
    return world


def test_token_round_trip_and_expiry_pruning(store: SqliteStore, keyed: World) -> None:
    store.create_swift_token(_token(keyed, "h1", expires=150.0), now=100.0, max_per_key=10)
    assert store.get_swift_token("h1") == _token(keyed, "h1", expires=150.0)
    assert store.get_swift_token("nope") is None
    store.create_swift_token(_token(keyed, "h2", created=160.0), now=160.0, max_per_key=10)
    assert store.get_swift_token("h1") is None  # expired: pruned by the next issue


def test_tokens_per_key_are_bounded(store: SqliteStore, keyed: World) -> None:
    for i in range(5):
        store.create_swift_token(_token(keyed, f"h{i}", created=100.0 + i), now=100.0, max_per_key=3)
    store.create_swift_token(_token(keyed, "other", key="AKID2"), now=100.0, max_per_key=3)
    assert [store.get_swift_token(f"h{i}") is not None for i in range(5)] == [False, False, True, True, True]
    assert store.get_swift_token("other") is not None


def test_tokens_die_with_key_and_user(store: SqliteStore, keyed: World) -> None:
    store.create_swift_token(_token(keyed, "a"), now=100.0, max_per_key=10)
    store.create_swift_token(_token(keyed, "b", key="AKID2"), now=100.0, max_per_key=10)
    store.update_access_key("AKID", status=Status.ACTIVE)
    assert store.get_swift_token("a") is not None  # only disabling kills
    store.update_access_key("AKID", status=Status.DISABLED)
    assert store.get_swift_token("a") is None and store.get_swift_token("b") is not None
    with pytest.raises(NotFound):  # no token for a disabled key
        store.create_swift_token(_token(keyed, "c"), now=100.0, max_per_key=10)
    store.delete_access_key("AKID2")
    assert store.get_swift_token("b") is None
    store.update_access_key("AKID", status=Status.ACTIVE)
    store.create_swift_token(_token(keyed, "d"), now=100.0, max_per_key=10)
    store.update_user(keyed.user.id, status=Status.DISABLED)
    assert store.get_swift_token("d") is None
    store.update_user(keyed.user.id, status=Status.ACTIVE)
    store.create_swift_token(_token(keyed, "e"), now=100.0, max_per_key=10)
    store.delete_bucket("photos")
    store.delete_user(keyed.user.id)
    assert store.get_swift_token("e") is None


def test_metadata(store: SqliteStore, world: World) -> None:
    assert store.get_swift_metadata("container", world.bucket.id) == {}
    got = store.update_swift_metadata("container", world.bucket.id, {"b": "2", "a": "1"}, max_bytes=100)
    assert got == {"a": "1", "b": "2"}
    got = store.update_swift_metadata("container", world.bucket.id, {"a": None, "c": "3"}, max_bytes=100)
    assert got == {"b": "2", "c": "3"} == store.get_swift_metadata("container", world.bucket.id)
    assert store.get_swift_metadata("account", world.bucket.id) == {}  # scopes are apart
    with pytest.raises(MetadataTooLarge):
        store.update_swift_metadata("container", world.bucket.id, {"d": "x" * 100}, max_bytes=100)
    assert store.get_swift_metadata("container", world.bucket.id) == {"b": "2", "c": "3"}  # nothing changed
    store.delete_swift_metadata("container", world.bucket.id)
    assert store.get_swift_metadata("container", world.bucket.id) == {}


def test_metadata_count_includes_what_is_stored(store: SqliteStore, world: World) -> None:
    store.update_swift_metadata("container", world.bucket.id, {"a": "1", "b": "2"}, max_bytes=100, max_count=3)
    with pytest.raises(MetadataTooLarge, match="max 3"):
        store.update_swift_metadata("container", world.bucket.id, {"c": "3", "d": "4"}, max_bytes=100, max_count=3)
    assert store.update_swift_metadata("container", world.bucket.id, {"a": None, "c": "3", "d": "4"},
                                       max_bytes=100, max_count=3) == {"b": "2", "c": "3", "d": "4"}


def test_container_metadata_goes_with_its_bucket(store: SqliteStore, world: World) -> None:
    store.update_swift_metadata("container", world.bucket.id, {"a": "1"}, max_bytes=100)
    store.update_swift_metadata("account", world.bucket.account_id, {"a": "1"}, max_bytes=100)
    store.delete_bucket(world.bucket.name)
    assert store.get_swift_metadata("container", world.bucket.id) == {}
    assert store.get_swift_metadata("account", world.bucket.account_id) == {"a": "1"}


def test_usage_and_content_types(store: SqliteStore, world: World) -> None:
    assert store.bucket_usage("photos") == (0, 0)
    store.put_object(record("a", "b1"))
    typed = record("b", "b2", "b3")
    typed.headers["content-type"] = "image/png"
    store.put_object(typed)
    assert store.bucket_usage("photos") == (2, 30)
    assert store.content_types("photos", ["a", "b", "missing"]) == {"b": "image/png"}
    assert store.content_types("photos", [f"k{i}" for i in range(1200)]) == {}
