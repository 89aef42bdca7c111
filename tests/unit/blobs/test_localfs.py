"""The local blob store: crash-safe writes, ranged reads, copies, deletes and orphan discovery."""

from __future__ import annotations

import asyncio
import collections.abc
import errno
import hashlib
import os
import random
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.blobs import localfs, open_blobs
from satchel.blobs.digests import Hasher
from satchel.blobs.localfs import CHUNK, READ_CHUNK, SMALL_BLOB_BYTES, LocalBlobStore
from satchel.config import Settings

MiB = 1024 * 1024


@pytest.fixture
def blobs(tmp_path: Path) -> Iterator[LocalBlobStore]:
    store = LocalBlobStore(tmp_path / "blobs")
    yield store
    store.close()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def _put(blobs: LocalBlobStore, data: bytes, piece: int = 65536) -> tuple[str, Hasher]:
    hasher = Hasher(sha256=True)
    async with blobs.writer(hasher) as writer:
        for i in range(0, len(data), piece):
            await writer.write(data[i : i + piece])
        await writer.commit()
    return writer.blob_id, hasher


async def _read(blobs: LocalBlobStore, blob_id: str, offset: int = 0, length: int | None = None) -> list[bytes]:
    return [chunk async for chunk in blobs.read(blob_id, offset, length)]


def test_write_commit_read_back(blobs: LocalBlobStore) -> None:
    data = random.Random(1).randbytes(5 * MiB + 12345)
    blob_id, hasher = asyncio.run(_put(blobs, data, piece=100_003))
    assert len(blob_id) == 32 and int(blob_id, 16) >= 0
    path = blobs.root / blob_id[:2] / blob_id[2:4] / blob_id
    assert path == blobs.path(blob_id)
    assert path.read_bytes() == data
    assert hasher.md5() == hashlib.md5(data, usedforsecurity=False).digest()
    assert hasher.sha256_hex() == hashlib.sha256(data).hexdigest()
    assert hasher.size == len(data)
    assert list((blobs.root / "tmp").iterdir()) == []
    chunks = asyncio.run(_read(blobs, blob_id))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) == READ_CHUNK


def test_uploads_start_writeback_of_each_complete_window(
    blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []
    real = localfs.start_writeback

    def record(fd: int, offset: int, length: int) -> None:
        calls.append((offset, length))
        real(fd, offset, length)  # the real call too: it must accept what we pass it

    monkeypatch.setattr(localfs, "start_writeback", record)
    window = localfs.WRITEBACK_WINDOW
    data = random.Random(9).randbytes(2 * window + 5 * MiB + 3)
    blob_id, hasher = asyncio.run(_put(blobs, data, piece=100_003))
    assert calls == [(0, window), (window, window)]  # the tail is left to commit's fsync
    assert blobs.path(blob_id).read_bytes() == data
    assert hasher.md5() == hashlib.md5(data, usedforsecurity=False).digest()


def test_start_writeback_on_a_real_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 3 * MiB)
    fd = os.open(path, os.O_WRONLY)
    try:
        localfs.start_writeback(fd, 0, 3 * MiB)  # a hint: no error, no change to the bytes
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * 3 * MiB
    if sys.platform.startswith("linux"):
        assert localfs._SYNC_FILE_RANGE is not None


def test_writer_reports_size_and_committed(blobs: LocalBlobStore) -> None:
    async def go() -> None:
        writer = blobs.writer(Hasher())
        assert writer.committed is False
        await writer.write(b"abc")
        await writer.write(b"")
        await writer.write(b"de")
        await writer.commit()
        assert writer.committed is True and writer.size == 5
        await writer.commit()  # idempotent
        await writer.abort()  # no effect once committed
        assert blobs.path(writer.blob_id).read_bytes() == b"abcde"
        with pytest.raises(ValueError, match="finished"):
            await writer.write(b"more")

    asyncio.run(go())


def test_empty_blob(blobs: LocalBlobStore) -> None:
    blob_id, hasher = asyncio.run(_put(blobs, b""))
    assert blobs.path(blob_id).read_bytes() == b""
    assert hasher.md5_hex() == hashlib.md5(b"", usedforsecurity=False).hexdigest()
    assert asyncio.run(_read(blobs, blob_id)) == []


