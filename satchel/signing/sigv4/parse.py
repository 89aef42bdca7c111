"""SigV4 parsing: Authorization header and presigned query parameters into typed values.

Only syntax and the server-side constants (region, service, terminal, expiry cap) are checked here;
time, keys and signatures are :mod:`satchel.signing.sigv4.verify`'s job. Checks run in the order
MinIO and versitygw use, and each failure raises the AWS error code with AWS's wording
(``/work/shared/reference/s3-presign-and-peers.md`` §1):

* header: ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
  SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=<64 hex>``
* query:  ``X-Amz-Algorithm`` → ``X-Amz-Credential`` → ``X-Amz-Date`` → ``X-Amz-Expires`` (0…604800)
  → ``X-Amz-SignedHeaders`` (must hold ``host``); ``X-Amz-Security-Token`` is optional.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from satchel.core.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    InvalidArgument,
    SatchelError,
)
from satchel.signing.sigv4.canonical import ALGORITHM, TERMINATOR, credential_scope

MAX_PRESIGNED_EXPIRES = 604800  # one week: the AWS cap, also enforced by every SDK
HEADER_PREFIX = ALGORITHM + " "
QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_MISSING_QUERY_PARAMS = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
_HEADER_MALFORMED = "The authorization header is malformed; "
_CREDENTIAL_PARAM = "Error parsing the X-Amz-Credential parameter; "
UNSIGNED_HEADERS_MESSAGE = "There were headers present in the request which were not signed"


@dataclass(frozen=True, slots=True)
class Credential:
    """``AKID/yyyymmdd/region/service/aws4_request``, already checked against the server."""

    access_key_id: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        return credential_scope(self.date, self.region, self.service)


@dataclass(frozen=True, slots=True)
class HeaderAuth:
    """A parsed ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def access_key_id(self) -> str:
        return self.credential.access_key_id


@dataclass(frozen=True, slots=True)
class PresignedAuth:
    """Parsed ``X-Amz-*`` query parameters of a presigned URL."""

    credential: Credential
    amz_date: str
    request_time: float
    expires: int
    signed_headers: tuple[str, ...]
    signature: str
    security_token: str | None

    @property
    def access_key_id(self) -> str:
        return self.credential.access_key_id


@functools.lru_cache(maxsize=1024)
def parse_amz_date(value: str) -> float | None:
    """Epoch seconds of ``yyyyMMdd'T'HHmmss'Z'``, or None when malformed (callers pick the error).

    Cached: every use of a presigned URL carries the same X-Amz-Date, and the credential's date is
    checked through here too (two datetime constructions per request otherwise).
    """
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        return None
    digits = value[:8] + value[9:15]
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        moment = dt.datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None
    return moment.timestamp()


def _is_yyyymmdd(value: str) -> bool:
    return len(value) == 8 and parse_amz_date(value + "T000000Z") is not None


