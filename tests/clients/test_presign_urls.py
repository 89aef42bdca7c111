"""Presigned URLs made offline by real signers — boto3 (SigV4 and its us-east-1 SigV2 default), awscli v1's
``aws s3 presign``, ``s3cmd signurl`` and minio-py — and used by clients that know nothing of S3: requests
and curl. Every round trip compares the bytes that come back with the bytes that went in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from minio import Minio

from tests.clients.boto import S3Factory, awscli_env, error_code
from tests.clients.server import ServerHandle, venv_tool
from tests.clients.test_presign_wire import FETCHERS, Fetch, assert_error, fetch_curl, fetch_requests, query_of

#: Spaces, a plus, a tilde, brackets and non-ASCII: the canonical URI must be the path exactly as sent.
ODD_KEY = "dir/a b+c~(1)[x]/é ü.bin"
V4_PARAMS = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
             "X-Amz-Signature"}
V2_PARAMS = {"AWSAccessKeyId", "Signature", "Expires"}


def _md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'  # noqa: S324 - the S3 ETag of a single PUT is its MD5


def _assert_kind(url: str, kind: str, access_key: str) -> None:
    query = query_of(url)
    if kind == "sigv4":
        assert set(query) >= V4_PARAMS, url
        assert query["X-Amz-Credential"].startswith(f"{access_key}/")
        assert query["X-Amz-Credential"].endswith("/us-east-1/s3/aws4_request")
        assert not V2_PARAMS & set(query), url
    else:
        assert set(query) >= V2_PARAMS, url
        assert query["AWSAccessKeyId"] == access_key
        assert not V4_PARAMS & set(query), url


@pytest.fixture(params=["sigv4", "sigv2-default"])
def signer(request: pytest.FixtureRequest, s3_factory: S3Factory) -> tuple[str, Any]:
    """boto3 with s3v4, and with botocore's default, which presigns with SigV2 in us-east-1."""
    if request.param == "sigv4":
        return "sigv4", s3_factory(signature_version="s3v4")
    return "sigv2", s3_factory()


@pytest.mark.parametrize("fetcher", ["requests", "curl"])
def test_boto3_presigned_put_get_head_delete(
    signer: tuple[str, Any], fetcher: str, s3: Any, bucket: str, satchel_server: ServerHandle
) -> None:
    kind, client = signer
    fetch: Fetch = FETCHERS[fetcher]
    data = os.urandom(70_001)
    params = {"Bucket": bucket, "Key": ODD_KEY}

    put_url = client.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    _assert_kind(put_url, kind, satchel_server.access_key)
    put = fetch("PUT", put_url, data=data)
    assert put.status == 200, put.describe()
    assert put.headers["etag"] == _md5_etag(data)
    assert s3.get_object(Bucket=bucket, Key=ODD_KEY)["Body"].read() == data

    get_url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    _assert_kind(get_url, kind, satchel_server.access_key)
    got = fetch("GET", get_url)
    assert got.status == 200, got.describe()
    assert got.body == data
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["etag"] == _md5_etag(data)

    ranged = fetch("GET", get_url, headers={"Range": "bytes=10-19"})
    assert ranged.status == 206, ranged.describe()
    assert ranged.body == data[10:20]
    assert ranged.headers["content-range"] == f"bytes 10-19/{len(data)}"

    head_url = client.generate_presigned_url("head_object", Params=params, ExpiresIn=300)
    _assert_kind(head_url, kind, satchel_server.access_key)
    head = fetch("HEAD", head_url)
    assert head.status == 200, head.describe()
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["etag"] == _md5_etag(data)
    assert head.body == b""

    # A URL signed for GET does not work for DELETE: the method is signed.
    wrong_method = fetch("DELETE", get_url)
    assert_error(wrong_method, 403, "SignatureDoesNotMatch")
    assert s3.head_object(Bucket=bucket, Key=ODD_KEY)["ContentLength"] == len(data)

    delete_url = client.generate_presigned_url("delete_object", Params=params, ExpiresIn=300)
    _assert_kind(delete_url, kind, satchel_server.access_key)
    deleted = fetch("DELETE", delete_url)
    assert deleted.status == 204, deleted.describe()
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key=ODD_KEY)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    gone = fetch("GET", get_url)
    assert_error(gone, 404, "NoSuchKey")


