"""Blobs as files in one local directory.

Layout under the root (``<data_dir>/blobs``)::

    tmp/<id>                 writes in progress (and crash leftovers, removed by ``orphans()``)
    <id[0:2]>/<id[2:4]>/<id> committed blobs; two fan-out levels keep directories small

Ids are 32 lowercase hex characters from :func:`secrets.token_hex`: unguessable, and checked before
any path is built from one, so a corrupt metadata row can never name a file outside the root.
Directories are created 0700 and files 0600 whatever the umask: blobs are private objects.

Writes. :class:`LocalBlobWriter` gathers incoming chunks in a buffer; each time 1 MiB is buffered it
hands the buffer to a worker thread that hashes and writes it, while the event loop goes back to
receiving. At most one batch is in flight per upload, so an upload holds about 2 MiB of memory however
large it is, and hashing (the bottleneck: MD5 runs at ~700 MB/s per core) overlaps with receiving.

Reads. ``read()`` issues 256 KiB ``pread`` calls inline on the event loop. From the page cache such a
call takes ~0.05 ms, less than handing it to a thread and back, and it is what lets one worker
stream ~3 GB/s. A cold read from a slow disk does stall the loop for the duration of one pread; the
sequential-access hint keeps the kernel's read-ahead ahead of us so that stays rare.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import resource
import secrets
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar, cast

from satchel.blobs.base import BlobStore, BlobWriter, Piece
from satchel.blobs.digests import Hasher

#: Hand a batch to the worker thread once this much is buffered.
CHUNK = 1024 * 1024
#: Reads are smaller than writes: each open download holds about one chunk in flight, and 256 KiB
#: keeps 64 concurrent downloads in tens of MB while still streaming GB/s (see bench/README.md).
#: 1 MiB chunks measured no less server CPU per GiB: the kernel's copies, not the per-chunk Python
#: work, are what a streamed GiB costs.
READ_CHUNK = 256 * 1024
#: Uploads ask the kernel to start writing to disk every this many bytes (see ``start_writeback``).
WRITEBACK_WINDOW = 8 * 1024 * 1024
#: Blobs up to this size are kept in memory after a read (per worker, within SMALL_CACHE_BYTES).
SMALL_BLOB_BYTES = 64 * 1024
SMALL_CACHE_BYTES = 16 * 1024 * 1024
#: Reads of several blobs (``read_pieces``) may hold at most this share of the process's open-file
#: limit; the rest stays for connections, uploads and the database.
READ_FD_SHARE = 0.5
#: ``read_pieces`` opens up to this many files on the event loop, more in a worker thread.
OPEN_INLINE = 32

_ID = re.compile(r"[0-9a-f]{32}")
_FANOUT = re.compile(r"[0-9a-f]{2}")
_HAS_FADVISE = hasattr(os, "posix_fadvise")
T = TypeVar("T")


def _mkdir_private(path: Path) -> bool:
    """Create one directory 0700 (umask-proof); True when it did not exist before."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return False
    os.chmod(path, 0o700)
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mtime(entry: os.DirEntry[str]) -> float:
    """A file's mtime; +inf when it vanished meanwhile, so it never counts as old."""
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return float("inf")


def _write_all(fd: int, hasher: Hasher, data: memoryview, offset: int) -> None:
    """Worker-thread half of a write: hash and append one batch (which starts at ``offset``)."""
    hasher.update(data)
    end = offset + len(data)
    while data:
        written = os.write(fd, data)
        data = data[written:]
    first, last = offset // WRITEBACK_WINDOW, end // WRITEBACK_WINDOW
    if last > first:
        start_writeback(fd, first * WRITEBACK_WINDOW, (last - first) * WRITEBACK_WINDOW)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast("Callable[[int, int, int, int], int]", function)


