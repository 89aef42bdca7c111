"""SigV2 against the AWS RESTAuthentication examples, botocore (HmacV1Auth/HmacV1QueryAuth), s3cmd and
boto3's us-east-1 default presigner; then one row per failure mode."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from S3.Config import Config as S3cmdConfig
from S3.Crypto import sign_url_base_v2

from satchel.core.errors import (
    AccessDenied,
    InvalidAccessKeyId,
    InvalidArgument,
    RequestTimeTooSkewed,
    SatchelError,
    SignatureDoesNotMatch,
)
from satchel.signing import sigv2
from tests.unit.signing import botocore_oracle as bo


def lookup(akid: str) -> str:
    if akid != bo.ACCESS_KEY:
        raise InvalidAccessKeyId(AWSAccessKeyId=akid)
    return bo.SECRET


def epoch(date: str) -> float:
    return email.utils.parsedate_to_datetime(date).timestamp()


# (id, method, path, query, headers, bucket_from_host, signature) from RESTAuthentication.md
DOC_EXAMPLES = [
    ("object-get", "GET", "/photos/puppy.jpg", [], {"date": "Tue, 27 Mar 2007 19:36:42 +0000"}, "johnsmith",
     "bWq2s1WEIj+Ydj0vQ697zp+IXMU="),
    ("object-put", "PUT", "/photos/puppy.jpg", [], {"date": "Tue, 27 Mar 2007 21:15:45 +0000",
     "content-type": "image/jpeg", "content-length": "94328"}, "johnsmith", "MyyxeRY7whkBe+bq8fHCL/2kKUg="),
    ("list", "GET", "/", [("prefix", "photos"), ("max-keys", "50"), ("marker", "puppy")],
     {"date": "Tue, 27 Mar 2007 19:42:41 +0000", "user-agent": "Mozilla/5.0"}, "johnsmith",
     "htDYFYduRNen8P9ZfE/s9SuKy0U="),
    ("fetch-acl", "GET", "/", [("acl", "")], {"date": "Tue, 27 Mar 2007 19:44:46 +0000"}, "johnsmith",
     "c2WLPFtWHVgbEmeEG93a4cG37dM="),
    ("delete-x-amz-date", "DELETE", "/johnsmith/photos/puppy.jpg", [], {"date": "Tue, 27 Mar 2007 21:20:27 +0000",
     "x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000", "user-agent": "dotnet"}, None, "lx3byBScXR6KzyMaifNkardMwNk="),
    ("upload-cname", "PUT", "/db-backup.dat.gz", [], {
        "date": "Tue, 27 Mar 2007 21:06:08 +0000", "x-amz-acl": "public-read", "content-type": "application/x-download",
        "content-md5": "4gJE4saaMU4BqNR0kLY+lw==", "x-amz-meta-reviewedby": "joe@johnsmith.net,jane@johnsmith.net",
        "x-amz-meta-filechecksum": "0x02661779", "x-amz-meta-checksumalgorithm": "crc32",
        "content-disposition": "attachment; filename=database.dat", "content-encoding": "gzip",
        "content-length": "5913339"}, "static.johnsmith.net", "ilyl83RwaSoYIEdixDQcA4OnAnc="),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "bucket", "signature"),
    [d[1:] for d in DOC_EXAMPLES],
    ids=[d[0] for d in DOC_EXAMPLES],
)
def test_aws_doc_header_examples(
    method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], bucket: str | None, signature: str
) -> None:
    headers = {**headers, "authorization": f"AWS {bo.ACCESS_KEY}:{signature}"}
    now = epoch(headers.get("x-amz-date") or headers["date"])
    kwargs = {"method": method, "raw_path": path, "query": query, "now": now, "lookup_secret": lookup}
    assert sigv2.verify_v2_header(headers=headers, bucket_from_host=bucket, **kwargs).access_key_id == bo.ACCESS_KEY  # type: ignore[arg-type]
    with pytest.raises(SignatureDoesNotMatch):
        sigv2.verify_v2_header(headers={**headers, "x-amz-meta-new": "1"}, bucket_from_host=bucket, **kwargs)  # type: ignore[arg-type]


def test_aws_doc_query_example() -> None:
    query = [
        ("AWSAccessKeyId", bo.ACCESS_KEY),
        ("Signature", "NpgCjnDzrM+WFzoENXmpNDUsSn8="),
        ("Expires", "1175139620"),
    ]
    result = sigv2.verify_v2_presigned(
        method="GET", raw_path="/photos/puppy.jpg", query=query, headers={"host": "johnsmith.s3.amazonaws.com"},
        now=1175139620 - 60, lookup_secret=lookup, bucket_from_host="johnsmith",
    )  # fmt: skip
    assert result.expires_at == 1175139620


SUBRESOURCE_QUERIES = [
    "",
    "?acl",
    "?uploadId=abc%2B1&partNumber=2",
    "?versionId=v%201&response-content-type=text%2Fplain",
]


@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
@pytest.mark.parametrize("suffix", SUBRESOURCE_QUERIES)
def test_botocore_header_signed_requests_verify(key: str, suffix: str) -> None:
    wire = bo.sign_v2_header(
        "PUT", bo.object_url("bucket", key) + suffix, headers={"Content-Type": "text/plain", "x-amz-meta-a": " b "}
    )
    kwargs = {"method": "PUT", "raw_path": wire.raw_path, "query": wire.query, "lookup_secret": lookup}
    sigv2.verify_v2_header(headers=wire.headers, now=bo.NOW, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(SignatureDoesNotMatch):
        sigv2.verify_v2_header(headers={**wire.headers, "content-type": "text/html"}, now=bo.NOW, **kwargs)  # type: ignore[arg-type]


def test_botocore_virtual_hosted_auth_path() -> None:
    wire = bo.sign_v2_header("GET", "http://bucket.s3.example.com/a%20b?acl", auth_path="/bucket/a%20b")
    sigv2.verify_v2_header(
        method="GET", raw_path=wire.raw_path, query=wire.query, headers=wire.headers, now=bo.NOW,
        lookup_secret=lookup, bucket_from_host="bucket",
    )  # fmt: skip


@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
def test_botocore_presigned_urls_verify_and_match_our_minting(key: str) -> None:
    suffix = "?response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22"
    wire = bo.presign_v2("GET", bo.object_url("bucket", key) + suffix, headers={"x-amz-meta-tag": "t1"})
    assert ("x-amz-meta-tag", "t1") in wire.query  # HmacV1QueryAuth hoists x-amz-* into the query
    sigv2.verify_v2_presigned(
        method="GET", raw_path=wire.raw_path, query=wire.query, headers=wire.headers, now=bo.NOW + 3600,
        lookup_secret=lookup,
    )  # fmt: skip
    ours = sigv2.presign_v2_url(
        method="GET", endpoint=bo.ENDPOINT, bucket="bucket", key=key, access_key_id=bo.ACCESS_KEY, secret=bo.SECRET,
        expires_at=int(bo.NOW) + 3600,
        extra_query=[("response-content-disposition", 'attachment; filename="x y.txt"'), ("x-amz-meta-tag", "t1")],
    )  # fmt: skip
    assert dict(parse_qsl(urlsplit(ours).query)) == dict(wire.query)
    assert urlsplit(ours).path == wire.raw_path.encode("latin-1").decode("utf-8")


@pytest.fixture
def s3cmd_config() -> Iterator[S3cmdConfig]:
    config = S3cmdConfig()
    saved = {name: getattr(config, name) for name in ("access_key", "secret_key", "host_base", "host_bucket",
             "content_disposition", "content_type")}  # fmt: skip
    config.access_key, config.secret_key = bo.ACCESS_KEY, bo.SECRET
    config.host_base = config.host_bucket = "127.0.0.1:9000"
    config.content_disposition = 'attachment; filename="a b.txt"'
    config.content_type = "text/plain"
    yield config
    for name, value in saved.items():
        setattr(config, name, value)


@pytest.mark.parametrize("key", ["plain.txt", "dir/ä b+c.txt", "x=y&z"])
def test_s3cmd_signurl_verifies(s3cmd_config: S3cmdConfig, key: str) -> None:
    url = urlsplit(sign_url_base_v2(bucket="bucket", object=key, expiry=int(bo.NOW) + 60))
    sigv2.verify_v2_presigned(
        method="GET", raw_path=url.path, query=parse_qsl(url.query, keep_blank_values=True),
        headers={"host": url.netloc}, now=bo.NOW, lookup_secret=lookup,
    )  # fmt: skip


def test_boto3_us_east_1_default_presign_is_v2_and_verifies() -> None:
    client = boto3.client(
        "s3", endpoint_url=bo.ENDPOINT, region_name="us-east-1", aws_access_key_id=bo.ACCESS_KEY,
        aws_secret_access_key=bo.SECRET,
    )  # fmt: skip
    url = urlsplit(client.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "k y"}, ExpiresIn=60))
    query = parse_qsl(url.query, keep_blank_values=True)
    assert "AWSAccessKeyId" in dict(query)
    sigv2.verify_v2_presigned(
        method="GET", raw_path=url.path, query=query, headers={"host": url.netloc}, now=time.time(),
        lookup_secret=lookup,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("operation", "params"),
    [("list_objects_v2", {"Bucket": "bucket", "Delimiter": "/"}), ("list_objects", {"Bucket": "bucket"})],
)
def test_boto3_bucket_level_v2_presign_verifies(operation: str, params: dict[str, str]) -> None:
    """botocore signs ``/bucket/`` for bucket requests but sends ``/bucket``: both must verify."""
    client = boto3.client(
        "s3", endpoint_url=bo.ENDPOINT, region_name="us-east-1", aws_access_key_id=bo.ACCESS_KEY,
        aws_secret_access_key=bo.SECRET,
    )  # fmt: skip
    url = urlsplit(client.generate_presigned_url(operation, Params=params, ExpiresIn=60))
    assert url.path == "/bucket"
    query = parse_qsl(url.query, keep_blank_values=True)
    sigv2.verify_v2_presigned(
        method="GET", raw_path=url.path, query=query, headers={"host": url.netloc}, now=time.time(),
        lookup_secret=lookup,
    )  # fmt: skip
    with pytest.raises(SignatureDoesNotMatch):
        sigv2.verify_v2_presigned(
            method="GET", raw_path="/other", query=query, headers={"host": url.netloc}, now=time.time(),
            lookup_secret=lookup,
        )  # fmt: skip


# --- failure rows -----------------------------------------------------------------------------------
DATE = "Wed, 01 May 2024 12:00:00 GMT"
HEADER_ROWS = [
    ("malformed", {"authorization": "AWS nocolon"}, bo.NOW, InvalidArgument, "AWS authorization header is invalid"),
    ("no-date", {"date": None}, bo.NOW, AccessDenied, "AWS authentication requires a valid Date or x-amz-date header"),
    ("bad-date", {"date": "yesterday"}, bo.NOW, AccessDenied, "AWS authentication requires a valid Date"),
    ("empty-date", {"date": ""}, bo.NOW, AccessDenied, "AWS authentication requires a valid Date"),
    # A sent x-amz-date is the request's time even when empty or bad: never passed over for a valid Date.
    ("empty-amz-date", {"x-amz-date": ""}, bo.NOW, AccessDenied, "AWS authentication requires a valid Date"),
    ("bad-amz-date", {"x-amz-date": "Bad Date"}, bo.NOW, AccessDenied, "AWS authentication requires a valid Date"),
    ("both-empty", {"date": "", "x-amz-date": ""}, bo.NOW, AccessDenied, "AWS authentication requires a valid"),
    ("before-epoch", {"x-amz-date": "Tue, 07 Jul 1950 21:53:04 GMT"}, bo.NOW, AccessDenied,
     "AWS authentication requires a valid Date"),
    ("unknown-key", {"authorization": "AWS AKIANOBODY:abc="}, bo.NOW, InvalidAccessKeyId, ""),
    ("skew", {}, bo.NOW + 901, RequestTimeTooSkewed, ""),
    ("bad-signature", {"authorization": f"AWS {bo.ACCESS_KEY}:AAAA"}, bo.NOW, SignatureDoesNotMatch, ""),
]


@pytest.mark.parametrize(
    ("changes", "now", "error", "message"), [r[1:] for r in HEADER_ROWS], ids=[r[0] for r in HEADER_ROWS]
)
def test_header_failures(changes: dict[str, str | None], now: float, error: type[SatchelError], message: str) -> None:
    wire = bo.sign_v2_header("GET", bo.object_url("bucket", "k"), date=DATE)
    headers = {**wire.headers, **changes}
    with pytest.raises(error) as caught:
        sigv2.verify_v2_header(
            method="GET", raw_path=wire.raw_path, query=wire.query,
            headers={k: v for k, v in headers.items() if v is not None}, now=now, lookup_secret=lookup,
        )  # fmt: skip
    assert message in caught.value.message
    if error is RequestTimeTooSkewed:
        assert caught.value.extra == {
            "RequestTime": DATE, "ServerTime": "2024-05-01T12:15:01Z", "MaxAllowedSkewMilliseconds": "900000",
        }  # fmt: skip
    if error is SignatureDoesNotMatch:
        assert caught.value.extra["StringToSign"] == f"GET\n\n\n{DATE}\n/bucket/k"
        assert caught.value.extra["SignatureProvided"] == "AAAA"


MISSING = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
QUERY_ROWS = [
    ("no-signature", "Signature", None, bo.NOW, AccessDenied, MISSING),
    ("no-expires", "Expires", None, bo.NOW, AccessDenied, MISSING),
    ("no-key", "AWSAccessKeyId", None, bo.NOW, AccessDenied, MISSING),
    (
        "expires-nan",
        "Expires",
        "tomorrow",
        bo.NOW,
        AccessDenied,
        "Invalid date (should be seconds since epoch): tomorrow",
    ),
    ("unknown-key", "AWSAccessKeyId", "AKIANOBODY", bo.NOW + 10**6, InvalidAccessKeyId, ""),
    ("expired", None, None, bo.NOW + 61, AccessDenied, "Request has expired"),
    ("tampered-expires", "Expires", str(int(bo.NOW) + 99999), bo.NOW, SignatureDoesNotMatch, ""),
]


@pytest.mark.parametrize(
    ("param", "value", "now", "error", "message"), [r[1:] for r in QUERY_ROWS], ids=[r[0] for r in QUERY_ROWS]
)
def test_query_failures(
    param: str | None, value: str | None, now: float, error: type[SatchelError], message: str
) -> None:
    wire = bo.presign_v2("GET", bo.object_url("bucket", "k"), expires=60)
    query = [(k, v) for k, v in wire.query if k != param]
    if param is not None and value is not None:
        query.append((param, value))
    with pytest.raises(error) as caught:
        sigv2.verify_v2_presigned(
            method="GET", raw_path=wire.raw_path, query=query, headers=wire.headers, now=now, lookup_secret=lookup
        )  # fmt: skip
    assert message in caught.value.message
    if message == "Request has expired":
        assert caught.value.extra == {"Expires": "2024-05-01T12:01:00Z", "ServerTime": "2024-05-01T12:01:01Z"}


def test_no_seven_day_cap_in_v2() -> None:
    wire = bo.presign_v2("GET", bo.object_url("bucket", "k"), expires=30 * 86400)
    sigv2.verify_v2_presigned(
        method="GET", raw_path=wire.raw_path, query=wire.query, headers=wire.headers, now=bo.NOW + 29 * 86400,
        lookup_secret=lookup,
    )  # fmt: skip


def test_canonical_amz_headers_join_repeats_and_sort() -> None:
    pairs = [("X-Amz-Meta-B", " 2 "), ("x-amz-meta-a", "1"), ("x-amz-meta-b", "3"), ("content-type", "x")]
    assert sigv2.canonical_amz_headers(pairs) == "x-amz-meta-a:1\nx-amz-meta-b:2,3\n"


@pytest.mark.parametrize("date", ["Wed, 01 May 2024 12:00:00 GMT", "Wed, 01 May 2024 12:00:00 -0000",
                                  "Wed, 01 May 2024 14:00:00 +0200"])  # fmt: skip
def test_date_zones(date: str) -> None:
    wire = bo.sign_v2_header("GET", bo.object_url("bucket", "k"), date=date)
    result = sigv2.verify_v2_header(
        method="GET", raw_path=wire.raw_path, query=wire.query, headers=wire.headers, now=bo.NOW + 899,
        lookup_secret=lookup,
    )  # fmt: skip
    assert not result.presigned
    with pytest.raises(RequestTimeTooSkewed):
        sigv2.verify_v2_header(
            method="GET", raw_path=wire.raw_path, query=wire.query, headers=wire.headers, now=bo.NOW + 901,
            lookup_secret=lookup,
        )  # fmt: skip
