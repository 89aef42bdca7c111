"""Headers of PAR answers: what an object read returns, what a PUT stores, and the security headers.

Security (``SECURITY_HEADERS`` on every answer, :func:`disposition` on every object read):

- ``X-Content-Type-Options: nosniff``: a browser never guesses a type more dangerous than the stored one.
- ``Content-Security-Policy: sandbox`` on object reads (``satchel/contentsafety.py``): even a type shown
  inline runs no script with Satchel's origin.
- ``Referrer-Policy: no-referrer``: the access URL is a bearer secret; a page or a download must not hand it
  to another site in a ``Referer``.
- ``Cache-Control: private, no-store`` (``NO_STORE``), whatever the object's own Cache-Control or Expires.
- Only objects whose Content-Type is on an allow-list of types a browser renders without running script
  (``SAFE_INLINE_TYPES``: plain text, images but SVG, audio, video, PDF, JSON) may be shown inline; every
  other value — an active type (HTML, SVG, XML…), anything unknown, any value with a comma (browsers read
  ``text/plain,text/html`` as its *last* type) or that does not parse as one media type — is sent as
  ``Content-Disposition: attachment``, whatever the PAR's mode or the object's own disposition, so that a
  file uploaded through a write PAR (or by anyone) cannot run script under Satchel's origin — unless the
  bucket's PAR policy says ``inlineActiveTypes`` (``satchel par policy BUCKET --inline-active on``).
  A PUT through a PAR whose Content-Type is not one parseable media type is refused (400).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
from collections.abc import Mapping

from satchel.contentsafety import media_type, sandbox
from satchel.core.conditions import ByteRange
from satchel.core.errors import InvalidArgument, NotImplementedFeature
from satchel.core.links import content_disposition
from satchel.core.models import ObjectRecord
from satchel.core.objects import STORED_HEADERS
from satchel.core.par.model import Par

SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
#: On every PAR answer, replacing an object's stored Cache-Control and Expires: no cache (a shared proxy's
#: above all) may keep an answer and serve it after the PAR was deleted, expired or used up.
NO_STORE = ("Cache-Control", "private, no-store")
META_PREFIX = "opc-meta-"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: Longest stored header value a PUT may set.
MAX_HEADER_VALUE = 1024
#: Media types a browser shows inline without running script in them (allow-list: anything else downloads).
SAFE_INLINE_TYPES = frozenset({
    "text/plain", "text/csv", "application/json", "application/pdf", "application/octet-stream",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon",
    "image/vnd.microsoft.icon", "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "audio/flac", "audio/aac",
    "audio/mp4", "video/mp4", "video/webm", "video/ogg",
})
_WIRE_NAMES = {name: "-".join(part.capitalize() for part in name.split("-")) for name in STORED_HEADERS}


#: OCI request headers Satchel cannot honour: refused (501), never ignored — an encryption key or a
#: checksum the server silently skipped would promise what it does not do.
UNSUPPORTED_HEADERS = ("opc-sse-customer-algorithm", "opc-sse-customer-key", "opc-sse-customer-key-sha256",
                       "opc-sse-kms-key-id", "opc-checksum-algorithm", "opc-content-crc32c", "opc-content-sha256",
                       "opc-content-sha384")


def refuse_unsupported(headers: Mapping[str, str]) -> None:
    for name in UNSUPPORTED_HEADERS:
        if name in headers:
            raise NotImplementedFeature(f"Satchel does not implement {name} on pre-authenticated requests.")
    tier = headers.get("storage-tier")
    if tier is not None and tier.strip().lower() != "standard":
        raise NotImplementedFeature("Satchel stores every object in the Standard tier.")


def safe_inline(content_type: str) -> bool:
    """Whether an object of this Content-Type may be shown inline: on the allow-list, parsed strictly."""
    return media_type(content_type) in SAFE_INLINE_TYPES


def _sendable(value: str) -> bool:
    """A value that goes out as a header unchanged: Latin-1 without control characters."""
    return all(32 <= ord(ch) < 256 and ord(ch) != 127 for ch in value)


def disposition(par: Par, record: ObjectRecord, content_type: str, inline_active: bool) -> str | None:
    filename = par.filename or record.key.rsplit("/", 1)[-1] or "download"
    if not safe_inline(content_type) and not inline_active:
        return content_disposition("attachment", filename)
    if par.mode == "download":
        return content_disposition("attachment", filename)
    if par.mode == "view":
        return "inline"
    return record.headers.get("content-disposition")


def md5_base64(etag: str) -> str | None:
    """OCI's ``opc-content-md5`` of a single-part object (a multipart ETag is no MD5 of the body)."""
    try:
        return base64.b64encode(binascii.unhexlify(etag)).decode() if len(etag) == 32 else None
    except binascii.Error:
        return None


