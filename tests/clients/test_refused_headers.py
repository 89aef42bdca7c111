"""Headers asking for a protection Satchel lacks are refused, never ignored (issue 9, point 11).

Before, a PUT with SSE-C headers stored the bytes in the clear and served them to a GET without the
key; object lock was dropped the same way (and grants and public canned ACLs, which Satchel now honours:
tests/clients/test_acl.py). SSE-S3 and SSE-C are now honoured (tests/clients/test_sse.py); SSE-KMS is still
refused, and SSE-C over plain HTTP (this server) is refused as AWS refuses it. Each request here is sent
by boto3 (or a form built by it) and must answer the S3 error and store nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, unique_bucket

_KEY = os.urandom(32)
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": _KEY,  # botocore base64-encodes it and adds the key MD5
}
RETAIN = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": "2099-01-01T00:00:00Z"}


def _status(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return http_status(caught.value), error_code(caught.value)


def _absent(s3: Any, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key=key)
    assert http_status(caught.value) == 404


@pytest.mark.parametrize(
    "extra",
    [
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/mine"},
        RETAIN,
        {"ObjectLockLegalHoldStatus": "ON"},
        {"ExpectedBucketOwner": "111122223333"},
    ],
    ids=["sse-kms", "retention", "legal-hold", "expected-owner"],
)
def test_put_asking_for_a_protection_is_refused(s3: Any, bucket: str, extra: dict[str, Any]) -> None:
    assert _status(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **extra)) == (501, "NotImplemented")
    _absent(s3, bucket, "k")


def test_private_canned_acls_still_work(s3: Any, bucket: str) -> None:
    for acl in ("private", "bucket-owner-full-control", "bucket-owner-read"):
        s3.put_object(Bucket=bucket, Key=acl, Body=b"x", ACL=acl)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 3


def _put_with_header(s3_factory: Any, bucket: str, name: str, value: str) -> tuple[int, str]:
    """A PutObject carrying a header value botocore would not send (it validates enums): set before signing."""
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.headers[name] = value

    client.meta.events.register("before-sign.s3.PutObject", hook)
    return _status(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"x"))


def test_unknown_canned_acl_is_invalid_argument(s3_factory: Any, s3: Any, bucket: str) -> None:
    assert _put_with_header(s3_factory, bucket, "x-amz-acl", "everyone-please") == (400, "InvalidArgument")
    _absent(s3, bucket, "k")


def test_sse_c_over_plain_http_is_refused_everywhere(s3: Any, bucket: str) -> None:
    """The key would cross the network in clear: refused on every operation that takes one, as AWS does."""
    assert _status(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **SSE_C)) == (400, "InvalidRequest")
    _absent(s3, bucket, "k")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    refused = (400, "InvalidRequest")
    assert _status(lambda: s3.get_object(Bucket=bucket, Key="plain", **SSE_C)) == refused
    assert _status(lambda: s3.head_object(Bucket=bucket, Key="plain", **SSE_C))[0] == 400
    copy_source = {"Bucket": bucket, "Key": "plain"}
    assert _status(lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource=copy_source, **SSE_C)) == refused
    assert _status(lambda: s3.copy_object(
        Bucket=bucket, Key="copy", CopySource=copy_source,
        CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=_KEY)) == refused
    _absent(s3, bucket, "copy")
    assert _status(lambda: s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_C)) == refused
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    assert _status(lambda: s3.upload_part(
        Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p", **SSE_C)) == refused
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


def test_create_bucket_with_object_lock_is_refused(s3: Any) -> None:
    name = unique_bucket("lock")
    assert _status(lambda: s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)) == (501, "NotImplemented")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_presigned_put_with_signed_kms_encryption_is_refused(s3: Any, bucket: str) -> None:
    """botocore hoists the signed x-amz-* headers of a presigned URL into its query."""
    url = s3.generate_presigned_url("put_object", Params={
        "Bucket": bucket, "Key": "k", "ServerSideEncryption": "aws:kms"}, ExpiresIn=300)
    assert "x-amz-server-side-encryption" in url.lower()
    reply = requests.put(url, data=b"secret", headers={"x-amz-server-side-encryption": "aws:kms"}, timeout=10)
    assert (reply.status_code, b"<Code>NotImplemented</Code>" in reply.content) == (501, True)
    _absent(s3, bucket, "k")


@pytest.mark.parametrize(
    "fields",
    [
        {"x-amz-server-side-encryption": "aws:kms"},
    ],
    ids=["sse-kms"],
)
def test_post_form_asking_for_a_protection_is_refused(s3: Any, bucket: str, fields: dict[str, str]) -> None:
    form = s3.generate_presigned_post(Bucket=bucket, Key="k", Fields=fields,
                                      Conditions=[{name: value} for name, value in fields.items()])
    reply = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"secret")}, timeout=10)
    assert (reply.status_code, b"<Code>NotImplemented</Code>" in reply.content) == (501, True), reply.content
    _absent(s3, bucket, "k")


# --- features beside protection that a write would silently drop (hostile review B) ----------------
@pytest.mark.parametrize(
    "extra",
    [
        {"WriteOffsetBytes": 8},
        {"StorageClass": "GLACIER"},
        {"StorageClass": "REDUCED_REDUNDANCY"},
        {"WebsiteRedirectLocation": "/elsewhere"},
    ],
    ids=["append", "glacier", "reduced-redundancy", "website-redirect"],
)
def test_put_asking_for_a_missing_feature_keeps_the_object(s3: Any, bucket: str, extra: dict[str, Any]) -> None:
    """An append used to replace the object (data loss); tags and classes were dropped silently."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"ORIGINAL")
    assert _status(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"-APPENDED", **extra)) == (
        501, "NotImplemented")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"ORIGINAL"


def test_unknown_storage_class_is_invalid(s3_factory: Any, s3: Any, bucket: str) -> None:
    assert _put_with_header(s3_factory, bucket, "x-amz-storage-class", "CHEAPEST_PLEASE") == \
        (400, "InvalidStorageClass")
    _absent(s3, bucket, "k")


def test_standard_storage_class_and_copied_tags_still_work(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD")
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"}, TaggingDirective="COPY",
                   StorageClass="STANDARD")
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"x"


def test_storage_class_on_copy_and_multipart_is_refused(s3: Any, bucket: str) -> None:
    """(Tags on these are honoured since issue 16: tests/clients/test_tagging.py.)"""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    source = {"Bucket": bucket, "Key": "k"}
    refused = (501, "NotImplemented")
    assert _status(lambda: s3.copy_object(Bucket=bucket, Key="c", CopySource=source, StorageClass="GLACIER")) == refused
    _absent(s3, bucket, "c")
    assert _status(lambda: s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="GLACIER")) == refused
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
