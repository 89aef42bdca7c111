"""S3's SigV4 rules against the AWS S3 documentation examples and against botocore's S3 signers.

Doc examples: sig-v4-header-based-auth.html ("Examples: Signature Calculations"), sigv4-query-string-auth.html
and sigv4-streaming.html, with AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY at
20130524T000000Z. A passing verify means our canonical request, string to sign and key derivation
reproduce the documented signature byte for byte.
"""

from __future__ import annotations

import hashlib

import pytest

from satchel.core.errors import SignatureDoesNotMatch
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.verify import verify_header_auth, verify_presigned
from tests.unit.signing import botocore_oracle as bo

DOC_NOW = 1369353600.0  # 2013-05-24T00:00:00Z
DOC_CRED = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"


def lookup(akid: str) -> str:
    assert akid == bo.ACCESS_KEY
    return bo.SECRET


DOC_HEADER_CASES = [
    pytest.param(
        "GET",
        "/test.txt",
        [],
        {
            "host": "examplebucket.s3.amazonaws.com",
            "range": "bytes=0-9",
            "x-amz-content-sha256": c.EMPTY_SHA256,
            "x-amz-date": "20130524T000000Z",
        },
        "host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        id="get-object",
    ),
    pytest.param(
        "PUT",
        "/test$file.text",
        [],
        {
            "host": "examplebucket.s3.amazonaws.com",
            "date": "Fri, 24 May 2013 00:00:00 GMT",
            "x-amz-date": "20130524T000000Z",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
            "x-amz-content-sha256": hashlib.sha256(b"Welcome to Amazon S3.").hexdigest(),
        },
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        id="put-object",
    ),
    pytest.param(
        "GET",
        "/",
        [("lifecycle", "")],
        {
            "host": "examplebucket.s3.amazonaws.com",
            "x-amz-date": "20130524T000000Z",
            "x-amz-content-sha256": c.EMPTY_SHA256,
        },
        "host;x-amz-content-sha256;x-amz-date",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        id="get-bucket-lifecycle",
    ),
    pytest.param(
        "GET",
        "/",
        [("max-keys", "2"), ("prefix", "J")],
        {
            "host": "examplebucket.s3.amazonaws.com",
            "x-amz-date": "20130524T000000Z",
            "x-amz-content-sha256": c.EMPTY_SHA256,
        },
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        id="list-objects",
    ),
    pytest.param(
        "PUT",
        "/examplebucket/chunkObject.txt",
        [],
        {
            "host": "s3.amazonaws.com",
            "x-amz-date": "20130524T000000Z",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": "66560",
            "content-length": "66824",
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        },
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        "x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        id="streaming-seed",
    ),
]


@pytest.mark.parametrize(("method", "path", "query", "headers", "signed", "signature"), DOC_HEADER_CASES)
def test_aws_doc_header_examples(
    method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], signed: str, signature: str
) -> None:
    headers = dict(headers, authorization=f"AWS4-HMAC-SHA256 {DOC_CRED},SignedHeaders={signed},Signature={signature}")
    request = {"raw_path": path, "query": query, "headers": headers, "now": DOC_NOW, "region": "us-east-1",
               "lookup_secret": lookup}
    result = verify_header_auth(method=method, **request)  # type: ignore[arg-type]
    assert result.signature == signature
    assert result.scope == "20130524/us-east-1/s3/aws4_request"
    with pytest.raises(SignatureDoesNotMatch):
        verify_header_auth(method="HEAD" if method == "GET" else "POST", **request)  # type: ignore[arg-type]


def test_aws_doc_presigned_example() -> None:
    query = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"),
        ("X-Amz-Date", "20130524T000000Z"),
        ("X-Amz-Expires", "86400"),
        ("X-Amz-SignedHeaders", "host"),
        ("X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
    ]
    result = verify_presigned(
        method="GET",
        raw_path="/test.txt",
        query=query,
        headers={"host": "examplebucket.s3.amazonaws.com"},
        now=DOC_NOW + 3600,
        region="us-east-1",
        lookup_secret=lookup,
    )
    assert result.expires_at == DOC_NOW + 86400
    assert result.payload_hash == "UNSIGNED-PAYLOAD"


