"""A multipart upload's ACL is applied at CompleteMultipartUpload, so it is checked again there, for the
principal completing it and the bucket as it is then (``acl.check_deferred``): a public ACL asked for at
CreateMultipartUpload is refused once BlockPublicAcls is on, and a member completing an admin's public
upload with her own parts may not publish it. Refused with the 403 a PutObject asking for that ACL gets,
the upload stays intact (it can still be completed by someone allowed, or aborted)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import empty_and_delete, error_code, unique_bucket
from tests.clients.server import Credentials, SatchelProcess


@pytest.fixture
def mp_bucket(s3: Any) -> Iterator[str]:
    name = unique_bucket("mpacl")
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_public_access_block(Bucket=name)
    empty_and_delete(s3, name)


def _anonymous_status(server: SatchelProcess, path: str) -> int:
    proc = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{server.endpoint}/{path}"],
                          capture_output=True, text=True, timeout=30, check=True)
    return int(proc.stdout)


def _public_upload(client: Any, bucket: str) -> tuple[str, list[dict[str, Any]]]:
    upload = client.create_multipart_upload(Bucket=bucket, Key="doc", ACL="public-read")["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key="doc", UploadId=upload, PartNumber=1, Body=b"admin bytes")["ETag"]
    return upload, [{"PartNumber": 1, "ETag": etag}]


def test_block_public_acls_turned_on_since_creation(managed_server: SatchelProcess, s3: Any, mp_bucket: str) -> None:
    upload, parts = _public_upload(s3, mp_bucket)
    s3.put_public_access_block(Bucket=mp_bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=mp_bucket, Key="doc", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
    assert error_code(caught.value) == "AccessDenied"
    assert "BlockPublicAcls" in caught.value.response["Error"]["Message"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=mp_bucket, Key="doc", UploadId=upload)["Parts"]] == [1]
    assert _anonymous_status(managed_server, f"{mp_bucket}/doc") in (403, 404)
    s3.delete_public_access_block(Bucket=mp_bucket)  # lifted again: the very same upload completes, public
    s3.complete_multipart_upload(Bucket=mp_bucket, Key="doc", UploadId=upload, MultipartUpload={"Parts": parts})
    assert _anonymous_status(managed_server, f"{mp_bucket}/doc") == 200


def test_a_member_cannot_complete_an_admins_public_upload(
        managed_server: SatchelProcess, s3: Any, s3_factory: Callable[..., Any],
        member: Callable[[], Credentials], mp_bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=mp_bucket, Key="doc", ACL="public-read")["UploadId"]
    writer = member()
    managed_server.grant(writer.user, mp_bucket, "read-write")
    client = s3_factory(writer)
    etag = client.upload_part(Bucket=mp_bucket, Key="doc", UploadId=upload, PartNumber=1, Body=b"member bytes")["ETag"]
    with pytest.raises(ClientError) as caught:
        client.complete_multipart_upload(Bucket=mp_bucket, Key="doc", UploadId=upload,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert error_code(caught.value) == "AccessDenied"
    assert _anonymous_status(managed_server, f"{mp_bucket}/doc") in (403, 404)
    assert s3.list_multipart_uploads(Bucket=mp_bucket)["Uploads"][0]["UploadId"] == upload
    # A plain upload of her own (no ACL) she completes as before.
    own = client.create_multipart_upload(Bucket=mp_bucket, Key="mine")["UploadId"]
    etag = client.upload_part(Bucket=mp_bucket, Key="mine", UploadId=own, PartNumber=1, Body=b"mine")["ETag"]
    client.complete_multipart_upload(Bucket=mp_bucket, Key="mine", UploadId=own,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})


def test_a_demoted_creator_cannot_complete_his_public_upload(
        managed_server: SatchelProcess, s3: Any, s3_factory: Callable[..., Any], mp_bucket: str) -> None:
    name = f"adm{uuid.uuid4().hex[:10]}"
    creator = managed_server.create_user(name, role="admin")
    client = s3_factory(creator)
    upload, parts = _public_upload(client, mp_bucket)
    mgmt.ok(mgmt.call(managed_server, None, "PUT", f"/users/{name}", {"role": "member"}))
    managed_server.grant(name, mp_bucket, "read-write")  # he may still write: only publishing is gone
    with pytest.raises(ClientError) as caught:
        client.complete_multipart_upload(Bucket=mp_bucket, Key="doc", UploadId=upload,
                                         MultipartUpload={"Parts": parts})
    assert error_code(caught.value) == "AccessDenied"
    assert _anonymous_status(managed_server, f"{mp_bucket}/doc") in (403, 404)
