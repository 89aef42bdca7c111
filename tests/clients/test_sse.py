"""Encryption at rest against a real ``satchel serve`` over HTTPS: SSE-S3 (header and bucket default) and
SSE-C through boto3 and the aws cli, ranges, copies, multipart, refusals, and the blobs on disk."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from swiftclient.utils import generate_temp_url

from tests.clients import mgmt, par
from tests.clients.boto import awscli_env, error_code, make_client, unique_bucket
from tests.clients.server import SatchelProcess, configured_server, venv_tool
from tests.clients.test_tls import tls_server


def _md5(data: bytes) -> Any:
    return hashlib.md5(data, usedforsecurity=False)


MARKER = b"SATCHEL-PLAINTEXT-MARKER-"
KEY = hashlib.sha256(b"customer key one").digest()
OTHER = hashlib.sha256(b"customer key two").digest()
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    """A server of its own, over TLS (SSE-C is refused over plain HTTP by default)."""
    return tls_server(tmp_path_factory, request, "satchel-sse")


@pytest.fixture(scope="module")
def s3(server: SatchelProcess) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=server.region, verify=str(server.ca_file),
                        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = unique_bucket("sse")
    s3.create_bucket(Bucket=name)
    yield name


def _on_disk_contains(server: SatchelProcess, needle: bytes) -> bool:
    return any(path.is_file() and needle in path.read_bytes() for path in (server.data_dir / "blobs").rglob("*"))


def _body(size: int, tag: bytes) -> bytes:
    unit = MARKER + tag + b"|"
    return (unit * (size // len(unit) + 1))[:size]


def test_sse_s3_put_get_head_and_nothing_in_clear_on_disk(s3: Any, server: SatchelProcess, bucket: str) -> None:
    data = _body(200_000, b"s3")
    put = s3.put_object(Bucket=bucket, Key="a", Body=data, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == f'"{_md5(data).hexdigest()}"'  # SSE-S3 keeps the MD5 ETag, as AWS
    got = s3.get_object(Bucket=bucket, Key="a")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"
    ranged = s3.get_object(Bucket=bucket, Key="a", Range="bytes=65530-131080")
    assert ranged["Body"].read() == data[65530:131081]
    assert not _on_disk_contains(server, MARKER + b"s3")
    with pytest.raises(ClientError) as exc:  # a KMS is what Satchel lacks: refused, never ignored
        s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms")
    assert error_code(exc.value) == "NotImplemented"


def test_bucket_default_encryption(s3: Any, server: SatchelProcess, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_encryption(Bucket=bucket)
    assert error_code(exc.value) == "ServerSideEncryptionConfigurationNotFoundError"
    for refused in ("aws:kms", "aws:kms:dsse"):
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": refused}}]})
        assert error_code(exc.value) == "NotImplemented"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    data = _body(70_000, b"default")
    assert s3.put_object(Bucket=bucket, Key="d", Body=data)["ServerSideEncryption"] == "AES256"
    # Multipart under the default: every part sealed, the object reads back whole and by range.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert upload["ServerSideEncryption"] == "AES256"
    first, second = _body(5 * MIB, b"mp1"), _body(100_000, b"mp2")
    parts = []
    for number, chunk in ((1, first), (2, second)):
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=number, Body=chunk)
        assert part["ServerSideEncryption"] == "AES256"
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": parts})
    assert done["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == first + second
    edge = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MIB - 3}-{5 * MIB + 3}")["Body"].read()
    assert edge == (first + second)[5 * MIB - 3:5 * MIB + 4]
    assert not _on_disk_contains(server, MARKER + b"default") and not _on_disk_contains(server, MARKER + b"mp")
    s3.delete_bucket_encryption(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_encryption(Bucket=bucket)
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == data  # objects keep their encryption


def test_sse_c_put_get_head_range_and_refusals(s3: Any, server: SatchelProcess, bucket: str) -> None:
    data = _body(150_000, b"c")
    key_md5 = base64.b64encode(_md5(KEY).digest()).decode()
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
    put = s3.put_object(Bucket=bucket, Key="c", Body=data, **sse)
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == key_md5
    assert put["ETag"] != f'"{_md5(data).hexdigest()}"'  # not the plaintext's MD5, as AWS
    got = s3.get_object(Bucket=bucket, Key="c", **sse)
    assert got["Body"].read() == data and got["SSECustomerKeyMD5"] == key_md5
    assert s3.head_object(Bucket=bucket, Key="c", **sse)["ContentLength"] == len(data)
    assert s3.get_object(Bucket=bucket, Key="c", Range="bytes=65535-65536", **sse)["Body"].read() \
        == data[65535:65537]
    assert not _on_disk_contains(server, MARKER + b"c")
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as exc:  # the key comes first: no 304 answers a condition without it
            call(Bucket=bucket, Key="c", IfNoneMatch=put["ETag"])
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        with pytest.raises(ClientError) as exc:
            call(Bucket=bucket, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER)
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as exc:  # a key MD5 that is not the key's
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=base64.b64encode(KEY).decode(),
                      SSECustomerKeyMD5=base64.b64encode(_md5(OTHER).digest()).decode())
    assert error_code(exc.value) == "InvalidArgument"
    with pytest.raises(ClientError) as exc:  # SSE-C headers on an object that has no such key
        s3.put_object(Bucket=bucket, Key="p", Body=b"plain")
        s3.get_object(Bucket=bucket, Key="p", **sse)
    assert error_code(exc.value) == "InvalidRequest"
    # A presigned URL can carry SSE-C: its holder sends the headers it signed.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "c", **sse})
    headers = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
               "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
               "x-amz-server-side-encryption-customer-key-MD5": key_md5}
    answer = requests.get(url, headers=headers, verify=str(server.ca_file), timeout=10)
    assert answer.status_code == 200 and answer.content == data


def test_sse_c_copies_and_multipart(s3: Any, bucket: str) -> None:
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
    other = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": OTHER}
    source = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY}
    data = _body(80_000, b"copy")
    s3.put_object(Bucket=bucket, Key="src", Body=data, **sse)
    with pytest.raises(ClientError) as exc:  # the source's key is needed to read it
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"})
    assert error_code(exc.value) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="to-s3", CopySource={"Bucket": bucket, "Key": "src"},
                   ServerSideEncryption="AES256", **source)
    assert s3.get_object(Bucket=bucket, Key="to-s3")["Body"].read() == data
    s3.copy_object(Bucket=bucket, Key="to-other", CopySource={"Bucket": bucket, "Key": "src"}, **other, **source)
    assert s3.get_object(Bucket=bucket, Key="to-other", **other)["Body"].read() == data
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}, **other, **source)
    assert s3.get_object(Bucket=bucket, Key="src", **other)["Body"].read() == data  # re-keyed in place
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "to-s3"})
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket, Key="plain")
    # Multipart with SSE-C: every part brings the key; a part copied from an SSE-C source.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse)["UploadId"]
    first = _body(5 * MIB, b"part1")
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=first)
    assert error_code(exc.value) == "InvalidRequest"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=first, **other)
    assert error_code(exc.value) == "AccessDenied"
    one = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=first, **sse)
    two = s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, CopySourceRange="bytes=10-99",
                              CopySource={"Bucket": bucket, "Key": "to-other"}, **sse,
                              CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=OTHER)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": two["CopyPartResult"]["ETag"]}]})
    whole = first + data[10:100]
    assert s3.get_object(Bucket=bucket, Key="mp", **sse)["Body"].read() == whole
    assert s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MIB - 1}-{5 * MIB}", **sse)["Body"].read() \
        == whole[5 * MIB - 1:5 * MIB + 1]


def test_aws_cli_sse_and_sse_c(server: SatchelProcess, bucket: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\ns3 =\n    addressing_style = path\n")
    env = awscli_env(server, tmp_path, config)
    source = tmp_path / "f.bin"
    data = _body(300_000, b"cli")
    source.write_bytes(data)
    base = [venv_tool("aws"), "--endpoint-url", server.endpoint, "--ca-bundle", str(server.ca_file)]

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*base, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc

    aws("s3", "cp", str(source), f"s3://{bucket}/s3.bin", "--sse", "AES256")
    head = aws("s3api", "head-object", "--bucket", bucket, "--key", "s3.bin").stdout
    assert '"ServerSideEncryption": "AES256"' in head
    key = "k" * 32  # the cli takes the raw key
    aws("s3", "cp", str(source), f"s3://{bucket}/c.bin", "--sse-c", "AES256", "--sse-c-key", key)
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/c.bin", str(back), "--sse-c", "AES256", "--sse-c-key", key)
    assert back.read_bytes() == data
    assert not _on_disk_contains(server, MARKER + b"cli")


def test_sse_c_over_plain_http_is_refused(s3_factory: Any) -> None:
    """The shared test server speaks plain HTTP with the default settings: the key must not cross it, and
    an ``X-Forwarded-Proto: https`` from a client that is no trusted proxy changes nothing."""
    client = s3_factory()
    name = unique_bucket("ssehttp")
    client.create_bucket(Bucket=name)
    for spoofed in (False, True):
        if spoofed:
            _forward_proto(client, "https")
        with pytest.raises(ClientError) as exc:
            client.put_object(Bucket=name, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
        assert error_code(exc.value) == "InvalidRequest"
        assert "secure connection" in exc.value.response["Error"]["Message"]
    client.delete_bucket(Bucket=name)


def _forward_proto(client: Any, proto: str) -> Callable[..., None]:
    """Make ``client`` send ``X-Forwarded-Proto: proto`` (as a TLS proxy in front of Satchel would)."""
    def hook(request: Any, **_: Any) -> None:
        request.headers["X-Forwarded-Proto"] = proto
    client.meta.events.register("before-sign.s3.*", hook)
    return hook


def test_backup_and_verify_accept_encrypted_blobs(s3: Any, server: SatchelProcess, bucket: str,
                                                  tmp_path: Path) -> None:
    """``satchel admin verify`` checks blob sizes without keys: a sealed blob's size is its plaintext's
    plus the format's overhead, and its MD5 (the plaintext's) is not checked."""
    s3.put_object(Bucket=bucket, Key="s3", Body=_body(70_000, b"bk"), ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket, Key="c", Body=b"tiny", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    assert "problem" not in server.admin("verify").lower()
    server.admin("backup", str(tmp_path / "b"))
    assert "problem" not in server.admin("verify", str(tmp_path / "b")).lower()


def test_links_pars_and_swift_decrypt_sse_s3_and_refuse_sse_c(s3: Any, server: SatchelProcess, bucket: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every front-end reads through the same layer: SSE-S3 objects come back decrypted; SSE-C ones cannot,
    since none of these requests can carry the key: refused, clearly, and audited as a refusal."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))  # the management API helpers' requests
    s3.put_object(Bucket=bucket, Key="s3", Body=b"sse-s3 bytes", ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket, Key="c", Body=b"sse-c bytes", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    minted = mgmt.ok(mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["s3", "c"]}))
    links = {item["key"]: item for item in minted["links"]}
    assert requests.get(links["s3"]["url"], timeout=10).content == b"sse-s3 bytes"
    refused = requests.get(links["c"]["url"], timeout=10)
    assert refused.status_code == 400 and b"customer-provided key" in refused.content
    events = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?link_id={links['c']['link']['id']}"))["events"]
    uses = [(event["status"], event["outcome"]) for event in events if event["status"] is not None]
    assert uses == [(400, "refused")], events  # beside the mint's own event
    for key, status in (("s3", 200), ("c", 400)):
        made = par.create(server, bucket=bucket, accessType="ObjectRead", objectName=key)
        assert requests.get(par.url(made), timeout=10).status_code == status
        assert requests.head(par.url(made), timeout=10).status_code == status
    auth = requests.get(f"{server.endpoint}/auth/v1.0", timeout=10,
                        headers={"X-Auth-User": "root:root", "X-Auth-Key": server.root.secret_key})
    storage, token = auth.headers["X-Storage-Url"], auth.headers["X-Auth-Token"]
    got = requests.get(f"{storage}/{bucket}/s3", headers={"X-Auth-Token": token}, timeout=10)
    assert got.content == b"sse-s3 bytes"
    for method in ("GET", "HEAD"):
        answer = requests.request(method, f"{storage}/{bucket}/c", headers={"X-Auth-Token": token}, timeout=10)
        assert answer.status_code == 400
    # A TempURL carries no key either: refused, and that use audited as refused.
    tempurl_key = "tempurl-key-for-sse"
    assert requests.post(f"{storage}/{bucket}", timeout=10, headers={
        "X-Auth-Token": token, "X-Container-Meta-Temp-URL-Key": tempurl_key}).status_code == 204
    path = f"{urlsplit(storage).path}/{bucket}"
    for key, status in (("s3", 200), ("c", 400)):
        signed = generate_temp_url(f"{path}/{key}", 600, tempurl_key, "GET")
        assert requests.get(server.endpoint + signed, timeout=10).status_code == status
    events = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?kind=swift&bucket={bucket}"))["events"]
    assert sorted((e["key"], e["status"], e["outcome"]) for e in events if e["action"] == "use") == [
        ("c", 400, "refused"), ("s3", 200, "allowed")]
    # Swift's metadata POST copies the object onto itself: an SSE-S3 object stays encrypted.
    posted = requests.post(f"{storage}/{bucket}/s3", headers={"X-Auth-Token": token, "X-Object-Meta-A": "1"},
                           timeout=10)
    assert posted.status_code == 202
    head = s3.head_object(Bucket=bucket, Key="s3")
    assert (head["ServerSideEncryption"], head["Metadata"]) == ("AES256", {"a": "1"})
    ranged = requests.put(f"{storage}/{bucket}/part", timeout=10, headers={
        "X-Auth-Token": token, "X-Copy-From": f"{bucket}/s3", "Range": "bytes=4-9", "Content-Length": "0"})
    assert ranged.status_code == 201, ranged.text
    assert s3.head_object(Bucket=bucket, Key="part")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="part")["Body"].read() == b"s3 byt"


def test_post_form_and_presigned_put_ask_for_encryption(s3: Any, server: SatchelProcess, bucket: str) -> None:
    ca = str(server.ca_file)
    plain_s3 = {"x-amz-server-side-encryption": "AES256"}
    customer = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
                "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
                "x-amz-server-side-encryption-customer-key-md5": base64.b64encode(_md5(KEY).digest()).decode()}
    for key, fields in (("post-s3", plain_s3), ("post-c", customer)):
        form = s3.generate_presigned_post(Bucket=bucket, Key=key, Fields=fields,
                                          Conditions=[{name: value} for name, value in fields.items()])
        reply = requests.post(form["url"], data=form["fields"], files={"file": ("f", MARKER + b"post")},
                              verify=ca, timeout=10)
        assert reply.status_code == 204, reply.content
    assert s3.head_object(Bucket=bucket, Key="post-s3")["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="post-c", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert got["Body"].read() == MARKER + b"post"
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "signed",
                                                          "ServerSideEncryption": "AES256"})
    put = requests.put(url, data=b"signed body", headers=plain_s3, verify=ca, timeout=10)
    assert put.status_code == 200 and put.headers["x-amz-server-side-encryption"] == "AES256"
    assert not _on_disk_contains(server, MARKER + b"post") and not _on_disk_contains(server, b"signed body")


def test_sse_c_behind_a_trusted_tls_proxy(tmp_path_factory: pytest.TempPathFactory,
                                          request: pytest.FixtureRequest) -> None:
    """Plain HTTP from a proxy listed in ``trusted_proxies`` that says ``X-Forwarded-Proto: https`` is a
    secure request (deploy/nginx.conf and haproxy.cfg send it); from anyone else, that header means nothing."""
    proxied = configured_server(tmp_path_factory, request, "sse-proxy", 'trusted_proxies = "127.0.0.1"\n')
    client = make_client(proxied)
    name = unique_bucket("sseproxy")
    client.create_bucket(Bucket=name)
    hook = _forward_proto(client, "http")
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=name, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert error_code(exc.value) == "InvalidRequest"
    client.meta.events.unregister("before-sign.s3.*", hook)
    _forward_proto(client, "https")
    client.put_object(Bucket=name, Key="k", Body=b"via proxy", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    got = client.get_object(Bucket=name, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert got["Body"].read() == b"via proxy"


def _blob_files(server: SatchelProcess) -> set[Path]:
    return {path for path in (server.data_dir / "blobs").rglob("*") if path.is_file()}


def _replace(path: Path, data: bytes) -> None:
    """Rewrite a blob file as a new inode: a copy's hard link to it keeps the old bytes."""
    spare = path.with_name(path.name + ".tamper")
    spare.write_bytes(data)
    spare.replace(path)