def test_permissions_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = LocalBlobStore(tmp_path / "data" / "blobs")
        blob_id, _ = asyncio.run(_put(store, b"secret"))
        copied = asyncio.run(store.copy(blob_id))
    finally:
        os.umask(old)
    path = store.path(blob_id)
    for directory in (tmp_path / "data", store.root, store.tmp, path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path(copied).stat().st_mode) == 0o600
    store.close()


def test_abort_leaves_nothing_and_is_idempotent(blobs: LocalBlobStore) -> None:
    async def go() -> None:
        writer = blobs.writer(Hasher())
        await writer.write(b"x" * (3 * MiB))
        await writer.abort()
        await writer.abort()
        assert writer.committed is False
        with pytest.raises(ValueError):
            await writer.write(b"y")

    asyncio.run(go())
    assert _files(blobs.root) == []


def test_exception_inside_async_with_leaves_nothing(blobs: LocalBlobStore) -> None:
    async def go() -> None:
        async with blobs.writer(Hasher()) as writer:
            await writer.write(b"x" * (2 * MiB + 5))
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        asyncio.run(go())
    assert _files(blobs.root) == []


def test_leaving_async_with_without_commit_aborts(blobs: LocalBlobStore) -> None:
    async def go() -> None:
        async with blobs.writer(Hasher()) as writer:
            await writer.write(b"partial")

    asyncio.run(go())
    assert _files(blobs.root) == []