_SYNC_FILE_RANGE = _load_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>: start writeback of dirty pages, do not wait for it


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing ``length`` bytes at ``offset`` to disk, without waiting.

    An upload otherwise leaves all its pages dirty until ``commit()``'s fsync, which then writes the
    whole object while the client waits (and the kernel throttles the writes before it). Starting
    writeback every WRITEBACK_WINDOW overlaps the disk with receiving: the fsync finds little left
    to do. Pages stay cached for the reads that follow. A hint only: fsync is still what makes the
    blob durable, so failures and other systems are ignored.
    """
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


class SmallBlobCache:
    """The bytes of small blobs, most recently read first, within a byte budget.

    Blobs are immutable, so a cached copy can never be stale: an id always names the same bytes. A
    small GET then costs no open/pread/close, which is a large part of serving a popular small object.
    """

    def __init__(self, budget: int, largest: int) -> None:
        self._items: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._budget = budget
        self._largest = largest
        self._size = 0

    def get(self, blob_id: str) -> bytes | None:
        data = self._items.get(blob_id)
        if data is not None:
            self._items.move_to_end(blob_id)
        return data

    def stretch(self, blob_id: str, offset: int, length: int | None) -> list[bytes] | None:
        """The chunks a read of a cached blob yields (none for an empty stretch); None when not cached."""
        data = self.get(blob_id)
        if data is None:
            return None
        piece = data[offset:] if length is None else data[offset : offset + length]
        return [piece] if piece else []

    def put(self, blob_id: str, data: bytes) -> None:
        if len(data) > self._largest or blob_id in self._items:
            return
        self._items[blob_id] = data
        self._size += len(data)
        while self._size > self._budget:
            _, evicted = self._items.popitem(last=False)
            self._size -= len(evicted)

    def discard(self, blob_id: str) -> None:
        data = self._items.pop(blob_id, None)
        if data is not None:
            self._size -= len(data)


#: In the blob root while a backup copies blobs: see :meth:`LocalBlobStore.held`.
HOLD_FILE = "backup-hold"
#: A hold older than this (seconds since its last refresh) belongs to a backup that died.
HOLD_STALE = 600.0


class LocalBlobStore(BlobStore):
    def __init__(self, root: str | os.PathLike[str], *, io_threads: int = 4) -> None:
        self.root = Path(root)
        for path in reversed((self.root, *self.root.parents)):
            if not path.is_dir():
                _mkdir_private(path)
        self.tmp = self.root / "tmp"
        self._root_text = str(self.root)
        _mkdir_private(self.tmp)
        # Shared by every upload of this process: hashing and writing batches, fsync, unlink.
        self._pool = concurrent.futures.ThreadPoolExecutor(io_threads, thread_name_prefix="satchel-blob")
        self.small = SmallBlobCache(SMALL_CACHE_BYTES, SMALL_BLOB_BYTES)
        #: Files held open by ``read_pieces`` now, and how many they may be.
        self._read_fds = 0
        self._read_fd_budget = int(resource.getrlimit(resource.RLIMIT_NOFILE)[0] * READ_FD_SHARE)

    def probe(self) -> None:
        """The blob directory is there and writable: metadata only (a ``stat``, an ``access``), no write,
        so a poll every second costs nothing. What it catches is a directory that went away — a network
        filesystem unmounted or hung (then the probe times out), a volume not attached — after which
        every read would fail; a full disk is not unreadiness (reads still work, writes say 507, and the
        other nodes sharing that disk could do no better)."""
        if not self.tmp.is_dir() or not os.access(self.tmp, os.W_OK | os.X_OK):
            raise OSError(errno.EACCES, f"the blob directory {self.root} is missing or not writable")

    def path(self, blob_id: str) -> Path:
        """The file of a committed blob (for servers that can send a file by path, zero-copy)."""
        if not _ID.fullmatch(blob_id):
            raise ValueError("not a blob id of this store")
        return Path(self._file(blob_id))

    def _file(self, blob_id: str) -> str:
        # Plain string joins: this runs on every GET, and pathlib's parsing costs more than the open.
        if not _ID.fullmatch(blob_id):
            raise ValueError("not a blob id of this store")
        return f"{self._root_text}/{blob_id[0:2]}/{blob_id[2:4]}/{blob_id}"

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run blocking file work on this store's thread pool."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def writer(self, hasher: Hasher) -> LocalBlobWriter:
        return LocalBlobWriter(self, hasher)

    async def read(self, blob_id: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        cached = self.small.stretch(blob_id, offset, length)
        if cached is not None:
            for piece in cached:
                yield piece
            return
        # The open comes first, so a missing blob raises FileNotFoundError on the first iteration,
        # before a single byte is yielded.
        fd = os.open(self._file(blob_id), os.O_RDONLY)
        try:
            for chunk in self._stream(fd, blob_id, offset, length):
                yield chunk
        finally:
            os.close(fd)

    async def read_pieces(self, pieces: Sequence[Piece]) -> AsyncIterator[bytes]:
        """Every file is opened before the first byte (see ``BlobStore.read_pieces``): an open file
        stays readable on Linux after a delete unlinks it, and its space is freed when we close it.
        Each is closed as soon as its stretch is sent."""
        if self._read_fds + len(pieces) > self._read_fd_budget:
            raise OSError(errno.EMFILE, f"{len(pieces)} more blobs would pass the budget of open reads")
        sources: list[bytes | int | None] = []
        self._read_fds += len(pieces)  # reserved now, released as each file closes
        released = 0
        try:
            sources = await self._open_all([self.small.get(blob_id) or blob_id for blob_id, _, _ in pieces])
            for index, (blob_id, offset, length) in enumerate(pieces):
                source = sources[index]
                if isinstance(source, bytes):
                    stretch = source[offset:] if length is None else source[offset : offset + length]
                    if stretch:
                        yield stretch
                    continue
                assert source is not None
                for chunk in self._stream(source, blob_id, offset, length):
                    yield chunk
                sources[index] = None
                os.close(source)
                self._read_fds -= 1
                released += 1
        finally:
            _close_fds(sources)
            self._read_fds -= len(pieces) - released

    async def _open_all(self, sources: list[bytes | str]) -> list[bytes | int | None]:
        """Replace each blob id in ``sources`` by an open descriptor, all or none: on the event loop for
        a few, in a thread for many (ten thousand opens would stall every other request)."""
        if sum(1 for source in sources if isinstance(source, str)) <= OPEN_INLINE:
            return self._open_sources(sources)
        opening = asyncio.ensure_future(self.run(self._open_sources, sources))
        try:
            return await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_close_opened)  # the thread still finishes: close what it opened
            raise

    def _open_sources(self, sources: list[bytes | str]) -> list[bytes | int | None]:
        opened: list[bytes | int | None] = []
        try:
            for source in sources:
                opened.append(os.open(self._file(source), os.O_RDONLY) if isinstance(source, str) else source)
        except BaseException:
            _close_fds(opened)
            raise
        return opened

    def _stream(self, fd: int, blob_id: str, offset: int, length: int | None) -> Iterator[bytes]:
        """The bytes of an open blob file from ``offset``, ``length`` of them (to the end when None)."""
        size = os.fstat(fd).st_size
        end = size if length is None else offset + length
        if size <= SMALL_BLOB_BYTES:
            data = os.pread(fd, size, 0)
            if len(data) < end:
                raise OSError(errno.EIO, f"blob {blob_id} ends at byte {len(data)}, before {end}")
            self.small.put(blob_id, data)
            if end > offset:
                yield data[offset:end]
            return
        if _HAS_FADVISE:
            os.posix_fadvise(fd, offset, 0 if length is None else length, os.POSIX_FADV_SEQUENTIAL)
        position = offset
        while position < end:
            chunk = os.pread(fd, min(READ_CHUNK, end - position), position)
            if not chunk:
                # Blobs never change: a short one is damaged, and ending quietly would send the
                # client fewer bytes than the Content-Length promised.
                raise OSError(errno.EIO, f"blob {blob_id} ends at byte {position}, before {end}")
            position += len(chunk)
            yield chunk

    async def copy(self, blob_id: str) -> str:
        return await self.run(self._copy, blob_id)

    def _copy(self, blob_id: str) -> str:
        source = self.path(blob_id)
        new_id = secrets.token_hex(16)
        target = self.path(new_id)
        self._make_fanout(target.parent)
        try:
            os.link(source, target)
        except FileNotFoundError:
            raise
        except OSError:  # another filesystem, or links not supported
            self._copy_bytes(source, target, new_id)
        else:
            # The link shares the source's inode and so its mtime: refresh it, or a copy of an old
            # blob would look like an old orphan to the collector before its metadata is written.
            os.utime(target)
        _fsync_dir(target.parent)
        return new_id

    def _copy_bytes(self, source: Path, target: Path, new_id: str) -> None:
        """Fallback when hard links are refused: a private temporary copy, fsynced, then renamed."""
        tmp = self.tmp / new_id
        try:
            with open(source, "rb") as src, open(tmp, "xb", opener=_private_opener) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
            os.rename(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _make_fanout(self, directory: Path) -> None:
        """Create ``<xx>/<yy>`` as needed; a new directory entry is durable only once its parent is
        fsynced."""
        for path in (directory.parent, directory):
            if _mkdir_private(path):
                _fsync_dir(path.parent)

    async def delete(self, blob_ids: list[str]) -> None:
        for blob_id in blob_ids:
            self.small.discard(blob_id)  # on the event loop, the cache's only user
        if blob_ids and not self.held():
            await self.run(self._delete, list(blob_ids))

    def held(self) -> bool:
        """Whether a backup is copying blobs now (``satchel admin backup`` keeps :data:`HOLD_FILE` fresh):
        then no file is deleted, so every blob of its metadata snapshot stays there to be copied. The files
        spared become orphans, which the collector removes after ``orphan_grace`` once the hold is gone. A
        hold not refreshed for :data:`HOLD_STALE` seconds (a backup that died) is ignored."""
        try:
            age = time.time() - os.stat(self.root / HOLD_FILE).st_mtime
        except FileNotFoundError:
            return False
        return age < HOLD_STALE

    def _delete(self, blob_ids: list[str]) -> None:
        for blob_id in blob_ids:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(blob_id))

    def orphans(self, older_than: float, writes_before: float) -> list[str]:
        """A temporary file is a write in progress or a crash's leftover: only its age (since its last
        write, ``writes_before``) tells them apart, never ``older_than``: a slow upload writes its file
        once per CHUNK, far apart."""
        found: list[str] = []
        for first in os.scandir(self.root):
            if not (first.is_dir(follow_symlinks=False) and _FANOUT.fullmatch(first.name)):
                continue
            for second in os.scandir(first.path):
                if not (second.is_dir(follow_symlinks=False) and _FANOUT.fullmatch(second.name)):
                    continue
                for entry in os.scandir(second.path):
                    if _ID.fullmatch(entry.name) and _mtime(entry) < older_than:
                        found.append(entry.name)
        for entry in os.scandir(self.tmp):
            if _mtime(entry) < writes_before:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
        return found

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class LocalBlobWriter(BlobWriter):
    """Streams one blob into ``tmp/`` and publishes it with an atomic rename."""

    def __init__(self, store: LocalBlobStore, hasher: Hasher) -> None:
        self.blob_id = secrets.token_hex(16)
        self.size = 0
        self.committed = False
        self._store = store
        self._hasher = hasher
        self._tmp = store.tmp / self.blob_id
        self._fd: int | None = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._buffer = bytearray()
        #: Bytes handed to worker threads so far: the file offset of the next batch.
        self._submitted = 0
        #: The batch a worker thread is hashing and writing; it owns ``_fd`` until it is done.
        self._in_flight: asyncio.Future[None] | None = None

    async def write(self, data: bytes) -> None:
        if self._fd is None:
            raise ValueError("write to a finished blob writer")
        self._buffer += data
        self.size += len(data)
        if len(self._buffer) >= CHUNK:
            await self._submit()

    async def _submit(self) -> None:
        """Wait for the previous batch (bounding memory), then start this one in the background."""
        await self._drain()
        assert self._fd is not None
        batch, self._buffer = self._buffer, bytearray()
        self._in_flight = asyncio.get_running_loop().run_in_executor(
            self._store._pool, _write_all, self._fd, self._hasher, memoryview(batch), self._submitted
        )
        self._submitted += len(batch)

    async def _drain(self) -> None:
        """Wait for the batch in flight. Shielded: a cancelled request must not make us forget a
        thread that still writes to our descriptor."""
        in_flight = self._in_flight
        if in_flight is None:
            return
        try:
            await asyncio.shield(in_flight)
        finally:
            if in_flight.done():
                self._in_flight = None

    async def commit(self) -> None:
        if self.committed:
            return
        try:
            if self._buffer:
                await self._submit()
            await self._drain()
            await self._store.run(self._publish)
        except BaseException:
            await self.abort()
            raise
        self.committed = True

    def _publish(self) -> None:
        """Make the bytes durable, then visible: fsync, rename into place, fsync the directory."""
        assert self._fd is not None
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        target = self._store.path(self.blob_id)
        self._store._make_fanout(target.parent)
        os.rename(self._tmp, target)
        _fsync_dir(target.parent)

    async def abort(self) -> None:
        if self.committed:
            return
        self._buffer = bytearray()
        in_flight, self._in_flight = self._in_flight, None
        fd, self._fd = self._fd, None
        if in_flight is not None:
            try:
                await asyncio.shield(in_flight)
            except asyncio.CancelledError:
                # Cancelled while the worker still writes: clean up once it is done, not now.
                in_flight.add_done_callback(lambda _: self._discard(fd))
                raise
            except Exception:  # noqa: S110 - the write failed; there is nothing left to keep
                pass
        self._discard(fd)

    def _discard(self, fd: int | None) -> None:
        if fd is not None:
            os.close(fd)
        # The final name too: a commit that failed after its rename must not leave a blob behind.
        for path in (self._tmp, self._store.path(self.blob_id)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _close_fds(sources: list[bytes | int | None]) -> None:
    for source in sources:
        if isinstance(source, int):
            os.close(source)


def _close_opened(future: asyncio.Future[list[bytes | int | None]]) -> None:
    if not future.cancelled() and future.exception() is None:
        _close_fds(future.result())


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
