"""Encryption at rest (core/sse.py): the chunked AES-GCM blob format, ranges at chunk boundaries, keys."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.blobs.base import BlobStore
from satchel.blobs.digests import Hasher
from satchel.blobs.localfs import LocalBlobStore
from satchel.core import objects, sse
from satchel.core.conditions import ByteRange
from satchel.core.errors import AccessDenied, InvalidArgument, InvalidRequest
from satchel.core.masterkey import MasterKey, SealedValueError
from satchel.core.models import ObjectRecord, Segment
from satchel.logs import redact
from tests.seaweedfs import SeaweedFS
from tests.unit.blobs.test_blob_contract import s3_store


def _md5(data: bytes) -> Any:
    return hashlib.md5(data, usedforsecurity=False)


C = sse.CHUNK
SIZES = [0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 7, 17 * C + 5]


def _key(seed: bytes = b"k") -> sse.CustomerKey:
    raw = hashlib.sha256(seed).digest()
    return sse.CustomerKey.parse("AES256", base64.b64encode(raw).decode(),
                                 base64.b64encode(_md5(raw).digest()).decode())


async def _write(store: BlobStore, plan: sse.Plan, data: bytes, step: int) -> tuple[str, Hasher]:
    hasher = Hasher()
    writer = sse.writer(store, hasher, plan)
    async with writer:
        for i in range(0, len(data), step):
            await writer.write(data[i:i + step])
        await writer.commit()
    return writer.blob_id, hasher


async def _read(store: BlobStore, plan: sse.Plan, pieces: list[sse.PlainPiece]) -> bytes:
    return b"".join([chunk async for chunk in sse.read_pieces(store, plan, pieces)])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalBlobStore]:
    blobs = LocalBlobStore(tmp_path / "blobs", io_threads=1)
    yield blobs
    blobs.close()


@pytest.fixture
def plan() -> sse.Plan:
    return sse.new_plan(MasterKey(os.urandom(32)), sse.Encrypt())


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_every_boundary_and_no_plaintext_on_disk(store: LocalBlobStore, plan: sse.Plan,
                                                            size: int) -> None:
    data = (b"plaintext-marker!" * (size // 17 + 1))[:size]
    blob_id, hasher = asyncio.run(_write(store, plan, data, 100_003))
    assert hasher.md5() == _md5(data).digest()  # the ETag is of the plaintext
    stored = store.path(blob_id).read_bytes()
    assert len(stored) == sse.sealed_size(size)
    if size >= 17:
        assert b"plaintext-marker!" not in stored
    assert asyncio.run(_read(store, plan, [(blob_id, size, 0, size)])) == data


@pytest.mark.parametrize(("start", "length"), [
    (0, 1), (C - 1, 1), (C - 1, 2), (C, 1), (C, C), (C + 1, C - 1), (2 * C - 1, C + 2), (3 * C, 7), (5, 3 * C),
])
def test_ranges_at_chunk_boundaries(store: LocalBlobStore, plan: sse.Plan, start: int, length: int) -> None:
    data = os.urandom(3 * C + 7)
    blob_id, _ = asyncio.run(_write(store, plan, data, C))
    got = asyncio.run(_read(store, plan, [(blob_id, len(data), start, length)]))
    assert got == data[start:start + length]


def test_pieces_across_blobs(store: LocalBlobStore, plan: sse.Plan) -> None:
    first, second = os.urandom(C + 3), os.urandom(2 * C)
    a, _ = asyncio.run(_write(store, plan, first, 4096))
    b, _ = asyncio.run(_write(store, plan, second, 4096))
    got = asyncio.run(_read(store, plan, [(a, len(first), C, 3), (b, len(second), 0, C + 1)]))
    assert got == first[C:] + second[:C + 1]


def test_truncated_or_tampered_blob_does_not_decrypt(store: LocalBlobStore, plan: sse.Plan) -> None:
    data = os.urandom(2 * C)
    blob_id, _ = asyncio.run(_write(store, plan, data, C))
    path = store.path(blob_id)
    whole = path.read_bytes()
    store.small.discard(blob_id)
    # Cut after the first whole chunk and claim that was everything: its chunk was not sealed as last.
    path.write_bytes(whole[:sse.HEADER + C + sse.TAG])
    with pytest.raises(sse.BlobDecryptError):
        asyncio.run(_read(store, plan, [(blob_id, C, 0, C)]))
    flipped = bytearray(whole)
    flipped[sse.HEADER + 5] ^= 1
    path.write_bytes(bytes(flipped))
    store.small.discard(blob_id)
    with pytest.raises(sse.BlobDecryptError):
        asyncio.run(_read(store, plan, [(blob_id, len(data), 0, 10)]))


def _put_bytes(store: LocalBlobStore, blob_id: str, data: bytes) -> None:
    store.path(blob_id).write_bytes(data)
    store.small.discard(blob_id)


def test_blobs_swapped_duplicated_or_substituted_in_storage_do_not_decrypt(store: LocalBlobStore,
                                                                           plan: sse.Plan) -> None:
    """Every part of an upload shares its key: only the blob's identity in each chunk's associated data
    keeps part 2's blob from being served as part 1 (issue 16, attack t11/t8)."""
    first, second = os.urandom(C + 9), os.urandom(C + 9)  # the same size: a swap keeps every length right
    a, _ = asyncio.run(_write(store, plan, first, 4096))
    b, _ = asyncio.run(_write(store, plan, second, 4096))
    pieces: list[sse.PlainPiece] = [(a, len(first), 0, len(first)), (b, len(second), 0, len(second))]
    assert asyncio.run(_read(store, plan, pieces)) == first + second
    bytes_a, bytes_b = store.path(a).read_bytes(), store.path(b).read_bytes()
    for new_a, new_b in ((bytes_b, bytes_a), (bytes_a, bytes_a), (bytes_b, bytes_b)):  # swap, duplicates
        _put_bytes(store, a, new_a)
        _put_bytes(store, b, new_b)
        with pytest.raises(sse.BlobDecryptError):
            asyncio.run(_read(store, plan, pieces))
        for blob_id, size in ((a, len(first)), (b, len(second))):  # each blob alone, and a range of it
            if store.path(blob_id).read_bytes() != (bytes_a if blob_id == a else bytes_b):
                with pytest.raises(sse.BlobDecryptError):
                    asyncio.run(_read(store, plan, [(blob_id, size, C, 3)]))


