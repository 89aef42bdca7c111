"""What a blind attack on bucket policies and tagging found (issue 16), each against a real server driven by
boto3 and curl: wildcard patterns that made the matcher backtrack for hours, principals matched by a
reusable user name, a whole-bucket PAR zip cut off by a policy Deny, policy values AWS refuses, and tag
characters AWS refuses.

Timeouts here are hang guards (a hung worker answers nothing, ever), never benchmarks: each test asserts
what the server answered.
"""

from __future__ import annotations

import io
import json
import secrets
import socket
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.clients.par import create, events, url
from tests.clients.server import SatchelProcess
from tests.clients.test_bucket_policy import _policy, bucket

__all__ = ["bucket"]  # the fixture, with this module's server and s3

#: Seconds a request may take before the test calls the server hung.
HANG = 20
#: The attack's pattern: 13 stars, each able to take any share of a run of a's.
STARS = "*a" * 12 + "*b"


def _port() -> int:
    """A free port of this helper's range (48000-48499)."""
    for port in range(48000, 48500):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 48000-48499")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    process = SatchelProcess(tmp_path_factory.mktemp("policyfix") / "data", port=_port())
    process.start()
    yield process
    process.stop()


def _client(server: SatchelProcess, access_key: str, secret_key: str) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                      read_timeout=HANG, connect_timeout=HANG, retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def s3(server: SatchelProcess) -> Any:
    return _client(server, server.root.access_key, server.root.secret_key)


def _curl(url: str, *args: str) -> int:
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", str(HANG), *args,
                           url], capture_output=True, text=True, timeout=HANG + 10, check=False)
    assert done.returncode == 0, f"curl failed (hung server?): rc {done.returncode}"
    return int(done.stdout)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --- 1. wildcard backtracking -------------------------------------------------------------------------------
def test_star_heavy_resource_answers_and_answers_right(server: SatchelProcess, s3: Any, bucket: str) -> None:
    plain, target = "a" * 60, "a" * 60 + "b"
    for key in (plain, target):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/{STARS}"}))
    assert _curl(f"{server.endpoint}/{bucket}/{plain}") == 403  # anonymous: private bucket, no hang
    assert s3.get_object(Bucket=bucket, Key=plain)["Body"].read() == b"x"  # pattern does not match: no b
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key=target)  # matches: the Deny applies, even to the owner
    assert _code(caught) == "AccessDenied"


@pytest.mark.parametrize(("key", "header"), [("aws:UserAgent", "User-Agent"), ("aws:Referer", "Referer")])
def test_star_heavy_string_like_on_caller_values(s3: Any, bucket: str, key: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"shared")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringLike": {key: STARS}}}))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300)
    assert _curl(url, "-H", f"{header}: {'a' * 60}") == 200
    assert _curl(url, "-H", f"{header}: {'a' * 60}b") == 403


