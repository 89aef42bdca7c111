"""OpenStack Swift temporary URLs (TempURL), compatible with Swift's ``tempurl`` middleware, ``swift tempurl``
and ``swiftclient.utils.generate_temp_url``.

A TempURL lets anyone holding it ``GET``, ``HEAD``, ``PUT``, ``POST`` or ``DELETE`` one object (or any object
under a prefix) until it expires, without credentials. It is signed offline with a *TempURL key*: a secret
set on the account (``X-Account-Meta-Temp-URL-Key`` / ``-Key-2``) or on a container
(``X-Container-Meta-Temp-URL-Key`` / ``-Key-2``). Building one by hand::

    import hmac, hashlib, time
    key = b"mykey"
    method, path = "GET", "/v1/AUTH_acme/photos/cat.jpg"     # the *decoded* path
    expires = int(time.time() + 3600)
    sig = hmac.new(key, f"{method}\\n{expires}\\n{path}".encode(), hashlib.sha256).hexdigest()
    url = f"https://satchel.example.com{quote(path)}?temp_url_sig={sig}&temp_url_expires={expires}"

or ``swift tempurl GET 3600 /v1/AUTH_acme/photos/cat.jpg mykey``.

Query parameters (:func:`parse_query`):

``temp_url_sig``
    The HMAC as hex (40, 64 or 128 digits: the length names sha1, sha256 or sha512) or
    ``<digest>:<base64>`` (standard or URL-safe alphabet, padding optional), e.g. ``sha512:K1b...``.
``temp_url_expires``
    Unix seconds, or ISO 8601 UTC exactly ``%Y-%m-%dT%H:%M:%SZ``. The signature always covers the
    integer. A URL is usable up to and including that second.
``temp_url_prefix``
    Signed for every object whose name starts with this prefix: the message's path is
    ``prefix:/v1/<account>/<container>/<prefix>``.
``temp_url_ip_range``
    An address or network (``192.0.2.0/24``); the message gets a first line ``ip=<range>`` (first, so a
    newline inside an object name cannot forge it) and only clients inside the range are served.
``filename`` / ``inline``
    Unsigned choices of the receiver: the download name, and whether the browser should display the
    object rather than save it (:func:`content_disposition`).

The message (:func:`hmac_message`), exactly as Swift's ``get_hmac`` builds it, lines joined by ``\\n``::

    [ip=<range>\\n]<METHOD>\\n<expires>\\n[prefix:]/v1/<account>/<container>/<object or prefix>

A ``HEAD`` is accepted with a signature made for ``HEAD``, ``GET``, ``POST`` or ``PUT`` (a client holding
any of them may learn whether the object exists); every other method needs its own signature.

Digests: sha1, sha256 and sha512 are allowed by default (:data:`DEFAULT_ALLOWED_DIGESTS`). **sha1 is
deprecated** (as in Swift) and kept only for vStorage-era tools and Ceph RGW, which sign with it;
switch it off with the setting ``tempurl_digests = "sha256 sha512"``.

Everything here is pure: the secret keys, the clock and the client address are arguments.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import quote

from satchel.core.text import is_text

#: Every digest Swift supports; the hex length of a bare ``temp_url_sig`` names one of them.
DIGEST_SIZES = {"sha1": 20, "sha256": 32, "sha512": 64}
_HEX_DIGESTS = {2 * size: name for name, size in DIGEST_SIZES.items()}
#: Swift's ``DEFAULT_ALLOWED_DIGESTS``.
DEFAULT_ALLOWED_DIGESTS = ("sha1", "sha256", "sha512")
#: Swift's ``DEPRECATED_DIGESTS``: allowed by default for old signers, to be switched off.
DEPRECATED_DIGESTS = frozenset({"sha1"})
#: The methods a TempURL may be signed for (Swift's default ``methods``).
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
#: A HEAD may use a signature made for any of these (Swift: "HEAD, GET, POST or PUT").
HEAD_SIGNATURES = ("HEAD", "GET", "POST", "PUT")
EXPIRES_ISO8601_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_ISO8601 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_HEX = re.compile(r"[0-9a-fA-F]+")

#: The query parameters of a TempURL. The request goes on with only these (Swift rewrites the query the
#: same way): no other parameter — ``multipart-manifest``, ``symlink``, ``format`` — reaches the handler
#: of a request nobody authenticated.
QUERY_PARAMS = ("temp_url_sig", "temp_url_expires", "temp_url_prefix", "filename", "inline")
#: Parameters read here; ``temp_url_ip_range`` is signed but not passed on (as in Swift).
_READ_PARAMS = frozenset(QUERY_PARAMS) | {"temp_url_ip_range"}

# Header scrubbing, Swift's defaults. A trailing ``*`` makes a name a prefix.
#: Refused (400) on a TempURL write: they would point the written object at data the URL does not reach
#: (a manifest or symlink naming another container). The copy headers are Satchel's addition: a TempURL
#: names one object, and a PUT with ``X-Copy-From`` would read another one through it.
DISALLOWED_INCOMING_HEADERS = ("x-object-manifest", "x-symlink-target", "x-copy-from", "x-copy-from-account")
#: Dropped from every TempURL request: internal timestamps and reading expired objects are not for
#: anonymous holders of a URL.
INCOMING_REMOVE_HEADERS = ("x-timestamp", "x-open-expired")
#: Exceptions to :data:`INCOMING_REMOVE_HEADERS` (none).
INCOMING_ALLOW_HEADERS: tuple[str, ...] = ()
#: Dropped from every TempURL response: an object's private metadata is its owner's business ...
OUTGOING_REMOVE_HEADERS = ("x-object-meta-*",)
#: ... except metadata its owner marked public.
OUTGOING_ALLOW_HEADERS = ("x-object-meta-public-*",)

#: Longest ``temp_url_ip_range``, ``temp_url_prefix`` and ``filename`` we read (a key is at most 1024).
MAX_PARAM_LENGTH = 2048


class TempUrlInvalid(Exception):
    """A TempURL that must be refused. The client only ever learns ``Temp URL invalid``; ``reason`` is
    for the audit trail (never a key, never the expected signature)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Signature:
    algorithm: str
    digest: bytes = b""

    @property
    def fingerprint(self) -> str:
        """Names the URL for its first sighting (``core/sightings.py``): a hash of the decoded digest,
        so hex, upper-case hex and base64 spellings of one signature are one URL, and never the
        signature itself (a credential)."""
        return "tempurl:" + hashlib.sha256(self.algorithm.encode() + b":" + self.digest).hexdigest()


