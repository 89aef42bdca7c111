"""Bucket operations, S3 error codes and authentication failures as boto3 sees them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory, empty_and_delete, error_code, http_status, unique_bucket
from tests.clients.server import Credentials


def test_bucket_lifecycle(s3: Any) -> None:
    name = unique_bucket()
    created = s3.create_bucket(Bucket=name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.head_bucket(Bucket=name)
    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert name in listed
    assert listed[name]["CreationDate"] is not None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert http_status(exc.value) == 404
    assert name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_no_such_bucket(s3: Any) -> None:
    name = unique_bucket("missing")
    calls: list[Callable[[], Any]] = [
        lambda: s3.get_object(Bucket=name, Key="k"),
        lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"),
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.delete_bucket(Bucket=name),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc.value) == "NoSuchBucket"
        assert http_status(exc.value) == 404


def test_bucket_already_owned_by_you(s3: Any, bucket: str) -> None:
    # The server is in us-east-1, where AWS answers 200 (its legacy behaviour); 409
    # BucketAlreadyOwnedByYou in other regions is tested in test_s3_conformance.py.
    s3.put_object(Bucket=bucket, Key="kept", Body=b"1")
    assert s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"1"


def test_bucket_already_exists_for_another_user(
    s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials]
) -> None:
    other = s3_factory(member())
    with pytest.raises(ClientError) as exc:
        other.create_bucket(Bucket=bucket)
    assert error_code(exc.value) == "BucketAlreadyExists"
    assert http_status(exc.value) == 409


def test_member_creates_own_bucket(s3_factory: S3Factory, member: Callable[[], Credentials]) -> None:
    client = s3_factory(member())
    name = unique_bucket("member")
    client.create_bucket(Bucket=name)
    try:
        client.put_object(Bucket=name, Key="k", Body=b"mine")
        assert client.get_object(Bucket=name, Key="k")["Body"].read() == b"mine"
        assert name in {b["Name"] for b in client.list_buckets()["Buckets"]}
    finally:
        empty_and_delete(client, name)


def test_bucket_not_empty(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"1")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_code(exc.value) == "BucketNotEmpty"
    assert http_status(exc.value) == 409
    s3.head_bucket(Bucket=bucket)


@pytest.mark.parametrize(
    "name", ["ab", "Upper-Case-bucket", "under_score", "a" * 64, "-leading-dash", "two..dots", "192.168.5.4"]
)
def test_invalid_bucket_name(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name)
    assert error_code(exc.value) == "InvalidBucketName"
    assert http_status(exc.value) == 400


def test_bad_secret_is_signature_does_not_match(s3_factory: S3Factory, satchel_server: Any, bucket: str) -> None:
    secret = satchel_server.secret_key
    wrong = Credentials(satchel_server.access_key, secret[:-1] + ("x" if secret[-1] != "x" else "y"))
    client = s3_factory(wrong)
    calls: list[Callable[[], Any]] = [
        lambda: client.list_buckets(),
        lambda: client.put_object(Bucket=bucket, Key="k", Body=b"z"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc.value) == "SignatureDoesNotMatch"
        assert http_status(exc.value) == 403


def test_unknown_access_key(s3_factory: S3Factory, bucket: str) -> None:
    client = s3_factory(Credentials("AKIANOSUCHKEY0000000", "x" * 40))
    with pytest.raises(ClientError) as exc:
        client.get_object(Bucket=bucket, Key="k")
    assert error_code(exc.value) == "InvalidAccessKeyId"
    assert http_status(exc.value) == 403


def test_every_response_has_request_id(s3_factory: S3Factory, satchel_server: Any) -> None:
    client = s3_factory()
    seen: list[tuple[str, int, str | None]] = []

    def record(http_response: Any, model: Any, **_: Any) -> None:
        seen.append((model.name, http_response.status_code, http_response.headers.get("x-amz-request-id")))

    client.meta.events.register("after-call.s3", record)
    name = unique_bucket("reqid")
    calls: list[Callable[[], Any]] = [
        lambda: client.create_bucket(Bucket=name),
        lambda: client.put_object(Bucket=name, Key="a", Body=b"abc"),
        lambda: client.delete_bucket(Bucket=name),  # 409 BucketNotEmpty
        lambda: client.head_object(Bucket=name, Key="a"),
        lambda: client.get_object(Bucket=name, Key="a", Range="bytes=0-0"),
        lambda: client.head_object(Bucket=name, Key="missing"),
        lambda: client.get_object(Bucket=name, Key="missing"),
        lambda: client.list_objects_v2(Bucket=name),
        lambda: client.delete_object(Bucket=name, Key="a"),
        lambda: client.delete_bucket(Bucket=name),
        lambda: client.head_bucket(Bucket=name),
        lambda: client.list_buckets(),
    ]
    for call in calls:
        with contextlib.suppress(ClientError):
            call()
    assert len(seen) >= len(calls)
    assert {status for _, status, _ in seen} >= {200, 204, 206, 404, 409}
    missing = [(op, status) for op, status, rid in seen if not rid]
    assert missing == []
    # Unsigned requests are answered by the same front door and carry an id too.
    anon = requests.get(f"{satchel_server.endpoint}/{unique_bucket('anon')}/k", timeout=10)
    assert anon.status_code in (403, 404)
    assert anon.headers.get("x-amz-request-id")


def test_head_missing_key_is_404_and_get_is_no_such_key(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="nope")
    assert http_status(exc.value) == 404
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="nope")
    assert error_code(exc.value) == "NoSuchKey"
    assert http_status(exc.value) == 404


def test_member_cannot_see_others_buckets_in_listing(
    s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials]
) -> None:
    client = s3_factory(member())
    assert bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}
