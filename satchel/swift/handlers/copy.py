"""Server-side copies: ``PUT`` with ``X-Copy-From: <container>/<object>`` and ``COPY`` with
``Destination: <container>/<object>``.

As in Swift, the copy keeps the source's metadata and adds (or overrides with) the request's
``X-Object-Meta-*`` and representation headers; ``X-Fresh-Metadata: true`` starts from none. Source and
destination are containers of the URL's account: copying across accounts is refused.

Conditions split as in Swift's copy middleware, which reads the source with the request's headers and
writes the destination with them: ``If-Match``, ``If-Modified-Since``, ``If-Unmodified-Since`` and
``Range`` (a ranged copy) apply to the source; ``If-None-Match: *`` (the only value a PUT takes) makes the
destination create-only, checked again in the transaction that publishes it.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from satchel.asgi import Response
from satchel.core import objects, sse
from satchel.core.conditions import check_conditions, parse_range
from satchel.core.models import ObjectRecord
from satchel.core.receive import Expectations
from satchel.core.swiftmeta import MAX_META_COUNT
from satchel.core.text import decimal
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError
from satchel.swift.headers import http_date, is_true, text_in
from satchel.swift.objectheaders import (
    CREATED_BODY,
    HTML,
    refuse_unhonoured,
    representation_headers,
    swift_etag,
    user_meta,
    write_conditions,
)
from satchel.swift.router import RESELLER_PREFIX, check_object_name


def _split(value: str, header: str) -> tuple[str, str]:
    """``<container>/<object>`` of a copy header (percent-encoded, an optional leading slash)."""
    try:
        path = unquote(value.strip(), errors="strict")
    except UnicodeDecodeError:
        raise SwiftError(412, "Invalid UTF8 or contains NULL") from None
    container, _, obj = path.lstrip("/").partition("/")
    if not container or not obj:
        raise SwiftError(412, f"{header} header must be of the form <container name>/<object name>")
    check_object_name(obj)  # as if it were in the path: no object the path could not reach
    return container, obj


def _same_account(ctx: SwiftContext, header: str) -> None:
    """The account a copy names must be the URL's: as clients send it (``AUTH_<name>``, the storage URL's
    form) or bare."""
    other = ctx.request.headers.get(header)
    if other is not None and unquote(other.strip()) not in (ctx.account.name, RESELLER_PREFIX + ctx.account.name):
        raise SwiftError(400, f"{header}: copying across accounts is not supported.")


async def put_copy(ctx: SwiftContext) -> Response:
    headers = ctx.request.headers
    size = decimal(headers.get("content-length", "0").strip() or "0")
    if size != 0 or "chunked" in headers.get("transfer-encoding", "").lower():
        raise SwiftError(400, "Copy requests require a zero byte body")
    _same_account(ctx, "x-copy-from-account")
    container, obj = _split(text_in(headers["x-copy-from"], "X-Copy-From"), "X-Copy-From")
    return await _copy(ctx, (container, obj), (ctx.bucket_name, ctx.key))


async def copy_object(ctx: SwiftContext) -> Response:
    refuse_unhonoured(ctx)
    headers = ctx.request.headers
    if "destination" not in headers:
        raise SwiftError(412, "You must provide a Destination header")
    _same_account(ctx, "destination-account")
    destination = _split(text_in(headers["destination"], "Destination"), "Destination")
    return await _copy(ctx, (ctx.bucket_name, ctx.key), destination)


#: The request's conditions that apply to the source (the destination takes only ``If-None-Match: *``).
SOURCE_CONDITIONS = ("if-match", "if-modified-since", "if-unmodified-since")


async def _copy(ctx: SwiftContext, source_path: tuple[str, str], target: tuple[str, str]) -> Response:
    node, headers = ctx.node, ctx.request.headers
    destination_conditions = write_conditions(headers, ("if-none-match",))
    ctx.bucket(source_path[0])
    ctx.bucket(target[0])
    source = objects.copy_source(node, ctx.principal, source_path[0], source_path[1], {})
    check_conditions({name: headers[name] for name in SOURCE_CONDITIONS if name in headers},
                     etag=source.etag, last_modified=source.last_modified, read=False)
    fresh = is_true(headers.get("x-fresh-metadata"))
    kept = {} if fresh else dict(source.headers)
    kept.update(representation_headers(headers))
    meta = {} if fresh else dict(source.user_meta)
    meta.update(user_meta(headers))
    if len(meta) > MAX_META_COUNT:  # Swift checks the merged metadata of the copy
        raise SwiftError(400, f"Too many metadata items; max {MAX_META_COUNT}")
    if parse_range(headers.get("range"), source.size) is not None:
        record = await _ranged_copy(ctx, source, target, kept, meta, destination_conditions)
    else:
        record = await objects.copy_object(node, ctx.principal, source=source, bucket=target[0], key=target[1],
                                           replace_metadata=True, headers=kept, user_meta=meta,
                                           conditions=destination_conditions)
    return Response(201, [
        ("Etag", swift_etag(record)),
        ("Last-Modified", http_date(record.last_modified)),
        ("X-Copied-From", quote(f"{source_path[0]}/{source_path[1]}")),
        ("X-Copied-From-Last-Modified", http_date(source.last_modified)),
        HTML,
    ], CREATED_BODY)


async def _ranged_copy(ctx: SwiftContext, source: ObjectRecord, target: tuple[str, str], kept: dict[str, str],
                       meta: dict[str, str], conditions: dict[str, str]) -> ObjectRecord:
    """A copy of the source's ``Range`` only: its bytes are streamed into a new object (ETag: their MD5)."""
    byte_range = parse_range(ctx.request.headers.get("range"), source.size)
    assert byte_range is not None  # the caller checked
    opened, stream = await objects.open_object(ctx.node, ctx.principal, source, byte_range)
    if opened != source:  # overwritten between the check of its conditions and now
        await stream.aclose()
        raise SwiftError(409, "The copy's source changed while it was being copied; retry.")
    try:
        return await objects.put_object(ctx.node, ctx.principal, target[0], target[1], stream, headers=kept,
                                        user_meta=meta, expect=Expectations(size=byte_range.length),
                                        conditions=conditions, encrypt=sse.kept(source.headers))
    finally:
        await stream.aclose()
