"""The BlobStore contract (``blobs/base.py``), run on every store: the local directory and an upstream S3
bucket (a real SeaweedFS). What a store adds of its own is tested beside it (test_localfs.py, test_s3.py)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.blobs.base import BlobStore
from satchel.blobs.digests import Hasher
from satchel.blobs.localfs import LocalBlobStore
from satchel.blobs.s3 import MIN_PART, S3BlobStore
from satchel.blobs.s3upstream import Location, Upstream
from tests.seaweedfs import SeaweedFS

MiB = 1024 * 1024


def s3_store(seaweedfs: SeaweedFS, *, delete_delay: float = 0.0) -> S3BlobStore:
    """A store under a fresh prefix of the session's bucket (a new SeaweedFS bucket costs ~1 s: it gets its
    own volumes), with parts as small as S3 allows so a few MiB make a multipart upload."""
    upstream = Upstream(endpoint_url=seaweedfs.url, region="us-east-1", access_key_id=seaweedfs.weed.access_key,
                        secret_access_key=seaweedfs.weed.secret_key, threads=4, connect_timeout=2,
                        read_timeout=10, attempts=2)
    location = Location.parse(f"s3://{seaweedfs.shared_bucket()}/t-{uuid.uuid4().hex[:12]}/blobs")
    return S3BlobStore(location, upstream, part_size=MIN_PART, delete_delay=delete_delay)


@pytest.fixture(params=["localfs", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    made: BlobStore
    if request.param == "localfs":
        made = LocalBlobStore(tmp_path / "blobs")
    else:
        made = s3_store(request.getfixturevalue("seaweedfs"))
    yield made
    made.close()


async def put(store: BlobStore, data: bytes, piece: int = 256 * 1024) -> tuple[str, Hasher]:
    hasher = Hasher(sha256=True)
    async with store.writer(hasher) as writer:
        for i in range(0, len(data), piece):
            await writer.write(data[i : i + piece])
        await writer.commit()
    assert writer.size == len(data)
    return writer.blob_id, hasher


async def read(store: BlobStore, blob_id: str, offset: int = 0, length: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(blob_id, offset, length)])


def committed(store: BlobStore) -> list[str]:
    """Every committed blob, whatever its age."""
    return sorted(store.orphans(time.time() + 3600, time.time() + 3600))


@pytest.mark.parametrize("size", [0, 10, 64 * 1024 + 1, 2 * MIN_PART + 12345])  # the last: 3 upstream parts
def test_write_commit_read_back(store: BlobStore, size: int) -> None:
    data = random.Random(size).randbytes(size)
    blob_id, hasher = asyncio.run(put(store, data))
    assert hasher.md5() == hashlib.md5(data, usedforsecurity=False).digest()
    assert hasher.sha256_hex() == hashlib.sha256(data).hexdigest()
    assert asyncio.run(read(store, blob_id)) == data
    assert committed(store) == [blob_id]


@pytest.mark.parametrize(("offset", "length"), [(0, None), (1, None), (0, 1), (MiB - 1, 2), (123, 2 * MiB + 7),
                                                (3 * MiB, None), (5, 0)])
def test_ranged_reads(store: BlobStore, offset: int, length: int | None) -> None:
    data = random.Random(4).randbytes(3 * MiB + 100)
    blob_id, _ = asyncio.run(put(store, data))
    end = len(data) if length is None else offset + length
    assert asyncio.run(read(store, blob_id, offset, length)) == data[offset:end]


def test_reading_a_missing_blob_raises_before_yielding(store: BlobStore) -> None:
    async def go() -> None:
        with pytest.raises(FileNotFoundError):
            await anext(store.read("f" * 32))
        with pytest.raises(FileNotFoundError):
            await anext(store.read("e" * 32, 0, 0))

    asyncio.run(go())


@pytest.mark.parametrize("size", [100, 2 * MIN_PART + 1])
def test_abort_and_failures_leave_nothing(store: BlobStore, size: int) -> None:
    async def go() -> None:
        writer = store.writer(Hasher())
        await writer.write(b"a" * size)
        await writer.abort()
        await writer.abort()  # idempotent
        with pytest.raises(RuntimeError):
            async with store.writer(Hasher()) as failing:
                await failing.write(b"b" * size)
                raise RuntimeError("the client went away")
        async with store.writer(Hasher()) as left:
            await left.write(b"c" * size)  # leaving without commit() aborts

    asyncio.run(go())
    assert committed(store) == []
    if isinstance(store, S3BlobStore):
        client, bucket, prefix = store.upstream.client, store.location.bucket, store.location.prefix
        assert client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []) == []
        assert client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0) == 0


def test_copy_is_a_new_blob_with_the_same_bytes(store: BlobStore) -> None:
    data = random.Random(7).randbytes(MiB + 3)
    blob_id, _ = asyncio.run(put(store, data))
    copy_id = asyncio.run(store.copy(blob_id))
    assert copy_id != blob_id
    assert asyncio.run(read(store, copy_id)) == data
    assert committed(store) == sorted([blob_id, copy_id])
    with pytest.raises(FileNotFoundError):
        asyncio.run(store.copy("d" * 32))


def test_delete_ignores_missing_and_removes_the_rest(store: BlobStore) -> None:
    keep, _ = asyncio.run(put(store, b"keep"))
    gone, _ = asyncio.run(put(store, b"x" * (MiB + 1)))
    asyncio.run(store.delete([gone, "c" * 32]))
    with pytest.raises(FileNotFoundError):
        asyncio.run(read(store, gone))
    assert committed(store) == [keep]
    assert asyncio.run(read(store, keep)) == b"keep"


def test_orphans_are_committed_blobs_older_than_the_bound(store: BlobStore) -> None:
    blob_id, _ = asyncio.run(put(store, b"orphan"))
    assert store.orphans(time.time() - 600, time.time() - 600) == []
    assert store.orphans(time.time() + 600, time.time() + 600) == [blob_id]


def unfinished(store: BlobStore) -> set[str]:
    """Blob ids with an unfinished write: a temporary file, an upstream multipart upload."""
    if isinstance(store, LocalBlobStore):
        return {entry.name for entry in store.tmp.iterdir()}
    assert isinstance(store, S3BlobStore)
    prefix = store.location.prefix
    answer = store.upstream.client.list_multipart_uploads(Bucket=store.location.bucket, Prefix=prefix)
    return {upload["Key"][len(prefix):] for upload in answer.get("Uploads", [])}


def test_a_write_in_progress_survives_orphan_passes_until_writes_before(store: BlobStore) -> None:
    """A slow upload is older than ``older_than`` (the orphan grace) long before it ends: passes keyed
    on that must leave its temporary file / multipart upload alone, and it commits byte-exact. What a
    write that never ends (its process killed) left is removed once ``writes_before`` passes its start."""
    data = random.Random(5).randbytes(2 * MIN_PART + 777)  # S3: a multipart upload with a part sent

    async def slow() -> tuple[str, Hasher]:
        started = time.time() - 1  # timestamps of the upstream have one-second resolution
        hasher = Hasher(sha256=True)
        async with store.writer(hasher) as writer:
            for i in range(0, len(data), MiB):
                await writer.write(data[i : i + MiB])
                if i == MIN_PART + MiB:  # a part is out, another is filling
                    assert writer.blob_id in unfinished(store)
                    # Every committed blob counts as an old orphan here; the write started after writes_before.
                    await asyncio.to_thread(store.orphans, time.time() + 3600, started)
                    assert writer.blob_id in unfinished(store)
            await writer.commit()
        return writer.blob_id, hasher

    blob_id, hasher = asyncio.run(slow())
    assert hasher.sha256_hex() == hashlib.sha256(data).hexdigest()
    assert asyncio.run(read(store, blob_id)) == data

    async def killed() -> None:
        writer = store.writer(Hasher())
        await writer.write(data[: MIN_PART + MiB])
        assert writer.blob_id in unfinished(store)
        # Its process dies here: no abort. A pass keyed on a time before its start keeps it ...
        await asyncio.to_thread(store.orphans, time.time() - 600, time.time() - 600)
        assert writer.blob_id in unfinished(store)
        # ... one past it removes what it left.
        await asyncio.to_thread(store.orphans, time.time() - 600, time.time() + 2)
        assert writer.blob_id not in unfinished(store)
        await writer.abort()  # (the test's own clean-up: the descriptor)

    asyncio.run(killed())
    assert store.orphans(time.time() + 600, time.time() + 600) == [blob_id]


def test_read_pieces_streams_the_stretches_in_order(store: BlobStore) -> None:
    big, small = random.Random(2).randbytes(MiB), b"tiny"

    async def go() -> bytes:
        ids = [(await put(store, data))[0] for data in (big, small, big)]
        pieces = [(ids[0], 10, MiB - 10), (ids[1], 1, 2), (ids[2], 0, 100)]
        return b"".join([chunk async for chunk in store.read_pieces(pieces)])

    assert asyncio.run(go()) == big[10:] + b"in" + big[:100]


def test_read_pieces_with_a_missing_blob_fails_before_the_first_byte(store: BlobStore) -> None:
    async def go() -> None:
        blob_id, _ = await put(store, b"x" * (MiB + 1))
        with pytest.raises(FileNotFoundError):
            await anext(store.read_pieces([(blob_id, 0, 1), ("f" * 32, 0, 1)]))

    asyncio.run(go())
