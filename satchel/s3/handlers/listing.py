"""ListObjects (v1), ListObjectsV2 and ListMultipartUploads (with a delimiter: ``core/uploadlisting.py``)."""

from __future__ import annotations

import base64
import binascii

from satchel.asgi import Response
from satchel.core import listing, uploadlisting
from satchel.core.errors import InvalidArgument
from satchel.core.models import ListPage
from satchel.core.node import Node
from satchel.s3 import xml
from satchel.s3.context import S3Context

XML = ("Content-Type", "application/xml")


def max_keys(query: dict[str, str], name: str = "max-keys") -> int:
    raw = query.get(name, "1000")
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument("Provided max-keys not an integer or within integer range",
                              ArgumentName=name, ArgumentValue=raw) from None
    if value < 0:
        raise InvalidArgument("Argument max-keys must be an integer between 0 and 2147483647",
                              ArgumentName=name, ArgumentValue=raw)
    return min(value, 1000)


def encoding_type(query: dict[str, str]) -> str | None:
    value = query.get("encoding-type")
    if value is None or value == "":
        return None
    if value.lower() != "url":
        raise InvalidArgument("Invalid Encoding Method specified in Request",
                              ArgumentName="encoding-type", ArgumentValue=value)
    return "url"


def owner_names(node: Node, page: ListPage) -> dict[str, str]:
    """Display names of the users who wrote the listed objects, one lookup per distinct user."""
    names: dict[str, str] = {}
    for entry in page.entries:
        owner = entry.record.owner_user_id if entry.record is not None else None
        if owner and owner not in names:
            names[owner] = node.store.user_name(owner)
    return names


def encode_token(marker: str) -> str:
    """Continuation tokens are opaque to clients; inside they are the resume marker."""
    return base64.urlsafe_b64encode(marker.encode("utf-8", "surrogatepass")).decode()


def decode_token(token: str) -> str:
    """A token this server gave; anything else is refused rather than read as an empty marker (base64
    decoding skips characters outside its alphabet unless told to validate: ``***`` was a fresh start)."""
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument("The continuation token provided is incorrect",
                              ArgumentName="continuation-token") from None


async def list_objects(node: Node, ctx: S3Context) -> Response:
    query = ctx.request.query_dict
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    marker = query.get("marker") or None
    limit = max_keys(query)
    page = listing.list_objects(node, ctx.auth.principal, ctx.bucket, prefix=prefix, delimiter=delimiter,
                                marker=marker, max_keys=limit)
    body = xml.list_objects_v1(ctx.bucket, page, prefix=prefix, delimiter=delimiter, marker=marker or "",
                               max_keys=limit, encoding_type=encoding_type(query), owners=owner_names(node, page))
    return Response(200, [XML], body)


async def list_objects_v2(node: Node, ctx: S3Context) -> Response:
    query = ctx.request.query_dict
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    token = query.get("continuation-token")
    start_after = query.get("start-after") or None
    marker = decode_token(token) if token else start_after
    limit = max_keys(query)
    page = listing.list_objects(node, ctx.auth.principal, ctx.bucket, prefix=prefix, delimiter=delimiter,
                                marker=marker, max_keys=limit)
    body = xml.list_objects_v2(
        ctx.bucket,
        page,
        prefix=prefix,
        delimiter=delimiter,
        max_keys=limit,
        key_count=len(page.entries),
        continuation_token=token,
        next_continuation_token=encode_token(page.next_marker) if page.is_truncated and page.next_marker else None,
        start_after=start_after,
        encoding_type=encoding_type(query),
        owners=owner_names(node, page) if query.get("fetch-owner", "").lower() == "true" else None,
    )
    return Response(200, [XML], body)


async def list_multipart_uploads(node: Node, ctx: S3Context) -> Response:
    query = ctx.request.query_dict
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    key_marker = query.get("key-marker") or None
    upload_id_marker = query.get("upload-id-marker") or None
    limit = max_keys(query, "max-uploads")
    page = uploadlisting.list_uploads(node, ctx.auth.principal, ctx.bucket, prefix=prefix, delimiter=delimiter,
                                      key_marker=key_marker, upload_id_marker=upload_id_marker, limit=limit)
    body = xml.list_multipart_uploads(
        ctx.bucket,
        page.uploads,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker or "",
        upload_id_marker=upload_id_marker or "",
        next_key_marker=page.next_key_marker,
        next_upload_id_marker=page.next_upload_id_marker,
        max_uploads=limit,
        is_truncated=page.truncated,
        common_prefixes=page.common_prefixes,
        encoding_type=encoding_type(query),
    )
    return Response(200, [XML], body)
