"""Object and bucket tagging: Get/Put/DeleteObjectTagging, Get/Put/DeleteBucketTagging, and the
``x-amz-tagging`` / ``x-amz-tagging-directive`` / ``x-amz-tagging-count`` headers of the write and read
handlers (``core/tagging.py`` decides)."""

from __future__ import annotations

from collections.abc import Mapping

from satchel.asgi import Response
from satchel.core import tagging
from satchel.core.errors import InvalidArgument
from satchel.core.models import ObjectRecord, Principal
from satchel.core.node import Node
from satchel.core.tagging import MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, Tags
from satchel.s3.body import read_document
from satchel.s3.context import S3Context
from satchel.s3.handlers.versioning import version_headers
from satchel.s3.tagxml import MAX_TAGGING_XML, parse_tagging, tagging_document

XML = ("Content-Type", "application/xml")


def request_tags(headers: Mapping[str, str]) -> Tags:
    """The tags a PutObject / CreateMultipartUpload asks for (``x-amz-tagging``; none when absent)."""
    value = headers.get("x-amz-tagging")
    return tagging.parse_header(value) if value is not None else ()


def copy_tags(headers: Mapping[str, str]) -> Tags | None:
    """A CopyObject's tags: None copies the source's (``x-amz-tagging-directive: COPY``, the default);
    ``REPLACE`` takes ``x-amz-tagging`` (none when absent). With COPY, ``x-amz-tagging`` is ignored, as
    AWS ignores it."""
    directive = headers.get("x-amz-tagging-directive", "COPY").strip().upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown tagging directive.", ArgumentName="x-amz-tagging-directive",
                              ArgumentValue=headers["x-amz-tagging-directive"])
    return request_tags(headers) if directive == "REPLACE" else None


def count_header(node: Node, principal: Principal, record: ObjectRecord) -> list[tuple[str, str]]:
    """``x-amz-tagging-count`` of GET/HEAD of the version ``record``, sent (as AWS does) only when it has
    tags the caller may read."""
    found = node.bucket(record.bucket)
    count = tagging.tag_count(node, principal, found, record.key, record.version_id) if found is not None else 0
    return [("x-amz-tagging-count", str(count))] if count else []


async def get_object_tagging(node: Node, ctx: S3Context) -> Response:
    version_id = ctx.endpoint.version_id
    tags = await node.read(tagging.get_object_tags, node, ctx.auth.principal, ctx.bucket, ctx.key, version_id)
    return Response(200, [XML, *version_headers(version_id)], tagging_document(tags))


async def put_object_tagging(node: Node, ctx: S3Context) -> Response:
    tags = parse_tagging(await read_document(ctx, MAX_TAGGING_XML), MAX_OBJECT_TAGS)
    await tagging.put_object_tags(node, ctx.auth.principal, ctx.bucket, ctx.key, tags, ctx.endpoint.version_id)
    return Response(200, version_headers(ctx.endpoint.version_id))


async def delete_object_tagging(node: Node, ctx: S3Context) -> Response:
    await tagging.put_object_tags(node, ctx.auth.principal, ctx.bucket, ctx.key, (), ctx.endpoint.version_id)
    return Response(204, version_headers(ctx.endpoint.version_id))


async def get_bucket_tagging(node: Node, ctx: S3Context) -> Response:
    tags = await node.read(tagging.get_bucket_tags, node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], tagging_document(tags))


async def put_bucket_tagging(node: Node, ctx: S3Context) -> Response:
    document = await read_document(ctx, MAX_TAGGING_XML, require_integrity=True)
    await tagging.put_bucket_tags(node, ctx.auth.principal, ctx.bucket, parse_tagging(document, MAX_BUCKET_TAGS))
    return Response(204)


async def delete_bucket_tagging(node: Node, ctx: S3Context) -> Response:
    await tagging.put_bucket_tags(node, ctx.auth.principal, ctx.bucket, ())
    return Response(204)
