"""Requests that say one thing twice, or ask for nothing we can name, are refused (hostile review B).

Before, the first value won: ``DELETE ?versionId=null&versionId=x`` deleted, two upload ids completed
the first, a DeleteObjects entry with two keys deleted the first, and a valueless ``x-amz-*`` query
name slipped past the unknown-subresource refusal, deleting the object or the bucket.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, unique_bucket
from tests.clients.server import ServerHandle


def _send(server: ServerHandle, method: str, target: str, body: bytes = b"",
          headers: dict[str, str] | None = None) -> requests.Response:
    """``method target`` signed with SigV4 by botocore, sent as is by requests."""
    url = f"{server.endpoint}{target}"
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(request)
    return requests.request(method, url, data=body, headers=dict(request.headers.items()), timeout=10)


def _answer(reply: requests.Response) -> tuple[int, str]:
    code = reply.text.partition("<Code>")[2].partition("</Code>")[0]
    return reply.status_code, code


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.mark.parametrize("name", ["x-amz-foo", "X-Amz-Foo"])
def test_valueless_amz_query_name_deletes_nothing(satchel_server: ServerHandle, s3: Any, bucket: str,
                                                  name: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep")
    assert _answer(_send(satchel_server, "DELETE", f"/{bucket}/k?{name}")) == (501, "NotImplemented")
    assert _keys(s3, bucket) == ["k"]
    victim = unique_bucket("victim")
    s3.create_bucket(Bucket=victim)
    assert _answer(_send(satchel_server, "DELETE", f"/{victim}?{name}")) == (501, "NotImplemented")
    assert victim in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.delete_bucket(Bucket=victim)


def test_duplicated_identifying_parameters_are_refused(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep")
    refused = (400, "InvalidArgument")
    assert _answer(_send(satchel_server, "DELETE", f"/{bucket}/k?versionId=null&versionId=x")) == refused
    assert _answer(_send(satchel_server, "GET", f"/{bucket}?list-type=2&prefix=a&prefix=k")) == refused
    first = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=first, PartNumber=1, Body=b"new")["ETag"]
    document = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
                "</CompleteMultipartUpload>").encode()
    reply = _send(satchel_server, "POST", f"/{bucket}/k?uploadId={first}&uploadId={second}", document)
    assert _answer(reply) == refused
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"keep"
    assert len(s3.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 2
    # A cache-buster a read ignores may repeat.
    assert _send(satchel_server, "GET", f"/{bucket}/k?_t=1&_t=2").content == b"keep"


def test_delete_objects_entry_with_two_keys_is_malformed(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    for key in ("zz", "yy"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"keep")
    document = b"<Delete><Object><Key>zz</Key><Key>yy</Key></Object></Delete>"
    md5 = base64.b64encode(hashlib.md5(document).digest()).decode()  # noqa: S324 - Content-MD5
    reply = _send(satchel_server, "POST", f"/{bucket}?delete", document, {"Content-MD5": md5})
    assert _answer(reply) == (400, "MalformedXML")
    assert _keys(s3, bucket) == ["yy", "zz"]


@pytest.mark.parametrize("document", [
    b"<Delete><Object><Key>zz</Key><etag>nomatch</etag></Object></Delete>",
    b"<Delete><Object><Key>zz</Key><IfMatch>nomatch</IfMatch></Object></Delete>",
    b"<Delete><Quiet>true</Quiet><Quiet>false</Quiet><Object><Key>zz</Key></Object></Delete>",
    b"<Delete><Object><Key>zz</Key></Object><IfMatch>nomatch</IfMatch></Delete>",
])
def test_delete_objects_field_unread_or_twice_is_malformed(satchel_server: ServerHandle, s3: Any, bucket: str,
                                                          document: bytes) -> None:
    """Hostile review C: an unknown field (a condition we do not read, ``<etag>`` in the wrong case)
    was ignored and the key deleted unconditionally; ``<Quiet>`` twice was accepted."""
    s3.put_object(Bucket=bucket, Key="zz", Body=b"keep")
    md5 = base64.b64encode(hashlib.md5(document).digest()).decode()  # noqa: S324 - Content-MD5
    reply = _send(satchel_server, "POST", f"/{bucket}?delete", document, {"Content-MD5": md5})
    assert _answer(reply) == (400, "MalformedXML")
    assert _keys(s3, bucket) == ["zz"]


@pytest.mark.parametrize("element", ["ChecksumCRC32", "ETag", "PartNumber", "checksumcrc32"])
def test_complete_part_field_twice_is_malformed(satchel_server: ServerHandle, s3: Any, bucket: str,
                                                element: str) -> None:
    """Hostile review C: a ``<Part>`` with two ``<ChecksumCRC32>`` (wrong, then right) completed, the
    last winning, while two ``<ETag>`` took the first. Any field twice is MalformedXML, and so is one S3
    does not define (``<checksumcrc32>`` beside the right one, unread)."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"new",
                          ChecksumAlgorithm="CRC32")
    fields = {"PartNumber": "1", "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}
    wrong = {"PartNumber": "2", "ETag": '"0123456789abcdef0123456789abcdef"', "ChecksumCRC32": "AAAAAA=="}
    if element in fields:
        inner = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items() if name != element)
        inner += f"<{element}>{wrong[element]}</{element}><{element}>{fields[element]}</{element}>"
    else:
        inner = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
        inner += f"<{element}>AAAAAA==</{element}>"
    document = f"<CompleteMultipartUpload><Part>{inner}</Part></CompleteMultipartUpload>".encode()
    reply = _send(satchel_server, "POST", f"/{bucket}/k?uploadId={upload}", document)
    assert _answer(reply) == (400, "MalformedXML")
    assert _keys(s3, bucket) == []


def test_copy_source_with_an_ambiguous_query_is_refused(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    with pytest.raises(ClientError) as caught:  # botocore sends this one as given
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"/{bucket}/src?versionId=null&versionId=x")
    assert (http_status(caught.value), error_code(caught.value)) == (400, "InvalidArgument")
    for query in ("?foo", "?versionId=", "?versionId=null&foo"):  # botocore would percent-encode these
        reply = _send(satchel_server, "PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}/src{query}"})
        assert _answer(reply) == (400, "InvalidArgument"), query
    assert _keys(s3, bucket) == ["src"]


def test_copy_source_version_null_still_copies(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": "null"})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"source"


def test_part_number_with_range_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as caught:
            call(Bucket=bucket, Key="k", PartNumber=1, Range="bytes=0-1")
        assert http_status(caught.value) == 400
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k", PartNumber=1, Range="bytes=0-1")
    assert error_code(caught.value) == "InvalidRequest"
    assert s3.get_object(Bucket=bucket, Key="k", PartNumber=1)["Body"].read() == b"0123456789"