@dataclass(frozen=True, slots=True)
class TempUrlParams:
    """A TempURL's parameters, parsed once; the request acts on these values and no others."""

    signature: Signature
    #: The integer the signature covers.
    expires: int
    #: ``temp_url_expires`` as sent (Unix seconds or ISO 8601), for the rewritten query.
    expires_text: str
    prefix: str | None = None
    ip_range: str | None = None
    filename: str | None = None
    inline: bool = False

    def query(self, sig_text: str) -> list[tuple[str, str]]:
        """The query the request goes on with (:data:`QUERY_PARAMS` only)."""
        pairs = [("temp_url_sig", sig_text), ("temp_url_expires", self.expires_text)]
        if self.prefix is not None:
            pairs.append(("temp_url_prefix", self.prefix))
        if self.filename:
            pairs.append(("filename", self.filename))
        if self.inline:
            pairs.append(("inline", ""))
        return pairs


def allowed_digests(text: str) -> frozenset[str]:
    """The setting ``tempurl_digests`` (names separated by blanks or commas); ValueError for a name we
    do not support or an empty list, so a typo never silently allows nothing or everything."""
    names = {name.lower() for name in re.split(r"[\s,]+", text.strip()) if name}
    unknown = names - DIGEST_SIZES.keys()
    if unknown:
        raise ValueError(f"unsupported TempURL digests: {', '.join(sorted(unknown))} (use sha1, sha256, sha512)")
    if not names:
        raise ValueError("tempurl_digests must name at least one of sha1, sha256, sha512")
    return frozenset(names)


def parse_signature(value: str) -> Signature:
    """``<hex>`` or ``<digest>:<base64>`` (Swift's ``extract_digest_and_algorithm``, plus a length check
    that Swift leaves to the comparison)."""
    if ":" in value:
        algorithm, encoded = value.split(":", 1)
        algorithm = algorithm.lower()
        if algorithm not in DIGEST_SIZES:
            raise TempUrlInvalid(f"unsupported signature digest {algorithm[:16]!r}")
        # Standard or URL-safe alphabet, not a mix of both (as Swift decides).
        if ("-" in encoded or "_" in encoded) and not ("+" in encoded or "/" in encoded):
            encoded = encoded.replace("-", "+").replace("_", "/")
        if not _BASE64.fullmatch(encoded):
            raise TempUrlInvalid("signature is not base64")
        try:
            digest = base64.b64decode(encoded.rstrip("=") + "==", validate=False)
        except binascii.Error:
            raise TempUrlInvalid("signature is not base64") from None
    else:
        algorithm = _HEX_DIGESTS.get(len(value), "")
        if not algorithm or not _HEX.fullmatch(value):
            raise TempUrlInvalid("signature is neither 40, 64 nor 128 hex digits")
        digest = bytes.fromhex(value)
    if len(digest) != DIGEST_SIZES[algorithm]:
        raise TempUrlInvalid(f"signature has the wrong length for {algorithm}")
    return Signature(algorithm, digest)