def _get_outcome(s3: Any, bucket: str, key: str, want: bytes) -> str:
    """``ok``, ``500`` (refused before the headers) or ``cut`` (200, then the body stops short)."""
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        assert error_code(exc) == "InternalError"
        return "500"
    try:
        body = answer["Body"].read()
    except Exception:  # botocore raises several kinds for a connection cut mid-body
        return "cut"
    assert body == want, "tampered blobs were served as the object"
    return "ok"


def test_blobs_swapped_duplicated_or_extended_in_storage_are_refused(s3: Any, server: SatchelProcess,
                                                                     bucket: str) -> None:
    """Issue 16 (attack t11): an upload's parts share its key, yet a part's blob moved to another place,
    duplicated, or with bytes appended must never be served as the object; a legitimate SSE-S3 copy,
    which re-links the blobs under the same key, still reads."""
    before = _blob_files(server)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ServerSideEncryption="AES256")["UploadId"]
    parts = [_body(5 * MIB, b"one"), _body(5 * MIB, b"two")]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=data)["ETag"]
             for number, data in enumerate(parts, start=1)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": number, "ETag": etag} for number, etag in enumerate(etags, start=1)]})
    one, two = sorted(_blob_files(server) - before, key=lambda path: path.stat().st_mtime_ns)
    whole = parts[0] + parts[1]
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mp"},
                   ServerSideEncryption="AES256")
    assert _get_outcome(s3, bucket, "copy", whole) == "ok"
    bytes_one, bytes_two = one.read_bytes(), two.read_bytes()
    _replace(one, bytes_two)
    _replace(two, bytes_one)
    assert _get_outcome(s3, bucket, "mp", whole) == "500"  # the first chunk is checked before the headers
    with pytest.raises(ClientError) as exc:  # a copy that decrypts it is refused the same way, and not made
        s3.copy_object(Bucket=bucket, Key="plain-copy", CopySource={"Bucket": bucket, "Key": "mp"})
    assert error_code(exc.value) == "InternalError"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="plain-copy")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    _replace(one, bytes_one)
    assert _get_outcome(s3, bucket, "mp", whole) == "cut"  # part 1 twice: found in the second part
    _replace(two, bytes_two + b"x")
    assert _get_outcome(s3, bucket, "mp", whole) == "cut"
    _replace(two, bytes_two)
    assert _get_outcome(s3, bucket, "mp", whole) == "ok"
    assert _get_outcome(s3, bucket, "copy", whole) == "ok"
    before = _blob_files(server)
    small = _body(3000, b"small")
    s3.put_object(Bucket=bucket, Key="small", Body=small, ServerSideEncryption="AES256")
    (blob,) = _blob_files(server) - before
    _replace(blob, blob.read_bytes() + b"\0")
    assert _get_outcome(s3, bucket, "small", small) == "500"


