"""Number fields a client sends are read as ASCII decimals: ``str.isdigit()`` accepts "²" (and a 5000-digit
string) that ``int()`` then refuses, which answered 500. Each is a 400 with the field named."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from satchel.cli.apiclient import ApiClient, ApiError, Secret
from tests.clients.server import REGION, ServerHandle
from tests.clients.test_presign_post import post, presigned_post


@pytest.mark.parametrize("bad", ["²", "9" * 5000])
def test_copy_source_range(s3: Any, bucket: str, bad: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    try:
        with pytest.raises(ClientError) as refused:
            s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={bad}-3")
        assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload)


@pytest.mark.parametrize("bad", ["²", "9" * 5000])
def test_management_api_limit(satchel_server: ServerHandle, bad: str) -> None:
    client = ApiClient(satchel_server.endpoint, REGION, Secret(satchel_server.access_key, satchel_server.secret_key))
    with pytest.raises(ApiError) as refused:
        client.get("/audit", {"limit": bad})
    assert refused.value.status == 400 and refused.value.code == "InvalidArgument"


def test_post_policy_length_range(s3: Any, bucket: str) -> None:
    form = presigned_post(s3, bucket, key="k", conditions=[["content-length-range", "²", 10]])
    reply = post(form, b"x")
    assert reply.status == 400 and b"<Code>InvalidPolicyDocument</Code>" in reply.body, reply.body
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")
