"""Object headers in and out of the Swift front-end, and the refusals every object write shares.

Kept apart from the handlers because PUT, POST and COPY read the same headers and GET and HEAD write
the same ones.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping

from satchel.contentsafety import isolation_headers
from satchel.core import objects
from satchel.core.models import ObjectRecord
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError
from satchel.swift.headers import http_date, is_true, meta_changes, meta_headers, text_in, text_out, x_timestamp
from satchel.swift.listing import DEFAULT_OBJECT_TYPE

#: Representation headers an object keeps (the S3 front-end returns the same ones).
STORED_HEADERS = objects.STORED_HEADERS
#: Headers of Swift features Satchel does not have, with what to say.
REFUSED_HEADERS: dict[str, str] = {
    "x-object-manifest": "Dynamic Large Objects (X-Object-Manifest) are not supported: upload objects whole "
                         "(up to the server's max_put_size) or use S3 multipart uploads.",
    "x-static-large-object": "Static Large Objects are not supported: upload objects whole or use S3 "
                             "multipart uploads.",
    "x-delete-at": "Object expiration (X-Delete-At) is not supported: the object would never be deleted.",
    "x-delete-after": "Object expiration (X-Delete-After) is not supported: the object would never be deleted.",
    "x-symlink-target": "Symlinks are not supported.",
    "x-symlink-target-account": "Symlinks are not supported.",
}
#: Swift's ``MAX_HEADER_SIZE``: no header line (name, ": ", value) is longer.
MAX_HEADER_SIZE = 8192
#: The stored Content-Type is repeated in every listing row; Swift's container listings keep 256 bytes
#: of it. Without this bound a 10 000-row listing could carry 80 MB of content types.
MAX_CONTENT_TYPE_BYTES = 256
CREATED_BODY = b"<html><h1>Created</h1><p>The resource has been created.</p></html>"
ACCEPTED_BODY = b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"
HTML = ("Content-Type", "text/html; charset=UTF-8")


def refuse_unhonoured(ctx: SwiftContext) -> None:
    """Headers of Swift features Satchel does not have (their query parameters: ``router.UNSUPPORTED_QUERY``)."""
    for name, why in REFUSED_HEADERS.items():
        if name in ctx.request.headers:
            raise SwiftError(400, why)


def write_conditions(headers: Mapping[str, str], names: tuple[str, ...] = ("if-match", "if-none-match")
                     ) -> dict[str, str]:
    """A write's ``names`` among If-None-Match: * (create only) and If-Match; Swift takes only ``*`` in
    If-None-Match."""
    none_match = headers.get("if-none-match")
    if none_match is not None and none_match.strip() != "*":
        raise SwiftError(400, "If-None-Match only supports *")
    return {name: headers[name] for name in names if name in headers}


def swift_etag(record: ObjectRecord) -> str:
    """The MD5 of a simple object, bare as Swift sends it. An S3 multipart object's ``<md5>-<parts>`` is
    no MD5 of its bytes: it goes quoted, as a Static Large Object's ETag does (see :func:`object_headers`)."""
    return f'"{record.etag}"' if record.parts_count else record.etag


def object_headers(record: ObjectRecord) -> list[tuple[str, str]]:
    stored = record.headers
    out: list[tuple[str, str]] = [
        ("Content-Type", stored.get("content-type") or DEFAULT_OBJECT_TYPE),
        ("Etag", swift_etag(record)),
        ("Last-Modified", http_date(record.last_modified)),
        ("X-Timestamp", x_timestamp(record.last_modified)),
        ("Accept-Ranges", "bytes"),
    ]
    for name in STORED_HEADERS:
        if name != "content-type" and name in stored:
            out.append(("-".join(part.capitalize() for part in name.split("-")), text_out(stored[name])))
    out.extend(meta_headers("object", record.user_meta))
    if record.parts_count:
        # An S3 multipart object is what Swift calls a Static Large Object (parts stored apart, served as
        # one, ETag not the MD5 of the bytes): saying so is what makes swiftclient and rclone skip their
        # MD5 check of the body instead of failing it. Its parts are internal, not segment objects:
        # ?multipart-manifest=get lists no segments, ?multipart-manifest=delete deletes the object.
        out.append(("X-Static-Large-Object", "True"))
    out += isolation_headers(out[0][1])  # contentsafety.py: no script under Satchel's origin
    return out


def representation_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's representation headers (:data:`STORED_HEADERS`) as stored text, each bounded: Swift's
    line limit, and :data:`MAX_CONTENT_TYPE_BYTES` for the Content-Type every listing repeats (400)."""
    kept: dict[str, str] = {}
    for name in STORED_HEADERS:
        if name not in headers:
            continue
        value = text_in(headers[name], name)
        size = len(value.encode())
        limit = MAX_CONTENT_TYPE_BYTES if name == "content-type" else MAX_HEADER_SIZE - len(name) - 2
        if size > limit:
            raise SwiftError(400, f"The value of {name} is {size} bytes long; at most {limit} are kept.")
        kept[name] = value
    return kept


def stored_headers(headers: Mapping[str, str], key: str) -> dict[str, str]:
    """The representation headers a PUT keeps. Without a Content-Type (or with
    ``X-Detect-Content-Type: true``) Swift guesses one from the name."""
    kept = representation_headers(headers)
    if not kept.get("content-type") or is_true(headers.get("x-detect-content-type")):
        kept["content-type"] = mimetypes.guess_type(key, strict=False)[0] or DEFAULT_OBJECT_TYPE
    return kept


def user_meta(headers: Mapping[str, str]) -> dict[str, str]:
    """``X-Object-Meta-*`` as the object's user metadata (an empty value sets nothing, as in Swift)."""
    return {name: value for name, value in meta_changes(headers, "object").items() if value is not None}


