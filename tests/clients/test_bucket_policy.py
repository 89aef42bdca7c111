"""Bucket policies against a real server: boto3 and the aws cli put, get and delete them; curl sees their
effect — anonymous read of a prefix, presigned URLs refused by ``s3:authType`` and ``s3:signatureAge``, a
minted link refused by ``aws:SourceIp`` when used from outside the range.

The server trusts loopback as a proxy (``--trusted-proxies``), so ``X-Forwarded-For`` sets the client
address a policy sees, as a reverse proxy in front of Satchel would.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from swiftclient.utils import generate_temp_url

from tests.clients.boto import awscli_env, empty_and_delete, unique_bucket
from tests.clients.par import create, events
from tests.clients.server import SatchelProcess, free_port, venv_tool
from tests.clients.swift import root_user
from tests.clients.test_s3cmd import S3cmd

INSIDE = "198.51.100.9"
OUTSIDE = "203.0.113.7"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    process = SatchelProcess(tmp_path_factory.mktemp("policy") / "data", port=free_port(),
                             extra_args=("--trusted-proxies", "127.0.0.1/32 ::1"))
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def s3(server: SatchelProcess) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=server.root.access_key, aws_secret_access_key=server.root.secret_key,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = unique_bucket("pol")
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket_policy(Bucket=name)
    empty_and_delete(s3, name)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _curl(url: str, *headers: str) -> int:
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for header in headers:
        args += ["-H", header]
    return int(subprocess.run([*args, url], capture_output=True, text=True, timeout=30, check=True).stdout)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_boto3_put_get_status_delete(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=bucket)
    assert _code(caught)[0] == "NoSuchBucketPolicy"
    document = _policy({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/public/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == document
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    narrowed = _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}})
    s3.put_bucket_policy(Bucket=bucket, Policy=narrowed)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)  # idempotent, as AWS
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert _code(caught)[0] == "NoSuchBucketPolicy"


@pytest.mark.parametrize(("statement", "named"), [
    ({"Action": "s3:GetObjekt"}, "s3:GetObjekt"),
    ({"Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}, "aws:SourceVpce"),
    ({"Condition": {"StringSorta": {"aws:Referer": "x"}}}, "StringSorta"),
    ({"Resource": "arn:aws:s3:::someone-elses-bucket/*"}, "outside bucket"),
    ({"Principal": {"AWS": "arn:aws:iam::nope:user/x"}}, "principal"),
])
def test_malformed_policies_refused_at_put(s3: Any, bucket: str, statement: dict[str, Any], named: str) -> None:
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy({**base, **statement}))
    code, message = _code(caught)
    assert code == "MalformedPolicy" and named in message, message
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=bucket)  # nothing was stored
    assert _code(caught)[0] == "NoSuchBucketPolicy"


def test_too_large_policy_refused(s3: Any, bucket: str) -> None:
    statement = {"Sid": "x" * 21000, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*"}
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(statement))
    assert _code(caught)[0] == "MalformedPolicy"


def test_members_may_not_set_policies(server: SatchelProcess, s3: Any, bucket: str) -> None:
    member = server.create_user(f"pm{os.urandom(4).hex()}")
    server.grant(member.user or "", bucket, "read-write")
    client = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                          aws_access_key_id=member.access_key, aws_secret_access_key=member.secret_key)
    document = _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*"})
    with pytest.raises(ClientError) as caught:
        client.put_bucket_policy(Bucket=bucket, Policy=document)
    assert _code(caught)[0] == "AccessDenied"


def test_awscli_put_and_get(server: SatchelProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n")
    env = awscli_env(server, tmp_path, config) | {"AWS_MAX_ATTEMPTS": "1"}
    document = _policy({"Sid": "OnlyTls", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/locked/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    path = tmp_path / "policy.json"
    path.write_text(document)

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([venv_tool("aws"), "--endpoint-url", server.endpoint, "s3api", *args, "--output",
                               "json"], env=env, capture_output=True, text=True, timeout=60, check=False)

    put = aws("put-bucket-policy", "--bucket", bucket, "--policy", f"file://{path}")
    assert put.returncode == 0, put.stderr
    got = aws("get-bucket-policy", "--bucket", bucket)
    assert got.returncode == 0 and json.loads(json.loads(got.stdout)["Policy"]) == json.loads(document)
    # The Deny applies to the owner too: plain http is no secure transport.
    refused = aws("put-object", "--bucket", bucket, "--key", "locked/x", "--body", str(path))
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    s3.put_object(Bucket=bucket, Key="open/x", Body=b"x")  # outside the Deny's resource
    path.write_text('{"Statement": [{"Effect": "Allow"}]}')
    bad = aws("put-bucket-policy", "--bucket", bucket, "--policy", f"file://{path}")
    assert bad.returncode != 0 and "MalformedPolicy" in bad.stderr


def test_anonymous_read_of_a_prefix_through_curl(server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="public/logo.txt", Body=b"logo")
    s3.put_object(Bucket=bucket, Key="private/plan.txt", Body=b"plan")
    base = f"{server.endpoint}/{bucket}"
    assert _curl(f"{base}/public/logo.txt") == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/public/*"]}))
    assert _curl(f"{base}/public/logo.txt") == 200
    assert _curl(f"{base}/private/plan.txt") == 403
    assert _curl(f"{base}?list-type=2") == 403  # ListBucket was not granted
    s3.delete_bucket_policy(Bucket=bucket)
    assert _curl(f"{base}/public/logo.txt") == 403


def test_presigned_urls_refused_by_auth_type(server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"doc")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300)
    assert _curl(url) == 200
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "NoPresignedUrls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}}}))
    assert _curl(url) == 403
    assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"doc"  # header-signed still works


def test_presigned_urls_refused_by_signature_age(server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"doc")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "Deny presigned URLs signed more than 1 min ago", "Effect": "Deny", "Principal": {"AWS": "*"},
        "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"NumericGreaterThan": {"s3:signatureAge": 60000}}}))
    fresh = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=600)
    earlier = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=2)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=earlier):
        old = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=600)
    assert "X-Amz-Date" in old and old != fresh
    assert _curl(fresh) == 200
    assert _curl(old) == 403


def test_minted_link_refused_from_outside_the_source_ip_range(server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="report.pdf", Body=b"%PDF")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SATCHEL_"))}
    env.update(SATCHEL_ENDPOINT=server.endpoint, AWS_ACCESS_KEY_ID=server.root.access_key,
               AWS_SECRET_ACCESS_KEY=server.root.secret_key, AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    minted = subprocess.run([venv_tool("satchel"), "presign", f"s3://{bucket}/report.pdf", "--json"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert minted.returncode == 0, minted.stderr
    link = json.loads(minted.stdout)["links"][0]
    url = link["url"]
    assert "x-amz-satchel-link-id" in url.lower()
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "OfficeOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "198.51.100.0/24"]}}}))
    assert _curl(url) == 200  # loopback: inside
    assert _curl(url, f"X-Forwarded-For: {INSIDE}") == 200
    assert _curl(url, f"X-Forwarded-For: {OUTSIDE}") == 403
    # The owner, header-signed, from outside: the Deny wins over ownership too.
    outside = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id=server.root.access_key, aws_secret_access_key=server.root.secret_key,
                           config=Config(s3={"addressing_style": "path"}))
    outside.meta.events.register("before-sign.s3.GetObject",
                                 lambda request, **_: request.headers.__setitem__("X-Forwarded-For", OUTSIDE))
    with pytest.raises(ClientError) as caught:
        outside.get_object(Bucket=bucket, Key="report.pdf")
    assert _code(caught)[0] == "AccessDenied"
    # The refusal is in the link's audit trail, as every use is.
    events = subprocess.run([venv_tool("satchel"), "audit", "--link-id", link["link"]["id"], "--json"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert events.returncode == 0, events.stderr
    outcomes = [(e["status"], e.get("client_ip")) for e in json.loads(events.stdout)["events"]]
    assert (403, OUTSIDE) in outcomes and (200, INSIDE) in outcomes, outcomes


def _office_only(bucket: str) -> str:
    return _policy({"Sid": "OfficeOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "198.51.100.0/24"]}}})


def test_par_refused_from_outside_the_source_ip_range(server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"doc")
    par = create(server, bucket=bucket, accessType="ObjectRead", objectName="doc.txt")
    s3.put_bucket_policy(Bucket=bucket, Policy=_office_only(bucket))
    assert _curl(par["fullPath"], f"X-Forwarded-For: {INSIDE}") == 200
    assert _curl(par["fullPath"], f"X-Forwarded-For: {OUTSIDE}") == 404  # OCI's one refusal for every reason
    refused = [e for e in events(server, par["id"]) if e["action"] == "use" and e["client_ip"] == OUTSIDE]
    assert refused and refused[0]["status"] == 404, refused


def test_swift_tempurl_and_token_refused_from_outside(server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"doc")
    swift = root_user(server)
    key = secrets.token_urlsafe(24)
    swift.cli("post", "-m", f"Temp-URL-Key:{key}", bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=_office_only(bucket))
    url = server.endpoint + generate_temp_url(f"/v1/AUTH_root/{bucket}/doc.txt", 600, key, "GET")
    assert _curl(url, f"X-Forwarded-For: {INSIDE}") == 200
    assert _curl(url, f"X-Forwarded-For: {OUTSIDE}") == 401  # Swift's answer to a refused TempURL
    storage, token = swift.token()
    assert _curl(f"{storage}/{bucket}/doc.txt", f"X-Auth-Token: {token}", f"X-Forwarded-For: {INSIDE}") == 200
    assert _curl(f"{storage}/{bucket}/doc.txt", f"X-Auth-Token: {token}", f"X-Forwarded-For: {OUTSIDE}") == 403


def test_browser_post_upload_refused_by_auth_type(server: SatchelProcess, s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "in/${filename}", ExpiresIn=300)
    files = {"file": ("a.txt", b"first")}
    assert requests.post(post["url"], data=post["fields"], files=files, timeout=30).status_code == 204
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "NoBrowserUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringEquals": {"s3:authType": "POST"}}}))
    files = {"file": ("b.txt", b"second")}
    reply = requests.post(post["url"], data=post["fields"], files=files, timeout=30)
    assert reply.status_code == 403 and b"AccessDenied" in reply.content, reply.text
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["in/a.txt"]
    s3.put_object(Bucket=bucket, Key="in/c.txt", Body=b"header-signed")  # other uploads still work


def test_s3cmd_setpolicy_and_sigv2_refused(server: SatchelProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"doc")
    v4, v2 = (S3cmd(server, tmp_path / f"s3cfg-{n}", sigv2, server.root) for n, sigv2 in (("4", False), ("2", True)))
    path = tmp_path / "policy.json"
    path.write_text(_policy({"Sid": "NoSigV2", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{bucket}/*",
                             "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}}}))
    v4("setpolicy", str(path), f"s3://{bucket}")
    assert "NoSigV2" in v4("info", f"s3://{bucket}").stdout
    assert v4("get", f"s3://{bucket}/doc.txt", str(tmp_path / "v4.txt")).returncode == 0
    refused = v2("get", f"s3://{bucket}/doc.txt", str(tmp_path / "v2.txt"), check=False)
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout
    v4("delpolicy", f"s3://{bucket}")
    assert v2("get", f"s3://{bucket}/doc.txt", str(tmp_path / "v2.txt")).returncode == 0


def test_a_member_owner_may_not_publish_through_a_policy(server: SatchelProcess, s3: Any) -> None:
    member = server.create_user(f"po{os.urandom(4).hex()}")
    client = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                          aws_access_key_id=member.access_key, aws_secret_access_key=member.secret_key)
    name = unique_bucket("own")
    client.create_bucket(Bucket=name)
    try:
        everybody = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": f"arn:aws:s3:::{name}/*"}
        for statement in (everybody, {**everybody, "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}):
            with pytest.raises(ClientError) as caught:
                client.put_bucket_policy(Bucket=name, Policy=_policy(statement))
            assert _code(caught)[0] == "AccessDenied"
        named = {**everybody, "Principal": {"AWS": f"arn:aws:iam::{'0' * 32}:root"}}
        client.put_bucket_policy(Bucket=name, Policy=_policy(named, {**everybody, "Effect": "Deny"}))
        assert "Deny" in client.get_bucket_policy(Bucket=name)["Policy"]
        s3.put_bucket_policy(Bucket=name, Policy=_policy(everybody))  # an account admin may publish
        assert client.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"] is True
    finally:
        s3.delete_bucket_policy(Bucket=name)
        client.delete_bucket(Bucket=name)
