"""What a client asks the server to check is checked (hostile review B), through boto3 and raw forms.

Before: ``x-amz-checksum-crc64nvme`` (any value, even ``garbage``) was stored unchecked; a wrong
``<ChecksumCRC32>`` for a part completed the upload; a POST form's ``x-amz-checksum-crc32`` and
``Content-MD5`` fields were ignored; form bytes that are not UTF-8 became U+FFFD (two keys, one
object); control characters went into metadata, CORS rules and redirects. Now each is checked or
refused with AWS's error, and nothing is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import uuid
import zlib
from typing import Any
from urllib.parse import urlsplit

import defusedxml.ElementTree as ET
import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status
from tests.clients.sigv4_stream import Signer


def _crc64nvme_table() -> list[int]:
    # CRC-64/NVME (RevEng catalogue): poly 0xad93d23594c93659 reflected, init and xorout all ones.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x9A6C9329AC4BC9B5 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc64nvme_table()


def crc64nvme(data: bytes) -> str:
    """An independent reference (botocore needs awscrt for CRC64NVME; the server uses anycrc)."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()


def test_reference_crc64nvme_matches_the_catalogue() -> None:
    assert base64.b64decode(crc64nvme(b"123456789")) == bytes.fromhex("ae8b14860a799888")


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _absent(s3: Any, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key=key)
    assert http_status(exc.value) == 404


def _refused(exc: pytest.ExceptionInfo[ClientError], code: str) -> None:
    assert (http_status(exc.value), error_code(exc.value)) == (400, code)


# --- CRC64NVME ------------------------------------------------------------------------------------
def test_crc64nvme_is_computed_and_checked(s3: Any, bucket: str) -> None:
    data = os.urandom(70_001)
    put = s3.put_object(Bucket=bucket, Key="nvme", Body=data, ChecksumCRC64NVME=crc64nvme(data))
    assert put["ChecksumCRC64NVME"] == crc64nvme(data)
    got = s3.get_object(Bucket=bucket, Key="nvme", ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["ChecksumCRC64NVME"] == crc64nvme(data)
    for wrong, code in ((crc64nvme(b"other"), "BadDigest"), ("AAAAAAAAAAA=", "BadDigest"),
                        ("garbage", "InvalidRequest")):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="nvme", Body=b"replacement", ChecksumCRC64NVME=wrong)
        _refused(exc, code)
    assert s3.get_object(Bucket=bucket, Key="nvme")["Body"].read() == data


def test_crc64nvme_multipart_is_a_full_object_checksum(s3: Any, bucket: str) -> None:
    first = os.urandom(1024) * (5 * 1024)  # 5 MiB, its CRC computed once from a repeated kilobyte's
    parts = [first, os.urandom(1234)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC64NVME")["UploadId"]
    listed = []
    for number, part in enumerate(parts, 1):
        # A part's checksum is of the upload's algorithm (AWS refuses another, as Satchel does).
        answer = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=part,
                                ChecksumCRC64NVME=crc64nvme(part))
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC64NVME": answer["ChecksumCRC64NVME"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                        MultipartUpload={"Parts": listed})
    assert done["ChecksumCRC64NVME"] == crc64nvme(b"".join(parts))


def test_sha512_and_md5_checksums_are_checked(s3: Any, bucket: str) -> None:
    """The newer algorithms of botocore's model: computed where Satchel can, refused where it cannot."""
    data = b"newer algorithms"
    for member, digest in (("ChecksumSHA512", hashlib.sha512), ("ChecksumMD5", hashlib.md5)):
        right = base64.b64encode(digest(data).digest()).decode()
        wrong = base64.b64encode(digest(b"other").digest()).decode()
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="new", Body=data, **{member: wrong})
        _refused(exc, "BadDigest")
        _absent(s3, bucket, "new")
        assert s3.put_object(Bucket=bucket, Key="new", Body=data, **{member: right})[member] == right
        s3.delete_object(Bucket=bucket, Key="new")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="new", Body=data, ChecksumXXHASH64="AAAAAAAAAAA=")
    _refused(exc, "InvalidRequest")
    _absent(s3, bucket, "new")