# --- the operation map: a Deny naming tagging, lifecycle or encryption actions is obeyed ---------------------
def test_deny_on_tagging_lifecycle_and_encryption_actions(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret/x", Body=b"x", Tagging="project=apollo")
    s3.put_object(Bucket=bucket, Key="open/x", Body=b"x", Tagging="project=gemini")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        {"Sid": "NoTags", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:GetObjectTagging", "s3:PutObjectTagging"], "Resource": f"arn:aws:s3:::{bucket}/secret/*"},
        {"Sid": "NoConfig", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:PutBucketTagging", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"],
         "Resource": f"arn:aws:s3:::{bucket}"}))
    refused: list[Callable[[], object]] = [
        lambda: s3.get_object_tagging(Bucket=bucket, Key="secret/x"),
        lambda: s3.put_object_tagging(Bucket=bucket, Key="secret/x", Tagging={"TagSet": []}),
        lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
        lambda: s3.delete_bucket_tagging(Bucket=bucket),
        lambda: s3.delete_bucket_lifecycle(Bucket=bucket),
        lambda: s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]}),
        lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
        lambda: s3.delete_bucket_encryption(Bucket=bucket),
    ]
    for call in refused:
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught) == "AccessDenied"
    assert s3.get_object_tagging(Bucket=bucket, Key="open/x")["TagSet"] == [{"Key": "project", "Value": "gemini"}]
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="secret/x")  # the count is tags read too
    assert s3.get_object(Bucket=bucket, Key="open/x")["TagCount"] == 1


# --- 4. values AWS refuses ----------------------------------------------------------------------------------
@pytest.mark.parametrize("condition", [
    '{"NumericLessThan": {"s3:signatureAge": NaN}}',
    '{"NumericLessThan": {"s3:signatureAge": "nan"}}',
    '{"NumericGreaterThan": {"s3:signatureAge": "Infinity"}}',
    '{"DateGreaterThan": {"aws:CurrentTime": "99999999999999999999"}}',
    '{"StringEquals": {"aws:Referer": "\\ud800"}}',
])
def test_values_aws_refuses(s3: Any, bucket: str, condition: str) -> None:
    document = ('{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Deny", "Principal": "*", '
                f'"Action": "s3:GetObject", "Resource": "arn:aws:s3:::{bucket}/*", "Condition": {condition}}}]}}')
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert _code(caught) == "MalformedPolicy"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=bucket)  # nothing stored
    assert _code(caught) == "NoSuchBucketPolicy"
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=document.replace('"Sid": "S"', '"Sid": "\\udc00"'))
    assert _code(caught) == "MalformedPolicy"


# --- 3. a whole-bucket PAR zip and a policy Deny on one object ------------------------------------------------
def test_par_zip_leaves_out_what_the_policy_denies(server: SatchelProcess, s3: Any, bucket: str) -> None:
    contents = {"a.txt": b"a" * 1000, "secret/b.txt": b"b" * 1000, "c.txt": b"c" * 1000}
    for key, body in contents.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    par = create(server, bucket=bucket, accessType="AnyObjectRead", bucketListingAction="ListObjects")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/secret/*"}))
    reply = requests.get(url(par), params={"format": "zip"}, timeout=HANG)
    assert reply.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(reply.content))  # complete: a cut stream has no central directory
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == ["a.txt", "c.txt"]
    assert archive.read("a.txt") == contents["a.txt"]
    assert b"1 object(s) left out" in archive.comment and b"bucket policy" in archive.comment
    trail = [e for e in events(server, par["id"]) if e["action"] == "use"]
    assert [(e["outcome"], e["reason"]) for e in trail] == [("allowed", "zip of 2 object(s), 1 left out")]
    assert "ASGI callable returned without completing response" not in server.log_tail(200)


# --- 2. user principals name the user, not the name -----------------------------------------------------------
def _user(server: SatchelProcess, name: str) -> dict[str, Any]:
    users = json.loads(server.admin("user", "list", "--json"))
    rows = users if isinstance(users, list) else users["users"]
    return next(u for u in rows if u["name"] == name)


def test_user_principal_resolved_at_put(server: SatchelProcess, s3: Any, bucket: str) -> None:
    name = f"dave{secrets.token_hex(3)}"
    first = server.create_user(name)
    account = _user(server, name)["account_id"]
    arn = f"arn:aws:iam::{account}:user/{name}"
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"for dave")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "Dave", "Effect": "Allow", "Principal": {"AWS": [arn]}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    shown = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert shown["Statement"][0]["Principal"] == {"AWS": [arn]}  # the ARN while dave exists
    dave = _client(server, first.access_key, first.secret_key)
    assert dave.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"for dave"

    server.admin("user", "delete", name)
    second = server.create_user(name)  # same name, another user
    impostor = _client(server, second.access_key, second.secret_key)
    with pytest.raises(ClientError) as caught:
        impostor.get_object(Bucket=bucket, Key="doc.txt")
    assert _code(caught) == "AccessDenied"
    shown = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    unique = shown["Statement"][0]["Principal"]["AWS"][0]
    assert unique.startswith("AIDA") and name not in unique  # the deleted user's unique id, as AWS shows it
    with pytest.raises(ClientError) as caught:  # re-putting it: that user is gone
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(shown))
    assert _code(caught) == "MalformedPolicy"

    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({  # put again: now it names the new user
        "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert impostor.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"for dave"


def test_unknown_user_principal_refused(server: SatchelProcess, s3: Any, bucket: str) -> None:
    name = f"carol{secrets.token_hex(3)}"
    server.create_user(name)
    account = _user(server, name)["account_id"]
    for ident in (f"arn:aws:iam::{account}:user/{name.capitalize()}", f"arn:aws:iam::{account}:user/nobody{name}",
                  f"arn:aws:iam::{'0' * 32}:user/{name}"):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
                "Effect": "Allow", "Principal": {"AWS": ident}, "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*"}))
        assert _code(caught) == "MalformedPolicy"
        assert "Invalid principal in policy" in caught.value.response["Error"]["Message"]
