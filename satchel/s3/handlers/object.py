"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects (ACLs: ``acl.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from satchel.asgi import Response, object_response
from satchel.core import acl, objects, sse, versioning
from satchel.core.conditions import ByteRange, DeleteConditions, check_conditions, requested_range
from satchel.core.errors import (
    InvalidPartNumber,
    NoSuchBucket,
    NotImplementedFeature,
    SatchelError,
)
from satchel.core.inflight import signer_recheck
from satchel.core.models import ObjectRecord
from satchel.core.node import Node
from satchel.core.versioning import Deleted
from satchel.s3 import sse as s3sse
from satchel.s3 import xml
from satchel.s3.body import read_document, request_body
from satchel.s3.context import S3Context
from satchel.s3.errors import error_code
from satchel.s3.handlers import lifecycle, tagging
from satchel.s3.handlers.versioning import deleted_versions, version_headers, written_version_headers
from satchel.s3.linkuse import delete_summary
from satchel.s3.objectheaders import object_headers, response_overrides, stored_headers, user_metadata
from satchel.s3.policyfacts import for_version

_WRITE_CONDITIONS = ("if-match", "if-none-match")


def write_conditions(headers: Mapping[str, str]) -> dict[str, str]:
    """If-Match / If-None-Match of a write (PutObject, CopyObject's destination, CompleteMultipartUpload)."""
    return {name: headers[name] for name in _WRITE_CONDITIONS if name in headers}


def _checksum_headers(checksums: dict[str, str]) -> list[tuple[str, str]]:
    return [(f"x-amz-checksum-{name}", value) for name, value in checksums.items()]