def test_complete_checks_the_whole_object(s3: Any, bucket: str) -> None:
    """CompleteMultipartUpload's x-amz-checksum-*, -type and x-amz-mp-object-size are checked, not ignored
    (the checksum headers used to be compared with the XML body, refusing a right full-object value)."""
    data = b"whole object"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="w", ChecksumAlgorithm="CRC64NVME")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="w", UploadId=upload, PartNumber=1, Body=data,
                          ChecksumCRC64NVME=crc64nvme(data))["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag, "ChecksumCRC64NVME": crc64nvme(data)}]}
    for extra, code in (({"ChecksumCRC64NVME": crc64nvme(b"other")}, "BadDigest"),
                        ({"ChecksumCRC32": crc32(data)}, "InvalidRequest"),
                        ({"ChecksumType": "COMPOSITE"}, "InvalidRequest"),
                        ({"MpuObjectSize": len(data) + 1}, "InvalidRequest")):
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(Bucket=bucket, Key="w", UploadId=upload, MultipartUpload=parts, **extra)
        _refused(exc, code)
        _absent(s3, bucket, "w")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="w", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": etag, "ChecksumXXHASH64": "AAAAAAAAAAA="}]})
    _refused(exc, "InvalidRequest")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="w", UploadId=upload, MultipartUpload=parts,
                                        ChecksumCRC64NVME=crc64nvme(data), ChecksumType="FULL_OBJECT",
                                        MpuObjectSize=len(data))
    assert done["ChecksumCRC64NVME"] == crc64nvme(data)


@pytest.mark.parametrize(("create", "status", "code"), [
    ({"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}, 501, "NotImplemented"),
    ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"}, 400, "InvalidRequest"),
    ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"}, 400, "InvalidRequest"),
    ({"ChecksumType": "COMPOSITE"}, 400, "InvalidRequest"),
])
def test_create_upload_checksum_type_honoured_or_refused(s3: Any, bucket: str, create: dict[str, str],
                                                         status: int, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="t", **create)
    assert (http_status(exc.value), error_code(exc.value)) == (status, code)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


# --- CompleteMultipartUpload part checksums -------------------------------------------------------
def _upload_one_part(s3: Any, bucket: str, key: str, data: bytes, **create: Any) -> tuple[str, str]:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=data,
                          ChecksumAlgorithm="CRC32")["ETag"]
    return upload, etag


def _complete(s3: Any, bucket: str, key: str, upload: str, part: dict[str, str]) -> Any:
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, **part}]})


def test_complete_checks_part_checksums(s3: Any, bucket: str) -> None:
    data = b"part bytes"
    upload, etag = _upload_one_part(s3, bucket, "k", data, ChecksumAlgorithm="CRC32")
    for part, code in (({"ChecksumCRC32": crc32(b"not the part")}, "InvalidPart"),
                       ({}, "InvalidRequest"),  # the upload's algorithm must be listed for every part
                       ({"ChecksumCRC32": "!!"}, "InvalidArgument")):
        with pytest.raises(ClientError) as exc:
            _complete(s3, bucket, "k", upload, {"ETag": etag, **part})
        _refused(exc, code)
        _absent(s3, bucket, "k")
    done = _complete(s3, bucket, "k", upload, {"ETag": etag, "ChecksumCRC32": crc32(data)})
    expected = base64.b64encode(zlib.crc32(zlib.crc32(data).to_bytes(4, "big")).to_bytes(4, "big")).decode()
    assert done["ChecksumCRC32"] == f"{expected}-1"


def test_complete_refuses_a_checksum_it_cannot_match(s3: Any, bucket: str) -> None:
    """An upload made without an algorithm: a listed value the part does not have is InvalidPart (the
    reviewer's wrong CRC64NVME); one it has (botocore sent CRC32 with the part) is checked."""
    data = b"other part"
    upload, etag = _upload_one_part(s3, bucket, "k", data)
    for part in ({"ChecksumCRC64NVME": crc64nvme(data)}, {"ChecksumCRC32": crc32(b"wrong")}):
        with pytest.raises(ClientError) as exc:
            _complete(s3, bucket, "k", upload, {"ETag": etag, **part})
        _refused(exc, "InvalidPart")
    _absent(s3, bucket, "k")
    _complete(s3, bucket, "k", upload, {"ETag": etag, "ChecksumCRC32": crc32(data)})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data


# --- checksum requests that were accepted and ignored (hostile review C) ---------------------------
def _with_header(s3_factory: Any, operation: str, name: str, value: str) -> Any:
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.headers[name] = value

    client.meta.events.register(f"before-sign.s3.{operation}", hook)
    return client


