"""ACL and Block Public Access operations: Get/PutBucketAcl, Get/PutObjectAcl, Get/Put/DeletePublicAccessBlock."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import acl, publicblocks
from satchel.core.errors import InvalidRequest, MalformedACLError
from satchel.core.models import AclGrant
from satchel.core.node import Node
from satchel.s3 import aclxml
from satchel.s3.body import read_document
from satchel.s3.context import S3Context
from satchel.s3.handlers.versioning import version_headers

XML = ("Content-Type", "application/xml")


async def _requested(ctx: S3Context) -> tuple[tuple[AclGrant, ...] | None, list[tuple[acl.Grantee, str]]]:
    """The ACL a Put*Acl asks for: canned or grant headers, or an AccessControlPolicy body — exactly one."""
    body = await read_document(ctx, aclxml.MAX_ACL_XML)
    from_headers = acl.requested(ctx.request.headers)
    if from_headers is not None and body.strip():
        raise InvalidRequest("Specifying both an ACL in the request body and ACL headers is not allowed")
    if from_headers is not None:
        return from_headers
    if not body.strip():
        raise MalformedACLError("An ACL is required: an AccessControlPolicy body, x-amz-acl or x-amz-grant-* headers.")
    return None, aclxml.parse_access_control_policy(body)


async def get_bucket_acl(node: Node, ctx: S3Context) -> Response:
    view = await node.read(acl.get_bucket_acl, node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], aclxml.access_control_policy(view))


async def put_bucket_acl(node: Node, ctx: S3Context) -> Response:
    canned, explicit = await _requested(ctx)
    await acl.put_bucket_acl(node, ctx.auth.principal, ctx.bucket, canned, explicit)
    return Response(200)


async def get_object_acl(node: Node, ctx: S3Context) -> Response:
    version_id = ctx.endpoint.version_id
    view = await node.read(acl.get_object_acl, node, ctx.auth.principal, ctx.bucket, ctx.key, version_id)
    return Response(200, [XML, *version_headers(version_id)], aclxml.access_control_policy(view))


async def put_object_acl(node: Node, ctx: S3Context) -> Response:
    canned, explicit = await _requested(ctx)
    version_id = ctx.endpoint.version_id
    await acl.put_object_acl(node, ctx.auth.principal, ctx.bucket, ctx.key, canned, explicit, version_id)
    return Response(200, version_headers(version_id))


async def get_public_access_block(node: Node, ctx: S3Context) -> Response:
    block = publicblocks.get_bucket_block(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], aclxml.public_access_block(block))


async def put_public_access_block(node: Node, ctx: S3Context) -> Response:
    block = aclxml.parse_public_access_block(await read_document(ctx, aclxml.MAX_BLOCK_XML))
    await publicblocks.set_bucket_block(node, ctx.auth.principal, ctx.bucket, block)
    return Response(200)


async def delete_public_access_block(node: Node, ctx: S3Context) -> Response:
    await publicblocks.set_bucket_block(node, ctx.auth.principal, ctx.bucket, None)
    return Response(204)