def parse_credential(value: str, *, region: str, service: str, query: bool) -> Credential:
    """Check a credential string; errors differ only in prefix and class between header and query."""
    prefix, error = (
        (_CREDENTIAL_PARAM, AuthorizationQueryParametersError)
        if query
        else (_HEADER_MALFORMED, AuthorizationHeaderMalformed)
    )
    # rsplit: the scope has exactly four parts, whatever the access key id holds.
    parts = value.rsplit("/", 4)
    if len(parts) != 5 or not all(parts):
        raise error(
            prefix + 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    akid, date, cred_region, cred_service, terminal = parts
    if not _is_yyyymmdd(date):
        raise error(
            prefix + f'incorrect date format "{date}". This date in the credential must be in the format "yyyyMMdd".'
        )
    if cred_region != region:
        raise error(prefix + f"the region '{cred_region}' is wrong; expecting '{region}'", Region=region)
    if cred_service != service:
        raise error(prefix + f'incorrect service "{cred_service}". This endpoint belongs to "{service}".')
    if terminal != TERMINATOR:
        raise error(prefix + f'incorrect terminal "{terminal}". This endpoint uses "{TERMINATOR}".')
    return Credential(akid, date, cred_region, cred_service)


def parse_signed_headers(value: str, error: type[SatchelError], message: str) -> tuple[str, ...]:
    """Split ``host;x-amz-date``; ``host`` must be signed, because it binds the request to us."""
    names = tuple(sorted(name.strip().lower() for name in value.split(";") if name.strip()))
    if not names:
        raise error(message)
    if "host" not in names:
        raise AccessDenied(UNSIGNED_HEADERS_MESSAGE, HeadersNotSigned="host")
    return names


def parse_authorization_header(value: str, *, region: str, service: str = "s3") -> HeaderAuth:
    """Parse a SigV4 Authorization header; components may come in any order, with or without spaces."""
    if not value.startswith(HEADER_PREFIX):
        raise InvalidArgument("Unsupported Authorization Type", ArgumentName="Authorization", ArgumentValue=value)
    fields: dict[str, str] = {}
    for component in value[len(HEADER_PREFIX) :].split(","):
        name, sep, field_value = component.strip().partition("=")
        if not sep or name in fields:
            fields.clear()
            break
        fields[name] = field_value.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise AuthorizationHeaderMalformed(
            _HEADER_MALFORMED + "the authorization header requires three components: Credential, "
            "SignedHeaders, and Signature."
        )
    credential = parse_credential(fields["Credential"], region=region, service=service, query=False)
    signed = parse_signed_headers(
        fields["SignedHeaders"],
        AuthorizationHeaderMalformed,
        _HEADER_MALFORMED + "the SignedHeaders component is empty.",
    )
    return HeaderAuth(credential, signed, fields["Signature"])


def _first(query: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in query:
        if key == name:
            return value
    return None


def parse_expires(value: str) -> int:
    if not (value.isascii() and value.lstrip("-").isdigit()):
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
    expires = int(value)
    if expires < 0:
        raise AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
    if expires == 0:
        # AWS and Ceph refuse a link that is born expired (MinIO lets it through).
        raise AuthorizationQueryParametersError("X-Amz-Expires must be greater than 0")
    if expires > MAX_PRESIGNED_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must "
            f"be less than {MAX_PRESIGNED_EXPIRES} seconds"
        )
    return expires


def is_presigned_v4(query: Sequence[tuple[str, str]]) -> bool:
    """True when the query carries any SigV4 presign parameter (the front-end's dispatch test)."""
    return any(name in QUERY_AUTH_PARAMS for name, _ in query)


def parse_presigned_query(query: Sequence[tuple[str, str]], *, region: str, service: str = "s3") -> PresignedAuth:
    """Parse the ``X-Amz-*`` parameters of a presigned URL (names are case-sensitive, as in AWS)."""
    values = {name: _first(query, name) for name in QUERY_AUTH_PARAMS}
    present = {name: value for name, value in values.items() if value}
    if len(present) != len(QUERY_AUTH_PARAMS):
        raise AuthorizationQueryParametersError(_MISSING_QUERY_PARAMS)
    if present["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthorizationQueryParametersError(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    credential = parse_credential(present["X-Amz-Credential"], region=region, service=service, query=True)
    amz_date = present["X-Amz-Date"]
    request_time = parse_amz_date(amz_date)
    if request_time is None:
        raise AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    if credential.date != amz_date[:8]:
        raise AuthorizationQueryParametersError(
            _CREDENTIAL_PARAM + f'Invalid credential date "{credential.date}". This date is not the same as '
            f'X-Amz-Date: "{amz_date[:8]}".'
        )
    expires = parse_expires(present["X-Amz-Expires"])
    signed = parse_signed_headers(
        present["X-Amz-SignedHeaders"],
        AuthorizationQueryParametersError,
        _MISSING_QUERY_PARAMS,
    )
    return PresignedAuth(
        credential=credential,
        amz_date=amz_date,
        request_time=request_time,
        expires=expires,
        signed_headers=signed,
        signature=present["X-Amz-Signature"],
        security_token=_first(query, "X-Amz-Security-Token"),
    )