def multipart_md5(etag: str) -> str | None:
    """OCI's ``opc-multipart-md5`` of a multipart object: the base64 MD5 of the parts' MD5s, a dash, the count."""
    digest, dash, count = etag.partition("-")
    whole = md5_base64(digest) if dash else None
    return f"{whole}-{count}" if whole is not None else None


def object_headers(par: Par, record: ObjectRecord, byte_range: ByteRange | None,
                   inline_active: bool = False) -> list[tuple[str, str]]:
    content_type = record.headers.get("content-type") or DEFAULT_CONTENT_TYPE
    headers = [("Content-Type", content_type if _sendable(content_type) else DEFAULT_CONTENT_TYPE),
               ("ETag", f'"{record.etag}"'),
               ("Last-Modified", email.utils.formatdate(record.last_modified, usegmt=True)),
               ("Accept-Ranges", "bytes")]
    for name in STORED_HEADERS:
        value = record.headers.get(name)
        if name not in ("content-type", "content-disposition", "cache-control", "expires") and value \
                and _sendable(value):
            headers.append((_WIRE_NAMES[name], value))
    chosen = disposition(par, record, content_type, inline_active)
    if chosen is not None and _sendable(chosen):
        headers.append(("Content-Disposition", chosen))
    headers += sandbox(headers[0][1])  # nosniff is on every PAR answer (SECURITY_HEADERS)
    md5 = md5_base64(record.etag)
    if md5 is not None:
        headers.append(("opc-content-md5", md5))
    parts = multipart_md5(record.etag)
    if parts is not None:
        headers.append(("opc-multipart-md5", parts))
    headers.append(("storage-tier", "Standard"))
    if record.version_id is not None:  # a versioned bucket's: OCI's version-id header
        headers.append(("version-id", record.version_id))
    headers += [(META_PREFIX + name, value) for name, value in record.user_meta.items()
                if name.isascii() and _sendable(value)]
    if byte_range is None:
        headers.append(("Content-Length", str(record.size)))
    else:
        headers += [("Content-Length", str(byte_range.length)),
                    ("Content-Range", byte_range.content_range(record.size))]
    return headers


def refuse_foreign(headers: Mapping[str, str]) -> None:
    """S3 headers a PAR write would otherwise ignore (a copy that silently uploads the body instead, metadata
    silently dropped): refused (400), never ignored. OCI's metadata is ``opc-meta-*``."""
    for name in headers:
        if name.startswith(("x-amz-copy-source", "x-amz-meta-")):
            raise InvalidArgument(f"{name[:64]} is S3's: pre-authenticated requests take OCI's headers "
                                  "(opc-meta-* for metadata; no copy).")
        if name == META_PREFIX:
            raise InvalidArgument("An opc-meta- header needs a name after the prefix.")


def put_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The representation headers and ``opc-meta-*`` metadata a PUT stores; refused when not plain text."""
    refuse_foreign(headers)
    stored: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if value is not None:
            _check_value(name, value)
            stored[name] = value
    if "content-type" in stored and media_type(stored["content-type"]) is None:
        raise InvalidArgument("Content-Type must be one media type (type/subtype and parameters, no comma).")
    meta: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith(META_PREFIX) and len(name) > len(META_PREFIX):
            _check_value(name, value)
            meta[name[len(META_PREFIX):]] = value
    return stored, meta


def _check_value(name: str, value: str) -> None:
    if len(value) > MAX_HEADER_VALUE or not _sendable(value):
        raise InvalidArgument(f"The {name} header must be at most {MAX_HEADER_VALUE} printable characters.")
