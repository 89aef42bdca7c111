"""S3 ACLs and Block Public Access on a real server, through boto3, the aws cli and s3cmd; anonymous curl
requests prove what each setting does (``core/acl.py``, ``core/publicaccess.py``, ``core/access.py`` rule 14)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import empty_and_delete, error_code, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, eventually, venv_tool
from tests.clients.test_awscli import AwsCli
from tests.clients.test_s3cmd import S3cmd

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def anonymous_status(server: ServerHandle, path: str) -> int:
    """What curl, with no credentials at all, gets for a GET of ``path``."""
    proc = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{server.endpoint}/{path}"],
                          capture_output=True, text=True, timeout=30, check=True)
    return int(proc.stdout)


def anonymous_body(server: ServerHandle, path: str) -> bytes:
    return subprocess.run(["curl", "-s", "--fail", f"{server.endpoint}/{path}"], capture_output=True,
                          timeout=30, check=True).stdout


def grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """(grantee id or group URI, permission) of a GetBucketAcl / GetObjectAcl answer."""
    return {(g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"]) for g in policy["Grants"]}


@pytest.fixture
def aws(satchel_server: ServerHandle, tmp_path: Path) -> AwsCli:
    home = tmp_path / "home"
    home.mkdir()
    return AwsCli(satchel_server, home)


@pytest.fixture
def acl_bucket(s3: Any) -> Iterator[str]:
    name = unique_bucket("acl")
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_public_access_block(Bucket=name)
    empty_and_delete(s3, name)


def test_object_acl_public_read_with_the_aws_cli(satchel_server: ServerHandle, s3: Any, aws: AwsCli,
                                                acl_bucket: str) -> None:
    s3.put_object(Bucket=acl_bucket, Key="doc.txt", Body=b"hello acl")
    assert anonymous_status(satchel_server, f"{acl_bucket}/doc.txt") == 403

    aws("s3api", "put-object-acl", "--bucket", acl_bucket, "--key", "doc.txt", "--acl", "public-read")
    assert anonymous_body(satchel_server, f"{acl_bucket}/doc.txt") == b"hello acl"
    shown = aws.json("s3api", "get-object-acl", "--bucket", acl_bucket, "--key", "doc.txt")
    owner = s3.list_buckets()["Owner"]["ID"]
    assert shown["Owner"]["ID"] == owner
    assert grants(shown) == {(owner, "FULL_CONTROL"), (ALL_USERS, "READ")}
    # The object's ACL opens that object only: not the listing, not its neighbours.
    s3.put_object(Bucket=acl_bucket, Key="other.txt", Body=b"private")
    assert anonymous_status(satchel_server, f"{acl_bucket}/other.txt") == 403
    assert anonymous_status(satchel_server, acl_bucket) == 403

    # An overwrite is a new object with the ACL its PUT asked for (none: private), as on S3.
    s3.put_object(Bucket=acl_bucket, Key="doc.txt", Body=b"second version")
    assert anonymous_status(satchel_server, f"{acl_bucket}/doc.txt") == 403
    s3.put_object(Bucket=acl_bucket, Key="doc.txt", Body=b"third", ACL="public-read")
    assert anonymous_body(satchel_server, f"{acl_bucket}/doc.txt") == b"third"
    aws("s3api", "put-object-acl", "--bucket", acl_bucket, "--key", "doc.txt", "--acl", "private")
    assert anonymous_status(satchel_server, f"{acl_bucket}/doc.txt") == 403


def test_bucket_acl_with_the_aws_cli(satchel_server: ServerHandle, s3: Any, aws: AwsCli, acl_bucket: str) -> None:
    owner = s3.list_buckets()["Owner"]["ID"]
    assert grants(aws.json("s3api", "get-bucket-acl", "--bucket", acl_bucket)) == {(owner, "FULL_CONTROL")}
    s3.put_object(Bucket=acl_bucket, Key="a.txt", Body=b"a")
    aws("s3api", "put-bucket-acl", "--bucket", acl_bucket, "--grant-read", f'uri="{ALL_USERS}"')
    assert grants(aws.json("s3api", "get-bucket-acl", "--bucket", acl_bucket)) == {
        (owner, "FULL_CONTROL"), (ALL_USERS, "READ")}
    assert anonymous_status(satchel_server, acl_bucket) == 200  # the listing
    aws("s3api", "put-bucket-acl", "--bucket", acl_bucket, "--acl", "private")
    assert anonymous_status(satchel_server, acl_bucket) == 403
    # An AccessControlPolicy body, as GetBucketAcl showed it plus one grant, round-trips.
    policy = s3.get_bucket_acl(Bucket=acl_bucket)
    policy["Grants"].append({"Grantee": {"Type": "Group", "URI": AUTHENTICATED}, "Permission": "READ"})
    s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy={"Grants": policy["Grants"], "Owner": policy["Owner"]})
    assert grants(s3.get_bucket_acl(Bucket=acl_bucket)) == {(owner, "FULL_CONTROL"), (AUTHENTICATED, "READ")}
    assert anonymous_status(satchel_server, acl_bucket) == 403  # authenticated-read is not anonymous
    # Revoking every grant (s3-tests' test_bucket_acl_revoke_all) leaves the owner in control.
    s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy={"Grants": [], "Owner": policy["Owner"]})
    assert grants(s3.get_bucket_acl(Bucket=acl_bucket)) == {(owner, "FULL_CONTROL")}
    s3.put_object(Bucket=acl_bucket, Key="still-mine", Body=b"x")


def test_bad_acls_are_refused(s3: Any, acl_bucket: str) -> None:
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"k")
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: s3.put_object_acl(Bucket=acl_bucket, Key="k", GrantRead='emailAddress="a@example.com"'),
         "UnresolvableGrantByEmailAddress"),
        (lambda: s3.put_object_acl(Bucket=acl_bucket, Key="k", GrantRead='id="no-such-user"'), "InvalidArgument"),
        (lambda: s3.put_object_acl(Bucket=acl_bucket, Key="k", ACL="public-read", GrantRead=f'uri="{ALL_USERS}"'),
         "InvalidRequest"),
        (lambda: s3.put_object_acl(Bucket=acl_bucket, Key="k", ACL="log-delivery-write"), "NotImplemented"),
        (lambda: s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"'),
         "NotImplemented"),
        (lambda: s3.put_object(Bucket=acl_bucket, Key="x", Body=b"", ACL="not-a-canned-acl"), "InvalidArgument"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info.value) == code
    assert s3.list_objects_v2(Bucket=acl_bucket)["KeyCount"] == 1  # nothing was written


def test_user_grants_by_canonical_id(satchel_server: ServerHandle, s3: Any, s3_factory: Any,
                                     member: Callable[[], Credentials], acl_bucket: str) -> None:
    reader = s3_factory(member())
    reader_id = reader.list_buckets()["Owner"]["ID"]
    s3.put_object(Bucket=acl_bucket, Key="for-reader", Body=b"shared")
    with pytest.raises(ClientError) as info:
        reader.get_object(Bucket=acl_bucket, Key="for-reader")
    assert error_code(info.value) == "AccessDenied"
    s3.put_object_acl(Bucket=acl_bucket, Key="for-reader", GrantRead=f'id="{reader_id}"')
    assert reader.get_object(Bucket=acl_bucket, Key="for-reader")["Body"].read() == b"shared"
    # READ is no right to see or change the ACL, nor to list the bucket.
    calls: list[Callable[[], Any]] = [lambda: reader.get_object_acl(Bucket=acl_bucket, Key="for-reader"),
                                      lambda: reader.list_objects_v2(Bucket=acl_bucket)]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info.value) == "AccessDenied"
    s3.put_bucket_acl(Bucket=acl_bucket, GrantRead=f'id="{reader_id}"', GrantWrite=f'id="{reader_id}"')
    assert [o["Key"] for o in reader.list_objects_v2(Bucket=acl_bucket)["Contents"]] == ["for-reader"]
    reader.put_object(Bucket=acl_bucket, Key="from-reader", Body=b"w")
    # A writer through an ACL cannot hand objects on by ACL (that would be sharing without the share right).
    with pytest.raises(ClientError) as info:
        reader.put_object(Bucket=acl_bucket, Key="from-reader", Body=b"w", GrantRead=f'id="{reader_id}"')
    assert error_code(info.value) == "AccessDenied"


def test_a_member_owner_may_not_make_things_public(satchel_server: ServerHandle, s3_factory: Any,
                                                   member: Callable[[], Credentials]) -> None:
    """Publishing is for account admins (access.py rule 9): a public object leaves every link control."""
    client = s3_factory(member())
    name = unique_bucket("aclm")
    client.create_bucket(Bucket=name)
    try:
        client.put_object(Bucket=name, Key="k", Body=b"k")
        calls: list[Callable[[], Any]] = [
            lambda: client.put_object_acl(Bucket=name, Key="k", ACL="public-read"),
            lambda: client.put_object(Bucket=name, Key="p", Body=b"p", ACL="authenticated-read"),
            lambda: client.put_bucket_acl(Bucket=name, ACL="public-read")]
        for call in calls:
            with pytest.raises(ClientError) as info:
                call()
            assert error_code(info.value) == "AccessDenied"
        assert anonymous_status(satchel_server, f"{name}/k") == 403
        client.put_object_acl(Bucket=name, Key="k", ACL="bucket-owner-full-control")  # grants nothing more
    finally:
        empty_and_delete(client, name)
    with pytest.raises(ClientError) as info:
        client.create_bucket(Bucket=unique_bucket("aclm"), ACL="public-read")
    assert error_code(info.value) == "AccessDenied"


def test_canned_acls_on_copy_multipart_and_create_bucket(satchel_server: ServerHandle, s3: Any) -> None:
    name = unique_bucket("aclw")
    s3.create_bucket(Bucket=name, ACL="public-read")
    try:
        assert anonymous_status(satchel_server, name) == 200
        s3.put_bucket_acl(Bucket=name, ACL="private")
        s3.put_object(Bucket=name, Key="src", Body=b"source")
        s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "src"}, ACL="public-read")
        assert anonymous_body(satchel_server, f"{name}/copy") == b"source"
        assert anonymous_status(satchel_server, f"{name}/src") == 403  # the source keeps its own ACL
        # A copy that changes the encryption streams through the cipher into a new blob: it keeps its ACL too.
        s3.copy_object(Bucket=name, Key="sealed", CopySource={"Bucket": name, "Key": "src"}, ACL="public-read",
                       ServerSideEncryption="AES256")
        assert anonymous_body(satchel_server, f"{name}/sealed") == b"source"
        upload = s3.create_multipart_upload(Bucket=name, Key="mp", ACL="public-read")["UploadId"]
        part = s3.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=1, Body=b"multi")
        assert anonymous_status(satchel_server, f"{name}/mp") == 403  # nothing yet
        s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert anonymous_body(satchel_server, f"{name}/mp") == b"multi"
    finally:
        empty_and_delete(s3, name)


def test_anonymous_post_to_a_public_read_write_bucket(satchel_server: ServerHandle, s3: Any) -> None:
    name = unique_bucket("aclp")
    s3.create_bucket(Bucket=name)
    try:
        form = {"key": "drop/${filename}"}
        refused = requests.post(f"{satchel_server.endpoint}/{name}", data=form,
                                files={"file": ("a.txt", b"nope")}, timeout=30)
        assert refused.status_code == 403 and b"AccessDenied" in refused.content
        s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
        answer = requests.post(f"{satchel_server.endpoint}/{name}", data=form,
                               files={"file": ("a.txt", b"dropped in")}, timeout=30)
        assert answer.status_code == 204, answer.text
        assert s3.get_object(Bucket=name, Key="drop/a.txt")["Body"].read() == b"dropped in"
        put = requests.put(f"{satchel_server.endpoint}/{name}/drop/put.txt", data=b"anonymous put", timeout=30)
        assert put.status_code == 200, put.text  # AllUsers WRITE: an anonymous PutObject works too
        assert s3.get_object(Bucket=name, Key="drop/put.txt")["Body"].read() == b"anonymous put"
        # No anonymous ACL: an anonymous writer may not make what it wrote public by itself.
        public = requests.post(f"{satchel_server.endpoint}/{name}", data={**form, "acl": "public-read"},
                               files={"file": ("b.txt", b"x")}, timeout=30)
        assert public.status_code == 403
    finally:
        empty_and_delete(s3, name)


def test_public_access_block_of_a_bucket(satchel_server: ServerHandle, s3: Any, aws: AwsCli,
                                         acl_bucket: str) -> None:
    s3.put_object(Bucket=acl_bucket, Key="pub", Body=b"public", ACL="public-read")
    assert anonymous_status(satchel_server, f"{acl_bucket}/pub") == 200
    missing = aws("s3api", "get-public-access-block", "--bucket", acl_bucket, check=False)
    assert missing.returncode != 0 and "NoSuchPublicAccessBlockConfiguration" in missing.stderr

    aws("s3api", "put-public-access-block", "--bucket", acl_bucket, "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=false")
    assert aws.json("s3api", "get-public-access-block", "--bucket", acl_bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    refused = aws("s3api", "put-object-acl", "--bucket", acl_bucket, "--key", "pub", "--acl", "public-read",
                  check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=acl_bucket, Key="new", Body=b"n", ACL="public-read")
    assert error_code(info.value) == "AccessDenied"
    assert "new" not in [o["Key"] for o in s3.list_objects_v2(Bucket=acl_bucket).get("Contents", [])]
    assert anonymous_status(satchel_server, f"{acl_bucket}/pub") == 200  # blocking new ones keeps old ones

    s3.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert anonymous_status(satchel_server, f"{acl_bucket}/pub") == 403
    s3.put_object_acl(Bucket=acl_bucket, Key="pub", ACL="public-read")  # allowed: BlockPublicAcls is off now
    assert anonymous_status(satchel_server, f"{acl_bucket}/pub") == 403  # and ignored
    aws("s3api", "delete-public-access-block", "--bucket", acl_bucket)
    assert anonymous_status(satchel_server, f"{acl_bucket}/pub") == 200


def test_public_access_block_of_an_account(managed_server: SatchelProcess, s3: Any, acl_bucket: str) -> None:
    s3.put_object(Bucket=acl_bucket, Key="pub", Body=b"public", ACL="public-read")
    managed_server.admin("public-access-block", "set", "root", "--ignore-public-acls", "--block-public-acls")
    try:
        assert eventually(lambda: anonymous_status(managed_server, f"{acl_bucket}/pub") == 403)
        with pytest.raises(ClientError) as info:
            s3.put_object_acl(Bucket=acl_bucket, Key="pub", ACL="public-read")
        assert error_code(info.value) == "AccessDenied"
        # The admin's own switch obeys it too.
        proc = subprocess.run([*_satchel_admin(managed_server), "bucket", "public", "on", acl_bucket],
                              capture_output=True, text=True, timeout=60, check=False, env=managed_server.env())
        assert proc.returncode != 0 and "BlockPublicAcls" in proc.stderr
        reply = mgmt.call(managed_server, None, "PUT", f"/buckets/{acl_bucket}/settings", {"public_read": True})
        assert (reply.status_code, mgmt.error_code(reply)) == (403, "AccessDenied")
        shown = mgmt.ok(mgmt.call(managed_server, None, "GET", "/accounts/root/public-access-block"))
        assert shown == {"account": "root", "configured": True, "block_public_acls": True,
                         "ignore_public_acls": True, "block_public_policy": False, "restrict_public_buckets": False}
        # A bucket's own setting is its own: the account's is not part of GetPublicAccessBlock.
        with pytest.raises(ClientError) as info:
            s3.get_public_access_block(Bucket=acl_bucket)
        assert error_code(info.value) == "NoSuchPublicAccessBlockConfiguration"
    finally:
        managed_server.admin("public-access-block", "delete", "root")
    assert eventually(lambda: anonymous_status(managed_server, f"{acl_bucket}/pub") == 200)


def _satchel_admin(server: SatchelProcess) -> list[str]:
    return [venv_tool("satchel"), "admin", "--data-dir", str(server.data_dir)]


def test_s3cmd_setacl_and_info(satchel_server: ServerHandle, s3: Any, tmp_path: Path, acl_bucket: str) -> None:
    root = Credentials(satchel_server.access_key, satchel_server.secret_key)
    s3cmd = S3cmd(satchel_server, tmp_path / "s3cfg", False, root)
    s3.put_object(Bucket=acl_bucket, Key="s.txt", Body=b"via s3cmd")
    s3cmd("setacl", "--acl-public", f"s3://{acl_bucket}/s.txt")
    assert anonymous_body(satchel_server, f"{acl_bucket}/s.txt") == b"via s3cmd"
    info = s3cmd("info", f"s3://{acl_bucket}/s.txt").stdout
    assert "*anon*: READ" in info
    s3cmd("setacl", "--acl-private", f"s3://{acl_bucket}/s.txt")
    assert anonymous_status(satchel_server, f"{acl_bucket}/s.txt") == 403
    assert "*anon*" not in s3cmd("info", f"s3://{acl_bucket}/s.txt").stdout


def test_post_policy_acl_field(s3: Any, acl_bucket: str) -> None:
    """The form's ``acl`` is checked against the policy as every field, and a link makes nothing public."""
    def post(fields: dict[str, str], conditions: list[Any], key: str) -> requests.Response:
        form = s3.generate_presigned_post(Bucket=acl_bucket, Key=key, Fields=fields, Conditions=conditions)
        return requests.post(form["url"], data=form["fields"], files={"file": ("f", b"body")}, timeout=30)

    assert post({"acl": "bucket-owner-full-control"}, [{"acl": "bucket-owner-full-control"}], "ok").status_code == 204
    unsigned = s3.generate_presigned_post(Bucket=acl_bucket, Key="unsigned")
    reply = requests.post(unsigned["url"], data={**unsigned["fields"], "acl": "private"},
                          files={"file": ("f", b"x")}, timeout=30)
    assert reply.status_code == 403 and b"Policy" in reply.content  # a field the policy does not name
    reply = post({"acl": "public-read"}, [{"acl": "public-read"}], "public")
    assert reply.status_code == 403 and b"ACLs cannot be read or changed through a link" in reply.content
    url = s3.generate_presigned_url("put_object", Params={"Bucket": acl_bucket, "Key": "presigned",
                                                          "ACL": "public-read"})
    reply = requests.put(url, data=b"x", headers={"x-amz-acl": "public-read"}, timeout=30)
    assert reply.status_code == 403 and b"ACLs cannot be read or changed through a link" in reply.content
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=acl_bucket)["Contents"]]
    assert keys == ["ok"]