def test_signing_key_matches_the_documented_derivation() -> None:
    # sigv4-streaming.html: the chunk signature for 64 KiB of 'a' seeded with the header signature.
    key = c.signing_key(bo.SECRET, "20130524", "us-east-1", "s3")
    sts = c.chunk_string_to_sign(
        "20130524T000000Z",
        "20130524/us-east-1/s3/aws4_request",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        hashlib.sha256(b"a" * 65536).hexdigest(),
    )
    assert c.sign(key, sts) == "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"


# --- botocore S3SigV4Auth / S3SigV4QueryAuth as oracle ------------------------------------------------
@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
def test_s3_canonical_uri_is_the_path_botocore_signs(key: str) -> None:
    wire = bo.sign_v4_header("GET", bo.object_url("bucket", key))
    # botocore signs the wire path unchanged for S3; encoding the decoded path once gives the same.
    assert c.canonical_uri(wire.raw_path) == wire.raw_path


@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
def test_botocore_header_signed_requests_verify(key: str) -> None:
    body = b"hello"
    wire = bo.sign_v4_header(
        "PUT",
        bo.object_url("bucket", key),
        headers={"x-amz-meta-note": "a  b", "Content-Type": "text/plain"},
        body=body,
    )
    result = verify_header_auth(
        method=wire.method,
        raw_path=wire.raw_path,
        query=wire.query,
        headers=wire.headers,
        now=bo.NOW + 60,
        region=bo.REGION,
        lookup_secret=lookup,
    )
    assert result.payload_hash == hashlib.sha256(body).hexdigest()
    assert result.signature in wire.headers["authorization"]


@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
def test_botocore_presigned_urls_verify(key: str) -> None:
    wire = bo.presign_v4("GET", bo.object_url("bucket", key) + "?response-content-disposition=attachment%3B%20a%2Bb")
    result = verify_presigned(
        method="GET",
        raw_path=wire.raw_path,
        query=wire.query,
        headers={"host": wire.headers["host"]},
        now=bo.NOW + 60,
        region=bo.REGION,
        lookup_secret=lookup,
    )
    assert result.presigned
    with pytest.raises(SignatureDoesNotMatch):
        verify_presigned(
            method="GET",
            raw_path=wire.raw_path + "x",
            query=wire.query,
            headers={"host": wire.headers["host"]},
            now=bo.NOW + 60,
            region=bo.REGION,
            lookup_secret=lookup,
        )


def test_path_is_encoded_once_from_its_decoded_form() -> None:
    """A client that leaves '+', '=' or '@' unencoded on the wire still matches (MinIO's EncodePath rule)."""
    wire = bo.sign_v4_header("GET", bo.object_url("bucket", "a+b=c@d"))
    assert wire.raw_path == "/bucket/a%2Bb%3Dc%40d"
    verify_header_auth(
        method="GET",
        raw_path="/bucket/a+b=c@d",
        query=[],
        headers=wire.headers,
        now=bo.NOW,
        region=bo.REGION,
        lookup_secret=lookup,
    )


def test_s3_never_normalizes_but_generic_services_do() -> None:
    assert c.canonical_uri("/b/a//b/../c/./d") == "/b/a//b/../c/./d"
    assert c.canonical_uri("/b/a//b/../c/./d", service="service") == "/b/a/c/d"
    assert c.canonical_uri("/b/with%20space") == "/b/with%20space"
    assert c.canonical_uri("/b/with%20space", service="service") == "/b/with%2520space"
    assert c.canonical_uri("") == "/"


def test_normalize_path_edges() -> None:
    assert c.normalize_path("") == "/"
    assert c.normalize_path("/../a/../../b/") == "/b/"
    assert c.normalize_path("relative/./x") == "relative/x"


def test_wire_bytes_accepts_real_unicode_text() -> None:
    assert c.wire_bytes("/\u00e9") == b"/\xe9"  # latin-1 wire text stays byte-exact
    assert c.wire_bytes("/\u1234") == "/\u1234".encode()  # text beyond latin-1 is UTF-8
    assert c.canonical_uri("/\u1234") == "/%E1%88%B4"
