"""Streaming digests against published values and against botocore, the client that checks them."""

from __future__ import annotations

import hashlib
import random

import pytest
from botocore.httpchecksum import Crc32Checksum, Sha1Checksum, Sha256Checksum

from satchel.blobs.digests import CHECKSUM_ALGORITHMS, Hasher, combine_crc64nvme, new_checksum

# x-amz-checksum-* values for b"hello world", as published in the AWS SDKs' own tests
# (aws-sdk-go-v2 service/internal/checksum, aws-sdk-ruby ChecksumAlgorithm spec, botocore).
HELLO_WORLD = {
    "crc32": "DUoRhQ==",
    "crc32c": "yZRlqg==",
    # Not in those published sets: the value awscrt (botocore's CRC64NVME) and a table-driven
    # reference of the catalogue's CRC-64/NVME agree on.
    "crc64nvme": "jSnVw/bqjr4=",
    "sha1": "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
    "sha256": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
    # base64 of the standard digests (RFC 1321 MD5 is also the ETag's hex below)
    "sha512": "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==",
    "md5": "XrY7u+Ae7tCTyyK7j1rNww==",
}


def _feed(hasher: Hasher, data: bytes, sizes: list[int]) -> None:
    i = 0
    for n in sizes:
        hasher.update(data[i : i + n])
        i += n
    hasher.update(memoryview(data)[i:])


def test_published_checksums_of_hello_world() -> None:
    hasher = Hasher(checksums=CHECKSUM_ALGORITHMS)
    hasher.update(b"hello world")
    assert hasher.checksums() == HELLO_WORLD
    assert hasher.md5_hex() == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert hasher.size == 11


def test_crc32_of_a_prefix() -> None:
    hasher = Hasher(checksums=["crc32"])
    hasher.update(b"hello ")
    assert hasher.checksum("crc32") == "7YH59g=="  # aws-sdk-ruby's part-1 value


@pytest.mark.parametrize(("algorithm", "check", "size"),
                         [("crc32", 0xCBF43926, 4), ("crc32c", 0xE3069283, 4), ("crc64nvme", 0xAE8B14860A799888, 8)])
def test_crc_catalogue_check_values(algorithm: str, check: int, size: int) -> None:
    """The "check" value of each CRC in the CRC catalogue: the CRC of b"123456789"."""
    digest = new_checksum(algorithm)
    digest.update(b"12345")
    digest.update(b"6789")
    assert digest.digest() == check.to_bytes(size, "big")


def test_crc64nvme_of_parts_combines() -> None:
    first, second = b"a" * 1000, b"hello world"
    digests = []
    for data in (first, second, first + second):
        digest = new_checksum("crc64nvme")
        digest.update(data)
        digests.append(digest.digest())
    assert combine_crc64nvme(digests[0], digests[1], len(second)) == digests[2]


def test_streaming_matches_botocore_and_hashlib() -> None:
    rng = random.Random(3)
    data = rng.randbytes(3_000_000)
    hasher = Hasher(sha256=True, checksums=["crc32", "crc32c", "sha1", "sha256"])
    _feed(hasher, data, [rng.randint(0, 200_000) for _ in range(12)])
    for name, peer_cls in (("crc32", Crc32Checksum), ("sha1", Sha1Checksum), ("sha256", Sha256Checksum)):
        peer = peer_cls()
        peer.update(data)
        assert hasher.checksum(name) == peer.b64digest(), name
    whole = Hasher(checksums=["crc32c"])
    whole.update(data)
    assert hasher.checksum("crc32c") == whole.checksum("crc32c")
    assert hasher.md5() == hashlib.md5(data, usedforsecurity=False).digest()
    assert hasher.sha256_hex() == hashlib.sha256(data).hexdigest()
    assert hasher.size == len(data)


def test_sha256_serves_payload_hash_and_checksum() -> None:
    both = Hasher(sha256=True, checksums=["sha256"])
    both.update(b"hello world")
    assert both.checksum("sha256") == HELLO_WORLD["sha256"]
    assert both.sha256_hex() == hashlib.sha256(b"hello world").hexdigest()
    assert both.checksums() == {"sha256": HELLO_WORLD["sha256"]}


def test_unrequested_digests_are_refused() -> None:
    hasher = Hasher()
    with pytest.raises(ValueError, match="SHA-256"):
        hasher.sha256_hex()
    with pytest.raises(KeyError):
        hasher.checksum("crc32")
    with pytest.raises(KeyError):
        new_checksum("md4")
    assert hasher.checksums() == {}