def test_public_access_block_and_bucket_policies(satchel_server: ServerHandle, s3: Any, aws: AwsCli,
                                                 acl_bucket: str) -> None:
    """BlockPublicPolicy refuses a public policy at PUT (AWS: 403); RestrictPublicBuckets voids one in place."""
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{acl_bucket}/*"}]})
    s3.put_object(Bucket=acl_bucket, Key="p", Body=b"by policy")
    s3.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    refused = aws("s3api", "put-bucket-policy", "--bucket", acl_bucket, "--policy", public, check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr and "BlockPublicPolicy" in refused.stderr
    s3.delete_public_access_block(Bucket=acl_bucket)
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=public)
    try:
        assert anonymous_body(satchel_server, f"{acl_bucket}/p") == b"by policy"
        s3.put_public_access_block(Bucket=acl_bucket,
                                   PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
        assert anonymous_status(satchel_server, f"{acl_bucket}/p") == 403
        s3.delete_public_access_block(Bucket=acl_bucket)
        assert anonymous_status(satchel_server, f"{acl_bucket}/p") == 200
    finally:
        s3.delete_bucket_policy(Bucket=acl_bucket)


def test_a_policy_deny_wins_over_acls(satchel_server: ServerHandle, s3: Any, acl_bucket: str) -> None:
    s3.put_object(Bucket=acl_bucket, Key="pub", Body=b"x", ACL="public-read")
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObjectAcl", "Resource": f"arn:aws:s3:::{acl_bucket}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{acl_bucket}/pub"}]}))
    try:
        with pytest.raises(ClientError) as info:
            s3.put_object_acl(Bucket=acl_bucket, Key="pub", ACL="private")
        assert error_code(info.value) == "AccessDenied"
        assert anonymous_status(satchel_server, f"{acl_bucket}/pub") == 403  # the object's public-read is denied
        assert grants(s3.get_object_acl(Bucket=acl_bucket, Key="pub")) >= {(ALL_USERS, "READ")}
    finally:
        s3.delete_bucket_policy(Bucket=acl_bucket)
