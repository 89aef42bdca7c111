"""CopyObject and UploadPartCopy: the ``x-amz-copy-source`` family."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import acl, multipart, objects, sse
from satchel.core.conditions import ByteRange
from satchel.core.errors import InvalidArgument, SatchelError
from satchel.core.models import ObjectRecord
from satchel.core.node import Node
from satchel.core.text import decimal
from satchel.s3 import sse as s3sse
from satchel.s3 import xml
from satchel.s3.context import S3Context
from satchel.s3.handlers import lifecycle, tagging
from satchel.s3.handlers.object import write_conditions
from satchel.s3.handlers.versioning import source_version_headers, written_version_headers
from satchel.s3.objectheaders import stored_headers, user_metadata
from satchel.s3.policyfacts import for_version

_SOURCE_CONDITIONS = tuple(
    "x-amz-copy-source-if-" + name for name in ("match", "none-match", "modified-since", "unmodified-since")
)


def _source(node: Node, ctx: S3Context) -> ObjectRecord:
    """The object the copy reads. A refusal here is the source's: it is kept in ``ctx`` so that the
    audit trail gives the source bucket the reason and the destination only the fact."""
    source = ctx.endpoint.copy_source
    assert source is not None  # the router sets it for CopyObject and UploadPartCopy
    try:
        if ctx.admission is not None:  # through a link: the source is read through it too
            ctx.admission.check_source(node.revocations, node.bucket(source.bucket), source.key,
                                       server_max=node.settings.max_link_lifetime, now=node.clock.now())
        reader = for_version(ctx.auth.principal) if source.version_id is not None else ctx.auth.principal
        record = objects.copy_source(node, reader, source.bucket, source.key, _conditions(ctx), source.version_id)
        sse.for_read(node, record.headers, s3sse.source_customer_key(node, ctx))  # a wrong key is the source's
        return record
    except SatchelError as exc:
        ctx.source_failure = exc
        raise


def _conditions(ctx: S3Context) -> dict[str, str]:
    headers = ctx.request.headers
    return {name: headers[name] for name in _SOURCE_CONDITIONS if name in headers}


async def copy_object(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    source = await node.read(_source, node, ctx)  # it reads the store: off the loop
    directive = headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive.", ArgumentName="x-amz-metadata-directive",
                              ArgumentValue=directive)
    grants = await node.read(acl.for_write, node, ctx.auth.principal, ctx.bucket, ctx.key, headers)
    record = await objects.copy_object(
        node,
        ctx.auth.principal,
        source=source,
        bucket=ctx.bucket,
        key=ctx.key,
        replace_metadata=directive == "REPLACE",
        headers=stored_headers(headers),
        user_meta=user_metadata(headers),
        conditions=write_conditions(headers),
        encrypt=s3sse.encrypt(node, ctx),
        source_customer=s3sse.source_customer_key(node, ctx),
        keep_encryption=False,
        tags=tagging.copy_tags(headers),
        acl=grants,
    )
    ctx.source_bytes = source.size
    body = xml.copy_object_result(record.etag, record.last_modified, record.checksums)
    return Response(200, [("Content-Type", "application/xml"),
                          *sse.describe(record.headers, s3sse.customer_key(node, ctx)),
                          *await node.read(lifecycle.expiration_headers, node, record),
                          *written_version_headers(record.version_id),
                          *await source_version_headers(node, source)], body)


def copy_range(header: str | None) -> ByteRange | None:
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    start, end = decimal(first, 20), decimal(last, 20)
    if unit != "bytes" or start is None or end is None or end < start:
        raise InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last "
                              "where first and last are the zero-based offsets of the first and last bytes to copy",
                              ArgumentName="x-amz-copy-source-range", ArgumentValue=header)
    return ByteRange(int(first), int(last))


async def upload_part_copy(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    source = await node.read(_source, node, ctx)  # it reads the store: off the loop
    source_range = copy_range(headers.get("x-amz-copy-source-range"))
    part = await multipart.upload_part_copy(
        node,
        ctx.auth.principal,
        ctx.bucket,
        ctx.key,
        ctx.upload_id,
        ctx.part_number,
        source=source,
        source_range=source_range,
        customer=s3sse.customer_key(node, ctx),
        source_customer=s3sse.source_customer_key(node, ctx),
    )
    ctx.source_bytes = source_range.length if source_range is not None else source.size
    body = xml.copy_part_result(part.etag, part.last_modified, part.checksums)
    upload = await node.read(multipart.get_upload, node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id)
    encryption = sse.describe(upload.headers, s3sse.customer_key(node, ctx))
    return Response(200, [("Content-Type", "application/xml"), *encryption,
                          *await source_version_headers(node, source)], body)
