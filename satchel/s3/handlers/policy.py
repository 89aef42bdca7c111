"""PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import bucketpolicies
from satchel.core.errors import MalformedPolicy, MalformedXML
from satchel.core.node import Node
from satchel.core.policy import MAX_POLICY_BYTES
from satchel.s3 import xml
from satchel.s3.body import read_document
from satchel.s3.context import S3Context


async def put_bucket_policy(node: Node, ctx: S3Context) -> Response:
    try:
        document = await read_document(ctx, MAX_POLICY_BYTES)
    except MalformedXML:  # read_document's "too large"
        raise MalformedPolicy(f"Policy exceeds the maximum allowed document size ({MAX_POLICY_BYTES} bytes).") \
            from None
    await bucketpolicies.put_policy(node, ctx.auth.principal, ctx.bucket, document)
    return Response(204)


async def get_bucket_policy(node: Node, ctx: S3Context) -> Response:
    document = bucketpolicies.get_policy(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [("Content-Type", "application/json")], document.encode("utf-8"))


async def delete_bucket_policy(node: Node, ctx: S3Context) -> Response:
    await bucketpolicies.delete_policy(node, ctx.auth.principal, ctx.bucket)
    return Response(204)


async def get_bucket_policy_status(node: Node, ctx: S3Context) -> Response:
    public = bucketpolicies.policy_is_public(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [("Content-Type", "application/xml")], xml.policy_status(public))