def _add_headers(client: Any, headers: dict[str, str]) -> Callable[..., None]:
    def hook(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers[name] = value
    client.meta.events.register("before-sign.s3.*", hook)
    return hook


def _customer_headers(prefix: str, key: bytes) -> dict[str, str]:
    return {prefix + "algorithm": "AES256", prefix + "key": base64.b64encode(key).decode(),
            prefix + "key-MD5": base64.b64encode(_md5(key).digest()).decode()}


def test_sse_c_headers_over_plain_http_are_refused_on_every_operation(s3_factory: Any) -> None:
    """AWS refuses any request carrying SSE-C headers over HTTP, not only those that use the key: the key
    crossed the network in clear and the client must learn it (issue 16, attack t40)."""
    client = s3_factory()
    name = unique_bucket("ssehttp")
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="k", Body=b"x")
    hook = _add_headers(client, _customer_headers("x-amz-server-side-encryption-customer-", KEY))
    calls: tuple[Callable[[], object], ...] = (
        lambda: client.list_objects_v2(Bucket=name), lambda: client.delete_object(Bucket=name, Key="k"),
        lambda: client.get_object_tagging(Bucket=name, Key="k"), lambda: client.head_bucket(Bucket=name))
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        if exc.value.operation_name != "HeadBucket":  # a HEAD answer has no body to say why
            assert "secure connection" in exc.value.response["Error"]["Message"]
    client.meta.events.unregister("before-sign.s3.*", hook)
    assert client.get_object(Bucket=name, Key="k")["Body"].read() == b"x"  # the DELETE changed nothing
    client.delete_object(Bucket=name, Key="k")
    client.delete_bucket(Bucket=name)