def test_a_relinked_copy_decrypts_and_is_still_bound(store: LocalBlobStore) -> None:
    """An SSE-S3 copy re-links blobs under new ids: recorded origins keep them readable, and only them."""
    master = MasterKey(os.urandom(32))
    plan = sse.new_plan(master, sse.Encrypt())
    first, second = os.urandom(C + 9), os.urandom(C + 9)
    a, _ = asyncio.run(_write(store, plan, first, 4096))
    b, _ = asyncio.run(_write(store, plan, second, 4096))
    a2, b2 = asyncio.run(store.copy(a)), asyncio.run(store.copy(b))
    copied = sse.relinked(plan, [(a, a2), (b, b2)])
    again = sse.open_plan(master, {sse.FIELD: copied.stored}, None)  # as stored with the copy
    assert again is not None
    pieces: list[sse.PlainPiece] = [(a2, len(first), 0, len(first)), (b2, len(second), 0, len(second))]
    assert asyncio.run(_read(store, again, pieces)) == first + second
    a3 = asyncio.run(store.copy(a2))  # a copy of the copy: origins compose
    assert asyncio.run(_read(store, sse.relinked(copied, [(a2, a3)]), [(a3, len(first), 0, len(first))])) == first
    with pytest.raises(sse.BlobDecryptError):  # without the record, the copy is a stranger
        asyncio.run(_read(store, plan, [(a2, len(first), 0, len(first))]))
    _put_bytes(store, a2, store.path(b).read_bytes())  # the copy's blob replaced by the other part's
    with pytest.raises(sse.BlobDecryptError):
        asyncio.run(_read(store, copied, pieces))


@pytest.mark.parametrize("size", [1, C, 2 * C + 5])
def test_bytes_appended_to_a_blob_are_refused(store: LocalBlobStore, plan: sse.Plan, size: int) -> None:
    data = os.urandom(size)
    blob_id, _ = asyncio.run(_write(store, plan, data, C))
    other, _ = asyncio.run(_write(store, plan, data, C))
    whole = store.path(blob_id).read_bytes()
    for extra in (b"x", os.urandom(sse.TAG + 3)):
        _put_bytes(store, blob_id, whole + extra)
        with pytest.raises(sse.BlobDecryptError):
            asyncio.run(_read(store, plan, [(blob_id, size, 0, size)]))
        with pytest.raises(sse.BlobDecryptError):  # a range that ends at the blob's end
            asyncio.run(_read(store, plan, [(blob_id, size, size - 1, 1)]))
        with pytest.raises(sse.BlobDecryptError):  # followed by another blob: the shift is caught too
            asyncio.run(_read(store, plan, [(blob_id, size, 0, size), (other, size, 0, size)]))
    _put_bytes(store, blob_id, whole)
    assert asyncio.run(_read(store, plan, [(blob_id, size, 0, size), (other, size, 0, size)])) == data + data


def test_sse_s3_key_needs_the_master_key() -> None:
    master = MasterKey(os.urandom(32))
    plan = sse.new_plan(master, sse.Encrypt())
    headers = {sse.FIELD: plan.stored}
    assert plan.key.hex() not in plan.stored
    opened = sse.open_plan(master, headers, None)
    assert opened is not None and opened.key == plan.key
    with pytest.raises(SealedValueError):
        sse.open_plan(MasterKey(os.urandom(32)), headers, None)
    with pytest.raises(InvalidRequest):  # SSE-C headers on an SSE-S3 object do not apply
        sse.open_plan(master, headers, _key())


