"""Blobs as objects in a bucket of an existing S3-compatible cluster: ``blobs_url = s3://bucket/prefix``.

Configuration (each also ``SATCHEL_<NAME>`` and a ``satchel serve`` flag)::

    blobs_url = "s3://satchel-blobs/node-data"     # the bucket must exist; the prefix is optional
    blobs_endpoint_url = "https://s3.internal:8333"
    blobs_region = "us-east-1"
    blobs_access_key_id = "..."
    blobs_secret_access_key = "..."               # masked by ``satchel config show``, never logged
    blobs_part_size = 16777216                     # multipart part size, at least 5 MiB

Layout: one upstream object per blob, ``<prefix>/<id>``, where ids are 32 lowercase hex characters from
:func:`secrets.token_hex` (checked before a key is built from one). Nothing else is written under the
prefix; give Satchel its own prefix (or bucket) and keys allowed to do just that.

Writes. A blob smaller than ``blobs_part_size`` is buffered and sent with one ``PutObject`` at
``commit()``. A larger one becomes a multipart upload: each time a part's worth is buffered it is
hashed and sent (``UploadPart``) by a pool thread while the event loop receives the next part, so an
upload holds at most two parts in memory (one filling, one in flight) however large it is. ``commit()``
returns only after the upstream answered ``200`` to the ``PutObject`` or ``CompleteMultipartUpload``:
only then may metadata reference the blob. ``abort()`` aborts the multipart upload and deletes the key (a
``PutObject`` whose answer was lost may have landed); what an unreachable upstream keeps from that is
collected by ``orphans()`` (an unfinished multipart upload only once older than any upload can last,
``core/gc.write_grace``: a slow one may still be sending parts). That clean-up runs in the background,
after the client was answered: an upstream that is away must not hold a client for the clean-up's
timeouts on top of the write's.

Reads. ``read()`` issues one GET (with ``Range`` for a stretch) and streams its body in 256 KiB chunks,
each read by a pool thread; nothing waits for a whole object. A body cut by the network is resumed from
the byte where it stopped with a new ranged GET (twice at most, then ``EIO``: the client sees its
connection close before the promised length, never wrong bytes). A read within a blob's first 64 KiB
takes one GET of those 64 KiB; a blob that small is then kept in a per-worker cache (an id's bytes never
change), so a popular small object costs one upstream request per worker.

``read_pieces`` and concurrent deletes. A local file stays readable while open after it is unlinked; an
upstream object has no such hold. The equivalent here is the delay: ``delete()`` never deletes at once,
every deletion waits ``blobs_delete_delay`` seconds (default 900) in memory first (``s3deletes.py``),
and a deletion lost to a crash comes back through the orphan pass and waits again. A read begins with
the metadata naming its blobs, so every one of them is still upstream for that long after: nothing is
checked before the first byte but the first piece, whose GET is the read's first request (a blob
already gone there is ``FileNotFoundError`` before anything is sent, as the contract asks). A later one
that is missing anyway (removed behind Satchel's back) cuts the body short, never wrong.

Checking them instead (a HEAD of every blob before the first byte, as this store once did) costs what
no client should wait for: a 1 GiB object uploaded in 8 MiB parts has 128 blobs, so 64 concurrent
GETs of it queued 8,192 HEADs on the ``blobs_threads`` pool and none had its first byte within 10 s
(bench/README.md, "64 concurrent downloads"). With ``blobs_delete_delay = 0`` (deleted at once) there
is no such hold, and ``read_pieces`` does HEAD every blob first (``blobs_threads`` at a time): reads of
multipart objects then pay one upstream round trip per part before their first byte.

The bound: a multi-segment read (or any read) that lasts longer than ``blobs_delete_delay`` *and* whose
object is deleted or overwritten meanwhile can be cut short. Raise the delay if your clients download
for longer than that; storage for deleted data is held that much longer.

Failures: see ``s3upstream.py`` — the upstream down, erroring or silent is ``503 SlowDown`` to the client
within one bound, ``blobs_attempts * (blobs_connect_timeout + blobs_read_timeout)`` plus a second, per
upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import re
import secrets
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any

from satchel.blobs.base import BlobStore, BlobWriter, Piece
from satchel.blobs.digests import Hasher
from satchel.blobs.localfs import SMALL_BLOB_BYTES, SMALL_CACHE_BYTES, SmallBlobCache
from satchel.blobs.s3deletes import DeferredDeletes
from satchel.blobs.s3upstream import Location, Upstream
from satchel.core.errors import SlowDown

#: Streamed reads ask the upstream for this much per pool-thread hop: as localfs, 256 KiB keeps 64
#: concurrent downloads in tens of MB (1 MiB took ~450 MiB for 64 in bench/), and a hop (~0.1 ms
#: loaded) per 256 KiB still allows GB/s.
READ_CHUNK = 256 * 1024
#: A read cut by the network is resumed this many times before it fails.
RESUMES = 2
#: The smallest part S3 accepts (but for the last).
MIN_PART = 5 * 1024 * 1024
#: S3's most parts per upload.
MAX_PARTS = 10_000
#: The largest object ``CopyObject`` copies; beyond, ``UploadPartCopy`` in parts of COPY_PART.
COPY_OBJECT_MAX = 5 * 1024**3
COPY_PART = 1024**3
#: Keys per ``DeleteObjects`` request (S3's limit).
DELETE_BATCH = 1000

_ID = re.compile(r"[0-9a-f]{32}")


class S3BlobStore(BlobStore):
    def __init__(self, location: Location, upstream: Upstream, *, part_size: int, delete_delay: float,
                 parallel: int = 16) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"the part size must be at least {MIN_PART} bytes")
        self.location = location
        self.upstream = upstream
        self.part_size = part_size
        self.small = SmallBlobCache(SMALL_CACHE_BYTES, SMALL_BLOB_BYTES)
        self.deletes = DeferredDeletes(delete_delay, self._delete_now)
        self._parallel = parallel
        #: Clean-ups of failed or abandoned writes, running after their client was answered (held here:
        #: the event loop keeps only weak references to tasks).
        self.cleanups: set[asyncio.Task[None]] = set()

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self.cleanups.add(task)
        task.add_done_callback(self.cleanups.discard)

    def probe(self) -> None:
        self.upstream.probe(self.location.bucket)

    def key(self, blob_id: str) -> str:
        if not _ID.fullmatch(blob_id):
            raise ValueError("not a blob id of this store")
        return self.location.key(blob_id)

    def _params(self, blob_id: str, **more: Any) -> dict[str, Any]:
        return {"Bucket": self.location.bucket, "Key": self.key(blob_id), **more}

    def writer(self, hasher: Hasher) -> S3BlobWriter:
        return S3BlobWriter(self, hasher)

    # --- reads ------------------------------------------------------------------------------------------
    async def read(self, blob_id: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        cached = self.small.stretch(blob_id, offset, length)
        if cached is not None:
            for piece in cached:
                yield piece
            return
        if length == 0:
            await self.upstream.call("head_object", **self._params(blob_id))
            return
        if length is not None and offset + length <= SMALL_BLOB_BYTES:
            # A stretch within the first SMALL_BLOB_BYTES: one GET of those, which is the whole blob when
            # it is small (then cached: a popular small object costs one upstream GET per worker).
            start = await self._start_of(blob_id)
            if len(start) < offset + length:
                raise OSError(errno.EIO, f"blob {blob_id} ends at byte {len(start)}, before {offset + length}")
            yield start[offset : offset + length]
            return
        async for chunk in self._stream(blob_id, offset, length):
            yield chunk

    async def _start_of(self, blob_id: str) -> bytes:
        """The first SMALL_BLOB_BYTES of a blob (all of it when smaller; then it is cached)."""
        answer = await self._get(self._params(blob_id, Range=f"bytes=0-{SMALL_BLOB_BYTES - 1}"))
        body = answer["Body"]
        try:
            # One byte more than asked: an upstream that ignored the Range must not make us read it all.
            data: bytes = await self.upstream.run(body.read, SMALL_BLOB_BYTES + 1)
        finally:
            body.close()
        total = str(answer.get("ContentRange", "")).rpartition("/")[2]
        if (int(total) if total.isdigit() else len(data)) == len(data) <= SMALL_BLOB_BYTES:
            self.small.put(blob_id, data)
        return data[:SMALL_BLOB_BYTES]

    async def _stream(self, blob_id: str, offset: int, length: int | None) -> AsyncIterator[bytes]:
        """GET from ``offset``; the first request's failure (``FileNotFoundError`` included) is raised
        before anything is yielded."""
        body, end = await self._open(blob_id, offset, None if length is None else offset + length)
        whole = offset == 0 and length is None and end <= SMALL_BLOB_BYTES
        position, resumes = offset, 0
        try:
            while position < end:
                try:
                    chunk = await self.upstream.run(body.read, end - position if whole else READ_CHUNK)
                except SlowDown:
                    chunk = b""
                if not chunk:
                    # Cut by the network (or the upstream ended early): go on from here with a new GET.
                    body.close()
                    resumes += 1
                    if resumes > RESUMES:
                        raise OSError(errno.EIO, f"blob {blob_id}: the upstream stopped at byte {position}")
                    body, _ = await self._open(blob_id, position, end)
                    continue
                if whole:
                    self.small.put(blob_id, chunk)
                position += len(chunk)
                yield chunk
        finally:
            body.close()

    async def _open(self, blob_id: str, start: int, end: int | None) -> tuple[Any, int]:
        """A GET's body and the offset it ends at."""
        params = self._params(blob_id)
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        answer = await self._get(params)
        size = int(answer["ContentLength"])
        body = answer["Body"]
        if end is not None and size != end - start:
            body.close()
            raise OSError(errno.EIO, f"blob {blob_id} is shorter than byte {end}")
        return body, start + size

    async def _get(self, params: dict[str, Any]) -> Any:
        """A GetObject answer. Shielded: a request cancelled meanwhile (its client went away) must not
        leave the body the pool thread still receives holding an upstream connection."""
        getting = asyncio.ensure_future(self.upstream.call("get_object", **params))
        try:
            return await asyncio.shield(getting)
        except asyncio.CancelledError:
            getting.add_done_callback(_close_body)
            raise

    async def read_pieces(self, pieces: Sequence[Piece]) -> AsyncIterator[bytes]:
        """With a delete delay, the delay holds every blob (see the module docstring) and the first
        piece's GET is the only upstream call before the first byte; without one, every blob is HEADed
        first."""
        if self.deletes.delay <= 0:
            await self._check_all(pieces)
        for blob_id, offset, length in pieces:
            async for chunk in self.read(blob_id, offset, length):
                yield chunk

    async def _check_all(self, pieces: Sequence[Piece]) -> None:
        """HEAD every blob not cached, ``blobs_threads`` at a time: ``FileNotFoundError`` if one is gone."""
        unseen = list(dict.fromkeys(b for b, _, _ in pieces if self.small.get(b) is None))
        for start in range(0, len(unseen), self._parallel):
            batch = unseen[start : start + self._parallel]
            await asyncio.gather(*(self.upstream.call("head_object", **self._params(b)) for b in batch))

    # --- copies and deletes -----------------------------------------------------------------------------
    async def copy(self, blob_id: str) -> str:
        """``CopyObject`` (``UploadPartCopy`` past 5 GiB): the bytes never pass through this server.
        The copy is a new upstream object, so its LastModified is now, as a fresh blob's must be."""
        head = await self.upstream.call("head_object", **self._params(blob_id))
        size = int(head["ContentLength"])
        new_id = secrets.token_hex(16)
        source = {"Bucket": self.location.bucket, "Key": self.key(blob_id)}
        if size <= COPY_OBJECT_MAX:
            # Unbounded by the wait bound (s3upstream.py): the upstream copies up to 5 GiB before it answers.
            await self.upstream.call("copy_object", bounded=False, **self._params(new_id, CopySource=source))
            return new_id
        created = await self.upstream.call("create_multipart_upload", **self._params(new_id))
        upload = created["UploadId"]
        try:
            parts = []
            for number, first in enumerate(range(0, size, COPY_PART), start=1):
                last = min(first + COPY_PART, size) - 1
                answer = await self.upstream.call("upload_part_copy", bounded=False, **self._params(
                    new_id, UploadId=upload, PartNumber=number, CopySource=source,
                    CopySourceRange=f"bytes={first}-{last}"))
                parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
            await self.upstream.call("complete_multipart_upload", **self._params(
                new_id, UploadId=upload, MultipartUpload={"Parts": parts}))
        except BaseException:
            # After the client's answer, as a failed write's (S3BlobWriter.abort); else the orphan pass.
            self.in_background(self._abort_upload(new_id, upload))
            raise
        return new_id

    async def _abort_upload(self, blob_id: str, upload: str) -> None:
        with contextlib.suppress(Exception):
            await self.upstream.call("abort_multipart_upload", **self._params(blob_id, UploadId=upload))

    async def delete(self, blob_ids: list[str]) -> None:
        for blob_id in blob_ids:
            self.key(blob_id)  # a bad id fails here, not later in the background
            self.small.discard(blob_id)
        await self.deletes.delete(blob_ids)

    async def _delete_now(self, blob_ids: list[str]) -> None:
        for start in range(0, len(blob_ids), DELETE_BATCH):
            batch = blob_ids[start : start + DELETE_BATCH]
            answer = await self.upstream.call("delete_objects", Bucket=self.location.bucket, Delete={
                "Objects": [{"Key": self.key(b)} for b in batch], "Quiet": True})
            failed = [e for e in answer.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
            if failed:
                raise SlowDown(f"the upstream refused to delete {len(failed)} blobs ({failed[0].get('Code')})")

    # --- garbage ----------------------------------------------------------------------------------------
    def orphans(self, older_than: float, writes_before: float) -> list[str]:
        """Committed blobs older than ``older_than`` (by LastModified, listed in pages), and unfinished
        multipart uploads initiated before ``writes_before``, which are aborted here: one initiated
        later may be a slow upload still sending parts, on any node. Runs in a thread."""
        return self.upstream.translated(self._orphans, older_than, writes_before)

    def _orphans(self, older_than: float, writes_before: float) -> list[str]:
        client, bucket, prefix = self.upstream.client, self.location.bucket, self.location.prefix
        found: list[str] = []
        pending = frozenset(self.deletes.pending)
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                name = item["Key"][len(prefix):]
                if (_ID.fullmatch(name) and name not in pending
                        and item["LastModified"].timestamp() < older_than):
                    found.append(name)
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            for upload in page.get("Uploads", ()):
                if _ID.fullmatch(upload["Key"][len(prefix):]) and upload["Initiated"].timestamp() < writes_before:
                    with contextlib.suppress(client.exceptions.NoSuchUpload):
                        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        return found

    def close(self) -> None:
        self.deletes.close()
        self.upstream.close()


class S3BlobWriter(BlobWriter):
    """Streams one blob upstream: one PUT when small, a multipart upload when large (see the module
    docstring)."""

    def __init__(self, store: S3BlobStore, hasher: Hasher) -> None:
        self.blob_id = secrets.token_hex(16)
        self.size = 0
        self.committed = False
        self._store = store
        self._hasher = hasher
        self._up = store.upstream
        self._buffer = bytearray()
        self._finished = False
        self._aborted = False
        #: Whether anything was sent upstream: only then can ``abort()`` have something to remove.
        self._sent = False
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        #: The part a pool thread is hashing and sending; its result is that part's ETag.
        self._in_flight: asyncio.Future[dict[str, Any]] | None = None

    async def write(self, data: bytes) -> None:
        if self._finished:
            raise ValueError("write to a finished blob writer")
        self._buffer += data
        self.size += len(data)
        if len(self._buffer) >= self._store.part_size:
            await self._submit()

    async def _submit(self) -> None:
        """Wait for the part in flight (bounding memory), then start sending this one."""
        await self._drain()
        if self._upload_id is None:
            self._sent = True
            created = await self._up.call("create_multipart_upload", **self._store._params(self.blob_id))
            self._upload_id = created["UploadId"]
        batch, self._buffer = self._buffer, bytearray()
        number = len(self._parts) + 1
        if number > MAX_PARTS:
            raise ValueError(f"more than {MAX_PARTS} parts: raise blobs_part_size")
        self._in_flight = asyncio.ensure_future(self._up.run(self._send_part, number, batch))

    def _send_part(self, number: int, batch: bytearray) -> dict[str, Any]:
        self._hasher.update(memoryview(batch))
        answer = self._up.client.upload_part(
            **self._store._params(self.blob_id, UploadId=self._upload_id, PartNumber=number, Body=batch))
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _put_whole(self, batch: bytearray) -> None:
        self._hasher.update(memoryview(batch))
        self._up.client.put_object(**self._store._params(self.blob_id, Body=batch))

    async def _drain(self) -> None:
        """Wait for the part in flight. Shielded: a cancelled request must not forget a thread that is
        still sending (its result is needed, or the upload is aborted after it)."""
        in_flight = self._in_flight
        if in_flight is None:
            return
        try:
            self._parts.append(await asyncio.shield(in_flight))
        finally:
            if in_flight.done():
                self._in_flight = None

    async def commit(self) -> None:
        if self.committed:
            return
        if self._finished:
            raise ValueError("commit of an aborted blob writer")
        try:
            if self._upload_id is None:
                batch, self._buffer = self._buffer, bytearray()
                self._sent = True
                await self._up.run(self._put_whole, batch)
            else:
                if self._buffer:
                    await self._submit()
                await self._drain()
                await self._up.call("complete_multipart_upload", **self._store._params(
                    self.blob_id, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}))
        except BaseException:
            await self.abort()
            raise
        self._finished = True
        self.committed = True

    async def abort(self) -> None:
        """Returns at once: removing what was sent (the part in flight awaited, the multipart upload
        aborted, the key deleted) runs in the background, so a client whose upload failed because the
        upstream is away gets its 503 within the wait bound, not after the clean-up's own timeouts.
        Whatever that clean-up cannot remove, the orphan pass collects."""
        if self.committed or self._aborted:
            return
        self._aborted = self._finished = True
        self._buffer = bytearray()
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None or self._sent:
            self._store.in_background(self._discard(in_flight))

    async def _discard(self, in_flight: asyncio.Future[dict[str, Any]] | None) -> None:
        if in_flight is not None:
            with contextlib.suppress(Exception):
                await in_flight  # the part failed or was sent: either way there is nothing left to keep
        if not self._sent:
            return
        self._sent = False
        try:
            if self._upload_id is not None:
                with contextlib.suppress(FileNotFoundError):
                    await self._up.call("abort_multipart_upload",
                                        **self._store._params(self.blob_id, UploadId=self._upload_id))
            with contextlib.suppress(FileNotFoundError):
                await self._up.call("delete_object", **self._store._params(self.blob_id))
        except Exception as exc:
            self._up.note("removing an aborted upload", f"{type(exc).__name__}; the garbage collector will",
                          error=False)


def _close_body(getting: asyncio.Future[Any]) -> None:
    if not getting.cancelled() and getting.exception() is None:
        getting.result()["Body"].close()
