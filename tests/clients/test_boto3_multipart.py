"""Multipart uploads through boto3's transfer manager and the explicit API, with ETags computed here."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status
from tests.clients.content import file_sha256, sha256

MiB = 1024 * 1024


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()  # noqa: S324 - S3 part ETags are MD5 by definition


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The S3 multipart ETag: MD5 of the concatenated binary part MD5s, a dash, the part count."""
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'  # noqa: S324


def file_multipart_etag(path: Path, part_size: int) -> str:
    md5s = []
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(part_size), b""):
            md5s.append(_md5(block))
    return multipart_etag(md5s)


def test_upload_file_and_download_file_50mib(
    s3: Any, bucket: str, random_file: Callable[[str, int], Path], tmp_path: Path
) -> None:
    src = random_file("big.bin", 50 * MiB)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "big.bin", Config=config)

    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 50 * MiB
    assert head["ETag"] == file_multipart_etag(src, 8 * MiB)
    assert head["ETag"].endswith('-7"')

    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "big.bin", str(dst), Config=config)
    assert file_sha256(dst) == file_sha256(src)


def test_explicit_multipart_api(s3: Any, bucket: str) -> None:
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB + 17), os.urandom(1024)]
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="application/x-mp",
                                         Metadata={"stage": "mp"})
    upload_id = created["UploadId"]
    assert created["Key"] == "mp"

    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("mp", upload_id)]

    etags = []
    # Upload out of order: parts are assembled by number, not by arrival.
    for number in (2, 1, 3):
        resp = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number,
                              Body=parts_data[number - 1])
        assert resp["ETag"] == f'"{_md5(parts_data[number - 1]).hex()}"'
        etags.append((number, resp["ETag"]))
    # Re-uploading a part number replaces it.
    parts_data[2] = os.urandom(2048)
    etags[2] = (3, s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=3,
                                  Body=parts_data[2])["ETag"])

    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2, 3]
    assert [p["Size"] for p in parts] == [len(d) for d in parts_data]
    assert [p["ETag"] for p in parts] == [f'"{_md5(d).hex()}"' for d in parts_data]

    page = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    rest = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id,
                         PartNumberMarker=int(page["NextPartNumberMarker"]))
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]

    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(etags)]},
    )
    expected_etag = multipart_etag([_md5(d) for d in parts_data])
    assert done["ETag"] == expected_etag
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert sha256(got["Body"].read()) == sha256(b"".join(parts_data))
    assert got["ETag"] == expected_etag
    assert got["ContentType"] == "application/x-mp"
    assert got["Metadata"] == {"stage": "mp"}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # A range that straddles the part boundary is served from both parts.
    mid = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}")
    assert mid["Body"].read() == b"".join(parts_data)[5 * MiB - 10: 5 * MiB + 10]


def _start(s3: Any, bucket: str, key: str, sizes: list[int]) -> tuple[str, list[dict[str, Any]]]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, size in enumerate(sizes, start=1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                              Body=os.urandom(size))["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    return upload_id, parts


def test_entity_too_small(s3: Any, bucket: str) -> None:
    upload_id, parts = _start(s3, bucket, "small", [1024, 1024])
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    assert error_code(exc.value) == "EntityTooSmall"
    assert http_status(exc.value) == 400
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="small")


def test_single_small_part_is_fine(s3: Any, bucket: str) -> None:
    upload_id, parts = _start(s3, bucket, "one", [10])
    s3.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert s3.head_object(Bucket=bucket, Key="one")["ContentLength"] == 10


def test_invalid_part_and_order(s3: Any, bucket: str) -> None:
    # Both parts are big enough that no size rule can pre-empt the ETag and order checks.
    upload_id, parts = _start(s3, bucket, "bad", [5 * MiB, 5 * MiB + 100])
    wrong = [parts[0], {"PartNumber": 2, "ETag": '"' + "0" * 32 + '"'}]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=upload_id,
                                     MultipartUpload={"Parts": wrong})
    assert error_code(exc.value) == "InvalidPart"
    assert http_status(exc.value) == 400
    missing = [parts[0], {"PartNumber": 7, "ETag": parts[1]["ETag"]}]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=upload_id,
                                     MultipartUpload={"Parts": missing})
    assert error_code(exc.value) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=upload_id,
                                     MultipartUpload={"Parts": [parts[1], parts[0]]})
    assert error_code(exc.value) == "InvalidPartOrder"
    assert http_status(exc.value) == 400
    # The upload survives failed completions and still completes correctly.
    s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert s3.head_object(Bucket=bucket, Key="bad")["ContentLength"] == 10 * MiB + 100


def test_abort_then_no_such_upload(s3: Any, bucket: str) -> None:
    upload_id, parts = _start(s3, bucket, "gone", [100])
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=upload_id)
    calls: list[Callable[[], Any]] = [
        lambda: s3.upload_part(Bucket=bucket, Key="gone", UploadId=upload_id, PartNumber=2, Body=b"x"),
        lambda: s3.list_parts(Bucket=bucket, Key="gone", UploadId=upload_id),
        lambda: s3.complete_multipart_upload(Bucket=bucket, Key="gone", UploadId=upload_id,
                                             MultipartUpload={"Parts": parts}),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc.value) == "NoSuchUpload"
        assert http_status(exc.value) == 404
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="gone")
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId="not-an-upload-id")
    assert error_code(exc.value) == "NoSuchUpload"


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    # Both copied parts are at least 5 MiB: only the last part of an upload may be smaller.
    source = os.urandom(11 * MiB + 123)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    split = 5 * MiB
    first = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"},
                                CopySourceRange=f"bytes=0-{split - 1}")
    second = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "source"},
                                 CopySourceRange=f"bytes={split}-{len(source) - 1}")
    tail = b"-tail-" * 10
    third = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=3, Body=tail)
    assert first["CopyPartResult"]["ETag"] == f'"{_md5(source[:split]).hex()}"'
    assert second["CopyPartResult"]["ETag"] == f'"{_md5(source[split:]).hex()}"'
    parts = [
        {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]},
        {"PartNumber": 3, "ETag": third["ETag"]},
    ]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    assert done["ETag"] == multipart_etag([_md5(source[:split]), _md5(source[split:]), _md5(tail)])
    got = s3.get_object(Bucket=bucket, Key="assembled")["Body"].read()
    assert sha256(got) == sha256(source + tail)
