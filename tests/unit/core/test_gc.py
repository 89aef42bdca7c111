"""Garbage collection against a real SQLite store and a real blob directory."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from satchel.blobs.digests import Hasher
from satchel.blobs.localfs import LocalBlobStore
from satchel.core import gc
from satchel.core.gc import GcReport, collect_garbage, release_blobs
from satchel.core.models import Bucket, ObjectRecord, Segment
from satchel.meta.sqlite import SqliteStore

HOUR = 3600.0


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The shared store (each engine: ``tests/unit/conftest.py``) with one bucket."""
    account = store.create_account("acme")
    store.create_bucket(Bucket("b", account.id, None, 0.0))
    return store


@pytest.fixture
def blobs(tmp_path: Path) -> Iterator[LocalBlobStore]:
    b = LocalBlobStore(tmp_path / "blobs")
    yield b
    b.close()


def _blob(blobs: LocalBlobStore, data: bytes = b"bytes", age: float = 0.0) -> str:
    async def write() -> str:
        async with blobs.writer(Hasher()) as writer:
            await writer.write(data)
            await writer.commit()
        return writer.blob_id

    blob_id = asyncio.run(write())
    if age:
        then = time.time() - age
        os.utime(blobs.path(blob_id), (then, then))
    return blob_id


def _put(store: SqliteStore, key: str, blob_id: str) -> list[str]:
    return store.put_object(ObjectRecord("b", key, 5, '"e"', 1.0, (Segment(blob_id, 5),)))


def test_dead_blobs_are_deleted_and_forgotten(store: SqliteStore, blobs: LocalBlobStore) -> None:
    old, new = _blob(blobs), _blob(blobs)
    _put(store, "k", old)
    assert _put(store, "k", new) == [old]  # the caller "crashed" before releasing it
    report = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert report == GcReport(dead_deleted=1, orphans_deleted=0)
    assert not blobs.path(old).exists() and blobs.path(new).exists()
    assert store.dead_blobs() == [] and store.known_blobs([old, new]) == {new}
    again = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert again == GcReport(0, 0)


def test_dead_rows_without_files_are_forgotten_too(store: SqliteStore, blobs: LocalBlobStore) -> None:
    """A crash after the unlink but before forget_blobs: the next run finishes the job."""
    gone = _blob(blobs)
    _put(store, "k", gone)
    store.delete_object("b", "k")
    asyncio.run(blobs.delete([gone]))
    report = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert report.dead_deleted == 1 and store.dead_blobs() == []


def test_orphans_older_than_the_grace_period_go(store: SqliteStore, blobs: LocalBlobStore) -> None:
    old_orphan = _blob(blobs, age=2 * HOUR)
    young_orphan = _blob(blobs)  # an upload between commit() and its metadata transaction
    old_live = _blob(blobs, age=2 * HOUR)
    _put(store, "live", old_live)
    report = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert report == GcReport(dead_deleted=0, orphans_deleted=1)
    assert not blobs.path(old_orphan).exists()
    assert blobs.path(young_orphan).exists() and blobs.path(old_live).exists()


def test_an_old_dead_blob_is_not_counted_twice(store: SqliteStore, blobs: LocalBlobStore) -> None:
    dead = _blob(blobs, age=2 * HOUR)
    _put(store, "k", dead)
    store.delete_object("b", "k")
    report = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert report == GcReport(dead_deleted=1, orphans_deleted=0)


def test_collects_in_batches(store: SqliteStore, blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc, "BATCH", 3)
    ids = [_blob(blobs, age=2 * HOUR) for _ in range(8)]
    for blob_id in ids[:7]:
        _put(store, "k", blob_id)  # each put kills the previous one: 6 dead, 1 live
    report = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert report == GcReport(dead_deleted=6, orphans_deleted=1)  # ids[7] was never registered
    assert [blob_id for blob_id in ids if blobs.path(blob_id).exists()] == [ids[6]]


