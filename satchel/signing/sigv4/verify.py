"""SigV4 verification: chain parse → canonicalize → sign, then compare in constant time.

Two entry points, both pure (the clock and the key store are arguments):

* :func:`verify_header_auth` — ``Authorization: AWS4-HMAC-SHA256 ...`` requests;
* :func:`verify_presigned` — ``?X-Amz-Algorithm=...&X-Amz-Signature=...`` URLs.

``lookup_secret(access_key_id) -> secret`` is called once the request has parsed, at the point AWS
reports an unknown key; it must raise :class:`~satchel.core.errors.InvalidAccessKeyId` (with
``AWSAccessKeyId``) for an unknown or inactive key. Both functions return a :class:`SigV4Result`
that carries what the aws-chunked decoder needs (seed signature, signing key, date, scope).

Presigned order (MinIO/versitygw): params → algorithm → credential → date → expires range → key
lookup → not valid yet (date > now + 15 min) → expired (now - date > expires) → unsigned headers →
signature. Presigned URLs get no ±15 minute skew window; header requests do.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from satchel.core.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    InvalidArgument,
    InvalidRequest,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from satchel.signing.linkid import signed_link_id
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.parse import (
    UNSIGNED_HEADERS_MESSAGE,
    parse_amz_date,
    parse_authorization_header,
    parse_presigned_query,
)

SecretLookup = Callable[[str], str]

MAX_SKEW_SECONDS = 15 * 60
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
# The literal x-amz-content-sha256 values we can honour; anything else must be a hex SHA-256. The
# ECDSA (SigV4a) streaming modes are refused: we cannot verify them, so we never accept them.
PAYLOAD_MODES = frozenset({c.UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER})
_BAD_CONTENT_SHA256 = (
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
)
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"


@dataclass(frozen=True, slots=True)
class SigV4Result:
    """A verified SigV4 request.

    ``payload_hash`` is the value that was signed: a hex SHA-256 the front-end must still compare with
    the body it receives (``XAmzContentSHA256Mismatch``), ``UNSIGNED-PAYLOAD`` or a ``STREAMING-*`` mode
    for :class:`~satchel.signing.sigv4.chunked.AwsChunkedDecoder`.
    """

    access_key_id: str
    signature: str
    signing_key: bytes = field(repr=False)
    amz_date: str
    scope: str
    payload_hash: str
    request_time: float
    expires_at: float | None = None
    security_token: str | None = None
    #: The minted link id the signature covered (see :mod:`satchel.signing.linkid`); presigned only.
    link_id: str | None = None

    @property
    def presigned(self) -> bool:
        return self.expires_at is not None

    @property
    def streaming(self) -> bool:
        return self.payload_hash.startswith("STREAMING-")


def iso8601(epoch: float) -> str:
    """``2013-05-24T00:00:00Z``, the form AWS uses in Expires/ServerTime elements."""
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_date(headers: Mapping[str, str]) -> tuple[str, float]:
    """(ISO basic timestamp, epoch) from ``x-amz-date``, else an RFC 1123 ``Date`` header."""
    amz_date = headers.get("x-amz-date")
    if amz_date is not None:
        epoch = parse_amz_date(amz_date.strip())
        if epoch is None:
            raise AccessDenied(_NO_DATE)
        return amz_date.strip(), epoch
    date = headers.get("date")
    epoch = None if date is None else http_date_epoch(date)
    if epoch is None:
        raise AccessDenied(_NO_DATE)
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y%m%dT%H%M%SZ"), epoch


def http_date_epoch(value: str) -> float | None:
    """Epoch seconds of an RFC 1123 date (``-0000`` and zone-less dates are UTC), None if malformed."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


_STREAMING_PRESIGNED = "X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a sha256 value in a presigned URL."


def check_content_sha256(value: str | None) -> str:
    """S3 requires the header on every header-signed request; it is also the signed payload hash."""
    if value is None:
        raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
    if value in PAYLOAD_MODES:
        return value
    if len(value) == 64 and all(ch in "0123456789abcdef" for ch in value):
        return value
    raise InvalidArgument(_BAD_CONTENT_SHA256, ArgumentName="x-amz-content-sha256", ArgumentValue=value)


def unsigned_amz_headers(
    headers: Mapping[str, str], signed: Sequence[str], query_headers: Mapping[str, str]
) -> list[str]:
    """x-amz-* headers that the signature does not cover (a query param of the same name and value
    counts as covered, since the canonical query signs it)."""
    signed_set = set(signed)
    return sorted(
        name
        for name, value in headers.items()
        if name.startswith("x-amz-") and name not in signed_set and query_headers.get(name) != value
    )


def _amz_query_params(query: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in query if name[:6].lower() == "x-amz-"}


