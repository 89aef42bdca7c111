"""Mint SigV4 presigned URLs, signature-identical to botocore's ``S3SigV4QueryAuth``.

Used by Satchel's own link API and CLI; botocore is only the test oracle, never a runtime dependency::

    url = presign_v4_url(
        method="GET", endpoint="https://s3.example.com", bucket="photos", key="2024/cat.jpg",
        access_key_id="AKIA...", secret="...", region="us-east-1", expires=3600, now=time.time(),
        extra_query=[("response-content-disposition", 'attachment; filename="cat.jpg"'),
                     ("x-satchel-link-id", "lnk_123")],
    )
    # https://s3.example.com/photos/2024/cat.jpg?response-content-disposition=...&x-satchel-link-id=lnk_123
    #   &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA...%2F20240101%2Fus-east-1%2Fs3%2Faws4_request
    #   &X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=<hex>

Every extra query parameter is inside the canonical query, so it is tamper-proof: that is what lets a
server-side link id key revocation, listing and audit. Only ``host`` is signed and the payload is
``UNSIGNED-PAYLOAD``, as botocore does. ``expires`` must be 1…604800 seconds (the SigV4 cap).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from satchel.core.errors import InvalidArgument
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.parse import MAX_PRESIGNED_EXPIRES

_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=256)
def host_for(endpoint: str, bucket: str | None = None) -> tuple[str, str, str]:
    """(scheme, host header value, base path) of an endpoint, derived as botocore's ``_host_from_url``:
    lower-cased host name, IPv6 in brackets, default port dropped."""
    parts = urlsplit(endpoint)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidArgument(f"Endpoint must be an http(s) URL: {endpoint}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{parts.port}"
    if bucket is not None:
        host = f"{bucket}.{host}"
    return parts.scheme, host, parts.path.rstrip("/")


def object_path(base_path: str, bucket: str | None, key: str) -> str:
    """Wire path: botocore encodes the key with ``quote(key, safe='/~')`` and S3 signs it as sent."""
    prefix = f"{base_path}/{quote(bucket, safe='~')}" if bucket is not None else base_path
    return f"{prefix}/{quote(key, safe='/~')}"


def amz_date(now: float) -> str:
    return _amz_date(int(now))


@functools.lru_cache(maxsize=4)
def _amz_date(second: int) -> str:
    # Minting in bulk signs many URLs within the same second: format that second once.
    return dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _encode_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(c.uri_encode(name), c.uri_encode(value)) for name, value in pairs]


def presign_v4_url(
    *,
    method: str,
    endpoint: str,
    bucket: str,
    key: str,
    access_key_id: str,
    secret: str,
    region: str,
    expires: int,
    now: float,
    extra_query: Sequence[tuple[str, str]] = (),
    security_token: str | None = None,
    virtual_hosted: bool = False,
) -> str:
    """A presigned URL for ``method`` on ``bucket``/``key`` (path style unless ``virtual_hosted``)."""
    if not 1 <= expires <= MAX_PRESIGNED_EXPIRES:
        raise InvalidArgument(f"Presigned URL expiry must be between 1 and {MAX_PRESIGNED_EXPIRES} seconds.")
    scheme, host, base_path = host_for(endpoint, bucket if virtual_hosted else None)
    path = object_path(base_path, None if virtual_hosted else bucket, key)
    timestamp = amz_date(now)
    date = timestamp[:8]
    scope = c.credential_scope(date, region, "s3")
    auth_params = [
        ("X-Amz-Algorithm", c.ALGORITHM),
        ("X-Amz-Credential", f"{access_key_id}/{scope}"),
        ("X-Amz-Date", timestamp),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if security_token is not None:
        auth_params.append(("X-Amz-Security-Token", security_token))
    encoded = _encode_pairs(extra_query) + _encode_pairs(auth_params)
    canonical_query = "&".join(f"{name}={value}" for name, value in sorted(encoded))
    creq = c.canonical_request(
        method.upper(), c.canonical_uri(path), canonical_query, f"host:{host}\n", "host", c.UNSIGNED_PAYLOAD
    )
    signature = c.sign(c.signing_key(secret, date, region, "s3"), c.string_to_sign(timestamp, scope, creq))
    query = "&".join(f"{name}={value}" for name, value in encoded)
    return f"{scheme}://{host}{path}?{query}&X-Amz-Signature={signature}"
