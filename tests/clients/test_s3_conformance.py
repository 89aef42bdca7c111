"""AWS behaviours a public S3 conformance suite (ceph/s3-tests) found Satchel getting wrong, each pinned
against a real server with boto3, or with raw HTTP where an SDK cannot send the input.

The session server is in us-east-1; one module server in eu-west-1 covers what differs by region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory, empty_and_delete, error_code, http_status, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, configured_server


def _refused(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return http_status(exc.value), error_code(exc.value)


def _blob_sizes(server: SatchelProcess) -> list[int]:
    return [p.stat().st_size for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def eu_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "euwest", 'region = "eu-west-1"\n')


@pytest.fixture(scope="module")
def eu_s3(eu_server: SatchelProcess) -> Iterator[Any]:
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=eu_server.endpoint, region_name="eu-west-1",
                          aws_access_key_id=eu_server.access_key, aws_secret_access_key=eu_server.secret_key,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    yield client


# --- DeleteBucket with unfinished multipart uploads -----------------------------------------------------
def test_delete_bucket_holding_only_unfinished_uploads_deletes_them(s3: Any, managed_server: SatchelProcess) -> None:
    name = unique_bucket("mpdel")
    s3.create_bucket(Bucket=name)
    size = 123_457  # a size no other blob of the session has, to find this part's file
    uploads = [s3.create_multipart_upload(Bucket=name, Key=f"k{i}")["UploadId"] for i in range(2)]
    s3.upload_part(Bucket=name, Key="k0", UploadId=uploads[0], PartNumber=1, Body=b"p" * size)
    s3.upload_part(Bucket=name, Key="k0", UploadId=uploads[0], PartNumber=2, Body=b"q" * 10)
    assert size in _blob_sizes(managed_server)
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _refused(lambda: s3.head_bucket(Bucket=name))[0] == 404
    assert size not in _blob_sizes(managed_server)  # the parts' bytes released with the bucket
    s3.create_bucket(Bucket=name)  # the name's next bucket inherits no upload
    try:
        assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        assert _refused(lambda: s3.list_parts(Bucket=name, Key="k0", UploadId=uploads[0])) == (404, "NoSuchUpload")
    finally:
        empty_and_delete(s3, name)


def test_delete_bucket_with_objects_and_uploads_stays_not_empty(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.put_object(Bucket=bucket, Key="small", Body=b"1")
    assert _refused(lambda: s3.delete_bucket(Bucket=bucket)) == (409, "BucketNotEmpty")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]


# --- CreateBucket of a bucket you already own --------------------------------------------------------------
def test_recreating_your_own_bucket_in_us_east_1_answers_200(s3: Any, bucket: str,
                                                             satchel_server: ServerHandle) -> None:
    s3.put_object(Bucket=bucket, Key="kept", Body=b"1")
    again = s3.create_bucket(Bucket=bucket)
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert again["Location"] == f"/{bucket}"
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"1"
    # The legacy "US" constraint is us-east-1 too.
    configured = s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "US"})
    assert configured["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_recreating_another_users_bucket_stays_bucket_already_exists(
    s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials]
) -> None:
    assert _refused(lambda: s3_factory(member()).create_bucket(Bucket=bucket)) == (409, "BucketAlreadyExists")


def test_recreating_your_own_bucket_elsewhere_is_bucket_already_owned_by_you(eu_s3: Any) -> None:
    name = unique_bucket("eu")
    config = {"LocationConstraint": "eu-west-1"}
    eu_s3.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    try:
        assert _refused(lambda: eu_s3.create_bucket(Bucket=name, CreateBucketConfiguration=config)) == (
            409, "BucketAlreadyOwnedByYou")
        assert _refused(lambda: eu_s3.create_bucket(Bucket=name)) == (409, "BucketAlreadyOwnedByYou")
    finally:
        eu_s3.delete_bucket(Bucket=name)


# --- CORS preflight without Origin ---------------------------------------------------------------------------
def test_preflight_without_origin_or_method_is_bad_request(s3: Any, bucket: str,
                                                           satchel_server: ServerHandle) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*suffix"], "AllowedMethods": ["GET"]}]})
    url = f"{satchel_server.endpoint}/{bucket}"
    for headers in ({}, {"Origin": "foo.suffix"}, {"Origin": "bla"}, {"Access-Control-Request-Method": "GET"}):
        answer = requests.options(url, headers=headers, timeout=10)
        assert answer.status_code == 400, headers
        assert "<Code>BadRequest</Code>" in answer.text
        assert "access-control-allow-origin" not in answer.headers
    allowed = requests.options(url + "/k", headers={"Origin": "foo.suffix", "Access-Control-Request-Method": "GET"},
                               timeout=10)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "foo.suffix"
    refused = requests.options(url, headers={"Origin": "foo.bar", "Access-Control-Request-Method": "GET"},
                               timeout=10)
    assert refused.status_code == 403 and "<Code>AccessForbidden</Code>" in refused.text