@pytest.mark.parametrize(("name", "value"), [
    ("x-amz-checksum-type", "GARBAGE"),
    ("x-amz-checksum-type", "COMPOSITE"),  # one body has one checksum, of all of it
    ("x-amz-checksum-foo", "AAAAAA=="),
])
def test_put_refuses_a_checksum_request_it_cannot_honour(s3_factory: Any, s3: Any, bucket: str,
                                                         name: str, value: str) -> None:
    client = _with_header(s3_factory, "PutObject", name, value)
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=bucket, Key="k", Body=b"data")
    _refused(exc, "InvalidRequest")
    _absent(s3, bucket, "k")


def test_create_upload_refuses_a_checksum_value(s3_factory: Any, s3: Any, bucket: str) -> None:
    """S3 defines no checksum value on CreateMultipartUpload (there is no body): it was ignored."""
    client = _with_header(s3_factory, "CreateMultipartUpload", "x-amz-checksum-crc32", crc32(b"whole"))
    with pytest.raises(ClientError) as exc:
        client.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    _refused(exc, "InvalidRequest")
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_part_checksum_of_another_algorithm_is_refused(s3: Any, bucket: str) -> None:
    """As AWS: an upload created with SHA256 refuses a part whose checksum is a CRC32."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"part",
                       ChecksumAlgorithm="CRC32")
    _refused(exc, "InvalidRequest")
    assert not s3.list_parts(Bucket=bucket, Key="k", UploadId=upload).get("Parts")
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"part", ChecksumAlgorithm="SHA256")


def test_aws_chunked_without_a_streaming_hash_is_refused(satchel_server: Any, s3: Any, bucket: str) -> None:
    """``Content-Encoding: aws-chunked`` with ``UNSIGNED-PAYLOAD`` stored the chunk framing as the body."""
    url = f"{satchel_server.endpoint}/{bucket}/k"
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": "3"}
    now = dt.datetime.now(dt.UTC)
    signer = Signer(satchel_server.access_key, satchel_server.secret_key, satchel_server.region)
    signed, _ = signer.sign("PUT", url, headers, "UNSIGNED-PAYLOAD", now)
    reply = requests.put(url, data=b"3\r\nabc\r\n0\r\n\r\n", headers=signed, timeout=10)
    assert reply.status_code == 400, reply.text
    assert "<Code>InvalidArgument</Code>" in reply.text
    _absent(s3, bucket, "k")


# --- POST forms -----------------------------------------------------------------------------------
def _form(s3: Any, bucket: str, fields: dict[str, str], key: str = "up/${filename}") -> dict[str, Any]:
    conditions: list[Any] = [["starts-with", "$key", "up/"], *({name: value} for name, value in fields.items())]
    return dict(s3.generate_presigned_post(Bucket=bucket, Key=key, Fields=fields, Conditions=conditions))


def _post(form: dict[str, Any], data: bytes = b"file body", filename: str = "f.txt") -> requests.Response:
    return requests.post(form["url"], data=form["fields"], files={"file": (filename, data)}, timeout=10)


def _code(reply: requests.Response) -> str | None:
    return ET.fromstring(reply.content).findtext("Code") if reply.content else None


@pytest.mark.parametrize(("field", "right", "wrong"), [
    ("x-amz-checksum-crc32", crc32(b"file body"), crc32(b"other")),
    ("Content-MD5", base64.b64encode(hashlib.md5(b"file body", usedforsecurity=False).digest()).decode(),
     base64.b64encode(hashlib.md5(b"other", usedforsecurity=False).digest()).decode()),
])
def test_post_checksum_fields_are_checked(s3: Any, bucket: str, field: str, right: str, wrong: str) -> None:
    reply = _post(_form(s3, bucket, {field: wrong}))
    assert (reply.status_code, _code(reply)) == (400, "BadDigest"), reply.content
    _absent(s3, bucket, "up/f.txt")
    assert _post(_form(s3, bucket, {field: right})).status_code == 204
    assert s3.get_object(Bucket=bucket, Key="up/f.txt")["Body"].read() == b"file body"


def _raw_post(form: dict[str, Any], fields: dict[str, bytes], disposition: bytes) -> requests.Response:
    """A multipart/form-data body built by hand: requests would refuse (or fix) the bytes under test."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary.encode(), name.encode(), value)
        for name, value in {**{k: v.encode() for k, v in form["fields"].items()}, **fields}.items()
    )
    body += b"--%s\r\nContent-Disposition: form-data; name=\"file\"; %s\r\n\r\nfile body\r\n--%s--\r\n" % (
        boundary.encode(), disposition, boundary.encode())
    return requests.post(form["url"], data=body, timeout=10,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


@pytest.mark.parametrize(("fields", "disposition"), [
    ({"key": b"up/\xff\xfe"}, b'filename="f.txt"'),
    ({}, b'filename="\xff\xfe.txt"'),
    ({}, b"filename*=UTF-8''%FF%FE.txt"),
    ({"x-amz-meta-note": b"\xff"}, b'filename="f.txt"'),
])
def test_post_bytes_that_are_not_utf8_are_refused(s3: Any, bucket: str, fields: dict[str, bytes],
                                                  disposition: bytes) -> None:
    """Not replaced by U+FFFD: ``up/\\xff\\xfe`` and ``up/\\xfe\\xff`` would be the same key."""
    form = _form(s3, bucket, {"x-amz-meta-note": ""} if "x-amz-meta-note" in fields else {})
    reply = _raw_post(form, fields, disposition)
    assert (reply.status_code, _code(reply)) == (400, "InvalidArgument"), reply.content
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("fields", [
    {"x-amz-meta-note": "a\x01b"},
    {"x-amz-meta-note": "a\r\nSet-Cookie: x=y"},
    {"Content-Disposition": "inline; filename=\"a\u0085b\""},
    {"success_action_redirect": "http://example.com/ok\x00"},
])
def test_post_control_characters_are_refused(s3: Any, bucket: str, fields: dict[str, str]) -> None:
    reply = _post(_form(s3, bucket, fields))
    assert (reply.status_code, _code(reply)) == (400, "InvalidArgument"), reply.content
    _absent(s3, bucket, "up/f.txt")


@pytest.mark.parametrize(("redirect", "netloc"), [
    ("https://example.com/fertig/é?x=ü", "example.com"),
    ("https://bücher.example:8443/fertig/é?x=ü", "xn--bcher-kva.example:8443"),
])
def test_post_redirect_beyond_ascii_is_made_ascii(s3: Any, bucket: str, redirect: str, netloc: str) -> None:
    form = _form(s3, bucket, {"success_action_redirect": redirect})
    reply = requests.post(form["url"], data=form["fields"], files={"file": ("f.txt", b"x")}, allow_redirects=False,
                          timeout=10)
    assert reply.status_code == 303
    location = reply.headers["Location"]
    assert location.isascii() and "=?" not in location
    parts = urlsplit(location)
    assert (parts.netloc, parts.path) == (netloc, "/fertig/%C3%A9")
    assert parts.query.startswith("x=%C3%BC&bucket=")


# --- CORS rules and stored headers ----------------------------------------------------------------
@pytest.mark.parametrize("rule", [
    {"AllowedOrigins": ["http://a.example\r\nX-Injected: 1"]},
    {"AllowedOrigins": ["http://a.example"], "ExposeHeaders": ["ETag\r\nX-Injected: 1"]},
    {"AllowedOrigins": ["http://a.example"], "AllowedHeaders": ["x-ok", "bad header"]},
    {"AllowedOrigins": ["http://ä.example"]},
])
def test_cors_values_that_are_no_header_values_are_refused(s3: Any, bucket: str, rule: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], **rule}]})
    _refused(exc, "InvalidRequest")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(exc.value) == "NoSuchCORSConfiguration"


def test_c1_control_in_a_stored_header_is_refused(satchel_server: Any, s3: Any, bucket: str) -> None:
    """U+0085 (NEL) sent as UTF-8 bytes in Content-Disposition: refused like a C0 control. (The header is
    left unsigned: botocore's signer would fold NEL as whitespace, which Python's str.split() finds.)"""
    url = f"{satchel_server.endpoint}/{bucket}/c1"
    signer = Signer(satchel_server.access_key, satchel_server.secret_key, satchel_server.region)
    headers: dict[str, Any] = signer.sign("PUT", url, {}, "UNSIGNED-PAYLOAD", dt.datetime.now(dt.UTC))[0]
    for value in ("attachment; filename=\"a\u0085b\"", "inline\u009b"):
        headers["Content-Disposition"] = value.encode()
        reply = requests.put(url, data=b"x", headers=headers, timeout=10)
        assert (reply.status_code, _code(reply)) == (400, "InvalidArgument"), reply.content
        _absent(s3, bucket, "c1")