def parse_expires(value: str) -> int:
    """Unix seconds (ASCII digits) or ISO 8601 UTC ``%Y-%m-%dT%H:%M:%SZ``."""
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    if _ISO8601.fullmatch(value):
        try:
            return calendar.timegm(time.strptime(value, EXPIRES_ISO8601_FORMAT))
        except ValueError:
            pass
    raise TempUrlInvalid("temp_url_expires is neither Unix seconds nor %Y-%m-%dT%H:%M:%SZ")


def parse_query(pairs: Iterable[tuple[str, str]]) -> TempUrlParams | None:
    """The TempURL parameters of a request's (decoded) query; None when it has neither
    ``temp_url_sig`` nor ``temp_url_expires`` (not a TempURL). One of them alone, either of them
    unreadable, or any TempURL parameter given twice (whose value would the signature have meant?) is
    :class:`TempUrlInvalid`."""
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in _READ_PARAMS:
            if name in seen:
                raise TempUrlInvalid(f"{name} given twice")
            seen[name] = value
    if "temp_url_sig" not in seen and "temp_url_expires" not in seen:
        return None
    sig, expires = seen.get("temp_url_sig"), seen.get("temp_url_expires")
    if not sig or not expires:
        raise TempUrlInvalid("temp_url_sig and temp_url_expires go together")
    for name in ("temp_url_prefix", "temp_url_ip_range", "filename"):
        if len(seen.get(name, "")) > MAX_PARAM_LENGTH:
            raise TempUrlInvalid(f"{name} is too long")
    return TempUrlParams(
        signature=parse_signature(sig),
        expires=parse_expires(expires),
        expires_text=expires,
        prefix=seen.get("temp_url_prefix"),
        ip_range=seen.get("temp_url_ip_range") or None,
        filename=seen.get("filename") or None,
        inline="inline" in seen,
    )


def object_path(account: str, container: str, name: str) -> str:
    """The signed path of an object or (for prefix URLs) a prefix: decoded, never percent-encoded."""
    return f"/v1/{account}/{container}/{name}"


def hmac_message(method: str, expires: int, path: str, *, prefix: bool = False, ip_range: str | None = None) -> bytes:
    """Swift's ``get_hmac`` message: ``[ip=<range>\\n]<METHOD>\\n<expires>\\n[prefix:]<path>``."""
    lines = [method, str(expires), ("prefix:" if prefix else "") + path]
    if ip_range:
        lines.insert(0, f"ip={ip_range}")
    return "\n".join(lines).encode("utf-8")


def sign(key: bytes, message: bytes, algorithm: str) -> bytes:
    return hmac.digest(key, message, algorithm)


def signature_text(digest: bytes, algorithm: str) -> str:
    """As ``generate_temp_url`` writes it: ``sha512:<URL-safe base64 unpadded>`` for sha512, else hex."""
    if algorithm == "sha512":
        return "sha512:" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return digest.hex()


#: Storage URLs are ``/v1/AUTH_<account name>/...`` (TempAuth's reseller prefix, which every client expects).
ACCOUNT_PREFIX = "AUTH_"


def temp_url(endpoint: str, account: str, container: str, name: str, *, key: bytes, method: str, expires: int,
             algorithm: str = "sha256", inline: bool = False, filename: str | None = None) -> str:
    """A full TempURL for one object: ``inline`` for viewing in a browser, ``filename`` to save under that
    name (neither: saved under the object's own name, Swift's default)."""
    path = object_path(ACCOUNT_PREFIX + account, container, name)
    sig = generate(key, method, expires, path, algorithm=algorithm)
    url = f"{endpoint.rstrip('/')}{quote(path)}?temp_url_sig={sig}&temp_url_expires={expires}"
    if filename:
        url += "&filename=" + quote(filename, safe="")
    if inline:
        url += "&inline"
    return url


def generate(key: bytes, method: str, expires: int, path: str, *, algorithm: str = "sha256",
             prefix: bool = False, ip_range: str | None = None) -> str:
    """The ``temp_url_sig`` value for a URL (what ``generate_temp_url`` computes)."""
    return signature_text(sign(key, hmac_message(method, expires, path, prefix=prefix, ip_range=ip_range),
                               algorithm), algorithm)


@dataclass(frozen=True, slots=True)
class Request:
    """What a TempURL check needs of a request: the method, the decoded path's parts (``account`` is the
    path segment after ``/v1/`` as sent, e.g. ``AUTH_acme``) and the client's address."""

    method: str
    account: str
    container: str
    object: str
    client_ip: str | None


