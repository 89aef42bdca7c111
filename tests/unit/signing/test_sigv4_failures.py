"""One row per way a SigV4 request can fail, with the AWS code, message and extra elements.

Each row starts from a request botocore signed correctly and breaks exactly one thing, so the row also
checks the order of the checks: the error must be the one for the broken thing, not a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from satchel.core.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidRequest,
    RequestTimeTooSkewed,
    SatchelError,
    SignatureDoesNotMatch,
)
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.parse import is_presigned_v4, parse_amz_date, parse_authorization_header
from satchel.signing.sigv4.verify import verify_header_auth, verify_presigned
from tests.unit.signing import botocore_oracle as bo

Query = list[tuple[str, str]]
Headers = dict[str, str]


def lookup(akid: str) -> str:
    if akid != bo.ACCESS_KEY:
        raise InvalidAccessKeyId(AWSAccessKeyId=akid)
    return bo.SECRET


@dataclass
class Row:
    id: str
    query: Callable[[Query], Query] = lambda q: q
    headers: Callable[[Headers], Headers] = lambda h: h
    now: float = bo.NOW + 10
    error: type[SatchelError] = SatchelError
    message: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def set_param(name: str, value: str | None) -> Callable[[Query], Query]:
    def apply(query: Query) -> Query:
        kept = [(k, v) for k, v in query if k != name]
        return kept if value is None else [*kept, (name, value)]

    return apply


def replace_in_param(name: str, old: str, new: str) -> Callable[[Query], Query]:
    return lambda q: [(k, v.replace(old, new) if k == name else v) for k, v in q]


def set_header(name: str, value: str | None) -> Callable[[Headers], Headers]:
    def apply(headers: Headers) -> Headers:
        out = {k: v for k, v in headers.items() if k != name}
        if value is not None:
            out[name] = value
        return out

    return apply


def replace_in_header(name: str, old: str, new: str) -> Callable[[Headers], Headers]:
    return lambda h: {k: v.replace(old, new) if k == name else v for k, v in h.items()}


MISSING = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
    "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
PRESIGNED_ROWS = [
    Row(
        "missing-signature",
        query=set_param("X-Amz-Signature", None),
        error=AuthorizationQueryParametersError,
        message=MISSING,
    ),
    Row(
        "missing-expires",
        query=set_param("X-Amz-Expires", None),
        error=AuthorizationQueryParametersError,
        message=MISSING,
    ),
    Row("empty-date", query=set_param("X-Amz-Date", ""), error=AuthorizationQueryParametersError, message=MISSING),
    Row(
        "algorithm",
        query=set_param("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
        error=AuthorizationQueryParametersError,
        message='X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    ),
    Row(
        "credential-malformed",
        query=replace_in_param("X-Amz-Credential", "/aws4_request", ""),
        error=AuthorizationQueryParametersError,
        message="Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
        '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    ),
    Row(
        "credential-date-format",
        query=replace_in_param("X-Amz-Credential", "/20240501/", "/2024051/"),
        error=AuthorizationQueryParametersError,
        message='Error parsing the X-Amz-Credential parameter; incorrect date format "2024051".',
    ),
    Row(
        "wrong-region",
        query=replace_in_param("X-Amz-Credential", "/us-east-1/", "/eu-west-1/"),
        error=AuthorizationQueryParametersError,
        message="Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
        extra={"Region": "us-east-1"},
    ),
    Row(
        "wrong-service",
        query=replace_in_param("X-Amz-Credential", "/s3/", "/ec2/"),
        error=AuthorizationQueryParametersError,
        message='incorrect service "ec2". This endpoint belongs to "s3".',
    ),
    Row(
        "wrong-terminal",
        query=replace_in_param("X-Amz-Credential", "aws4_request", "aws5_request"),
        error=AuthorizationQueryParametersError,
        message='incorrect terminal "aws5_request". This endpoint uses "aws4_request".',
    ),
    Row(
        "date-format",
        query=set_param("X-Amz-Date", "2024-05-01T12:00:00Z"),
        error=AuthorizationQueryParametersError,
        message="X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    ),
    Row(
        "credential-date-mismatch",
        query=set_param("X-Amz-Date", "20240502T120000Z"),
        error=AuthorizationQueryParametersError,
        message='Invalid credential date "20240501". This date is not the same as X-Amz-Date: "20240502".',
    ),
    Row(
        "expires-nan",
        query=set_param("X-Amz-Expires", "soon"),
        error=AuthorizationQueryParametersError,
        message="X-Amz-Expires should be a number",
    ),
    Row(
        "expires-negative",
        query=set_param("X-Amz-Expires", "-5"),
        error=AuthorizationQueryParametersError,
        message="X-Amz-Expires must be non-negative",
    ),
    Row(
        "expires-zero",
        query=set_param("X-Amz-Expires", "0"),
        error=AuthorizationQueryParametersError,
        message="X-Amz-Expires must be greater than 0",
    ),
    Row(
        "expires-over-a-week",
        query=set_param("X-Amz-Expires", "604801"),
        error=AuthorizationQueryParametersError,
        message="X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
        "less than 604800 seconds",
    ),
    Row(
        "host-not-signed",
        query=set_param("X-Amz-SignedHeaders", "x-amz-date"),
        error=AccessDenied,
        message="There were headers present in the request which were not signed",
        extra={"HeadersNotSigned": "host"},
    ),
    Row(
        "unknown-key",
        query=replace_in_param("X-Amz-Credential", bo.ACCESS_KEY, "AKIANOBODY"),
        now=bo.NOW + 10**6,  # also expired: the key lookup comes first
        error=InvalidAccessKeyId,
        extra={"AWSAccessKeyId": "AKIANOBODY"},
    ),
    Row("not-yet-valid", now=bo.NOW - 901, error=AccessDenied, message="Request is not valid yet"),
    Row(
        "expired",
        now=bo.NOW + 3601,
        query=lambda q: [*q[:-1], (q[-1][0], "0" * 64)],  # a bad signature too: expiry is checked first
        error=AccessDenied,
        message="Request has expired",
        extra={"X-Amz-Expires": "3600", "Expires": "2024-05-01T13:00:00Z", "ServerTime": "2024-05-01T13:00:01Z"},
    ),
    Row(
        "unsigned-amz-header",
        headers=set_header("x-amz-acl", "public-read"),
        error=AccessDenied,
        message="There were headers present in the request which were not signed",
        extra={"HeadersNotSigned": "x-amz-acl"},
    ),
    Row(
        "tampered-query",
        query=lambda q: [*q, ("response-content-type", "text/html")],
        error=SignatureDoesNotMatch,
        extra={"AWSAccessKeyId": bo.ACCESS_KEY},
    ),
    Row("tampered-host", headers=set_header("host", "evil.example"), error=SignatureDoesNotMatch),
]


@pytest.mark.parametrize("row", PRESIGNED_ROWS, ids=lambda r: r.id)
def test_presigned_failures(row: Row) -> None:
    wire = bo.presign_v4("GET", bo.object_url("bucket", "key.txt"))
    with pytest.raises(row.error) as caught:
        verify_presigned(
            method="GET",
            raw_path=wire.raw_path,
            query=row.query(wire.query),
            headers=row.headers({"host": wire.headers["host"]}),
            now=row.now,
            region=bo.REGION,
            lookup_secret=lookup,
        )
    assert row.message in caught.value.message
    assert row.extra.items() <= caught.value.extra.items()


def test_presigned_boundaries_are_inclusive() -> None:
    wire = bo.presign_v4("GET", bo.object_url("bucket", "key.txt"), expires=60)
    for now in (bo.NOW - 900, bo.NOW, bo.NOW + 60):
        verify_presigned(
            method="GET", raw_path=wire.raw_path, query=wire.query, headers={"host": wire.headers["host"]},
            now=now, region=bo.REGION, lookup_secret=lookup,
        )  # fmt: skip


def test_signature_mismatch_carries_the_aws_debug_elements() -> None:
    wire = bo.presign_v4("GET", bo.object_url("bucket", "key.txt"))
    with pytest.raises(SignatureDoesNotMatch) as caught:
        verify_presigned(
            method="PUT", raw_path=wire.raw_path, query=wire.query, headers={"host": wire.headers["host"]},
            now=bo.NOW, region=bo.REGION, lookup_secret=lookup,
        )  # fmt: skip
    extra = caught.value.extra
    assert list(extra) == [
        "AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes", "CanonicalRequest",
        "CanonicalRequestBytes",
    ]  # fmt: skip
    assert extra["StringToSign"].startswith("AWS4-HMAC-SHA256\n20240501T120000Z\n20240501/us-east-1/s3/aws4_request\n")
    assert extra["CanonicalRequest"].startswith("PUT\n/bucket/key.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&")
    assert extra["StringToSignBytes"].startswith("41 57 53 34 2d")
    assert extra["SignatureProvided"] == dict(wire.query)["X-Amz-Signature"]


def test_signed_header_missing_from_request_falls_back_to_query() -> None:
    wire = bo.presign_v4("PUT", bo.object_url("bucket", "k"), headers={"x-amz-acl": "private"})
    assert "x-amz-acl" in dict(wire.query)["X-Amz-SignedHeaders"]
    # The uploader sends the header: fine. It leaves it out but the query has it: fine too (MinIO).
    verify_presigned(
        method="PUT", raw_path=wire.raw_path, query=wire.query, headers={"host": wire.headers["host"],
        "x-amz-acl": "private"}, now=bo.NOW, region=bo.REGION, lookup_secret=lookup,
    )  # fmt: skip
    with pytest.raises(SignatureDoesNotMatch):
        verify_presigned(
            method="PUT", raw_path=wire.raw_path, query=wire.query, headers={"host": wire.headers["host"],
            "x-amz-acl": "public-read"}, now=bo.NOW, region=bo.REGION, lookup_secret=lookup,
        )  # fmt: skip


def test_amz_query_param_covers_the_same_header() -> None:
    wire = bo.presign_v4("GET", bo.object_url("bucket", "k") + "?x-amz-checksum-mode=ENABLED")
    base = {"host": wire.headers["host"]}
    verify_presigned(
        method="GET", raw_path=wire.raw_path, query=wire.query, headers={**base, "x-amz-checksum-mode": "ENABLED"},
        now=bo.NOW, region=bo.REGION, lookup_secret=lookup,
    )  # fmt: skip
    with pytest.raises(AccessDenied):
        verify_presigned(
            method="GET", raw_path=wire.raw_path, query=wire.query,
            headers={**base, "x-amz-checksum-mode": "DISABLED"}, now=bo.NOW, region=bo.REGION, lookup_secret=lookup,
        )  # fmt: skip


# --- header auth ------------------------------------------------------------------------------------
HEADER_ROWS = [
    Row(
        "not-sigv4",
        headers=set_header("authorization", "Bearer abc"),
        error=InvalidArgument,
        message="Unsupported Authorization Type",
        extra={"ArgumentName": "Authorization"},
    ),
    Row(
        "missing-component",
        headers=lambda h: {**h, "authorization": h["authorization"].rsplit(",", 1)[0]},
        error=AuthorizationHeaderMalformed,
        message="The authorization header is malformed; the authorization header requires three components: "
        "Credential, SignedHeaders, and Signature.",
    ),
    Row(
        "credential-malformed",
        headers=replace_in_header("authorization", "/aws4_request", ""),
        error=AuthorizationHeaderMalformed,
        message="The authorization header is malformed; the Credential is mal-formed",
    ),
    Row(
        "wrong-region",
        headers=replace_in_header("authorization", "/us-east-1/", "/eu-west-1/"),
        error=AuthorizationHeaderMalformed,
        message="The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
        extra={"Region": "us-east-1"},
    ),
    Row(
        "wrong-service",
        headers=replace_in_header("authorization", "/s3/", "/sqs/"),
        error=AuthorizationHeaderMalformed,
        message='The authorization header is malformed; incorrect service "sqs".',
    ),
    Row(
        "host-not-signed",
        headers=replace_in_header("authorization", "content-type;host;", "content-type;"),
        error=AccessDenied,
        extra={"HeadersNotSigned": "host"},
    ),
    Row(
        "no-date",
        headers=set_header("x-amz-date", None),
        error=AccessDenied,
        message="AWS authentication requires a valid Date or x-amz-date header",
    ),
    Row(
        "bad-date",
        headers=set_header("x-amz-date", "20240501T25000Z"),
        error=AccessDenied,
        message="AWS authentication requires a valid Date or x-amz-date header",
    ),
    Row(
        "missing-content-sha256",
        headers=set_header("x-amz-content-sha256", None),
        error=InvalidRequest,
        message="Missing required header for this request: x-amz-content-sha256",
    ),
    Row(
        "bad-content-sha256",
        headers=set_header("x-amz-content-sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),
        error=InvalidArgument,
        message="x-amz-content-sha256 must be UNSIGNED-PAYLOAD",
        extra={"ArgumentName": "x-amz-content-sha256"},
    ),
    Row(
        "credential-date-mismatch",
        headers=set_header("x-amz-date", "20240502T000000Z"),
        error=AuthorizationHeaderMalformed,
        message="Invalid credential date. Date is not the same as X-Amz-Date.",
    ),
    Row(
        "unknown-key",
        headers=replace_in_header("authorization", bo.ACCESS_KEY, "AKIANOBODY"),
        now=bo.NOW + 3600,  # skewed as well: the key lookup comes first
        error=InvalidAccessKeyId,
    ),
    Row(
        "skew-ahead",
        now=bo.NOW + 901,
        error=RequestTimeTooSkewed,
        extra={
            "RequestTime": "20240501T120000Z",
            "ServerTime": "2024-05-01T12:15:01Z",
            "MaxAllowedSkewMilliseconds": "900000",
        },
    ),
    Row("skew-behind", now=bo.NOW - 901, error=RequestTimeTooSkewed),
    Row(
        "unsigned-amz-header",
        headers=set_header("x-amz-meta-late", "added after signing"),
        error=AccessDenied,
        message="There were headers present in the request which were not signed",
        extra={"HeadersNotSigned": "x-amz-meta-late"},
    ),
    Row("tampered-header", headers=set_header("content-type", "text/html"), error=SignatureDoesNotMatch),
    Row("tampered-query", query=lambda q: [*q, ("versionId", "1")], error=SignatureDoesNotMatch),
]


@pytest.mark.parametrize("row", HEADER_ROWS, ids=lambda r: r.id)
def test_header_auth_failures(row: Row) -> None:
    wire = bo.sign_v4_header("PUT", bo.object_url("bucket", "key.txt"), headers={"Content-Type": "text/plain"})
    with pytest.raises(row.error) as caught:
        verify_header_auth(
            method="PUT",
            raw_path=wire.raw_path,
            query=row.query(wire.query),
            headers=row.headers(wire.headers),
            now=row.now,
            region=bo.REGION,
            lookup_secret=lookup,
        )
    assert row.message in caught.value.message
    assert row.extra.items() <= caught.value.extra.items()


def test_header_auth_accepts_rfc1123_date_header_and_skew_edges() -> None:
    wire = bo.sign_v4_header("GET", bo.object_url("bucket", "k"))
    for now in (bo.NOW - 900, bo.NOW + 900):
        verify_header_auth(
            method="GET", raw_path=wire.raw_path, query=wire.query, headers=wire.headers, now=now,
            region=bo.REGION, lookup_secret=lookup,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "valid"),
    [("20240501T120000Z", True), ("20240230T120000Z", False), ("20240501T120000", False), ("2024050aT120000Z", False)],
)
def test_parse_amz_date(text: str, valid: bool) -> None:
    assert (parse_amz_date(text) is not None) is valid
    if valid:
        assert parse_amz_date(text) == bo.NOW


@pytest.mark.parametrize(
    "value",
    [
        "AWS4-HMAC-SHA256 Credential=a/20240501/us-east-1/s3/aws4_request, SignedHeaders=, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20240501/us-east-1/s3/aws4_request, Credential=b, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20240501/us-east-1/s3/aws4_request, SignedHeaders, Signature=x",
    ],
    ids=["empty-signed-headers", "duplicate-component", "component-without-value"],
)
def test_malformed_authorization_headers(value: str) -> None:
    with pytest.raises(AuthorizationHeaderMalformed):
        parse_authorization_header(value, region="us-east-1")


def test_is_presigned_v4() -> None:
    assert is_presigned_v4([("X-Amz-Credential", "x")])
    assert not is_presigned_v4([("AWSAccessKeyId", "x"), ("x-amz-meta", "y")])


def test_header_auth_with_only_a_date_header() -> None:
    """SigV4 allows an RFC 1123 Date header instead of x-amz-date; the string to sign uses its ISO form."""
    headers = {
        "host": "127.0.0.1:9000",
        "date": "Wed, 01 May 2024 12:00:00 GMT",
        "x-amz-content-sha256": c.UNSIGNED_PAYLOAD,
    }
    signed = ("date", "host", "x-amz-content-sha256")
    creq = c.canonical_request(
        "GET", "/bucket/k", "", c.canonical_headers(headers, signed), ";".join(signed), c.UNSIGNED_PAYLOAD
    )
    scope = c.credential_scope("20240501", bo.REGION, "s3")
    signature = c.sign(
        c.signing_key(bo.SECRET, "20240501", bo.REGION, "s3"), c.string_to_sign("20240501T120000Z", scope, creq)
    )
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={bo.ACCESS_KEY}/{scope}, SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    result = verify_header_auth(
        method="GET", raw_path="/bucket/k", query=[], headers=headers, now=bo.NOW, region=bo.REGION,
        lookup_secret=lookup,
    )  # fmt: skip
    assert result.amz_date == "20240501T120000Z"
    assert result.request_time == bo.NOW
    assert not result.presigned
    with pytest.raises(AccessDenied, match="valid Date"):
        verify_header_auth(
            method="GET", raw_path="/bucket/k", query=[], headers={**headers, "date": "not a date"}, now=bo.NOW,
            region=bo.REGION, lookup_secret=lookup,
        )  # fmt: skip
