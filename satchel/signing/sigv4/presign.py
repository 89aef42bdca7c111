"""Mint SigV4 presigned URLs, signature-identical to botocore's ``S3SigV4QueryAuth``.

Used by Satchel's own link API and CLI; botocore is only the test oracle, never a runtime dependency::

    url = presign_v4_url(
        method="GET", endpoint="https://s3.example.com", bucket="photos", key="2024/cat.jpg",
        access_key_id="AKIA...", secret="...", region="us-east-1", expires=3600, now=time.time(),
        extra_query=[("response-content-disposition", 'attachment; filename="cat.jpg"'),
                     ("x-amz-satchel-link-id", "0193a5c2b1e04f6a8d2c")],
    )
    # https://s3.example.com/photos/2024/cat.jpg?response-content-disposition=...&x-amz-satchel-link-id=0193a5c2b1e04f6a8d2c
    #   &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA...%2F20240101%2Fus-east-1%2Fs3%2Faws4_request
    #   &X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=<hex>

Every extra query parameter is inside the canonical query, so it is tamper-proof: that is what lets a
server-side link id key revocation, listing and audit. Only ``host`` is signed and the payload is
``UNSIGNED-PAYLOAD``, as botocore does. ``expires`` must be 1…604800 seconds (the SigV4 cap).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from satchel.core.errors import InvalidArgument
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.parse import MAX_PRESIGNED_EXPIRES

DEFAULT_PORTS = {"http": 80, "https": 443}


def wire_host(scheme: str, hostname: str, port: int | None) -> str:
    """The Host header botocore signs for an endpoint: lower-case name (IPv6 in brackets), and the
    port only when it is not the scheme's default."""
    host = hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return host


@functools.lru_cache(maxsize=256)
def host_for(endpoint: str, bucket: str | None = None) -> tuple[str, str, str]:
    """(scheme, host header value, base path) of an endpoint, derived as botocore's ``_host_from_url``:
    lower-cased host name, IPv6 in brackets, default port dropped."""
    parts = urlsplit(endpoint)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidArgument(f"Endpoint must be an http(s) URL: {endpoint}")
    host = wire_host(parts.scheme, parts.hostname, parts.port)
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


#: Keys made only of these characters are their own wire form (``quote(key, safe="/~")`` keeps them).
_WIRE_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*").fullmatch

#: Every ``X-Amz-*`` parameter a presigner adds sorts at or before this name.
_LAST_AUTH_NAME = "X-Amz-\x7f"


def _encode_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(c.uri_encode(name), c.uri_encode(value)) for name, value in pairs]

class PresignerV4:
    """Signs presigned URLs for one method, bucket, key pair, expiry and moment.

    Everything that does not depend on the object — host, credential scope, signing key, the encoded
    ``X-Amz-*`` parameters — is worked out once here, so a batch of links costs, per URL, one key
    encoding, one SHA-256 and one HMAC. The link API signs up to 1000 objects per call this way.
    """

    __slots__ = (
        "_auth",
        "_auth_canonical",
        "_auth_wire",
        "_canonical_prefix",
        "_hmac",
        "_method",
        "_origin",
        "_prefix",
        "_sts_prefix",
        "_tail",
    )

    def __init__(
        self,
        *,
        method: str,
        endpoint: str,
        bucket: str,
        access_key_id: str,
        secret: str,
        region: str,
        expires: int,
        now: float,
        security_token: str | None = None,
        virtual_hosted: bool = False,
    ) -> None:
        if not 1 <= expires <= MAX_PRESIGNED_EXPIRES:
            raise InvalidArgument(f"Presigned URL expiry must be between 1 and {MAX_PRESIGNED_EXPIRES} seconds.")
        scheme, host, base_path = host_for(endpoint, bucket if virtual_hosted else None)
        self._method = method.upper()
        self._origin = f"{scheme}://{host}"
        self._prefix = object_path(base_path, None if virtual_hosted else bucket, "")[:-1]
        # The wire path is quote(key, safe="/~"): exactly AWS's UriEncode keeping '/', so the key part of
        # the canonical URI is the wire form itself; only the endpoint's own prefix needs canonicalizing.
        self._canonical_prefix = c.canonical_uri(self._prefix) if self._prefix else ""
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
        self._auth = _encode_pairs(auth_params)
        self._auth_wire = c.joined_query(self._auth)
        self._auth_canonical = c.joined_query(sorted(self._auth))
        self._tail = f"\nhost:{host}\n\nhost\n{c.UNSIGNED_PAYLOAD}"
        self._sts_prefix = f"{c.ALGORITHM}\n{timestamp}\n{scope}\n"
        # Keyed once: each URL then copies the keyed state instead of keying HMAC again (0.9 vs 1.4 µs).
        self._hmac = hmac.new(c.signing_key(secret, date, region, "s3"), digestmod=hashlib.sha256)

    def url(self, key: str, extra_query: Sequence[tuple[str, str]] = ()) -> str:
        """The presigned URL of ``key``; ``extra_query`` parameters are signed too, so they are
        tamper-proof."""
        quoted = key if _WIRE_SAFE(key) else quote(key, safe="/~")
        if extra_query:
            extra = _encode_pairs(extra_query)
            ordered = sorted(extra)
            if ordered[0][0] > _LAST_AUTH_NAME:  # the usual case: lower-case names sort after X-Amz-*
                canonical_query = self._auth_canonical + "&" + c.joined_query(ordered)
            else:
                canonical_query = c.joined_query(sorted(extra + self._auth))
            wire = c.joined_query(extra) + "&" + self._auth_wire
        else:
            canonical_query = self._auth_canonical
            wire = self._auth_wire
        creq = f"{self._method}\n{self._canonical_prefix}/{quoted}\n{canonical_query}{self._tail}"
        mac = self._hmac.copy()
        mac.update((self._sts_prefix + c.sha256_hex(creq)).encode("ascii"))
        return f"{self._origin}{self._prefix}/{quoted}?{wire}&X-Amz-Signature={mac.hexdigest()}"


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
    return PresignerV4(
        method=method, endpoint=endpoint, bucket=bucket, access_key_id=access_key_id, secret=secret, region=region,
        expires=expires, now=now, security_token=security_token, virtual_hosted=virtual_hosted,
    ).url(key, extra_query)
