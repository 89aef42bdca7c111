"""Flexible checksums (x-amz-checksum-*) and the signing modes botocore can be configured into."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory, error_code, http_status
from tests.clients.content import sha256


def b64_crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_default_client_sends_and_gets_back_crc32(s3_factory: S3Factory, bucket: str) -> None:
    client = s3_factory()
    sent_headers: list[dict[str, str]] = []
    client.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent_headers.append(dict(request.headers))
    )
    data = os.urandom(200_000)
    put = client.put_object(Bucket=bucket, Key="crc", Body=data)
    # Guard the premise: current botocore defaults really do send a CRC32 of the body.
    assert any(k.lower() == "x-amz-checksum-crc32" for k in sent_headers[0])
    assert put["ChecksumCRC32"] == b64_crc32(data)
    got = client.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert sha256(got["Body"].read()) == sha256(data)  # botocore also validates the CRC while reading
    assert got["ChecksumCRC32"] == b64_crc32(data)
    head = client.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == b64_crc32(data)


def test_sha256_checksum_algorithm(s3: Any, bucket: str) -> None:
    data = os.urandom(77_777)
    put = s3.put_object(Bucket=bucket, Key="sha", Body=data, ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == b64_sha256(data)
    got = s3.get_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ChecksumSHA256"] == b64_sha256(data)


def test_wrong_crc32_is_bad_digest(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    data = b"payload whose checksum is wrong"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumCRC32=b64_crc32(b"other bytes"))
    assert error_code(exc.value) == "BadDigest"
    assert http_status(exc.value) == 400
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


def test_wrong_sha256_checksum_is_bad_digest(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"abc", ChecksumSHA256=b64_sha256(b"abd"))
    assert error_code(exc.value) == "BadDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k2")


VARIANTS: dict[str, dict[str, Any]] = {
    "when_supported": {"request_checksum_calculation": "when_supported"},
    "when_required": {"request_checksum_calculation": "when_required",
                      "response_checksum_validation": "when_required"},
    "s3v4_unsigned_payload": {"signature_version": "s3v4", "s3": {"payload_signing_enabled": False}},
    "s3v4_signed_payload": {"signature_version": "s3v4", "s3": {"payload_signing_enabled": True}},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_client_variants_round_trip(s3_factory: S3Factory, bucket: str, variant: str) -> None:
    client = s3_factory(**VARIANTS[variant])
    for size in (0, 1, 65_537, 3 * 1024 * 1024 + 5):
        data = os.urandom(size)
        key = f"{variant}/{size}"
        client.put_object(Bucket=bucket, Key=key, Body=data, Metadata={"v": variant})
        got = client.get_object(Bucket=bucket, Key=key)
        assert sha256(got["Body"].read()) == sha256(data)
        assert got["Metadata"] == {"v": variant}
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{variant}/")
    assert sorted(o["Size"] for o in listed["Contents"]) == [0, 1, 65_537, 3 * 1024 * 1024 + 5]
