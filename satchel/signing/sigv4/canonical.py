"""SigV4 canonicalization: one small pure function per step of the AWS spec.

Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html and, for
the S3 differences, https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html.

The steps, in order::

    canonical_uri(raw_path, service)          # S3: encode once, no normalization
    canonical_query(query)                    # every param but X-Amz-Signature, encoded, sorted
    canonical_headers(headers, signed)        # "name:trimmed value\\n" per signed header, sorted
    canonical_request(...)                    # METHOD\\nURI\\nQUERY\\nHEADERS\\nSIGNED\\nPAYLOAD_HASH
    string_to_sign(amz_date, scope, creq)     # AWS4-HMAC-SHA256\\nDATE\\nSCOPE\\nhex(sha256(creq))
    signing_key(secret, date, region, service)  # cached: it is on every request's hot path
    sign(key, string_to_sign)                 # hex HMAC-SHA256

Wire strings (``raw_path``, header values) are ``str`` holding the request bytes decoded as latin-1, which
is what ASGI servers hand us; :func:`wire_bytes` turns them back into the exact bytes the client signed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# Only S3 signs the path as sent: every other service double-encodes and normalizes it (botocore
# S3SigV4Auth._normalize_url_path returns the path unchanged; Garage documents the same rule).
S3_SERVICES = frozenset({"s3"})

_WHITESPACE_RUN = re.compile(r"[ \t\r\n\v\f]+")
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")


def wire_bytes(value: str) -> bytes:
    """Bytes a wire string stands for: latin-1 when it came from ASGI, UTF-8 for real Unicode text."""
    if value.isascii():
        return value.encode("ascii")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def uri_encode(value: str | bytes, *, keep_slash: bool = False) -> str:
    """AWS UriEncode: every byte but ``A-Za-z0-9-._~`` as upper-case %XX; space is %20, never '+'."""
    if isinstance(value, str):
        if _UNRESERVED.fullmatch(value):
            return value  # the common case (algorithm, dates, hex signatures): nothing to encode
        if len(value) <= _CACHED_LENGTH:
            return _quote_text(value, "/" if keep_slash else "")
    return quote(value, safe="/" if keep_slash else "")


#: Short values that need encoding are mostly the same few strings again and again (an access key's
#: X-Amz-Credential for the day, a content-disposition): they are encoded once.
_CACHED_LENGTH = 256


@functools.lru_cache(maxsize=4096)
def _quote_text(value: str, safe: str) -> str:
    return quote(value, safe=safe)


def normalize_path(path: str) -> str:
    """RFC 3986 remove_dot_segments plus collapsing '//' — what non-S3 services sign (botocore rules)."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return first + "/".join(segments) + last


def canonical_uri(raw_path: str, *, service: str = "s3") -> str:
    """Canonical URI from the path exactly as received (still percent-encoded, no query).

    S3: ``UriEncode(percent-decoded path)`` keeping '/', with no normalization, so ``a//b`` and ``..``
    stay as sent and a client that encoded more or fewer characters than AWS still matches.
    Other services: normalize, then encode the already-encoded path again (the documented
    "double encoding"), matching the AWS SigV4 test suite and botocore's SigV4Auth.
    """
    if not raw_path:
        return "/"
    if service in S3_SERVICES:
        return uri_encode(unquote_to_bytes(wire_bytes(raw_path)), keep_slash=True)
    return uri_encode(wire_bytes(normalize_path(raw_path)), keep_slash=True)


def canonical_query(query: Iterable[tuple[str, str]], *, exclude: str | None = "X-Amz-Signature") -> str:
    """Canonical query string from percent-DECODED (name, value) pairs in any order.

    Pairs are encoded first and sorted on the encoded form, as the spec says (and botocore does).
    """
    encoded = sorted(
        (uri_encode(name), uri_encode(value)) for name, value in query if exclude is None or name != exclude
    )
    return joined_query(encoded)


def joined_query(encoded: Iterable[tuple[str, str]]) -> str:
    """``name=value&…`` of pairs already encoded, in the order given."""
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_header_value(value: str) -> str:
    """Trim and collapse inner whitespace runs to one space (ASCII whitespace only, so latin-1 text
    holding UTF-8 bytes such as 0xA0 is left intact)."""
    return _WHITESPACE_RUN.sub(" ", value).strip(" ")


def signed_headers_string(signed_headers: Sequence[str]) -> str:
    return ";".join(signed_headers)


def canonical_headers(headers: Mapping[str, str], signed_headers: Sequence[str]) -> str:
    """One ``name:value\\n`` line per signed header, in the (sorted) order given.

    ``headers`` has lower-case names with repeats already joined by ','. A signed header that is
    missing signs as an empty value, so the signature simply fails to match.
    """
    return "".join(f"{name}:{canonical_header_value(headers.get(name, ''))}\n" for name in signed_headers)


def canonical_request(
    method: str,
    uri: str,
    query: str,
    headers_block: str,
    signed_headers: str,
    payload_hash: str,
) -> str:
    return f"{method}\n{uri}\n{query}\n{headers_block}\n{signed_headers}\n{payload_hash}"


def credential_scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/{TERMINATOR}"


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(wire_bytes(data) if isinstance(data, str) else data).hexdigest()


def string_to_sign(amz_date: str, scope: str, canonical_request_text: str) -> str:
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{sha256_hex(canonical_request_text)}"


@functools.lru_cache(maxsize=4096)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").

    Cached per (secret, day, region, service): four HMACs per request is most of the signature cost,
    and the key only changes daily. A rotated secret is a different cache key, so nothing goes stale.
    """
    key = hmac.digest(("AWS4" + secret).encode("utf-8"), date.encode("ascii"), "sha256")
    for part in (region, service, TERMINATOR):
        key = hmac.digest(key, part.encode("utf-8"), "sha256")
    return key


def sign(key: bytes, text: str | bytes) -> str:
    """Hex HMAC-SHA256 of a string to sign."""
    data = wire_bytes(text) if isinstance(text, str) else text
    return hmac.digest(key, data, "sha256").hex()


def chunk_string_to_sign(amz_date: str, scope: str, previous_signature: str, chunk_sha256: str) -> str:
    """String to sign of one aws-chunked chunk (sigv4-streaming.html)."""
    return f"{ALGORITHM}-PAYLOAD\n{amz_date}\n{scope}\n{previous_signature}\n{EMPTY_SHA256}\n{chunk_sha256}"


def trailer_string_to_sign(amz_date: str, scope: str, previous_signature: str, trailer_sha256: str) -> str:
    """String to sign of the trailing headers (sigv4-streaming-trailers.html); the hash covers
    ``name:value\\n`` for each trailer in the order sent."""
    return f"{ALGORITHM}-TRAILER\n{amz_date}\n{scope}\n{previous_signature}\n{trailer_sha256}"


def spaced_hex(data: str) -> str:
    """AWS's ``StringToSignBytes`` / ``CanonicalRequestBytes`` rendering: "41 57 53 ..."."""
    return wire_bytes(data).hex(" ")
