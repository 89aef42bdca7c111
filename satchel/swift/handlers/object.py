"""Object requests: GET, HEAD, PUT (and PUT with ``X-Copy-From``), POST, DELETE, COPY.

Each method is one function of a :class:`SwiftContext` whose principal is already decided (a token's
user, anonymous, or whoever vouches for a TempURL), so every way in runs the same code and ends in the
same ``authorize()`` inside core.

Swift features Satchel does not have are refused, never half-done: large-object manifests (DLO's
``X-Object-Manifest``, SLO's ``?multipart-manifest``), expiry (``X-Delete-At`` / ``-After``), symlinks.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping

from satchel.asgi import Response, object_response
from satchel.core import objects, sse
from satchel.core.conditions import DeleteConditions, check_conditions, requested_range
from satchel.core.errors import NotModified
from satchel.core.receive import Expectations
from satchel.core.text import decimal
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError
from satchel.swift.handlers import copy
from satchel.swift.headers import http_date
from satchel.swift.listing import DEFAULT_OBJECT_TYPE
from satchel.swift.objectheaders import (
    ACCEPTED_BODY,
    CREATED_BODY,
    HTML,
    object_headers,
    refuse_unhonoured,
    representation_headers,
    stored_headers,
    swift_etag,
    user_meta,
    write_conditions,
)

_SLO_DELETED = b"Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors: \n"


async def get_object(ctx: SwiftContext) -> Response:
    return await _read(ctx, head=False)


async def head_object(ctx: SwiftContext) -> Response:
    return await _read(ctx, head=True)


async def _read(ctx: SwiftContext, *, head: bool) -> Response:
    node, headers = ctx.node, ctx.request.headers
    ctx.bucket()
    record = objects.get_object(node, ctx.principal, ctx.bucket_name, ctx.key)
    if record.parts_count and ctx.request.query_dict.get("multipart-manifest") == "get":
        # The segments a manifest lists are objects of their own; an S3 multipart object's parts are not,
        # so its manifest lists none (rclone reads it before deleting, to delete the segments too).
        return Response(200, [("Content-Type", "application/json; charset=utf-8"),
                              ("X-Static-Large-Object", "True"), ("Etag", swift_etag(record))], b"[]")
    try:
        check_conditions(headers, etag=record.etag, last_modified=record.last_modified)
    except NotModified:
        return Response(304, object_headers(record))  # the validators the client compares, as Swift sends
    byte_range = requested_range(headers, record)
    body: bytes | AsyncIterator[bytes] = b""
    if head:
        sse.refuse_link(record.headers)  # as the GET would be: Swift cannot carry an SSE-C key
    else:
        opened, stream = await objects.open_object(node, ctx.principal, record, byte_range)
        body = stream
        if opened != record:  # overwritten meanwhile: the answer describes what is being sent
            record = opened
            try:
                check_conditions(headers, etag=record.etag, last_modified=record.last_modified)
                byte_range = requested_range(headers, record)
            except BaseException:
                await stream.aclose()
                raise
    return object_response(object_headers(record), record.size, byte_range, body)


def _content_md5(etag: str | None) -> str | None:
    """The ETag a PUT promises, as the base64 MD5 core checks before publishing (422 on mismatch)."""
    if etag is None:
        return None
    bare = etag.strip().strip('"')
    try:
        digest = bytes.fromhex(bare)
    except ValueError:
        digest = b""
    if len(digest) != 16:
        raise SwiftError(422)  # no body can have this MD5
    return base64.b64encode(digest).decode()


def content_length(headers: Mapping[str, str]) -> int | None:
    """The announced body size; 411 when neither Content-Length nor chunked framing says."""
    value = headers.get("content-length")
    if value is None:
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            raise SwiftError(411)
        return None
    size = decimal(value.strip())
    if size is None:
        raise SwiftError(400, "Invalid Content-Length")
    return size


async def put_object(ctx: SwiftContext) -> Response:
    refuse_unhonoured(ctx)
    headers = ctx.request.headers
    if "x-copy-from" in headers:
        return await copy.put_copy(ctx)
    ctx.bucket()
    size = content_length(headers)
    expect = Expectations(size=size, content_md5=_content_md5(headers.get("etag")))
    record = await objects.put_object(
        ctx.node, ctx.principal, ctx.bucket_name, ctx.key, ctx.request.body_chunks(),
        headers=stored_headers(headers, ctx.key), user_meta=user_meta(headers), expect=expect,
        conditions=write_conditions(headers), recheck=ctx.recheck,
    )
    return Response(201, [("Etag", record.etag), ("Last-Modified", http_date(record.last_modified)), HTML],
                    CREATED_BODY)


async def post_object(ctx: SwiftContext) -> Response:
    """Replace the object's metadata (Swift's POST): every X-Object-Meta-* and stored header is replaced
    by the request's; the Content-Type stays unless one is given. The bytes are not rewritten."""
    refuse_unhonoured(ctx)
    headers = ctx.request.headers
    ctx.bucket()
    source = objects.copy_source(ctx.node, ctx.principal, ctx.bucket_name, ctx.key, {})
    kept = representation_headers(headers)
    if not kept.get("content-type"):
        kept["content-type"] = source.headers.get("content-type") or DEFAULT_OBJECT_TYPE
    await objects.copy_object(ctx.node, ctx.principal, source=source, bucket=ctx.bucket_name, key=ctx.key,
                              replace_metadata=True, headers=kept, user_meta=user_meta(headers))
    return Response(202, [HTML], ACCEPTED_BODY)


async def delete_object(ctx: SwiftContext) -> Response:
    """Delete; a missing object is 404 in Swift (S3 answers 204), hence the ``*`` condition."""
    refuse_unhonoured(ctx)
    ctx.bucket()
    await objects.delete_object(ctx.node, ctx.principal, ctx.bucket_name, ctx.key, DeleteConditions(etag="*"))
    if ctx.request.query_dict.get("multipart-manifest") == "delete":
        # The answer of Swift's SLO delete (a bulk-delete report): the object and its internal parts are gone.
        return Response(200, [("Content-Type", "text/plain; charset=utf-8")], _SLO_DELETED)
    return Response(204)


async def copy_object(ctx: SwiftContext) -> Response:
    return await copy.copy_object(ctx)