def test_copy_source_key_on_a_request_that_is_no_copy_is_refused(s3: Any, bucket: str) -> None:
    """A PUT with only the copy-source SSE-C headers asked for a key's protection: refused, never stored
    in clear (issue 16, attack t41)."""
    hook = _add_headers(s3, _customer_headers("x-amz-copy-source-server-side-encryption-customer-", KEY))
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
        assert error_code(exc.value) == "InvalidArgument"
        assert "copy" in exc.value.response["Error"]["Message"]
    finally:
        s3.meta.events.unregister("before-sign.s3.*", hook)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(exc.value) == "NoSuchKey"
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)  # a copy: honoured
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"data"


def test_list_parts_and_complete_show_sse_c_checksums_only_with_the_key(s3: Any, bucket: str) -> None:
    """A part's CRC32/SHA-256 is of its plaintext: AWS requires the upload's SSE-C key for ListParts and
    CompleteMultipartUpload when the upload keeps checksums; a retried completion without it shows none
    (issue 16, attack t25)."""
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
    # botocore encodes the key itself only for the operations that always used one
    coded = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(KEY).decode(),
             "SSECustomerKeyMD5": base64.b64encode(_md5(KEY).digest()).decode()}
    wrong = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(OTHER).decode(),
             "SSECustomerKeyMD5": base64.b64encode(_md5(OTHER).digest()).decode()}
    secret = b"the secret"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256", **sse)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=secret,
                          ChecksumAlgorithm="SHA256", **sse)
    plain_sha = base64.b64encode(hashlib.sha256(secret).digest()).decode()
    assert part["ChecksumSHA256"] == plain_sha  # the uploader, who has the key, gets it
    for kwargs, code in (({}, "InvalidRequest"),
                         (wrong, "AccessDenied")):
        with pytest.raises(ClientError) as exc:
            s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload, **kwargs)
        assert error_code(exc.value) == code
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload, **coded)["Parts"]
    assert listed[0]["ChecksumSHA256"] == plain_sha
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA256": plain_sha}]}
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload=parts)
    assert error_code(exc.value) == "InvalidRequest"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload=parts, **coded)
    assert done.get("ChecksumSHA256")
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload=parts)
    assert again["ETag"] == done["ETag"] and not any(name.startswith("Checksum") and name != "ChecksumType"
                                                     for name in again)
    # An upload without an algorithm whose part still carries a checksum: refused just the same.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp2", **sse)["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp2", UploadId=upload, PartNumber=1, Body=secret, ChecksumAlgorithm="CRC32",
                   **sse)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="mp2", UploadId=upload)
    assert error_code(exc.value) == "InvalidRequest"
    assert s3.list_parts(Bucket=bucket, Key="mp2", UploadId=upload, **coded)["Parts"][0]["ChecksumCRC32"]