def test_presigned_put_with_signed_content_type_and_metadata(s3_factory: S3Factory, s3: Any, bucket: str) -> None:
    """boto3 signs ContentType and Metadata as headers: the uploader must send exactly those values."""
    client = s3_factory(signature_version="s3v4")
    url = client.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": "typed.txt", "ContentType": "text/plain; charset=utf-8",
                "Metadata": {"owner": "alice"}},
        ExpiresIn=300,
    )
    assert query_of(url)["X-Amz-SignedHeaders"] == "content-type;host;x-amz-meta-owner"
    headers = {"Content-Type": "text/plain; charset=utf-8", "x-amz-meta-owner": "alice"}

    wrong_type = fetch_requests("PUT", url, data=b"typed", headers={**headers, "Content-Type": "text/html"})
    assert_error(wrong_type, 403, "SignatureDoesNotMatch")
    wrong_meta = fetch_requests("PUT", url, data=b"typed", headers={**headers, "x-amz-meta-owner": "mallory"})
    assert_error(wrong_meta, 403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="typed.txt")
    assert error_code(exc.value) == "404"

    ok = fetch_requests("PUT", url, data=b"typed", headers=headers)
    assert ok.status == 200, ok.describe()
    head = s3.head_object(Bucket=bucket, Key="typed.txt")
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert head["Metadata"] == {"owner": "alice"}


def test_sigv2_presigned_put_with_content_type(s3_factory: S3Factory, s3: Any, bucket: str) -> None:
    """SigV2 signs Content-Type in the string to sign; botocore also copies it into the query."""
    client = s3_factory()
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "v2typed.txt", "ContentType": "image/png"}, ExpiresIn=300)
    assert query_of(url)["content-type"] == "image/png"
    wrong = fetch_curl("PUT", url, data=b"\x89PNG", headers={"Content-Type": "image/gif"})
    assert_error(wrong, 403, "SignatureDoesNotMatch")
    ok = fetch_curl("PUT", url, data=b"\x89PNG", headers={"Content-Type": "image/png"})
    assert ok.status == 200, ok.describe()
    got = s3.get_object(Bucket=bucket, Key="v2typed.txt")
    assert got["ContentType"] == "image/png"
    assert got["Body"].read() == b"\x89PNG"


def test_presigned_upload_part(signer: tuple[str, Any], s3: Any, bucket: str, satchel_server: ServerHandle) -> None:
    """Multipart parts uploaded through presigned UploadPart URLs (uploadId and partNumber are signed)."""
    kind, client = signer
    key = "multi/part ed.bin"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1_234)]
    etags = []
    for number, part in enumerate(parts, start=1):
        url = client.generate_presigned_url(
            "upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
            ExpiresIn=300)
        _assert_kind(url, kind, satchel_server.access_key)
        if number == 1:
            # The part number is signed: the same URL cannot be replayed for another part.
            other = url.replace("partNumber=1", "partNumber=3")
            assert other != url
            assert_error(fetch_requests("PUT", other, data=part), 403, "SignatureDoesNotMatch")
        reply = fetch_requests("PUT", url, data=part)
        assert reply.status == 200, reply.describe()
        assert reply.headers["etag"] == _md5_etag(part)
        etags.append(reply.headers["etag"])
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in listed] == [1, 2]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(parts)


def test_sigv2_presigned_put_metadata_in_query(s3_factory: S3Factory, s3: Any, bucket: str) -> None:
    """botocore's SigV2 presigner moves x-amz-meta-* into the query; S3 (and the reference's rule "treat
    x-amz-* query parameters as headers") stores them as the object's metadata."""
    client = s3_factory()
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "v2meta.txt", "Metadata": {"owner": "alice"}}, ExpiresIn=300)
    assert query_of(url)["x-amz-meta-owner"] == "alice"
    tampered = url.replace("x-amz-meta-owner=alice", "x-amz-meta-owner=mallory")
    assert_error(fetch_requests("PUT", tampered, data=b"meta"), 403, "SignatureDoesNotMatch")
    ok = fetch_requests("PUT", url, data=b"meta")
    assert ok.status == 200, ok.describe()
    head = s3.head_object(Bucket=bucket, Key="v2meta.txt")
    assert head["ContentLength"] == 4
    assert head["Metadata"] == {"owner": "alice"}


