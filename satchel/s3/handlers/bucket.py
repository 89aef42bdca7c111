"""Bucket operations: ListBuckets, Create/Head/Delete, location, versioning, ACL, CORS."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import buckets
from satchel.core.access import Action
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.errors import InvalidBucketName, InvalidRequest
from satchel.core.node import Node
from satchel.s3 import xml
from satchel.s3.body import read_document
from satchel.s3.context import S3Context

XML = ("Content-Type", "application/xml")


def _owner(ctx: S3Context) -> tuple[str, str]:
    user = ctx.auth.principal.user
    return (user.id, user.name) if user else ("anonymous", "anonymous")


async def list_buckets(node: Node, ctx: S3Context) -> Response:
    found = buckets.list_buckets(node, ctx.auth.principal)
    owner_id, owner_name = _owner(ctx)
    return Response(200, [XML], xml.list_buckets(found, owner_id, owner_name))


async def create_bucket(node: Node, ctx: S3Context) -> Response:
    name = ctx.bucket
    if not valid_bucket_name(name):
        raise InvalidBucketName(BucketName=name)
    constraint = xml.parse_create_bucket(await read_document(ctx, xml.MAX_CONFIG_XML))
    region = node.settings.region
    if constraint and constraint != region and not (region == "us-east-1" and constraint == "US"):
        raise InvalidRequest(
            f"The {constraint} location constraint is incompatible for the region specific endpoint "
            "this request was sent to."
        )
    contract = ctx.request.headers.get("x-satchel-bucket-owner", "").lower() == "account"
    await buckets.create_bucket(node, ctx.auth.principal, name, contract_owned=contract)
    return Response(200, [("Location", f"/{name}")])


async def head_bucket(node: Node, ctx: S3Context) -> Response:
    buckets.bucket_for(node, ctx.auth.principal, ctx.bucket, Action.BUCKET_READ)
    return Response(200, [("x-amz-bucket-region", node.settings.region)])


async def delete_bucket(node: Node, ctx: S3Context) -> Response:
    await buckets.delete_bucket(node, ctx.auth.principal, ctx.bucket)
    return Response(204)


async def get_bucket_location(node: Node, ctx: S3Context) -> Response:
    buckets.bucket_for(node, ctx.auth.principal, ctx.bucket, Action.BUCKET_READ)
    return Response(200, [XML], xml.location(node.settings.region))


async def get_bucket_versioning(node: Node, ctx: S3Context) -> Response:
    buckets.bucket_for(node, ctx.auth.principal, ctx.bucket, Action.BUCKET_READ)
    return Response(200, [XML], xml.versioning_configuration())


async def get_acl(node: Node, ctx: S3Context) -> Response:
    """A canned answer (owner has FULL_CONTROL): tools ask, Satchel's access model is not ACLs."""
    bucket = buckets.bucket_for(node, ctx.auth.principal, ctx.bucket, Action.BUCKET_READ, ctx.endpoint.key)
    owner = node.store.get_user(bucket.owner_user_id) if bucket.owner_user_id else None
    owner_id, owner_name = (owner.id, owner.name) if owner else (bucket.account_id, bucket.account_id)
    return Response(200, [XML], xml.access_control_policy(owner_id, owner_name))


async def get_bucket_cors(node: Node, ctx: S3Context) -> Response:
    rules = buckets.get_cors(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], xml.cors_configuration(rules))


async def put_bucket_cors(node: Node, ctx: S3Context) -> Response:
    rules = xml.parse_cors(await read_document(ctx, xml.MAX_CONFIG_XML))
    await buckets.put_cors(node, ctx.auth.principal, ctx.bucket, rules)
    return Response(200)


async def delete_bucket_cors(node: Node, ctx: S3Context) -> Response:
    await buckets.put_cors(node, ctx.auth.principal, ctx.bucket, None)
    return Response(204)
