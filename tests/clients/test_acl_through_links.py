"""ACLs never work through a link (``access.ACL_NOT_THROUGH_LINK``): a presigned PutObjectAcl /
PutBucketAcl, even its bucket owner's, would let whoever holds the URL pick any ACL (FULL_CONTROL to
another account) outside every sharing control; a presigned Get*Acl is refused too. Each refusal is a
clear 403 that says why, audited as refused, and changes nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import empty_and_delete, error_code, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, eventually
from tests.clients.test_policy_hardening import _user

WHY = b"ACLs cannot be read or changed through a link"


@pytest.fixture
def acl_bucket(s3: Any) -> Iterator[str]:
    name = unique_bucket("acllink")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="doc", Body=b"private")
    yield name
    empty_and_delete(s3, name)


def _curl(method: str, url: str, body: bytes = b"") -> tuple[int, bytes]:
    # No Content-Type: a SigV2 presigned URL signs it, and boto3 signed none.
    send = ["--data-binary", "@-", "-H", "Content-Type:"] if body else []
    proc = subprocess.run(["curl", "-s", "-X", method, *send, "-w", "\n%{http_code}", url],
                          input=body, capture_output=True, timeout=30, check=True)
    content, _, status = proc.stdout.rpartition(b"\n")
    return int(status), content


def _full_control_to(owner_id: str, grantee_id: str) -> bytes:
    return (f'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>{owner_id}</ID>'
            '</Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:type="CanonicalUser"><ID>{grantee_id}</ID></Grantee><Permission>FULL_CONTROL</Permission>'
            '</Grant></AccessControlList></AccessControlPolicy>').encode()


def test_presigned_acl_requests_are_refused(managed_server: SatchelProcess, s3: Any,
                                            member: Callable[[], Credentials], acl_bucket: str) -> None:
    other = member()
    other_id = _user(managed_server, other.user)["id"]
    owner_id = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]["ID"]
    body = _full_control_to(owner_id, other_id)
    for operation, params in (("put_object_acl", {"Key": "doc"}), ("put_bucket_acl", {})):
        url = s3.generate_presigned_url(operation, Params={"Bucket": acl_bucket, **params}, ExpiresIn=300)
        status, content = _curl("PUT", url, body)
        assert status == 403 and WHY in content, content
    for operation, params in (("get_object_acl", {"Key": "doc"}), ("get_bucket_acl", {})):
        url = s3.generate_presigned_url(operation, Params={"Bucket": acl_bucket, **params}, ExpiresIn=300)
        status, content = _curl("GET", url)
        assert status == 403 and WHY in content, content
    # Nothing changed: the other account's user got no grant.
    for answer in (s3.get_object_acl(Bucket=acl_bucket, Key="doc"), s3.get_bucket_acl(Bucket=acl_bucket)):
        assert not any(g["Grantee"].get("ID") == other_id for g in answer["Grants"])

    def refused() -> list[dict[str, Any]]:
        answer = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/audit?bucket={acl_bucket}&outcome=refused"))
        return [e for e in answer["events"] if WHY.decode() in (e.get("reason") or "")]

    assert eventually(lambda: len(refused()) >= 4), refused()


@pytest.mark.parametrize("duplicated", ["Permission", "ID"])
def test_a_grant_with_a_duplicated_element_is_malformed(s3: Any, s3_factory: Callable[..., Any],
                                                        acl_bucket: str, duplicated: str) -> None:
    """A Grant with two <Permission> (or a Grantee with two <ID>) is MalformedACLError, as on AWS: neither
    reading of it may win silently."""
    owner_id = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]["ID"]
    body = _full_control_to(owner_id, owner_id)
    if duplicated == "Permission":
        body = body.replace(b"<Permission>FULL_CONTROL</Permission>",
                            b"<Permission>READ</Permission><Permission>FULL_CONTROL</Permission>")
    else:
        body = body.replace(f"<ID>{owner_id}</ID></Grantee>".encode(),
                            f"<ID>{owner_id}</ID><ID>someone-else</ID></Grantee>".encode())
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        for name in [h for h in request.headers if h.lower() in ("content-md5", "content-length", "x-amz-acl")
                     or h.lower().startswith("x-amz-checksum") or h.lower() == "x-amz-sdk-checksum-algorithm"]:
            del request.headers[name]
        request.data = body
        request.headers["Content-Length"] = str(len(body))

    client.meta.events.register("before-sign.s3.PutObjectAcl", hook)
    before = s3.get_object_acl(Bucket=acl_bucket, Key="doc")["Grants"]
    with pytest.raises(ClientError) as caught:
        client.put_object_acl(Bucket=acl_bucket, Key="doc", ACL="private")
    assert error_code(caught.value) == "MalformedACLError", caught.value.response
    assert s3.get_object_acl(Bucket=acl_bucket, Key="doc")["Grants"] == before
