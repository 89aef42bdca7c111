"""verify_digests: every promised digest checked, a trailer only as declared (one row per failure mode)."""

from __future__ import annotations

import base64
import zlib

import pytest

from satchel.core.errors import BadDigest, InvalidRequest, MalformedTrailerError, SatchelError
from satchel.core.receive import Expectations, new_hasher, verify_digests

BODY = b"trailed body"
CRC32 = base64.b64encode(zlib.crc32(BODY).to_bytes(4, "big")).decode()
WRONG = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()


def _verify(trailer: str | None, trailers: dict[str, str], checksums: dict[str, str] | None = None) -> dict[str, str]:
    expect = Expectations(checksums=checksums or {}, trailer=trailer, late_checksums=lambda: trailers,
                          compute=(trailer,) if trailer else ())
    hasher = new_hasher(expect)
    hasher.update(BODY)
    return verify_digests(hasher, expect, None)


def test_declared_trailer_verified() -> None:
    assert _verify("crc32", {"x-amz-checksum-crc32": CRC32})["crc32"] == CRC32


@pytest.mark.parametrize(("trailer", "trailers", "error"), [
    ("crc32", {}, MalformedTrailerError),  # declared, never came
    (None, {"x-amz-checksum-crc32": CRC32}, MalformedTrailerError),  # came, never declared
    ("crc32", {"x-amz-checksum-sha256": CRC32}, MalformedTrailerError),  # another one came
    ("crc32", {"x-amz-checksum-crc32": CRC32, "x-amz-checksum-sha1": CRC32}, MalformedTrailerError),
    ("crc32", {"x-amz-checksum-crc32": WRONG}, BadDigest),
    ("crc32", {"x-amz-checksum-crc32": "not base64"}, InvalidRequest),
])
def test_trailer_refusals(trailer: str | None, trailers: dict[str, str], error: type[SatchelError]) -> None:
    with pytest.raises(error):
        _verify(trailer, trailers)


def test_header_checksum_checked_without_trailer() -> None:
    with pytest.raises(BadDigest):
        _verify(None, {}, {"crc32": WRONG})
