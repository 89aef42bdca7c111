"""Object headers in and out: what a PUT stores, what a GET/HEAD returns.

Kept apart from the handlers because PutObject, CopyObject (REPLACE), CreateMultipartUpload and POST
uploads all read the same headers, and GetObject and HeadObject write the same ones.
"""

from __future__ import annotations

import email.utils
import functools
import re
from collections.abc import Mapping
from urllib.parse import quote

from satchel.contentsafety import isolation_headers
from satchel.core.errors import InvalidArgument, InvalidRequest
from satchel.core.models import ObjectRecord
from satchel.core.objects import STORED_HEADERS
from satchel.s3.headervalues import check_stored_value, metadata_text, wire_text

META_PREFIX = "x-amz-meta-"
#: An HTTP field name (RFC 9110 §5.1): what a metadata name must be to go back out as a header.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
#: Stored header names with their wire spelling (Content-Type ...), computed once.
_HEADER_NAMES = tuple((name, "-".join(part.capitalize() for part in name.split("-"))) for name in STORED_HEADERS)
DEFAULT_CONTENT_TYPE = "binary/octet-stream"

#: The ``response-*`` query overrides of GetObject/HeadObject and the header each replaces.
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}

_VALID_STORAGE_CLASSES = frozenset(
    {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
     "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"}
)


def stored_headers(headers: Mapping[str, str], *, wire: bool = True) -> dict[str, str]:
    """The representation headers to keep with the object (aws-chunked is transport, not content).

    ``wire``: the values are the Latin-1 view of request header bytes (False for POST form fields,
    which are text already). A value that could not be returned as sent is refused here, before
    anything is stored.
    """
    kept = {name: wire_text(headers[name]) if wire else headers[name] for name in STORED_HEADERS if name in headers}
    for name, value in kept.items():
        check_stored_value(name, value)
    encoding = kept.get("content-encoding")
    if encoding is not None:
        codings = [c.strip() for c in encoding.split(",") if c.strip() and c.strip().lower() != "aws-chunked"]
        if codings:
            kept["content-encoding"] = ",".join(codings)
        else:
            del kept["content-encoding"]
    storage_class = headers.get("x-amz-storage-class")
    if storage_class is not None and storage_class not in _VALID_STORAGE_CLASSES:
        raise InvalidArgument("Invalid storage class.", ArgumentName="x-amz-storage-class")
    return kept


def user_metadata(headers: Mapping[str, str], *, wire: bool = True) -> dict[str, str]:
    """``x-amz-meta-*`` values as text, RFC 2047 words decoded (returned encoded: headervalues)."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith(META_PREFIX):
            if not _TOKEN.fullmatch(name):  # a POST form field name can be anything; a header name cannot
                raise InvalidArgument("User metadata names must be HTTP field names.", ArgumentName=name)
            text = wire_text(value) if wire else value
            check_stored_value(name, text)  # control characters: 400, as for every stored header
            found[name[len(META_PREFIX):]] = metadata_text(text, name)
    return found


def object_url(endpoint: str, bucket: str, key: str) -> str:
    """The ``Location`` of an object (POST upload, CompleteMultipartUpload): a URL, so the key is
    percent-encoded as AWS sends it (a raw key may not even be Latin-1)."""
    return f"{endpoint}/{bucket}/{quote(key, safe='/~')}"


def http_date(timestamp: float) -> str:
    return _http_date(int(timestamp))


@functools.lru_cache(maxsize=1024)
def _http_date(second: int) -> str:
    # Every GET formats its object's Last-Modified; popular objects repeat the same few seconds.
    return email.utils.formatdate(second, usegmt=True)


def object_headers(
    record: ObjectRecord,
    *,
    checksum_mode: bool,
    overrides: Mapping[str, str],
) -> list[tuple[str, str]]:
    """Headers of a GET/HEAD answer, before Content-Length/Content-Range."""
    out: list[tuple[str, str]] = [
        ("ETag", f'"{record.etag}"'),
        ("Last-Modified", http_date(record.last_modified)),
        ("Accept-Ranges", "bytes"),
    ]
    stored = dict(record.headers)
    stored.setdefault("content-type", DEFAULT_CONTENT_TYPE)
    for name, header in _HEADER_NAMES:
        value = stored.get(name)
        override = overrides.get(header)
        if override is not None:
            out.append((header, override))
        elif value is not None:
            out.append((header, value))
    for name, value in record.user_meta.items():
        out.append((META_PREFIX + name, value))
    if checksum_mode:
        for algorithm, value in record.checksums.items():
            out.append((f"x-amz-checksum-{algorithm}", value))
    if record.parts_count:
        out.append(("x-amz-mp-parts-count", str(record.parts_count)))
    content_type = overrides.get("Content-Type") or stored["content-type"]
    out += isolation_headers(content_type)  # contentsafety.py: no script under Satchel's origin
    return out


def response_overrides(query: Mapping[str, str], *, anonymous: bool) -> dict[str, str]:
    """``response-*`` query values by header name; anonymous requests may not use them (as S3)."""
    found = {header: query[param] for param, header in RESPONSE_OVERRIDES.items() if param in query}
    if found and anonymous:
        raise InvalidRequest("Request specific response headers cannot be used for anonymous GET requests.")
    for header, value in found.items():
        check_stored_value(header, value)
    return found