def test_management_api_console_and_swift_listing_hide_sse_c_metadata(s3: Any, server: SatchelProcess, bucket: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """S3's HEAD shows an SSE-C object's metadata and type only with its key; the management API (and so
    the console) refuses the same way, and listings show what S3's ListObjects shows: no type (issue 16,
    attacks t27b/t33)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
    s3.put_object(Bucket=bucket, Key="c", Body=b"x", ContentType="application/x-secret-plan",
                  Metadata={"codename": "nightfall"}, SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    s3.put_object(Bucket=bucket, Key="s3", Body=b"y", ContentType="text/x-visible", ServerSideEncryption="AES256")
    refused = mgmt.call(server, None, "GET", f"/buckets/{bucket}/object?key=c")
    assert refused.status_code == 400 and "SSE-C" in refused.text
    assert "nightfall" not in refused.text and "x-secret-plan" not in refused.text
    shown = mgmt.ok(mgmt.call(server, None, "GET", f"/buckets/{bucket}/object?key=s3"))
    assert shown["content_type"] == "text/x-visible"
    listed = mgmt.ok(mgmt.call(server, None, "GET", f"/buckets/{bucket}/objects?delimiter="))
    types = {item["key"]: item["content_type"] for item in listed["objects"]}
    assert types["c"] is None and "x-secret-plan" not in str(listed)
    auth = requests.get(f"{server.endpoint}/auth/v1.0", timeout=10,
                        headers={"X-Auth-User": "root:root", "X-Auth-Key": server.root.secret_key})
    storage, token = auth.headers["X-Storage-Url"], auth.headers["X-Auth-Token"]
    for fmt in ("json", "xml"):
        listing = requests.get(f"{storage}/{bucket}?format={fmt}", headers={"X-Auth-Token": token}, timeout=10)
        assert listing.status_code == 200 and "x-secret-plan" not in listing.text and "text/x-visible" in listing.text