def test_sse_c_right_wrong_and_missing_key() -> None:
    master = MasterKey(os.urandom(32))
    key = _key()
    plan = sse.new_plan(master, sse.Encrypt(key))
    headers = {sse.FIELD: plan.stored}
    assert base64.b64encode(key.key).decode() not in plan.stored and key.key.hex() not in plan.stored
    assert "CustomerKey(md5_b64=" in repr(key) and key.key.hex() not in repr(key)
    opened = sse.open_plan(master, headers, key)
    assert opened is not None and opened.key == plan.key
    with pytest.raises(AccessDenied):
        sse.open_plan(master, headers, _key(b"other"))
    with pytest.raises(InvalidRequest, match="Server Side Encryption"):
        sse.open_plan(master, headers, None)
    with pytest.raises(InvalidRequest, match="link"):
        sse.refuse_link(headers)
    assert plan.etag("0" * 32) != "0" * 32  # an SSE-C ETag is not the plaintext's MD5
    with pytest.raises(InvalidRequest, match="not applicable"):
        sse.open_plan(master, {}, key)


@pytest.mark.parametrize(("algorithm", "key", "md5", "message"), [
    (None, "a", "b", "valid encryption algorithm"),
    ("AES128", "a", "b", "not valid"),
    ("AES256", None, "b", "appropriate secret key"),
    ("AES256", base64.b64encode(b"short").decode(), "b", "secret key was invalid"),
    ("AES256", base64.b64encode(bytes(32)).decode(), None, "MD5 of the secret key"),
    ("AES256", base64.b64encode(bytes(32)).decode(), base64.b64encode(bytes(16)).decode(), "did not match"),
])
def test_customer_key_checks(algorithm: str | None, key: str | None, md5: str | None, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        sse.CustomerKey.parse(algorithm, key, md5)


def test_an_sse_c_key_in_a_presigned_query_is_never_logged() -> None:
    secret = base64.b64encode(os.urandom(32)).decode()
    line = (f'"GET /b/k?X-Amz-Signature=abc&x-amz-server-side-encryption-customer-key={secret}'
            f'&X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key={secret} HTTP/1.1" 200')
    redacted = redact(line)
    assert secret not in redacted and redacted.count("=REDACTED") == 3


def test_random_ranges_across_segments_match_the_plaintext(store: LocalBlobStore, plan: sse.Plan) -> None:
    """An object of three sealed segments (as multipart makes), read through ``objects.read_range``'s way
    of cutting a range into pieces: 200 seeded random ranges, each byte-exact."""
    rng = random.Random(16)
    parts = [os.urandom(n) for n in (C + 5, 1, 2 * C)]
    ids = [asyncio.run(_write(store, plan, part, 7000))[0] for part in parts]
    whole = b"".join(parts)
    segments = tuple(Segment(blob_id, len(part)) for blob_id, part in zip(ids, parts, strict=True))
    record = ObjectRecord("b", "k", len(whole), "e", 0.0, segments, headers={sse.FIELD: plan.stored})
    node = SimpleNamespace(blobs=store)

    async def read(byte_range: ByteRange) -> bytes:
        stream = objects.read_range(node, record, byte_range, plan)  # type: ignore[arg-type]
        return b"".join([chunk async for chunk in stream])

    for _ in range(200):
        start = rng.randrange(len(whole))
        end = rng.randrange(start, min(len(whole), start + rng.choice((1, 10, C, 3 * C))))
        assert asyncio.run(read(ByteRange(start, end))) == whole[start:end + 1]


def test_an_upstream_blob_swapped_or_extended_does_not_decrypt(seaweedfs: SeaweedFS, plan: sse.Plan) -> None:
    """The same binding on the S3-cluster blob store (``blobs_url``), where an upstream admin can rewrite
    any blob (issue 16, attack t8)."""
    store = s3_store(seaweedfs)
    try:
        first, second = os.urandom(C + 9), os.urandom(C + 9)

        async def scenario() -> None:
            a, b = (await _write(store, plan, first, 4096))[0], (await _write(store, plan, second, 4096))[0]
            pieces: list[sse.PlainPiece] = [(a, len(first), 0, len(first)), (b, len(second), 0, len(second))]
            assert await _read(store, plan, pieces) == first + second

            async def stored(blob_id: str) -> bytes:
                answer = await store.upstream.call("get_object", **store._params(blob_id))
                return bytes(answer["Body"].read())

            async def rewrite(blob_id: str, data: bytes) -> None:
                await store.upstream.call("put_object", **store._params(blob_id, Body=data))
                store.small.discard(blob_id)

            bytes_a, bytes_b = await stored(a), await stored(b)
            for new_a, new_b in ((bytes_b, bytes_a), (bytes_a, bytes_a), (bytes_a, bytes_b + b"x")):
                await rewrite(a, new_a)
                await rewrite(b, new_b)
                with pytest.raises(sse.BlobDecryptError):
                    await _read(store, plan, pieces)

        asyncio.run(scenario())
    finally:
        store.close()
