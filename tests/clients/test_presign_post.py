"""Presigned POST (browser form upload) built by boto3's ``generate_presigned_post`` — SigV4 with s3v4, SigV2
by botocore's us-east-1 default — and posted by requests as ``multipart/form-data``: every success answer
(204, 201 + PostResponse, 200, 303 redirect), ``${filename}``, stored headers and metadata, and each refusal
with AWS's code, status and message; after a refusal the object must not exist.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import defusedxml.ElementTree as ET
import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory
from tests.clients.content import file_sha256, write_random_file
from tests.clients.test_presign_wire import Reply, assert_error, botocore_clock, now_utc

MiB = 1024 * 1024
MAX_SIZE = 1 * MiB
REDIRECT = "http://127.0.0.1:9/uploaded?from=satchel"
BASE_CONDITIONS: list[Any] = [
    ["content-length-range", 1, MAX_SIZE],
    ["starts-with", "$Content-Type", "image/"],
    {"x-amz-meta-owner": "alice"},
]
BASE_FIELDS = {"Content-Type": "image/png", "x-amz-meta-owner": "alice"}
MISSING_FIELD = (
    "Bucket POST must contain a field named '{}'.  If it is specified, please check the order of the fields."
)


@pytest.fixture(params=["s3v4", "s3v2-default"])
def poster(request: pytest.FixtureRequest, s3_factory: S3Factory) -> tuple[str, Any]:
    if request.param == "s3v4":
        return "v4", s3_factory(signature_version="s3v4")
    return "v2", s3_factory()


def presigned_post(client: Any, bucket: str, *, key: str = "uploads/${filename}", fields: dict[str, str] | None = None,
                   conditions: list[Any] | None = None, expires: int = 300) -> dict[str, Any]:
    return dict(client.generate_presigned_post(
        Bucket=bucket, Key=key, Fields={**BASE_FIELDS, **(fields or {})},
        Conditions=[*BASE_CONDITIONS, *(conditions or [])], ExpiresIn=expires,
    ))


def post(form: dict[str, Any], content: bytes | Any, filename: str = "photo 1.png",
         fields: dict[str, str] | None = None) -> Reply:
    data = {**form["fields"], **(fields or {})}
    resp = requests.post(form["url"], data=data, files={"file": (filename, content, "application/octet-stream")},
                         timeout=120, allow_redirects=False)
    return Reply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content)


def _md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'  # noqa: S324 - the S3 ETag of a single PUT is its MD5


def _absent(s3: Any, bucket: str, key: str = "uploads/photo 1.png") -> None:
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key=key)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# --- success -----------------------------------------------------------------------------------------------
def test_post_201_with_post_response(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    kind, client = poster
    form = presigned_post(client, bucket, fields={"success_action_status": "201"},
                          conditions=[{"success_action_status": "201"}])
    assert ("x-amz-signature" if kind == "v4" else "signature") in form["fields"]
    assert ("AWSAccessKeyId" in form["fields"]) == (kind == "v2")
    data = os.urandom(12_345)
    reply = post(form, data)
    assert reply.status == 201, reply.describe()
    root = ET.fromstring(reply.body)
    assert root.tag.rpartition("}")[2] == "PostResponse"
    values = {child.tag.rpartition("}")[2]: child.text for child in root}
    assert values["Bucket"] == bucket
    assert values["Key"] == "uploads/photo 1.png"
    assert values["ETag"] == _md5_etag(data)
    assert values["Location"] is not None
    assert values["Location"].endswith(f"/{bucket}/uploads/photo%201.png") or values["Location"].endswith(
        f"/{bucket}/uploads/photo 1.png"), values["Location"]
    got = s3.get_object(Bucket=bucket, Key="uploads/photo 1.png")
    assert got["Body"].read() == data
    assert got["ContentType"] == "image/png"
    assert got["Metadata"] == {"owner": "alice"}
    assert got["ETag"] == _md5_etag(data)


def test_post_default_204_and_200(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket)
    data = os.urandom(999)
    reply = post(form, data, filename="a.png")
    assert reply.status == 204, reply.describe()
    assert reply.body == b""
    assert reply.headers["etag"] == _md5_etag(data)
    assert s3.get_object(Bucket=bucket, Key="uploads/a.png")["Body"].read() == data

    form = presigned_post(client, bucket, fields={"success_action_status": "200"},
                          conditions=[{"success_action_status": "200"}])
    reply = post(form, b"second", filename="b.png")
    assert reply.status == 200, reply.describe()
    assert reply.body == b""
    assert s3.get_object(Bucket=bucket, Key="uploads/b.png")["Body"].read() == b"second"


def test_post_redirect_303(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket, key="uploads/fixed.png", fields={"success_action_redirect": REDIRECT},
                          conditions=[{"success_action_redirect": REDIRECT}])
    data = os.urandom(100)
    reply = post(form, data)
    assert reply.status == 303, reply.describe()
    location = urlsplit(reply.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "127.0.0.1:9", "/uploaded")
    query = parse_qs(location.query)
    assert query == {"from": ["satchel"], "bucket": [bucket], "key": ["uploads/fixed.png"], "etag": [_md5_etag(data)]}
    assert s3.get_object(Bucket=bucket, Key="uploads/fixed.png")["Body"].read() == data


def test_post_large_file_streams(s3_factory: S3Factory, s3: Any, bucket: str, tmp_path: Path) -> None:
    client = s3_factory(signature_version="s3v4")
    form = dict(client.generate_presigned_post(Bucket=bucket, Key="big/${filename}",
                                               Conditions=[["content-length-range", 1, 100 * MiB]], ExpiresIn=300))
    source = write_random_file(tmp_path / "big.bin", 64 * MiB + 7)
    with source.open("rb") as fh:
        resp = requests.post(form["url"], data=form["fields"], files={"file": ("big.bin", fh)}, timeout=120)
    assert resp.status_code == 204, resp.text
    back = tmp_path / "back.bin"
    s3.download_file(bucket, "big/big.bin", str(back))
    assert file_sha256(back) == file_sha256(source)


# --- refusals --------------------------------------------------------------------------------------------
def test_post_expired_policy(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    with botocore_clock(now_utc() - dt.timedelta(hours=2)):
        form = presigned_post(client, bucket, expires=60)
    assert_error(post(form, b"late"), 403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    _absent(s3, bucket)


def test_post_condition_failed(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket)
    reply = post(form, b"elsewhere", fields={"key": "private/${filename}"})
    doc = assert_error(reply, 403, "AccessDenied")
    assert doc.message == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'
    _absent(s3, bucket, "private/photo 1.png")

    reply = post(form, b"other owner", fields={"x-amz-meta-owner": "mallory"})
    doc = assert_error(reply, 403, "AccessDenied")
    assert doc.message.startswith("Invalid according to Policy: Policy Condition failed: "), doc
    assert "x-amz-meta-owner" in doc.message
    reply = post(form, b"not an image", fields={"Content-Type": "text/html"})
    doc = assert_error(reply, 403, "AccessDenied")
    _absent(s3, bucket)
    # S3 quotes the condition as the policy wrote it, field-name case included.
    assert doc.message == ('Invalid according to Policy: Policy Condition failed: '
                           '["starts-with", "$Content-Type", "image/"]'), doc


def test_post_form_for_another_bucket(s3_factory: S3Factory, s3: Any, bucket: str, bucket_factory: Any) -> None:
    """The policy names its bucket; the same form posted to another bucket's URL is refused there."""
    other = bucket_factory("other")
    form = presigned_post(s3_factory(signature_version="s3v4"), bucket)
    form["url"] = form["url"].replace(f"/{bucket}", f"/{other}")
    assert other in form["url"]
    doc = assert_error(post(form, b"wrong bucket"), 403, "AccessDenied")
    assert doc.message == f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{bucket}"]'
    _absent(s3, other)
    _absent(s3, bucket)