def test_failed_disk_write_surfaces_and_leaves_nothing(blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, hasher: Hasher, data: memoryview, offset: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(localfs, "_write_all", full)

    async def go() -> None:
        async with blobs.writer(Hasher()) as writer:
            for _ in range(4):
                await writer.write(b"x" * MiB)
            await writer.commit()

    with pytest.raises(OSError, match="No space"):
        asyncio.run(go())
    assert _files(blobs.root) == []


def test_failed_publish_leaves_nothing(blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_fsync_dir(path: Path) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(localfs, "_fsync_dir", broken_fsync_dir)  # fails after the rename

    async def go() -> None:
        async with blobs.writer(Hasher()) as writer:
            await writer.write(b"data")
            await writer.commit()

    with pytest.raises(OSError, match="I/O error"):
        asyncio.run(go())
    assert _files(blobs.root) == []


class _RecordingHasher(Hasher):
    """Notes which threads hash and slows hashing so that batches really overlap."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.threads: set[int] = set()
        self.delay = delay

    def update(self, data: bytes | memoryview) -> None:
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        super().update(data)


class _WorkerProbe:
    """Wraps the worker-thread write: counts batches running at once and any error they hit."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.running = 0
        self.most = 0
        self.batches = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        real = localfs._write_all

        def probe(fd: int, hasher: Hasher, data: memoryview, offset: int) -> None:
            with self._lock:
                self.running += 1
                self.batches += 1
                self.most = max(self.most, self.running)
            try:
                real(fd, hasher, data, offset)
            except BaseException as exc:
                self.errors.append(exc)
                raise
            finally:
                with self._lock:
                    self.running -= 1

        monkeypatch.setattr(localfs, "_write_all", probe)


def test_hashing_runs_off_the_loop_with_bounded_buffering(
    blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = _WorkerProbe(monkeypatch)
    hasher = _RecordingHasher(delay=0.01)
    data = random.Random(2).randbytes(10 * MiB)
    piece = 64 * 1024

    async def go() -> str:
        loop_thread = threading.get_ident()
        async with blobs.writer(hasher) as writer:
            for i in range(0, len(data), piece):
                await writer.write(data[i : i + piece])
                # Never more than one batch waiting on the loop side, plus the one in flight.
                assert len(writer._buffer) < CHUNK  # type: ignore[attr-defined]
            await writer.commit()
        assert loop_thread not in hasher.threads
        return writer.blob_id

    blob_id = asyncio.run(go())
    assert probe.batches >= 10 and probe.most == 1  # pipelined, one batch in flight at a time
    assert hasher.md5() == hashlib.md5(data, usedforsecurity=False).digest()
    assert blobs.path(blob_id).read_bytes() == data


def test_cancelled_upload_waits_for_its_worker_then_cleans_up(
    blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = _WorkerProbe(monkeypatch)
    hasher = _RecordingHasher(delay=0.3)

    async def upload() -> None:
        async with blobs.writer(hasher) as writer:
            while True:
                await writer.write(b"z" * MiB)

    async def go() -> None:
        task = asyncio.create_task(upload())
        await asyncio.sleep(0.1)  # first batch is being hashed, second write waits for it
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    blobs.close()  # waits for every worker thread
    # The descriptor was closed only after the worker finished with it.
    assert probe.batches == 1 and probe.errors == []
    assert _files(blobs.root) == []


@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, None), (1, None), (0, 1), (MiB - 1, 2), (MiB, MiB), (123, 2 * MiB + 7), (3 * MiB, None), (5, 0)],
)
def test_ranged_reads(blobs: LocalBlobStore, offset: int, length: int | None) -> None:
    data = random.Random(4).randbytes(3 * MiB + 100)
    blob_id, _ = asyncio.run(_put(blobs, data))
    chunks = asyncio.run(_read(blobs, blob_id, offset, length))
    end = len(data) if length is None else offset + length
    assert b"".join(chunks) == data[offset:end]
    assert all(0 < len(c) <= READ_CHUNK for c in chunks)


def test_reading_a_missing_blob_raises_before_yielding(blobs: LocalBlobStore) -> None:
    async def go() -> None:
        it = blobs.read("f" * 32)
        with pytest.raises(FileNotFoundError):
            await anext(it)

    asyncio.run(go())


def test_reading_past_the_end_of_a_damaged_blob_fails_loudly(blobs: LocalBlobStore) -> None:
    blob_id, _ = asyncio.run(_put(blobs, b"0123456789"))
    with pytest.raises(OSError, match="ends at byte 10"):
        asyncio.run(_read(blobs, blob_id, 4, 10))


def test_ids_are_validated_before_touching_the_filesystem(blobs: LocalBlobStore) -> None:
    for bad in ("../../etc/passwd", "A" * 32, "a" * 31, "", "tmp"):
        with pytest.raises(ValueError):
            blobs.path(bad)


def test_copy_is_a_fresh_hard_link(blobs: LocalBlobStore) -> None:
    blob_id, _ = asyncio.run(_put(blobs, b"payload"))
    old = time.time() - 7200
    os.utime(blobs.path(blob_id), (old, old))
    copied = asyncio.run(blobs.copy(blob_id))
    assert copied != blob_id
    assert blobs.path(copied).read_bytes() == b"payload"
    assert os.path.samefile(blobs.path(copied), blobs.path(blob_id))
    # The copy is not yet in the metadata: it must not look like an old orphan.
    assert copied not in blobs.orphans(time.time() - 60, time.time() - 60)
    asyncio.run(blobs.delete([blob_id]))
    assert blobs.path(copied).read_bytes() == b"payload"
    with pytest.raises(FileNotFoundError):
        asyncio.run(blobs.copy(blob_id))


def test_copy_falls_back_to_bytes_when_links_are_refused(
    blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = random.Random(5).randbytes(2 * MiB + 3)
    blob_id, _ = asyncio.run(_put(blobs, data))

    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    copied = asyncio.run(blobs.copy(blob_id))
    assert blobs.path(copied).read_bytes() == data
    assert not os.path.samefile(blobs.path(copied), blobs.path(blob_id))
    assert stat.S_IMODE(blobs.path(copied).stat().st_mode) == 0o600
    assert list(blobs.tmp.iterdir()) == []


def test_delete_ignores_missing(blobs: LocalBlobStore) -> None:
    a, _ = asyncio.run(_put(blobs, b"a"))
    b, _ = asyncio.run(_put(blobs, b"b"))
    asyncio.run(blobs.delete([a, "0" * 32]))
    asyncio.run(blobs.delete([]))
    assert not blobs.path(a).exists() and blobs.path(b).exists()


def test_orphans_and_abandoned_temporary_files(blobs: LocalBlobStore) -> None:
    now = time.time()
    old_ids = [asyncio.run(_put(blobs, b"old"))[0] for _ in range(3)]
    young, _ = asyncio.run(_put(blobs, b"young"))
    for blob_id in old_ids:
        os.utime(blobs.path(blob_id), (now - 7200, now - 7200))
    stale_tmp = blobs.tmp / ("9" * 32)
    fresh_tmp = blobs.tmp / ("8" * 32)
    stale_tmp.write_bytes(b"crashed upload")
    fresh_tmp.write_bytes(b"upload in progress")
    os.utime(stale_tmp, (now - 7200, now - 7200))
    (blobs.root / "zz").mkdir()  # not ours: ignored
    (blobs.root / "README").write_text("hello")
    assert sorted(blobs.orphans(now - 3600, now - 3600)) == sorted(old_ids)
    assert not stale_tmp.exists() and fresh_tmp.exists()
    assert sorted(blobs.orphans(now + 60, now + 60)) == sorted([*old_ids, young])


def test_open_blobs_factory(tmp_path: Path) -> None:
    store = open_blobs(Settings(data_dir=tmp_path / "d"))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "d" / "blobs"
    store.close()


def test_small_blobs_are_served_from_memory_and_forgotten_on_delete(blobs: LocalBlobStore) -> None:
    blob_id, _ = asyncio.run(_put(blobs, b"0123456789"))
    assert asyncio.run(_read(blobs, blob_id)) == [b"0123456789"]
    blobs.path(blob_id).unlink()  # the file is gone, yet the immutable bytes are still known
    assert asyncio.run(_read(blobs, blob_id)) == [b"0123456789"]

    async def ranged() -> list[bytes]:
        return [c async for c in blobs.read(blob_id, 2, 3)]

    assert asyncio.run(ranged()) == [b"234"]
    asyncio.run(blobs.delete([blob_id]))
    with pytest.raises(FileNotFoundError):
        asyncio.run(_read(blobs, blob_id))


def test_small_blob_cache_keeps_within_its_budget() -> None:
    from satchel.blobs.localfs import SmallBlobCache

    cache = SmallBlobCache(budget=10, largest=6)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # now the most recent
    cache.put("c", b"cccc")  # over budget: the least recently read ("b") goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"aaaa", None, b"cccc")
    cache.put("big", b"x" * 7)  # larger than a small blob: never cached
    assert cache.get("big") is None


# --- several blobs as one body (multipart objects) -----------------------------------------------------
def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("inline", [32, 1])  # opened on the event loop, or in a thread
def test_read_pieces_holds_every_blob_before_the_first_byte(blobs: LocalBlobStore, inline: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localfs, "OPEN_INLINE", inline)
    big, small = random.Random(2).randbytes(MiB), b"tiny"

    async def go() -> bytes:
        ids = [(await _put(blobs, data))[0] for data in (big, small, big)]
        pieces = [(ids[0], 10, MiB - 10), (ids[1], 1, 2), (ids[2], 0, 100)]
        fds = _open_fds()
        stream = blobs.read_pieces(pieces)
        first = await anext(stream)
        assert _open_fds() == fds + 3  # all open, though only the first is being read
        await blobs.delete(ids)  # a DELETE meanwhile unlinks every file ...
        rest = b"".join([chunk async for chunk in stream])
        assert _open_fds() == fds and blobs._read_fds == 0
        return first + rest

    assert asyncio.run(go()) == big[10:] + b"in" + big[:100]  # ... and the body is still whole


def test_read_pieces_with_a_missing_blob_fails_before_the_first_byte_and_leaks_nothing(
        blobs: LocalBlobStore) -> None:
    async def go() -> None:
        blob_id, _ = await _put(blobs, b"x" * (SMALL_BLOB_BYTES + 1))
        fds = _open_fds()
        with pytest.raises(FileNotFoundError):
            await anext(blobs.read_pieces([(blob_id, 0, 1), ("f" * 32, 0, 1)]))
        assert _open_fds() == fds and blobs._read_fds == 0

    asyncio.run(go())


def test_read_pieces_beyond_the_descriptor_budget_is_refused_up_front(blobs: LocalBlobStore) -> None:
    async def go() -> None:
        blob_id, _ = await _put(blobs, b"y" * (SMALL_BLOB_BYTES + 1))
        blobs._read_fd_budget = 2
        held = blobs.read_pieces([(blob_id, 0, 1), (blob_id, 1, 1)])
        assert await anext(held) == b"y"
        with pytest.raises(OSError) as refused:
            await anext(blobs.read_pieces([(blob_id, 0, 1), (blob_id, 1, 1)]))
        assert refused.value.errno == errno.EMFILE
        assert isinstance(held, collections.abc.AsyncGenerator)
        await held.aclose()  # closing early gives the descriptors back
        assert blobs._read_fds == 0
        assert [c async for c in blobs.read_pieces([(blob_id, 0, 1), (blob_id, 1, 1)])] == [b"y", b"y"]

    asyncio.run(go())
