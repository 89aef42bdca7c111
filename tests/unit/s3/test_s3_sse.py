"""The S3 front-end's SSE headers (s3/sse.py) and bucket encryption XML (s3/handlers/encryption.py): SSE-C
only over a secure request unless the operator allows HTTP, one encryption per request, AWS's errors."""

from __future__ import annotations

import base64
import hashlib
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.core.errors import InvalidArgument, InvalidRequest, MalformedXML, NotImplementedFeature
from satchel.s3 import sse as s3sse
from satchel.s3.endpoints import CopySource, Endpoint, Op
from satchel.s3.handlers.encryption import encryption_configuration, parse_encryption

KEY = bytes(range(32))
CUSTOMER = {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
    "x-amz-server-side-encryption-customer-key-md5": base64.b64encode(
        hashlib.md5(KEY, usedforsecurity=False).digest()).decode(),
}


def _call(headers: dict[str, str], scheme: str = "https", allow_http: bool = False) -> Any:
    node = SimpleNamespace(settings=SimpleNamespace(sse_c_allow_http=allow_http))
    ctx = SimpleNamespace(request=SimpleNamespace(headers=headers, scope={"scheme": scheme}))
    return s3sse.encrypt(node, ctx)  # type: ignore[arg-type]


def test_sse_c_needs_a_secure_request_unless_allowed() -> None:
    with pytest.raises(InvalidRequest, match="secure connection"):
        _call(CUSTOMER, scheme="http")
    assert _call(CUSTOMER, scheme="http", allow_http=True).customer.key == KEY
    assert _call(CUSTOMER).customer.key == KEY  # https: Satchel's own TLS, or a trusted proxy's X-Forwarded-Proto


@pytest.mark.parametrize("op", [Op.ListObjectsV2, Op.DeleteObject, Op.GetObjectTagging, Op.HeadBucket, Op.PutObject])
def test_every_operation_refuses_sse_c_headers_over_http(op: Op) -> None:
    """Checked once after routing, whatever the operation: the key crossed the network in clear."""
    node = SimpleNamespace(settings=SimpleNamespace(sse_c_allow_http=False))
    endpoint = Endpoint(op, "b", "k")
    for headers in (CUSTOMER, {"x-amz-server-side-encryption-customer-algorithm": "AES256"}):
        with pytest.raises(InvalidRequest, match="secure connection"):
            s3sse.check_request(node, "http", endpoint, headers.items())  # type: ignore[arg-type]
        s3sse.check_request(node, "https", endpoint, headers.items())  # type: ignore[arg-type]
    s3sse.check_request(node, "http", endpoint, [("x-amz-meta-a", "1")])  # type: ignore[arg-type]


def test_copy_source_key_only_on_a_copy() -> None:
    node = SimpleNamespace(settings=SimpleNamespace(sse_c_allow_http=False))
    source = {name.replace("x-amz-", "x-amz-copy-source-", 1): value for name, value in CUSTOMER.items()}
    with pytest.raises(InvalidArgument, match="only valid on a copy"):
        s3sse.check_request(node, "https", Endpoint(Op.PutObject, "b", "k"), source.items())  # type: ignore[arg-type]
    copy = Endpoint(Op.CopyObject, "b", "k", copy_source=CopySource("b", "src"))
    s3sse.check_request(node, "https", copy, source.items())  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="secure connection"):
        s3sse.check_request(node, "http", copy, source.items())  # type: ignore[arg-type]


def test_what_a_write_asks_for() -> None:
    assert _call({}) is None  # the bucket's default decides
    assert _call({"x-amz-server-side-encryption": "AES256"}).customer is None
    with pytest.raises(InvalidArgument, match="incompatible"):
        _call({**CUSTOMER, "x-amz-server-side-encryption": "AES256"})
    with pytest.raises(InvalidArgument):
        _call({"x-amz-server-side-encryption": "aes256"})
    with pytest.raises(InvalidArgument, match="secret key"):
        _call({"x-amz-server-side-encryption-customer-algorithm": "AES256"})


BODY = ("<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
        "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>{}</SSEAlgorithm>{}</ApplyServerSideEncryptionByDefault>"
        "</Rule></ServerSideEncryptionConfiguration>")


def test_bucket_encryption_xml() -> None:
    assert parse_encryption(BODY.format("AES256", "").encode()) == "AES256"
    assert parse_encryption(encryption_configuration("AES256")) == "AES256"
    for algorithm in ("aws:kms", "aws:kms:dsse"):
        with pytest.raises(NotImplementedFeature, match="key management"):
            parse_encryption(BODY.format(algorithm, "").encode())
    with pytest.raises(MalformedXML):
        parse_encryption(BODY.format("DES", "").encode())
    with pytest.raises(InvalidArgument):
        parse_encryption(BODY.format("AES256", "<KMSMasterKeyID>k</KMSMasterKeyID>").encode())
    with pytest.raises(MalformedXML):
        parse_encryption(b"<ServerSideEncryptionConfiguration/>")