def test_post_extra_field_not_in_policy(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket)
    doc = assert_error(post(form, b"extra", fields={"x-amz-meta-extra": "1"}), 403, "AccessDenied")
    assert doc.message.startswith("Invalid according to Policy: Extra input fields: "), doc
    assert "x-amz-meta-extra" in doc.message
    doc = assert_error(post(form, b"extra", fields={"Cache-Control": "no-cache"}), 403, "AccessDenied")
    assert doc.message.startswith("Invalid according to Policy: Extra input fields: "), doc
    # x-ignore-* fields are exempt from the policy, as in S3.
    ok = post(form, b"ignored field", fields={"x-ignore-tracking": "abc"})
    assert ok.status == 204, ok.describe()
    assert s3.get_object(Bucket=bucket, Key="uploads/photo 1.png")["Body"].read() == b"ignored field"


def test_post_size_limits(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket)
    doc = assert_error(post(form, os.urandom(MAX_SIZE + 1)), 400, "EntityTooLarge",
                       "Your proposed upload exceeds the maximum allowed size")
    assert doc.elements["MaxSizeAllowed"] == str(MAX_SIZE)
    assert int(doc.elements["ProposedSize"]) > MAX_SIZE
    _absent(s3, bucket)
    doc = assert_error(post(form, b""), 400, "EntityTooSmall")
    assert doc.elements["MinSizeAllowed"] == "1"
    _absent(s3, bucket)
    edge = os.urandom(MAX_SIZE)
    ok = post(form, edge)
    assert ok.status == 204, ok.describe()
    assert s3.get_object(Bucket=bucket, Key="uploads/photo 1.png")["Body"].read() == edge


@pytest.mark.parametrize(("kind", "field", "display"), [
    ("v4", "x-amz-signature", "X-Amz-Signature"),
    ("v4", "x-amz-credential", "X-Amz-Credential"),
    ("v2", "signature", "Signature"),
    ("v2", "AWSAccessKeyId", "AWSAccessKeyId"),
    ("v4", "key", "key"),
])
def test_post_missing_field(kind: str, field: str, display: str, s3_factory: S3Factory, s3: Any,
                            bucket: str) -> None:
    client = s3_factory(signature_version="s3v4") if kind == "v4" else s3_factory()
    form = presigned_post(client, bucket)
    assert field in form["fields"]
    del form["fields"][field]
    assert_error(post(form, b"unsigned"), 400, "InvalidArgument", MISSING_FIELD.format(display))
    _absent(s3, bucket)


def test_post_tampered_policy(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    for condition in policy["conditions"]:
        if isinstance(condition, list) and condition[0] == "content-length-range":
            condition[2] = 1024 * MiB
    form["fields"]["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    assert_error(post(form, os.urandom(MAX_SIZE + 10)), 403, "SignatureDoesNotMatch")
    _absent(s3, bucket)


def test_post_not_multipart(poster: tuple[str, Any], s3: Any, bucket: str) -> None:
    _, client = poster
    form = presigned_post(client, bucket, key="uploads/plain.png")
    resp = requests.post(form["url"], data={**form["fields"], "file": "inline"}, timeout=30)
    reply = Reply(resp.status_code, dict(resp.headers), resp.content)
    doc = assert_error(reply, 412, "PreconditionFailed")
    assert doc.elements["Condition"] == "Bucket POST must be of the enclosure-type multipart/form-data"
    _absent(s3, bucket, "uploads/plain.png")
