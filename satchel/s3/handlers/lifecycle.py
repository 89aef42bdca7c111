"""Get/Put/DeleteBucketLifecycleConfiguration (``core/lifecycle.py`` decides and validates; the worker in
``core/lifecycle_worker.py`` applies the rules)."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import lifecycle
from satchel.core.models import ObjectRecord, Upload
from satchel.core.node import Node
from satchel.s3.body import read_document
from satchel.s3.context import S3Context
from satchel.s3.lifecyclexml import MAX_LIFECYCLE_XML, lifecycle_document, parse_lifecycle

XML = ("Content-Type", "application/xml")


async def get_bucket_lifecycle(node: Node, ctx: S3Context) -> Response:
    rules = lifecycle.get_rules(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], lifecycle_document(rules))


async def put_bucket_lifecycle(node: Node, ctx: S3Context) -> Response:
    # Content-MD5 (or a checksum) is required, as AWS requires it here.
    rules = parse_lifecycle(await read_document(ctx, MAX_LIFECYCLE_XML, require_integrity=True))
    await lifecycle.put_rules(node, ctx.auth.principal, ctx.bucket, rules)
    return Response(200)


async def delete_bucket_lifecycle(node: Node, ctx: S3Context) -> Response:
    await lifecycle.put_rules(node, ctx.auth.principal, ctx.bucket, None)
    return Response(204)


def expiration_headers(node: Node, record: ObjectRecord) -> list[tuple[str, str]]:
    """``x-amz-expiration`` of PUT/GET/HEAD when a rule of the bucket will expire the object."""
    bucket = node.bucket(record.bucket)
    if bucket is None:
        return []
    value = lifecycle.expiration_header(node, record.bucket, bucket.id, record.key, record.size, record.last_modified)
    return [("x-amz-expiration", value)] if value is not None else []


def abort_headers(node: Node, upload: Upload) -> list[tuple[str, str]]:
    """``x-amz-abort-date`` / ``x-amz-abort-rule-id`` of CreateMultipartUpload when a rule will abort the upload."""
    bucket = node.bucket(upload.bucket)
    return lifecycle.abort_headers(node, bucket.id, upload.key, upload.initiated) if bucket is not None else []