# --- awscli v1 ----------------------------------------------------------------------------------------------
def _aws_presign(server: ServerHandle, home: Path, config_text: str, target: str, *extra: str) -> str:
    home.mkdir(exist_ok=True)
    config = home / "config"
    config.write_text(config_text)
    env = awscli_env(server, home, config)
    cmd = [venv_tool("aws"), "--endpoint-url", server.endpoint, "s3", "presign", target, "--expires-in", "60",
           *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize(
    ("kind", "config_text"),
    [
        ("sigv2", "[default]\nregion = us-east-1\n"),
        ("sigv4", "[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n"),
    ],
    ids=["default-config", "s3v4-config"],
)
def test_aws_s3_presign_fetched_with_curl(
    kind: str, config_text: str, s3: Any, bucket: str, satchel_server: ServerHandle, tmp_path: Path
) -> None:
    data = os.urandom(10_000)
    s3.put_object(Bucket=bucket, Key="cli/shared file.bin", Body=data)
    url = _aws_presign(satchel_server, tmp_path / "home", config_text, f"s3://{bucket}/cli/shared file.bin")
    assert url.startswith(f"{satchel_server.endpoint}/{bucket}/cli/shared%20file.bin?"), url
    _assert_kind(url, kind, satchel_server.access_key)
    got = fetch_curl("GET", url)
    assert got.status == 200, got.describe()
    assert got.body == data
    if kind == "sigv4":
        assert query_of(url)["X-Amz-Expires"] == "60"


# --- s3cmd ----------------------------------------------------------------------------------------------
def test_s3cmd_signurl_fetched_with_curl(s3: Any, bucket: str, satchel_server: ServerHandle, tmp_path: Path) -> None:
    data = os.urandom(5_000)
    s3.put_object(Bucket=bucket, Key="s3cmd/signed.bin", Body=data)
    config = tmp_path / "s3cfg"
    config.write_text(
        "[default]\n"
        f"access_key = {satchel_server.access_key}\n"
        f"secret_key = {satchel_server.secret_key}\n"
        f"host_base = {satchel_server.host_port}\n"
        f"host_bucket = {satchel_server.host_port}\n"
        "bucket_location = us-east-1\n"
        "use_https = False\n"
        "signature_v2 = False\n"
    )
    proc = subprocess.run([venv_tool("s3cmd"), "-c", str(config), "signurl", f"s3://{bucket}/s3cmd/signed.bin", "+60"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip()
    _assert_kind(url, "sigv2", satchel_server.access_key)
    got = fetch_curl("GET", url)
    assert got.status == 200, got.describe()
    assert got.body == data
    tampered = fetch_curl("GET", url.replace("signed.bin", "signed.bin2"))
    assert_error(tampered, 403, "SignatureDoesNotMatch")


# --- minio-py ------------------------------------------------------------------------------------------
def test_minio_presigned_get_and_put(s3: Any, bucket: str, satchel_server: ServerHandle) -> None:
    mc = Minio(satchel_server.host_port, access_key=satchel_server.access_key,
               secret_key=satchel_server.secret_key, secure=False, region="us-east-1")
    data = os.urandom(33_333)
    put_url = mc.presigned_put_object(bucket, "minio/up load.bin", expires=dt.timedelta(minutes=5))
    _assert_kind(put_url, "sigv4", satchel_server.access_key)
    put = fetch_requests("PUT", put_url, data=data)
    assert put.status == 200, put.describe()
    assert s3.get_object(Bucket=bucket, Key="minio/up load.bin")["Body"].read() == data

    get_url = mc.presigned_get_object(bucket, "minio/up load.bin", expires=dt.timedelta(minutes=5))
    _assert_kind(get_url, "sigv4", satchel_server.access_key)
    assert query_of(get_url)["X-Amz-Expires"] == "300"
    for fetch in (fetch_requests, fetch_curl):
        got = fetch("GET", get_url)
        assert got.status == 200, got.describe()
        assert got.body == data
