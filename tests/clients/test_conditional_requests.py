"""Conditional writes and deletes, sent by boto3: a failed condition changes nothing (hostile review B).

Before, PutObject alone honoured If-Match / If-None-Match: CompleteMultipartUpload and CopyObject
overwrote the key, DELETE and DeleteObjects deleted it whatever its ETag, time or size. The
conditions are now checked in the metadata transaction that writes or deletes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status


def _status(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return http_status(caught.value), error_code(caught.value)


def _body(s3: Any, bucket: str, key: str = "k") -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _complete(s3: Any, bucket: str, key: str, **conditions: str) -> Any:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"MULTIPART")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    return upload, lambda: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                                        MultipartUpload=parts, **conditions)


FAILED = (412, "PreconditionFailed")


def test_complete_multipart_upload_honours_if_none_match(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")
    upload, complete = _complete(s3, bucket, "k", IfNoneMatch="*")
    assert _status(complete) == FAILED
    assert _body(s3, bucket) == b"ORIGINAL"
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload)["Parts"]  # the upload is intact
    s3.delete_object(Bucket=bucket, Key="k")
    complete()
    assert _body(s3, bucket) == b"MULTIPART"


def test_complete_multipart_upload_honours_if_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")["ETag"]
    _, complete = _complete(s3, bucket, "k", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert _status(complete) == FAILED
    assert _body(s3, bucket) == b"ORIGINAL"
    _, complete = _complete(s3, bucket, "k", IfMatch=etag)
    complete()
    assert _body(s3, bucket) == b"MULTIPART"
    _, complete = _complete(s3, bucket, "absent", IfMatch=etag)
    assert _status(complete) == (404, "NoSuchKey")


def test_copy_object_honours_destination_conditions(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"SOURCE")
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    assert _status(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource=source, IfNoneMatch="*")) == FAILED
    assert _status(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource=source, IfMatch='"nope"')) == FAILED
    assert _body(s3, bucket) == b"ORIGINAL"
    s3.copy_object(Bucket=bucket, Key="k", CopySource=source, IfMatch=etag)
    assert _body(s3, bucket) == b"SOURCE"
    s3.copy_object(Bucket=bucket, Key="new", CopySource=source, IfNoneMatch="*")
    assert _body(s3, bucket, "new") == b"SOURCE"


def test_delete_object_honours_its_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="k")
    modified = head["LastModified"]
    failing: list[dict[str, Any]] = [{"IfMatch": '"nope"'}, {"IfMatchSize": 7},
                                     {"IfMatchLastModifiedTime": "2001-01-01T00:00:00Z"},
                                     {"IfMatch": etag, "IfMatchSize": 9}]
    for conditions in failing:
        assert _status(partial(s3.delete_object, Bucket=bucket, Key="k", **conditions)) == FAILED, conditions
    assert _body(s3, bucket) == b"ORIGINAL"
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag, IfMatchSize=8, IfMatchLastModifiedTime=modified)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    # As AWS documents: If-Match on a missing key is 404; the time and size conditions alone succeed.
    assert _status(lambda: s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)) == (404, "NoSuchKey")
    s3.delete_object(Bucket=bucket, Key="k", IfMatchSize=8)


def test_delete_object_refuses_an_unreadable_condition(s3_factory: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.headers["x-amz-if-match-size"] = "eight"

    client.meta.events.register("before-sign.s3.DeleteObject", hook)
    assert _status(lambda: client.delete_object(Bucket=bucket, Key="k")) == (400, "InvalidArgument")
    assert _body(s3, bucket) == b"ORIGINAL"


def test_delete_objects_honours_per_key_conditions_and_versions(s3: Any, bucket: str) -> None:
    for key in ("etag", "size", "time", "version", "ok"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"ORIGINAL")
    modified = s3.head_object(Bucket=bucket, Key="ok")["LastModified"]
    objects = [
        {"Key": "etag", "ETag": '"nope"'},
        {"Key": "size", "Size": 3},
        {"Key": "time", "LastModifiedTime": "2001-01-01T00:00:00Z"},
        {"Key": "version", "VersionId": "3HL4kqtJlcpXroDTDmJ"},
        {"Key": "ok", "Size": 8, "LastModifiedTime": modified, "VersionId": "null"},
    ]
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    assert [d["Key"] for d in result["Deleted"]] == ["ok"]
    errors = {e["Key"]: e["Code"] for e in result["Errors"]}
    assert errors == {"etag": "PreconditionFailed", "size": "PreconditionFailed", "time": "PreconditionFailed",
                      "version": "InvalidArgument"}
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["etag", "size", "time", "version"]


def test_delete_objects_refuses_a_key_too_long(s3: Any, bucket: str) -> None:
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x" * 1025}, {"Key": "short"}]})
    assert [d["Key"] for d in result["Deleted"]] == ["short"]
    assert [e["Code"] for e in result["Errors"]] == ["KeyTooLongError"]


def test_racing_creates_with_if_none_match_store_one(s3: Any, bucket: str) -> None:
    """The condition is checked again in the transaction that publishes: of writers that all found the
    key absent before sending their bodies, exactly one creates it; the others get 412."""
    bodies = [bytes([65 + n]) * (1 << 20) for n in range(6)]
    barrier = threading.Barrier(len(bodies))

    def put(body: bytes) -> int:
        barrier.wait(timeout=10)
        try:
            s3.put_object(Bucket=bucket, Key="race", Body=body, IfNoneMatch="*")
        except ClientError as exc:
            return http_status(exc)
        return 200

    with ThreadPoolExecutor(len(bodies)) as pool:
        statuses = sorted(pool.map(put, bodies))
    assert statuses == [200] + [412] * (len(bodies) - 1)
    assert _body(s3, bucket, "race") in bodies


def test_abort_honours_if_match_initiated_time(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    initiated = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Initiated"]
    assert _status(lambda: s3.abort_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload, IfMatchInitiatedTime="2001-01-01T00:00:00Z")) == FAILED
    assert len(s3.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 1
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload, IfMatchInitiatedTime=initiated)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize(("operation", "header"), [
    ("PutObject", "If-Unmodified-Since"),
    ("DeleteObject", "If-Unmodified-Since"),
    ("DeleteObject", "If-None-Match"),
    ("CreateMultipartUpload", "If-None-Match"),
    ("DeleteObject", "x-amz-if-match-initiated-time"),  # AbortMultipartUpload's (hostile review C)
])
def test_read_conditions_on_a_change_are_refused(s3_factory: Any, s3: Any, bucket: str,
                                                 operation: str, header: str) -> None:
    """S3 does not define these there: ignored, they would let the change through whatever the state."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.headers[header] = "*" if header == "If-None-Match" else "Wed, 01 Jan 2001 00:00:00 GMT"

    client.meta.events.register(f"before-sign.s3.{operation}", hook)
    change = {
        "PutObject": lambda: client.put_object(Bucket=bucket, Key="k", Body=b"NEW"),
        "DeleteObject": lambda: client.delete_object(Bucket=bucket, Key="k"),
        "CreateMultipartUpload": lambda: client.create_multipart_upload(Bucket=bucket, Key="k"),
    }[operation]
    assert _status(change) == (501, "NotImplemented")
    assert _body(s3, bucket) == b"ORIGINAL"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_weak_etag_never_satisfies_if_match(s3: Any, bucket: str) -> None:
    """Hostile review C: ``If-Match: W/"<etag>"`` deleted and overwrote. RFC 9110 compares If-Match
    strongly: a weak tag never matches (412), while If-None-Match compares weakly (304)."""
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")["ETag"]
    weak = f"W/{etag}"
    assert _status(lambda: s3.delete_object(Bucket=bucket, Key="k", IfMatch=weak)) == FAILED
    assert _status(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"NEW", IfMatch=weak)) == FAILED
    assert _status(lambda: s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"},
                                          CopySourceIfMatch=weak)) == FAILED
    assert _status(lambda: s3.get_object(Bucket=bucket, Key="k", IfMatch=weak)) == FAILED
    assert _status(lambda: s3.head_object(Bucket=bucket, Key="k", IfNoneMatch=weak)) == (304, "304")
    assert _body(s3, bucket) == b"ORIGINAL"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


@pytest.mark.parametrize("header", ["x-amz-copy-source-if-unmodified-since", "x-amz-copy-source-if-modified-since"])
def test_copy_refuses_an_unreadable_source_date(s3_factory: Any, s3: Any, bucket: str, header: str) -> None:
    """Hostile review C: a copy-source date condition that is no date was ignored and the copy made."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"SOURCE")
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.headers[header] = "garbage"

    client.meta.events.register("before-sign.s3.CopyObject", hook)
    copy = partial(client.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert _status(copy) == (400, "InvalidArgument")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_if_none_match_on_a_write_takes_only_a_star(s3: Any, bucket: str) -> None:
    """As on AWS: a write is created-if-absent (``*``), never conditional on another ETag."""
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")["ETag"]
    assert _status(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"NEW", IfNoneMatch='"other"')) == (
        501, "NotImplemented")
    _, complete = _complete(s3, bucket, "k", IfNoneMatch=etag)
    assert _status(complete) == (501, "NotImplemented")
    assert _body(s3, bucket) == b"ORIGINAL"