async def put_object(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    tags = tagging.request_tags(headers)  # checked before any byte is received
    body, expect = request_body(ctx)
    conditions = write_conditions(headers)
    grants = await node.read(acl.for_write, node, ctx.auth.principal, ctx.bucket, ctx.key, headers)
    record = await objects.put_object(
        node,
        ctx.auth.principal,
        ctx.bucket,
        ctx.key,
        body,
        headers=stored_headers(headers),
        user_meta=user_metadata(headers),
        expect=expect,
        conditions=conditions,
        recheck=signer_recheck(node, ctx.auth.principal, ctx.admission),
        encrypt=s3sse.encrypt(node, ctx),
        tags=tags,
        acl=grants,
    )
    return Response(200, [("ETag", f'"{record.etag}"'), *_checksum_headers(record.checksums),
                          *sse.describe(record.headers, s3sse.customer_key(node, ctx)),
                          *await node.read(lifecycle.expiration_headers, node, record),
                          *written_version_headers(record.version_id)])


async def get_object(node: Node, ctx: S3Context) -> Response:
    return await _read(node, ctx, head=False)


async def head_object(node: Node, ctx: S3Context) -> Response:
    return await _read(node, ctx, head=True)


async def _read(node: Node, ctx: S3Context, *, head: bool) -> Response:
    request = ctx.request
    principal = ctx.auth.principal
    overrides = response_overrides(request.query_dict, anonymous=principal.anonymous)
    customer = s3sse.customer_key(node, ctx)
    version_id = ctx.endpoint.version_id
    record = await node.read(objects.get_object, node, principal, ctx.bucket, ctx.key, version_id)
    keyless_link = ctx.auth.link_id is not None and customer is None  # a minted link carries no SSE-C key
    # The SSE-C key is checked first, as AWS does: without it, not even a condition's answer is given.
    if keyless_link:
        sse.refuse_link(record.headers)
    sse.for_read(node, record.headers, customer)
    check_conditions(request.headers, etag=record.etag, last_modified=record.last_modified)
    byte_range = _range(ctx, record)
    checksum_mode = request.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
    body: bytes | AsyncIterator[bytes] = b""
    if not head:
        opened, stream = await objects.open_object(node, principal, record, byte_range, customer,
                                                   keyless_link=keyless_link, version_id=version_id)
        body = stream
        if opened != record:  # overwritten meanwhile: the answer describes what is being sent
            record = opened
            try:
                check_conditions(request.headers, etag=record.etag, last_modified=record.last_modified)
                byte_range = _range(ctx, record)
            except BaseException:
                await stream.aclose()
                raise
    headers = object_headers(record, checksum_mode=checksum_mode and byte_range is None, overrides=overrides)
    headers += sse.describe(record.headers, customer)
    headers += await node.read(tagging.count_header, node, principal, record)
    headers += await node.read(lifecycle.expiration_headers, node, record)
    headers += version_headers(await node.read(versioning.shown_version_id, node, record))
    return object_response(headers, record.size, byte_range, body)


def _range(ctx: S3Context, record: ObjectRecord) -> ByteRange | None:
    if ctx.endpoint.part_number is not None:
        return part_range(record, ctx.endpoint.part_number)
    return requested_range(ctx.request.headers, record)


def part_range(record: ObjectRecord, number: int) -> ByteRange | None:
    """GET/HEAD ``?partNumber=N``: the bytes of part N (the whole object is part 1 of a simple one)."""
    count = record.parts_count or 1
    if number > count or (record.size == 0 and number == 1):
        if number == 1:
            return None
        raise InvalidPartNumber(PartNumberRequested=str(number), ActualPartCount=str(count))
    if record.parts_count is None:
        return ByteRange(0, record.size - 1)
    start = sum(segment.size for segment in record.segments[: number - 1])
    return ByteRange(start, start + record.segments[number - 1].size - 1)


async def delete_object(node: Node, ctx: S3Context) -> Response:
    headers = ctx.request.headers
    if "x-amz-if-match-initiated-time" in headers:
        # AbortMultipartUpload's condition: S3 defines it for no delete of an object, and ignoring
        # it would delete whatever the object's state.
        raise NotImplementedFeature("Satchel does not evaluate x-amz-if-match-initiated-time on DeleteObject.",
                                    Header="x-amz-if-match-initiated-time")
    conditions = DeleteConditions.parse(headers.get("if-match"), headers.get("x-amz-if-match-last-modified-time"),
                                        headers.get("x-amz-if-match-size"))
    deleted = await objects.delete_object(node, ctx.auth.principal, ctx.bucket, ctx.key, conditions,
                                          ctx.endpoint.version_id)
    return Response(204, version_headers(deleted.version_id, deleted.delete_marker))


async def delete_objects(node: Node, ctx: S3Context) -> Response:
    """Delete up to 1000 keys; per-key failures are reported in the answer, not as a request error.

    Each key is authorized on its own (OBJECT_WRITE on that key, as AWS checks s3:DeleteObject per
    key), so a prefix grant deletes inside its prefix; a refused key is an AccessDenied entry in the
    result, which every AWS client reports per key while the others go on. Through a presigned URL,
    each key is also checked against object and prefix revocations, and the request's audit event
    says which keys were deleted and which refused, and why (bounded: ``linkuse.delete_summary``).
    """
    document = await read_document(ctx, xml.MAX_DELETE_XML, require_integrity=True)
    entries, quiet = xml.parse_delete(document)
    if node.bucket(ctx.bucket) is None:
        raise NoSuchBucket(BucketName=ctx.bucket)  # for the whole request, as S3 does
    deleted: list[str] = []
    versions: dict[int, tuple[str | None, Deleted]] = {}  # index in ``deleted`` -> (asked version, outcome)
    errors: list[tuple[str, str, str]] = []
    for entry in entries:
        key = entry.key
        try:
            if ctx.admission is not None:
                ctx.admission.check_key(node.revocations, key)
            conditions = DeleteConditions.parse(entry.etag, entry.last_modified, entry.size)
            deleter = for_version(ctx.auth.principal) if entry.version_id is not None else ctx.auth.principal
            outcome = await objects.delete_object(node, deleter, ctx.bucket, key, conditions, entry.version_id)
            if outcome.version_id is not None:
                versions[len(deleted)] = (entry.version_id, outcome)
            deleted.append(key)
        except SatchelError as exc:
            errors.append((key, error_code(exc), exc.message))
        except Exception:  # one key failing must not hide the others' results
            errors.append((key, "InternalError", "We encountered an internal error. Please try again."))
    if ctx.admission is not None:  # through a link: audited, with what happened to each key
        ctx.summary = delete_summary(len(entries), deleted, errors)
    body = xml.delete_result(deleted, errors, quiet, versions=deleted_versions(versions))
    return Response(200, [("Content-Type", "application/xml")], body)