def _check_signature(
    *,
    access_key_id: str,
    key: bytes,
    amz_date: str,
    scope: str,
    creq: str,
    provided: str,
) -> str:
    sts = c.string_to_sign(amz_date, scope, creq)
    expected = c.sign(key, sts)
    # Constant time: a byte-by-byte compare would leak how much of a forged signature is right.
    if not hmac.compare_digest(expected.encode("ascii"), provided.encode("utf-8", "replace")):
        raise SignatureDoesNotMatch(
            AWSAccessKeyId=access_key_id,
            StringToSign=sts,
            SignatureProvided=provided,
            StringToSignBytes=c.spaced_hex(sts),
            CanonicalRequest=creq,
            CanonicalRequestBytes=c.spaced_hex(creq),
        )
    return expected


def verify_header_auth(
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    now: float,
    region: str,
    lookup_secret: SecretLookup,
) -> SigV4Result:
    """Verify an S3 request signed in its Authorization header.

    Order: header syntax and scope → date header → x-amz-content-sha256 → scope date → key lookup →
    ±15 min skew → unsigned x-amz-* headers → signature.
    """
    auth = parse_authorization_header(headers.get("authorization", ""), region=region)
    amz_date, request_time = request_date(headers)
    payload_hash = check_content_sha256(headers.get("x-amz-content-sha256"))
    if auth.credential.date != amz_date[:8]:
        raise AuthorizationHeaderMalformed(
            "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."
        )
    secret = lookup_secret(auth.access_key_id)
    if abs(now - request_time) > MAX_SKEW_SECONDS:
        raise RequestTimeTooSkewed(
            RequestTime=headers.get("x-amz-date") or headers.get("date", ""),
            ServerTime=iso8601(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
        )
    unsigned = unsigned_amz_headers(headers, auth.signed_headers, {})
    if unsigned:
        raise AccessDenied(UNSIGNED_HEADERS_MESSAGE, HeadersNotSigned=", ".join(unsigned))
    scope = auth.credential.scope
    key = c.signing_key(secret, auth.credential.date, region, auth.credential.service)
    creq = c.canonical_request(
        method,
        c.canonical_uri(raw_path),
        c.canonical_query(query, exclude=None),
        c.canonical_headers(headers, auth.signed_headers),
        c.signed_headers_string(auth.signed_headers),
        payload_hash,
    )
    seed = _check_signature(
        access_key_id=auth.access_key_id, key=key, amz_date=amz_date, scope=scope, creq=creq, provided=auth.signature
    )
    return SigV4Result(
        access_key_id=auth.access_key_id,
        signature=seed,
        signing_key=key,
        amz_date=amz_date,
        scope=scope,
        payload_hash=payload_hash,
        request_time=request_time,
        security_token=headers.get("x-amz-security-token"),
    )


def verify_presigned(
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    now: float,
    region: str,
    lookup_secret: SecretLookup,
) -> SigV4Result:
    """Verify a SigV4 presigned URL. ``x-amz-*`` query parameters stand in for headers: a signed header
    absent from the request is looked up in the query (as MinIO does), and an unsigned x-amz-* header
    is accepted only when the query carries and so signs the same value."""
    auth = parse_presigned_query(query, region=region)
    secret = lookup_secret(auth.access_key_id)
    if auth.request_time > now + MAX_SKEW_SECONDS:
        raise AccessDenied("Request is not valid yet")
    if now - auth.request_time > auth.expires:
        raise AccessDenied(
            "Request has expired",
            X__Amz__Expires=str(auth.expires),
            Expires=iso8601(auth.request_time + auth.expires),
            ServerTime=iso8601(now),
        )
    amz_query = _amz_query_params(query)
    unsigned = unsigned_amz_headers(headers, auth.signed_headers, amz_query)
    if unsigned:
        raise AccessDenied(UNSIGNED_HEADERS_MESSAGE, HeadersNotSigned=", ".join(unsigned))
    effective = {name: headers[name] if name in headers else amz_query.get(name, "") for name in auth.signed_headers}
    payload_hash = amz_query.get("x-amz-content-sha256", c.UNSIGNED_PAYLOAD)
    if payload_hash.upper().startswith("STREAMING-"):
        # aws-chunked signatures chain from a header signature; a URL cannot sign a streaming body,
        # and the front-end has no chunk signer to verify one with.
        raise InvalidArgument(_STREAMING_PRESIGNED, ArgumentName="X-Amz-Content-Sha256", ArgumentValue=payload_hash)
    scope = auth.credential.scope
    key = c.signing_key(secret, auth.credential.date, region, auth.credential.service)
    creq = c.canonical_request(
        method,
        c.canonical_uri(raw_path),
        c.canonical_query(query),
        c.canonical_headers(effective, auth.signed_headers),
        c.signed_headers_string(auth.signed_headers),
        payload_hash,
    )
    signature = _check_signature(
        access_key_id=auth.access_key_id,
        key=key,
        amz_date=auth.amz_date,
        scope=scope,
        creq=creq,
        provided=auth.signature,
    )
    return SigV4Result(
        access_key_id=auth.access_key_id,
        signature=signature,
        signing_key=key,
        amz_date=auth.amz_date,
        scope=scope,
        payload_hash=payload_hash,
        request_time=auth.request_time,
        expires_at=auth.request_time + auth.expires,
        security_token=auth.security_token,
        link_id=signed_link_id(query, headers),
    )
