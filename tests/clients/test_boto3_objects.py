"""Object reads and writes through boto3: headers round trip, ranges, conditions, copies, bulk delete."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status
from tests.clients.content import sha256

HEADERS = {
    "ContentType": "application/x-satchel-test",
    "ContentDisposition": 'attachment; filename="report.bin"',
    "ContentEncoding": "identity",
    "ContentLanguage": "fr-CA",
    "CacheControl": "max-age=600, private",
}
EXPIRES = dt.datetime(2031, 5, 17, 8, 30, 0, tzinfo=dt.UTC)
METADATA = {"color": "blue", "x-trace-id": "abc-123", "empty": ""}


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'  # noqa: S324 - the S3 ETag is an MD5 by definition


def _expires_header(resp: dict[str, Any]) -> dt.datetime:
    return parsedate_to_datetime(resp["ResponseMetadata"]["HTTPHeaders"]["expires"])


def test_put_get_head_delete_round_trip(s3: Any, bucket: str) -> None:
    data = os.urandom(300_001)
    put = s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=data, Metadata=METADATA, Expires=EXPIRES,
                        **HEADERS)
    assert put["ETag"] == _etag(data)

    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    body = got["Body"].read()
    assert sha256(body) == sha256(data)
    assert got["ContentLength"] == len(data)
    assert got["ETag"] == _etag(data)
    for field, value in HEADERS.items():
        assert got[field] == value, field
    assert got["Metadata"] == METADATA
    assert _expires_header(got) == EXPIRES

    head = s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == _etag(data)
    assert head["Metadata"] == METADATA
    for field, value in HEADERS.items():
        assert head[field] == value, field
    assert _expires_header(head) == EXPIRES
    assert head["LastModified"] <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)

    deleted = s3.delete_object(Bucket=bucket, Key="dir/obj.bin")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert http_status(exc.value) == 404
    # Deleting a key that is not there is not an error in S3.
    assert s3.delete_object(Bucket=bucket, Key="dir/obj.bin")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_empty_object_and_overwrite(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b""
    assert got["ETag"] == _etag(b"")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second"
    assert got["ContentType"] == "text/plain"


def test_odd_keys_round_trip(s3: Any, bucket: str) -> None:
    keys = ["sp ace", "plus+sign", "uni-\u00fc\u4e2d", "pct%20lit", "a&b=c?d", "~tilde*", "//double"]
    for i, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=f"v{i}".encode())
    for i, key in enumerate(keys):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"v{i}".encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())


RANGE_CASES = [
    ("bytes=0-9", 0, 10),
    ("bytes=-5", 95, 100),
    ("bytes=10-", 10, 100),
    ("bytes=50-50", 50, 51),
    ("bytes=90-1000", 90, 100),
]


@pytest.mark.parametrize(("header", "start", "end"), RANGE_CASES)
def test_range_get(s3: Any, bucket: str, header: str, start: int, end: int) -> None:
    data = os.urandom(100)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == data[start:end]
    assert got["ContentLength"] == end - start
    assert got["ContentRange"] == f"bytes {start}-{end - 1}/100"


def test_range_not_satisfiable(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=b"x" * 100)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=100-200")
    assert http_status(exc.value) == 416
    assert error_code(exc.value) == "InvalidRange"


def test_conditional_get(s3: Any, bucket: str) -> None:
    data = b"conditional body"
    etag = s3.put_object(Bucket=bucket, Key="c", Body=data)["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]

    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == data
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert http_status(exc.value) == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert http_status(exc.value) == 412
    assert error_code(exc.value) == "PreconditionFailed"

    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified)
    assert http_status(exc.value) == 304
    earlier = modified - dt.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == data
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)
    assert http_status(exc.value) == 412
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert http_status(exc.value) == 304


def test_copy_object_metadata_directives(s3: Any, bucket: str) -> None:
    data = os.urandom(70_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data, Metadata={"origin": "src"}, ContentType="image/png")
    source = {"Bucket": bucket, "Key": "src"}

    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource=source)
    assert copied["CopyObjectResult"]["ETag"] == _etag(data)
    got = s3.get_object(Bucket=bucket, Key="copy")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["Metadata"] == {"origin": "src"}
    assert got["ContentType"] == "image/png"

    s3.copy_object(Bucket=bucket, Key="replaced", CopySource=source, MetadataDirective="REPLACE",
                   Metadata={"new": "meta"}, ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="replaced")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["Metadata"] == {"new": "meta"}
    assert got["ContentType"] == "text/plain"

    # Copying an object onto itself is only allowed when something changes (REPLACE).
    s3.copy_object(Bucket=bucket, Key="src", CopySource=source, MetadataDirective="REPLACE",
                   Metadata={"origin": "rewritten"}, ContentType="image/png")
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"origin": "rewritten"}


def test_copy_object_conditions_and_missing_source(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"abc")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfMatch='"' + "0" * 32 + '"')
    assert http_status(exc.value) == 412
    assert error_code(exc.value) == "PreconditionFailed"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dst")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"abc"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "absent"})
    assert error_code(exc.value) == "NoSuchKey"


def test_copy_across_buckets(s3: Any, bucket_factory: Any) -> None:
    src, dst = bucket_factory(), bucket_factory()
    data = os.urandom(12_345)
    s3.put_object(Bucket=src, Key="a/b", Body=data)
    s3.copy_object(Bucket=dst, Key="c", CopySource={"Bucket": src, "Key": "a/b"})
    assert sha256(s3.get_object(Bucket=dst, Key="c")["Body"].read()) == sha256(data)


def test_delete_objects_verbose_and_quiet(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c", "d"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    verbose = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never-existed"}]}
    )
    assert sorted(d["Key"] for d in verbose["Deleted"]) == ["a", "b", "never-existed"]
    assert verbose.get("Errors", []) == []
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}, {"Key": "zz"}], "Quiet": True})
    assert quiet.get("Deleted", []) == []
    assert quiet.get("Errors", []) == []
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert remaining == ["d"]


def test_content_md5_header_accepted_and_checked(s3: Any, bucket: str) -> None:
    data = b"md5 protected"
    good = base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - Content-MD5 is MD5
    s3.put_object(Bucket=bucket, Key="ok", Body=data, ContentMD5=good)
    assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == data
    bad = base64.b64encode(hashlib.md5(b"something else").digest()).decode()  # noqa: S324
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ContentMD5=bad)
    assert error_code(exc.value) == "BadDigest"
    assert http_status(exc.value) == 400
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="bad")
    assert http_status(exc.value) == 404
