"""CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import multipart
from satchel.core.conditions import condition_date
from satchel.core.errors import InvalidArgument
from satchel.core.node import Node
from satchel.core.receive import checksum_algorithm
from satchel.s3 import xml
from satchel.s3.body import read_document, request_body
from satchel.s3.context import S3Context
from satchel.s3.handlers.listing import max_keys
from satchel.s3.handlers.object import write_conditions
from satchel.s3.objectheaders import object_url, stored_headers, user_metadata

XML = ("Content-Type", "application/xml")


async def create_multipart_upload(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    algorithm = headers.get("x-amz-checksum-algorithm")
    upload = await multipart.create_upload(
        node,
        ctx.auth.principal,
        ctx.bucket,
        ctx.key,
        headers=stored_headers(headers),
        user_meta=user_metadata(headers),
        checksum_algorithm=checksum_algorithm(algorithm) if algorithm else None,
    )
    out = [XML]
    if upload.checksum_algorithm:
        out.append(("x-amz-checksum-algorithm", upload.checksum_algorithm.upper()))
    return Response(200, out, xml.initiate_multipart_upload(ctx.bucket, ctx.key, upload.upload_id))


async def upload_part(node: Node, ctx: S3Context) -> Response:
    body, expect = request_body(ctx)
    part = await multipart.upload_part(node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id,
                                       ctx.part_number, body, expect)
    headers = [("ETag", f'"{part.etag}"')]
    headers.extend((f"x-amz-checksum-{name}", value) for name, value in part.checksums.items())
    return Response(200, headers)


async def complete_multipart_upload(node: Node, ctx: S3Context) -> Response:
    parts = xml.parse_complete_multipart(await read_document(ctx, xml.MAX_COMPLETE_XML))
    record = await multipart.complete_upload(node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id, parts,
                                             write_conditions(ctx.request.headers))
    location = object_url(node.settings.endpoint, ctx.bucket, ctx.key)
    body = xml.complete_multipart_upload(location, ctx.bucket, ctx.key, record.etag, record.checksums)
    return Response(200, [XML], body)


async def abort_multipart_upload(node: Node, ctx: S3Context) -> Response:
    initiated = condition_date(ctx.request.headers.get("x-amz-if-match-initiated-time"),
                               "x-amz-if-match-initiated-time")
    await multipart.abort_upload(node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id, initiated=initiated)
    return Response(204)


async def list_parts(node: Node, ctx: S3Context) -> Response:
    query = ctx.request.query_dict
    marker_raw = query.get("part-number-marker", "0") or "0"
    try:
        marker = int(marker_raw)
    except ValueError:
        raise InvalidArgument("Provided part-number-marker not an integer",
                              ArgumentName="part-number-marker", ArgumentValue=marker_raw) from None
    limit = max_keys(query, "max-parts")
    upload, parts, truncated = multipart.list_parts(node, ctx.auth.principal, ctx.bucket, ctx.key,
                                                    ctx.upload_id, after=marker, limit=limit)
    owner = node.store.get_user(upload.owner_user_id) if upload.owner_user_id else None
    body = xml.list_parts(
        ctx.bucket,
        ctx.key,
        upload.upload_id,
        parts,
        part_number_marker=marker,
        next_part_number_marker=parts[-1].part_number if parts else 0,
        max_parts=limit,
        is_truncated=truncated,
        owner_id=owner.id if owner else "",
        owner_name=owner.name if owner else "",
    )
    return Response(200, [XML], body)
