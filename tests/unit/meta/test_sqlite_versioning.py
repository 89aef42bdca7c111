"""Versions on SQLite: the bookkeeping of current and noncurrent versions, delete markers, null versions,
listing order and paging, and blob liveness through overwrite, delete, delete-marker and delete-version.

The rule under test: a blob is dead exactly when no version references it any more, and each removal
returns exactly the blobs it made dead."""

from __future__ import annotations

from dataclasses import replace

import pytest

from satchel.core.errors import BucketNotEmpty, PreconditionFailed, VersioningChanged
from satchel.core.models import ALL_USERS, AclGrant, ObjectRecord
from satchel.meta.sqlite import SqliteStore

from .conftest import World, blob_states, record

A, B, C, D, E = ("a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32)
V1, V2, V3, M1 = ("1" * 32, "2" * 32, "3" * 32, "m" * 32)


def _put(store: SqliteStore, key: str, blob: str, version: str | None) -> list[str]:
    return store.put_object(replace(record(key, blob), version_id=version))


def _listing(store: SqliteStore, **kwargs: object) -> list[tuple[str, str, bool, bool]]:
    return [(v.key, v.version_id, v.is_latest, v.delete_marker)
            for v in store.list_object_versions("photos", **kwargs)]  # type: ignore[arg-type]


def test_state_round_trip_and_writes_must_fit_it(world: World, store: SqliteStore) -> None:
    assert store.bucket_versioning("photos") == ""
    with pytest.raises(VersioningChanged):
        _put(store, "k", A, V1)  # an id for a bucket never versioned: nothing written
    assert store.get_object("photos", "k") is None
    store.set_bucket_versioning("photos", "Enabled")
    assert store.bucket_versioning("photos") == "Enabled"
    for wrong in (None, "null"):
        with pytest.raises(VersioningChanged):
            _put(store, "k", A, wrong)
    with pytest.raises(VersioningChanged):
        store.delete_object("photos", "k")  # an unversioned delete would destroy the current version
    store.set_bucket_versioning("photos", "Suspended")
    with pytest.raises(VersioningChanged):
        _put(store, "k", A, V1)
    assert blob_states(store) == {}


def test_overwrite_keeps_versions_and_their_blobs_live(world: World, store: SqliteStore) -> None:
    assert _put(store, "k", A, None) == []  # before versioning: the null version
    store.set_bucket_versioning("photos", "Enabled")
    assert _put(store, "k", B, V1) == []
    assert _put(store, "k", C, V2) == []
    assert blob_states(store) == {A: "live", B: "live", C: "live"}
    assert _listing(store) == [("k", V2, True, False), ("k", V1, False, False), ("k", "null", False, False)]
    found = store.get_object_version("photos", "k", "null")
    assert found is not None and found.record.segments[0].blob_id == A and not found.latest
    # Deleting a noncurrent version kills exactly its blob.
    assert store.delete_object_version("photos", "k", V1)[1] == [B]
    assert blob_states(store) == {A: "live", B: "dead", C: "live"}
    # Deleting the current one kills its blob and promotes the newest remaining version.
    removed, dead = store.delete_object_version("photos", "k", V2)
    assert removed is not None and removed.latest and dead == [C]
    current = store.get_object("photos", "k")
    assert current is not None and current.segments[0].blob_id == A and current.version_id == "null"
    assert _listing(store) == [("k", "null", True, False)]
    # A version that does not exist: nothing happens.
    assert store.delete_object_version("photos", "k", V3) == (None, [])


def test_delete_markers_hide_and_removing_them_restores(world: World, store: SqliteStore) -> None:
    store.set_bucket_versioning("photos", "Enabled")
    _put(store, "k", A, V1)
    assert store.delete_object("photos", "k", marker=M1, owner_user_id=world.user.id) == []
    assert store.get_object("photos", "k") is None
    assert store.list_objects("photos") == []
    assert blob_states(store) == {A: "live"}
    latest = store.get_object_version("photos", "k", None)
    assert latest is not None and latest.delete_marker and latest.record.version_id == M1
    assert _listing(store) == [("k", M1, True, True), ("k", V1, False, False)]
    # A marker over nothing is still a marker.
    assert store.delete_object("photos", "gone", marker=M1) == []
    assert _listing(store, prefix="gone") == [("gone", M1, True, True)]
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket("photos")
    removed, dead = store.delete_object_version("photos", "k", M1)
    assert removed is not None and removed.delete_marker and dead == []
    current = store.get_object("photos", "k")
    assert current is not None and current.version_id == V1
    # Deleting the marker of a key whose only version is the marker leaves nothing.
    store.delete_object_version("photos", "gone", M1)
    store.delete_object_version("photos", "k", V1)
    assert _listing(store) == [] and blob_states(store) == {A: "dead"}
    store.delete_bucket("photos")


def test_suspended_replaces_only_the_null_version(world: World, store: SqliteStore) -> None:
    store.set_bucket_versioning("photos", "Enabled")
    _put(store, "k", A, V1)
    store.set_bucket_versioning("photos", "Suspended")
    assert _put(store, "k", B, "null") == []  # V1 kept, noncurrent
    assert _put(store, "k", C, "null") == [B]  # the null version replaced: its blob dies
    assert _listing(store) == [("k", "null", True, False), ("k", V1, False, False)]
    # A delete while suspended: a null marker, replacing the current null version (its blob dies).
    assert store.delete_object("photos", "k", marker="null") == [C]
    assert _listing(store) == [("k", "null", True, True), ("k", V1, False, False)]
    # A new null write replaces the null marker.
    assert _put(store, "k", D, "null") == []
    assert _listing(store) == [("k", "null", True, False), ("k", V1, False, False)]
    store.set_bucket_versioning("photos", "Enabled")
    _put(store, "k", E, V2)  # the null version moves to noncurrent, kept
    assert blob_states(store) == {A: "live", B: "dead", C: "dead", D: "live", E: "live"}
    assert [v for _, v, _, _ in _listing(store)] == [V2, "null", V1]


def test_listing_pages_resume_exactly_after_the_marker(world: World, store: SqliteStore) -> None:
    store.set_bucket_versioning("photos", "Enabled")
    expected = []
    blobs = iter(f"{i:032x}" for i in range(100))
    for key in ("a", "b", "c"):
        ids = [f"{key}{n}".ljust(32, "x") for n in range(3)]
        for vid in ids:
            _put(store, key, next(blobs), vid)
        expected += [(key, vid) for vid in reversed(ids)]
    store.delete_object("photos", "b", marker=M1)
    expected.insert(3, ("b", M1))
    seen: list[tuple[str, str]] = []
    key_marker: str | None = None
    version_marker: str | None = None
    for _ in range(20):
        page = store.list_object_versions("photos", key_marker=key_marker, version_id_marker=version_marker, limit=2)
        if not page:
            break
        seen += [(v.key, v.version_id) for v in page]
        key_marker, version_marker = page[-1].key, page[-1].version_id
    assert seen == expected
    latest = [(v.key, v.version_id) for v in store.list_object_versions("photos") if v.is_latest]
    assert latest == [("a", expected[0][1]), ("b", M1), ("c", expected[-3][1])]
    # A key marker alone skips every version of that key.
    assert {v.key for v in store.list_object_versions("photos", key_marker="b")} == {"c"}


def test_complete_upload_keeps_the_previous_version(world: World, store: SqliteStore) -> None:
    from satchel.core.models import Part, Upload

    store.set_bucket_versioning("photos", "Enabled")
    _put(store, "k", A, V1)
    upload = store.create_upload(Upload("", "photos", "k", 1.0, None))
    store.put_part(Part(upload.upload_id, 1, 10, "e", B, 2.0))
    done = ObjectRecord("photos", "k", 10, "x-1", 3.0, record("k", B).segments, parts_count=1, version_id=V2)
    assert store.complete_upload(upload.upload_id, done) == []
    assert blob_states(store) == {A: "live", B: "live"}
    assert [v for _, v, _, _ in _listing(store)] == [V2, V1]


def test_a_conditional_version_delete_changes_nothing_when_refused(world: World, store: SqliteStore) -> None:
    """Lifecycle's noncurrent expiration removes a version only if it is still what the pass listed."""
    store.set_bucket_versioning("photos", "Enabled")
    _put(store, "k", A, V1)
    _put(store, "k", B, V2)
    _put(store, "k", C, V3)
    seen: list[int] = []

    def newer(found: object, count: int) -> bool:
        seen.append(count)
        return count >= 1

    with pytest.raises(PreconditionFailed):
        store.delete_object_version("photos", "k", V2, expect=newer)  # the newest noncurrent: none newer
    assert blob_states(store) == {A: "live", B: "live", C: "live"}
    assert store.delete_object_version("photos", "k", V1, expect=newer)[1] == [A]
    assert seen == [0, 1]
    store.delete_object("photos", "k", marker=M1)  # a latest delete marker is not a noncurrent version
    assert store.delete_object_version("photos", "k", V2, expect=lambda found, count: count == 1)[1] == [B]
    assert _listing(store) == [("k", M1, True, True), ("k", V3, False, False)]


def test_each_version_keeps_its_own_tags_and_acl(world: World, store: SqliteStore) -> None:
    store.put_object(record("k", A), tags=[("v", "null")])  # before versioning: the null version
    store.set_bucket_versioning("photos", "Enabled")
    store.put_object(replace(record("k", B), version_id=V1), tags=[("v", "1")])
    assert store.get_object_tags("photos", "k") == (("v", "1"),)
    assert store.get_object_tags("photos", "k", "null") == (("v", "null"),)
    assert store.count_object_tags("photos", "k", V1) == store.count_object_tags("photos", "k", None) == 1
    assert store.set_object_tags("photos", "k", (("n", "x"),), version_id="null")
    assert not store.set_object_tags("photos", "k", (), version_id=V2)  # no such version: nothing written
    assert store.get_object_tags("photos", "k", V2) is None
    assert store.get_object_tags("photos", "k") == (("v", "1"),)
    old = store.get_object_version("photos", "k", "null")
    assert old is not None
    store.set_object_acl("photos", "k", old.record.etag, old.record.last_modified,
                         (AclGrant(ALL_USERS, "READ"),), version_id="null")
    found = store.get_object_version("photos", "k", "null")
    assert found is not None and found.record.acl == (AclGrant(ALL_USERS, "READ"),)
    assert store.get_object("photos", "k").acl == ()  # type: ignore[union-attr]
    # Removing the current version brings back the null one with its own tags.
    store.delete_object_version("photos", "k", V1)
    assert store.get_object_tags("photos", "k") == (("n", "x"),)
    assert store.count_object_tags("photos", "k", V1) == 0  # gone with its version
    # A null write while suspended replaces the null version's tags; a delete marker has none.
    store.set_bucket_versioning("photos", "Suspended")
    store.put_object(replace(record("k", C), version_id="null"))
    assert store.get_object_tags("photos", "k") == ()
    store.delete_object("photos", "k", marker="null")
    assert store.get_object_tags("photos", "k") is None
    assert store.get_object_tags("photos", "k", "null") is None
