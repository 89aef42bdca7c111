"""CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import acl, multipart, sse
from satchel.core.conditions import condition_date
from satchel.core.errors import InvalidArgument, InvalidRequest, NotImplementedFeature
from satchel.core.inflight import signer_recheck
from satchel.core.multipart import ObjectChecks
from satchel.core.node import Node
from satchel.core.receive import checksum_algorithm, checksum_headers
from satchel.s3 import sse as s3sse
from satchel.s3 import xml
from satchel.s3.body import read_document, request_body
from satchel.s3.context import S3Context
from satchel.s3.handlers import lifecycle, tagging
from satchel.s3.handlers.listing import max_keys
from satchel.s3.handlers.object import write_conditions
from satchel.s3.handlers.versioning import written_version_headers
from satchel.s3.objectheaders import object_url, stored_headers, user_metadata

XML = ("Content-Type", "application/xml")


def _upload_checksum(headers: dict[str, str]) -> str | None:
    """The upload's checksum algorithm, with the ``x-amz-checksum-type`` it asks for honoured or refused.

    Satchel makes CRC64NVME uploads FULL_OBJECT (its only type on AWS) and the others COMPOSITE; a
    FULL_OBJECT CRC32/CRC32C upload is not implemented, so it is refused rather than made composite.
    """
    if checksum_headers(headers):
        # S3 defines no value here (there is no body yet); the object's checksum goes with
        # CompleteMultipartUpload, where it is checked.
        raise InvalidRequest("CreateMultipartUpload takes no checksum value: send it with CompleteMultipartUpload.")
    algorithm = checksum_algorithm(headers["x-amz-checksum-algorithm"]) \
        if headers.get("x-amz-checksum-algorithm") else None
    wanted = headers.get("x-amz-checksum-type")
    if wanted is None:
        return algorithm
    if algorithm is None:
        raise InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
                             "header.")
    made = "FULL_OBJECT" if algorithm == "crc64nvme" else "COMPOSITE"
    if wanted.strip().upper() not in ("COMPOSITE", "FULL_OBJECT"):
        raise InvalidRequest("Value for x-amz-checksum-type header is invalid.")
    if wanted.strip().upper() != made:
        if algorithm in ("crc32", "crc32c"):
            raise NotImplementedFeature(Header="x-amz-checksum-type")
        raise InvalidRequest(f"The {wanted.strip().upper()} checksum type cannot be used with the {algorithm} "
                             "checksum algorithm.")
    return algorithm


async def create_multipart_upload(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    upload = await multipart.create_upload(
        node,
        ctx.auth.principal,
        ctx.bucket,
        ctx.key,
        headers=stored_headers(headers),
        user_meta=user_metadata(headers),
        checksum_algorithm=_upload_checksum(headers),
        encrypt=s3sse.encrypt(node, ctx),
        tags=tagging.request_tags(headers),
        acl=await node.read(acl.for_write, node, ctx.auth.principal, ctx.bucket, ctx.key, headers),
    )
    abort = await node.read(lifecycle.abort_headers, node, upload)
    out = [XML, *sse.describe(upload.headers, s3sse.customer_key(node, ctx)), *abort]
    if upload.checksum_algorithm:
        out.append(("x-amz-checksum-algorithm", upload.checksum_algorithm.upper()))
    return Response(200, out, xml.initiate_multipart_upload(ctx.bucket, ctx.key, upload.upload_id))


async def upload_part(node: Node, ctx: S3Context) -> Response:
    body, expect = request_body(ctx)
    customer = s3sse.customer_key(node, ctx)
    part = await multipart.upload_part(node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id,
                                       ctx.part_number, body, expect,
                                       recheck=signer_recheck(node, ctx.auth.principal, ctx.admission),
                                       customer=customer)
    headers = [("ETag", f'"{part.etag}"')]
    upload = await node.read(multipart.get_upload, node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id)
    headers += sse.describe(upload.headers, customer)
    headers.extend((f"x-amz-checksum-{name}", value) for name, value in part.checksums.items())
    return Response(200, headers)


async def complete_multipart_upload(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    # x-amz-checksum-* here are the whole object's, checked by the core against what it computes.
    expected = ObjectChecks(checksums=checksum_headers(headers), checksum_type=headers.get("x-amz-checksum-type"),
                            size=headers.get("x-amz-mp-object-size"))
    document = await read_document(ctx, xml.MAX_COMPLETE_XML, header_checksums=False)
    parts = xml.parse_complete_multipart(document)
    customer = s3sse.customer_key(node, ctx)
    record = await multipart.complete_upload(node, ctx.auth.principal, ctx.bucket, ctx.key, ctx.upload_id, parts,
                                             write_conditions(headers), expected=expected,
                                             recheck=signer_recheck(node, ctx.auth.principal, ctx.admission),
                                             customer=customer)
    location = object_url(node.settings.endpoint, ctx.bucket, ctx.key)
    checksums = record.checksums if sse.shows_plaintext_digests(node, record.headers, customer) else {}
    body = xml.complete_multipart_upload(location, ctx.bucket, ctx.key, record.etag, checksums)
    expiration = await node.read(lifecycle.expiration_headers, node, record)
    return Response(200, [XML, *sse.describe(record.headers), *expiration,
                          *written_version_headers(record.version_id)], body)


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
    upload, parts, truncated = await node.read(multipart.list_parts, node, ctx.auth.principal, ctx.bucket, ctx.key,
                                               ctx.upload_id, after=marker, limit=limit,
                                               customer=s3sse.customer_key(node, ctx))
    owner = await node.read(node.store.get_user, upload.owner_user_id) if upload.owner_user_id else None
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
