"""Multipart uploads: parts, completion, abortion and which blobs each step kills."""

from __future__ import annotations

import pytest

from satchel.core.errors import NoSuchBucket, NoSuchUpload
from satchel.core.models import ObjectRecord, Part, Segment, Upload
from satchel.meta.sqlite import SqliteStore

from .conftest import World, blob_states, record

P1, P1B, P2, P3, OLD = ("1" * 32, "e" * 32, "2" * 32, "3" * 32, "0" * 32)


def _part(upload_id: str, number: int, blob_id: str, size: int = 5) -> Part:
    return Part(upload_id, number, size, f'"etag{number}"', blob_id, 100.0 + number, {"crc32": "AAAAAA=="})


def _upload(store: SqliteStore, key: str = "big", initiated: float = 1.0, upload_id: str = "") -> Upload:
    return store.create_upload(
        Upload(upload_id, "photos", key, initiated, None, {"content-type": "video/mp4"}, {"a": "b"}, "crc32")
    )


def test_create_and_get_upload(world: World, store: SqliteStore) -> None:
    u = _upload(store)
    assert len(u.upload_id) == 32
    assert store.get_upload("photos", u.upload_id) == u
    assert store.get_upload("other", u.upload_id) is None  # an upload id only counts in its bucket
    assert store.get_upload("photos", "nope") is None
    given = _upload(store, upload_id="my-own-id")
    assert given.upload_id == "my-own-id"
    with pytest.raises(NoSuchBucket):
        store.create_upload(Upload("", "nope", "k", 1.0, None))


def test_parts_replace_and_list(world: World, store: SqliteStore) -> None:
    u = _upload(store)
    assert store.put_part(_part(u.upload_id, 2, P2)) == []
    assert store.put_part(_part(u.upload_id, 1, P1)) == []
    assert store.put_part(_part(u.upload_id, 1, P1B, size=7)) == [P1]  # re-upload of part 1
    parts = store.list_parts(u.upload_id)
    assert [(p.part_number, p.blob_id, p.size) for p in parts] == [(1, P1B, 7), (2, P2, 5)]
    assert parts[1] == _part(u.upload_id, 2, P2)
    assert store.list_parts(u.upload_id, after=1) == [parts[1]]
    assert store.list_parts(u.upload_id, limit=1) == [parts[0]]
    assert blob_states(store) == {P1: "dead", P1B: "live", P2: "live"}
    with pytest.raises(NoSuchUpload):
        store.put_part(_part("nope", 1, P3))
    assert P3 not in blob_states(store)


def test_complete_upload(world: World, store: SqliteStore) -> None:
    store.put_object(record("big", OLD))
    u = _upload(store)
    for number, blob_id in ((1, P1), (2, P2), (3, P3)):
        store.put_part(_part(u.upload_id, number, blob_id))
    done = ObjectRecord("photos", "big", 10, '"x-2"', 200.0, (Segment(P1, 5), Segment(P3, 5)), parts_count=2)
    dead = store.complete_upload(u.upload_id, done)
    assert sorted(dead) == sorted([P2, OLD])  # the unused part and the replaced object
    assert store.get_object("photos", "big") == done
    assert store.get_upload("photos", u.upload_id) is None
    assert store.list_parts(u.upload_id) == []
    assert blob_states(store) == {P1: "live", P3: "live", P2: "dead", OLD: "dead"}
    with pytest.raises(NoSuchUpload):
        store.complete_upload(u.upload_id, done)
    with pytest.raises(NoSuchUpload):
        store.put_part(_part(u.upload_id, 4, "4" * 32))


def test_complete_with_mismatched_record_changes_nothing(world: World, store: SqliteStore) -> None:
    u = _upload(store)
    store.put_part(_part(u.upload_id, 1, P1))
    with pytest.raises(ValueError, match="another bucket or key"):
        store.complete_upload(u.upload_id, record("other-key", P1))
    assert store.get_upload("photos", u.upload_id) == u
    assert len(store.list_parts(u.upload_id)) == 1
    assert store.get_object("photos", "other-key") is None


def test_abort_upload(world: World, store: SqliteStore) -> None:
    u = _upload(store)
    store.put_part(_part(u.upload_id, 1, P1))
    store.put_part(_part(u.upload_id, 2, P2))
    assert sorted(store.abort_upload(u.upload_id)) == [P1, P2]
    assert store.get_upload("photos", u.upload_id) is None
    assert store.list_parts(u.upload_id) == []
    assert blob_states(store) == {P1: "dead", P2: "dead"}
    with pytest.raises(NoSuchUpload):
        store.abort_upload(u.upload_id)


def test_list_uploads_order_and_markers(world: World, store: SqliteStore) -> None:
    made = [
        _upload(store, "b", 1.0, "u1"),
        _upload(store, "a", 5.0, "u2"),
        _upload(store, "a", 2.0, "u3"),
        _upload(store, "a", 2.0, "u0"),
        _upload(store, "c/1", 1.0, "u4"),
    ]
    by_id = {u.upload_id: u for u in made}

    def ids(**kwargs: object) -> list[str]:
        return [u.upload_id for u in store.list_uploads("photos", **kwargs)]  # type: ignore[arg-type]

    assert ids() == ["u0", "u3", "u2", "u1", "u4"]  # by key, initiated, upload id
    assert store.list_uploads("photos")[0] == by_id["u0"]
    assert ids(limit=2) == ["u0", "u3"]
    assert ids(key_marker="a") == ["u1", "u4"]
    assert ids(key_marker="a", upload_id_marker="u3") == ["u2", "u1", "u4"]
    assert ids(key_marker="a", upload_id_marker="u0") == ["u3", "u2", "u1", "u4"]
    assert ids(key_marker="a", upload_id_marker="gone") == ["u1", "u4"]
    assert ids(prefix="c/") == ["u4"]
    assert ids(prefix="a", key_marker="a", upload_id_marker="u3") == ["u2"]
    assert ids(prefix="c", key_marker="a", upload_id_marker="u3") == ["u4"]
    assert ids(limit=0) == []
    assert store.list_uploads("nope") == []
