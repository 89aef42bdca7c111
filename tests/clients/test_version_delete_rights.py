"""Deleting a version for good (DeleteObject / DeleteObjects naming a version id) is AWS's
s3:DeleteObjectVersion, a right of its own (``Action.OBJECT_VERSION_DELETE``): a bucket ACL WRITE grant
(to AllUsers or to a user) and an admin-made read-write grant let their holder add a delete marker, never
erase history; a bucket policy Allow naming s3:DeleteObjectVersion does, as on AWS."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, unique_bucket
from tests.clients.server import Credentials, SatchelProcess
from tests.clients.test_boto3_versioning import _drop_all_versions
from tests.clients.test_policy_hardening import _user


@pytest.fixture
def versioned(s3: Any) -> Iterator[tuple[str, str]]:
    """A versioned bucket holding ``doc`` twice: (bucket, the first version's id)."""
    name = unique_bucket("vdel")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=name, Key="doc", Body=b"first")["VersionId"]
    s3.put_object(Bucket=name, Key="doc", Body=b"second")
    yield name, first
    s3.delete_public_access_block(Bucket=name)
    s3.delete_bucket_policy(Bucket=name)
    _drop_all_versions(s3, name)


def _versions(s3: Any, bucket: str) -> set[str]:
    return {v["VersionId"] for v in s3.list_object_versions(Bucket=bucket).get("Versions", [])}


def _client_of(s3_factory: Callable[..., Any], creds: Credentials) -> Any:
    return s3_factory(creds)


def test_public_write_acl_does_not_delete_versions(managed_server: SatchelProcess, s3: Any,
                                                   versioned: tuple[str, str]) -> None:
    bucket, first = versioned
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_acl(Bucket=bucket, GrantWrite='uri="http://acs.amazonaws.com/groups/global/AllUsers"',
                      GrantFullControl=f'id="{s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]}"')
    url = f"{managed_server.endpoint}/{bucket}/doc?versionId={first}"
    status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", url],
                            capture_output=True, text=True, timeout=30, check=True).stdout
    assert status == "403"
    assert first in _versions(s3, bucket)
    # What the WRITE grant does give: an anonymous delete adds a marker.
    status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                             f"{managed_server.endpoint}/{bucket}/doc"],
                            capture_output=True, text=True, timeout=30, check=True).stdout
    assert status == "204" and first in _versions(s3, bucket)


def test_read_write_grant_and_acl_write_do_not_delete_versions(
        managed_server: SatchelProcess, s3: Any, s3_factory: Callable[..., Any],
        member: Callable[[], Credentials], versioned: tuple[str, str]) -> None:
    bucket, first = versioned
    granted, acl_writer = member(), member()
    managed_server.grant(granted.user, bucket, "read-write")
    writer_id = _user(managed_server, acl_writer.user)["id"]
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f'id="{writer_id}"', GrantFullControl=f'id="{owner_id}"')
    for creds in (granted, acl_writer):
        client = _client_of(s3_factory, creds)
        with pytest.raises(ClientError) as caught:
            client.delete_object(Bucket=bucket, Key="doc", VersionId=first)
        assert error_code(caught.value) == "AccessDenied"
        answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "doc", "VersionId": first}]})
        assert [e["Code"] for e in answer.get("Errors", [])] == ["AccessDenied"] and not answer.get("Deleted")
        assert first in _versions(s3, bucket)
        marker = client.delete_object(Bucket=bucket, Key="doc")  # a plain delete: a marker, as on AWS
        assert marker.get("DeleteMarker") is True
        with pytest.raises(ClientError) as caught:  # and the marker, once there, is a version too
            client.delete_object(Bucket=bucket, Key="doc", VersionId=marker["VersionId"])
        assert error_code(caught.value) == "AccessDenied"


def test_a_policy_allow_of_delete_object_version_gives_it(
        managed_server: SatchelProcess, s3: Any, s3_factory: Callable[..., Any],
        member: Callable[[], Credentials], versioned: tuple[str, str]) -> None:
    bucket, first = versioned
    who = member()
    account = _user(managed_server, who.user)["account_id"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/{who.user}"},
        "Action": "s3:DeleteObjectVersion", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    _client_of(s3_factory, who).delete_object(Bucket=bucket, Key="doc", VersionId=first)
    assert first not in _versions(s3, bucket)
