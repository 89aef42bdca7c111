"""A write's precondition runs inside its transaction and sees the record it would replace; what it
raises leaves everything as it was (conditional writes and deletes, hostile review B)."""

from __future__ import annotations

import pytest

from satchel.core.errors import PreconditionFailed
from satchel.core.models import ObjectRecord, Part, Segment, Upload
from satchel.meta.sqlite import SqliteStore
from satchel.meta.store import Precondition

from .conftest import World, blob_states, record

OLD, NEW, PART = "0" * 32, "1" * 32, "2" * 32


def _refuse(seen: list[ObjectRecord | None]) -> Precondition:
    def check(current: ObjectRecord | None) -> None:
        seen.append(current)
        raise PreconditionFailed(Condition="If-Match")

    return check


def test_refused_put_and_delete_change_nothing(world: World, store: SqliteStore) -> None:
    old = record("k", OLD)
    store.put_object(old)
    seen: list[ObjectRecord | None] = []
    with pytest.raises(PreconditionFailed):
        store.put_object(record("k", NEW), _refuse(seen))
    with pytest.raises(PreconditionFailed):
        store.delete_object("photos", "k", _refuse(seen))
    assert seen == [old, old]
    assert store.get_object("photos", "k") == old
    assert blob_states(store) == {OLD: "live"}


def test_precondition_sees_an_absent_key(world: World, store: SqliteStore) -> None:
    seen: list[ObjectRecord | None] = []
    assert store.delete_object("photos", "absent", seen.append) == []
    assert store.put_object(record("new", NEW), seen.append) == []
    assert seen == [None, None]
    assert store.get_object("photos", "new") is not None


def test_refused_completion_keeps_the_upload(world: World, store: SqliteStore) -> None:
    old = record("big", OLD)
    store.put_object(old)
    upload = store.create_upload(Upload("", "photos", "big", 1.0, None))
    store.put_part(Part(upload.upload_id, 1, 5, '"e"', PART, 2.0, {}))
    done = ObjectRecord("photos", "big", 5, '"x-1"', 3.0, (Segment(PART, 5),), parts_count=1)
    seen: list[ObjectRecord | None] = []
    with pytest.raises(PreconditionFailed):
        store.complete_upload(upload.upload_id, done, _refuse(seen))
    assert seen == [old]
    assert store.get_object("photos", "big") == old
    assert len(store.list_parts(upload.upload_id)) == 1
    assert blob_states(store) == {OLD: "live", PART: "live"}