class _StuckStore:
    """A store whose dead rows never go away: the collector must not loop forever."""

    def __init__(self) -> None:
        self.calls = 0

    def dead_blobs(self, limit: int = 1000) -> list[str]:
        self.calls += 1
        return [f"{i:032x}" for i in range(limit)]

    def forget_blobs(self, blob_ids: Iterable[str]) -> None:
        pass

    def known_blobs(self, blob_ids: Sequence[str]) -> set[str]:
        return set(blob_ids)


def test_collector_stops_when_rows_cannot_be_forgotten(blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc, "BATCH", 2)
    stuck: Any = _StuckStore()
    asyncio.run(collect_garbage(stuck, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert stuck.calls == 2


def test_release_blobs(store: SqliteStore, blobs: LocalBlobStore) -> None:
    old, new = _blob(blobs), _blob(blobs)
    _put(store, "k", old)
    dead = _put(store, "k", new)
    asyncio.run(release_blobs(store, blobs, dead))
    assert not blobs.path(old).exists() and store.dead_blobs() == []
    asyncio.run(release_blobs(store, blobs, []))  # nothing to do


def test_release_blobs_logs_instead_of_raising(
    store: SqliteStore, blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = _blob(blobs), _blob(blobs)
    _put(store, "k", old)
    dead = _put(store, "k", new)

    async def broken_delete(blob_ids: list[str]) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(blobs, "delete", broken_delete)
    with caplog.at_level(logging.ERROR, logger="satchel.core.gc"):
        asyncio.run(release_blobs(store, blobs, dead))
    assert "garbage collector will retry" in caplog.text
    assert store.dead_blobs() == [old]  # the row stays for the next run
    monkeypatch.undo()
    again = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert again.dead_deleted == 1
    assert not blobs.path(old).exists()


def test_metadata_writes_go_through_the_writer_given(store: SqliteStore, blobs: LocalBlobStore) -> None:
    """In a server that is Node.write, the worker's one writer thread: no second thread contends for
    SQLite's write lock (whose busy handler sleeps milliseconds between tries)."""
    writes: list[str] = []

    async def writer(fn: Callable[..., Any], *args: Any) -> Any:
        writes.append(fn.__name__)
        return fn(*args)

    a, b, c = _blob(blobs), _blob(blobs), _blob(blobs)
    _put(store, "k", a)
    asyncio.run(release_blobs(store, blobs, _put(store, "k", b), writer))
    _put(store, "k", c)  # b is dead and left for the collector
    report = asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR,
                                         write=writer))
    assert report.dead_deleted == 1
    assert writes == ["forget_blobs", "forget_blobs"]
    assert store.dead_blobs() == [] and not blobs.path(a).exists() and not blobs.path(b).exists()


def test_write_grace_outlasts_every_upload_the_settings_allow() -> None:
    """An unfinished write may be a live upload until its body's limit, the end's timeout and the commit's
    margin have all passed; with no upload limit, only abandoned_upload_age says when it is abandoned."""
    from satchel.config import Settings

    assert gc.write_grace(Settings(orphan_grace=15, max_upload_seconds=600, body_timeout=60)) == 675
    defaults = Settings()
    assert gc.write_grace(defaults) == 6 * HOUR + 60 + HOUR > defaults.orphan_grace
    assert gc.write_grace(Settings(max_upload_seconds=0, abandoned_upload_age=86400)) == 86400
    assert gc.write_grace(Settings(max_upload_seconds=0, abandoned_upload_age=0)) == float("inf")


def test_a_pass_spares_temporary_files_younger_than_the_write_grace(
    store: SqliteStore, blobs: LocalBlobStore
) -> None:
    """The orphan grace is long past for a slow upload's temporary file (written once per MiB), not the
    write grace: the file stays, and goes once that is past too."""
    slow = blobs.tmp / ("5" * 32)
    slow.write_bytes(b"half an upload")
    os.utime(slow, (time.time() - 2 * HOUR, time.time() - 2 * HOUR))
    asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=3 * HOUR))
    assert slow.exists()
    asyncio.run(collect_garbage(store, blobs, now=time.time(), orphan_grace=HOUR, write_grace=HOUR))
    assert not slow.exists()
