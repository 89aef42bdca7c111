"""botocore as the peer implementation: sign requests with its real signers at a frozen time and hand
them back in the plain shape the S3 front-end gives our verify functions (raw path, decoded query,
lower-case headers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from unittest import mock
from urllib.parse import parse_qsl, quote, urlsplit

from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
NOW = 1714564800.0  # 2024-05-01T12:00:00Z
ENDPOINT = "http://127.0.0.1:9000"

# Keys that exercise S3's encode-once, never-normalize rule.
TRICKY_KEYS = [
    "plain.txt",
    "with space.txt",
    "ünïcødé/文件 名.txt",
    "a+b=c~d&e.txt",
    "dir//double//slash",
    "../dot/./segments/..",
    "percent%41literal",
    "!'()*@:$,;[]",
    "trailing/",
]


@dataclass
class WireRequest:
    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    url: str


def credentials(token: str | None = None) -> Credentials:
    return Credentials(ACCESS_KEY, SECRET, token)


def frozen(now: float = NOW) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None)


def object_url(bucket: str, key: str, endpoint: str = ENDPOINT) -> str:
    """The URL botocore's serializer builds for a {Bucket}/{Key+} operation."""
    return f"{endpoint}/{quote(bucket, safe='~')}/{quote(key, safe='/~')}"


def to_wire_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Query pairs encoded the way botocore's percent_encode_sequence does."""
    return [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs]


def to_wire(request: AWSRequest) -> WireRequest:
    parts = urlsplit(request.url)
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        headers[name.lower()] = text
    headers.setdefault("host", parts.netloc)
    return WireRequest(
        method=request.method,
        raw_path=parts.path.encode("utf-8").decode("latin-1"),
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=headers,
        url=request.url,
    )


def sign_v4_header(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    now: float = NOW,
    token: str | None = None,
) -> WireRequest:
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    with mock.patch("botocore.auth.get_current_datetime", return_value=frozen(now)):
        S3SigV4Auth(credentials(token), "s3", REGION).add_auth(request)
    return to_wire(request)


def presign_v4(
    method: str,
    url: str,
    *,
    expires: int = 3600,
    headers: Mapping[str, str] | None = None,
    now: float = NOW,
    token: str | None = None,
) -> WireRequest:
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    with mock.patch("botocore.auth.get_current_datetime", return_value=frozen(now)):
        S3SigV4QueryAuth(credentials(token), "s3", REGION, expires=expires).add_auth(request)
    return to_wire(request)


def sign_v2_header(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    date: str = "Wed, 01 May 2024 12:00:00 GMT",
    auth_path: str | None = None,
) -> WireRequest:
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    request.auth_path = auth_path
    with mock.patch("botocore.auth.formatdate", return_value=date):
        HmacV1Auth(credentials()).add_auth(request)
    return to_wire(request)


def presign_v2(
    method: str,
    url: str,
    *,
    expires: int = 3600,
    headers: Mapping[str, str] | None = None,
    now: float = NOW,
    auth_path: str | None = None,
) -> WireRequest:
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    request.auth_path = auth_path
    with mock.patch("botocore.auth.time.time", return_value=now):
        HmacV1QueryAuth(credentials(), expires=expires).add_auth(request)
    wire = to_wire(request)
    # The presigned URL carries everything; a browser sends none of the signed headers back.
    wire.headers = {"host": wire.headers["host"]}
    return wire