def verify(params: TempUrlParams, request: Request, keys: Sequence[bytes], *, allowed: Iterable[str],
           now: float) -> int:
    """The index in ``keys`` of the key that signed the URL, in Swift's order of checks; raises
    :class:`TempUrlInvalid` with the reason otherwise. Every key is compared (constant time), so
    which slot matched is not told by the time taken."""
    signature = params.signature
    if signature.algorithm not in allowed:
        raise TempUrlInvalid(f"digest {signature.algorithm} is not allowed on this server")
    if params.expires < now:
        raise TempUrlInvalid("expired")
    if request.method not in METHODS:
        raise TempUrlInvalid(f"method {request.method} cannot be used with a TempURL")
    if not request.account or not request.container or not request.object.strip("/"):
        raise TempUrlInvalid("a TempURL names an object: /v1/<account>/<container>/<object>")
    if not all(is_text(part) for part in (request.account, request.container, request.object)):
        # The signed message is UTF-8; a name no UTF-8 spells was never signed (and would not encode).
        raise TempUrlInvalid("the path is not UTF-8 text")
    if params.ip_range is not None:
        check_ip_range(params.ip_range, request.client_ip)
    if not keys:
        raise TempUrlInvalid("no TempURL key is set on this account or container")
    if params.prefix is None:
        path = object_path(request.account, request.container, request.object)
    else:
        if not request.object.startswith(params.prefix):
            raise TempUrlInvalid("object outside the signed prefix")
        path = object_path(request.account, request.container, params.prefix)
    methods = HEAD_SIGNATURES if request.method == "HEAD" else (request.method,)
    matched = -1
    for method in methods:
        message = hmac_message(method, params.expires, path, prefix=params.prefix is not None,
                               ip_range=params.ip_range)
        for index, key in enumerate(keys):
            # Constant time; the loop runs to the end whatever matched.
            if hmac.compare_digest(sign(key, message, signature.algorithm), signature.digest) and matched < 0:
                matched = index
    if matched < 0:
        raise TempUrlInvalid("signature does not match (wrong key, method, path, expiry or range)")
    return matched


def check_ip_range(ip_range: str, client_ip: str | None) -> None:
    """The client must be inside the signed range (an address or a network, strict: host bits unset)."""
    if client_ip is None:
        raise TempUrlInvalid("client address unknown for an IP-range TempURL")
    try:
        network = ipaddress.ip_network(ip_range)
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        raise TempUrlInvalid("temp_url_ip_range or the client address is not an address") from None
    if address not in network:
        raise TempUrlInvalid(f"client {client_ip} outside the signed range {ip_range}")


def disposition_format(kind: str, filename: str) -> str:
    """RFC 6266 / RFC 5987, as Swift writes it: ``attachment; filename="<quoted>"; filename*=UTF-8''<quoted>``."""
    return f"{kind}; filename=\"{quote(filename, safe=' /')}\"; filename*=UTF-8''{quote(filename)}"


def content_disposition(*, inline: bool, filename: str | None, stored: str | None, object_name: str) -> str:
    """Swift's order: ``inline`` (with a filename if given); ``filename`` → attachment; the object's stored
    Content-Disposition; else attachment named after the object's last path segment."""
    if inline:
        value = disposition_format("inline", filename) if filename else "inline"
    elif filename:
        value = disposition_format("attachment", filename)
    elif stored:
        value = stored
    else:
        value = disposition_format("attachment", object_name.rstrip("/").rsplit("/", 1)[-1])
    # A header value cannot hold a line break; a stored value that somehow does is escaped, not split.
    return value.replace("\r", "%0D").replace("\n", "%0A")


def expires_header(expires: int) -> str:
    """The ``Expires`` response header: the URL's expiry as an HTTP date (caches keep it no longer)."""
    return formatdate(expires, usegmt=True)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def disallowed_header(method: str, names: Iterable[str]) -> str | None:
    """The first header of :data:`DISALLOWED_INCOMING_HEADERS` in a write (400 in Swift), else None."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return None
    for name in names:
        if name.lower() in DISALLOWED_INCOMING_HEADERS:
            return name
    return None


def removed_request_header(name: str) -> bool:
    """Whether a request header is dropped (:data:`INCOMING_REMOVE_HEADERS`)."""
    lower = name.lower()
    return not _matches(lower, INCOMING_ALLOW_HEADERS) and _matches(lower, INCOMING_REMOVE_HEADERS)


def scrub_response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A response's headers without :data:`OUTGOING_REMOVE_HEADERS` (save :data:`OUTGOING_ALLOW_HEADERS`)."""
    return [(name, value) for name, value in headers
            if _matches(name.lower(), OUTGOING_ALLOW_HEADERS) or not _matches(name.lower(), OUTGOING_REMOVE_HEADERS)]
