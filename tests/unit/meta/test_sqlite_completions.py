"""Completed multipart uploads: remembered in the completing transaction, answered again only for the same
part list in the same bucket identity and key, forgotten after ``COMPLETION_MEMORY``."""

from __future__ import annotations

from satchel.core.completions import COMPLETION_MEMORY, Completion, parts_digest, replay
from satchel.core.models import Part, Upload
from satchel.meta.sqlite import SqliteStore

from .conftest import World, record

LISTED: list[tuple[int, str, dict[str, str]]] = [(1, '"aa"', {}), (2, "BB", {})]


def _complete(store: SqliteStore, world: World, key: str, at: float) -> Completion:
    upload = store.create_upload(Upload("", "photos", key, at, None))
    store.put_part(Part(upload.upload_id, 1, 10, "aa", f"{key:a<32}"[:32], at, {}))
    done = Completion(upload_id=upload.upload_id, bucket_id=world.bucket.id, key=key,
                      parts_digest=parts_digest(LISTED), etag="e-2", size=10, completed=at, parts_count=2,
                      checksums={"crc32": "AAAAAA==-2"})
    store.complete_upload(upload.upload_id, record(key, f"{key:a<32}"[:32]), remember=done)
    return done


def test_a_completion_is_remembered_and_replayed_for_the_same_list(store: SqliteStore, world: World) -> None:
    done = _complete(store, world, "k", 5000.0)
    assert store.completed_upload(done.upload_id) == done
    again = replay(store.completed_upload(done.upload_id), bucket="photos", bucket_id=world.bucket.id, key="k",
                   requested=[(1, "aa", {}), (2, '"bb"', {})], now=5000.0 + COMPLETION_MEMORY)
    assert again is not None and (again.etag, again.size, again.parts_count) == ("e-2", 10, 2)
    assert again.checksums == {"crc32": "AAAAAA==-2"}
    found = store.completed_upload(done.upload_id)
    for bucket_id, key, requested, now in (
        ("another-bucket-id", "k", LISTED, 5000.0),  # a bucket of the same name made since
        (world.bucket.id, "other", LISTED, 5000.0),
        (world.bucket.id, "k", LISTED[:1], 5000.0),
        (world.bucket.id, "k", [(1, "aa", {}), (3, "bb", {})], 5000.0),
        (world.bucket.id, "k", LISTED, 5000.0 + COMPLETION_MEMORY + 1),
    ):
        assert replay(found, bucket="photos", bucket_id=bucket_id, key=key, requested=requested, now=now) is None
    assert store.completed_upload("nobody-made-this") is None


def test_completions_past_remembering_are_pruned(store: SqliteStore, world: World) -> None:
    old = _complete(store, world, "old", 1000.0)
    recent = _complete(store, world, "recent", 1000.0 + COMPLETION_MEMORY)
    assert store.completed_upload(old.upload_id) is not None  # exactly at the edge: kept
    newest = _complete(store, world, "newest", 1000.0 + COMPLETION_MEMORY + 1)
    assert store.completed_upload(old.upload_id) is None
    assert store.completed_upload(recent.upload_id) == recent and store.completed_upload(newest.upload_id) == newest
