"""Bucket operations: ListBuckets, Create/Head/Delete, location, versioning, CORS (ACLs: ``acl.py``)."""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import acl, buckets
from satchel.core.access import Action
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.cors import MAX_CORS_CONFIG_BYTES
from satchel.core.errors import BucketAlreadyOwnedByYou, InvalidArgument, InvalidBucketName, InvalidRequest
from satchel.core.node import Node
from satchel.core.text import decimal
from satchel.s3 import xml
from satchel.s3.body import read_document
from satchel.s3.context import S3Context

XML = ("Content-Type", "application/xml")

#: The one region where S3 answers CreateBucket of a bucket the caller already owns with 200.
LEGACY_REGION = "us-east-1"


def _owner(ctx: S3Context) -> tuple[str, str]:
    user = ctx.auth.principal.user
    return (user.id, user.name) if user else ("anonymous", "anonymous")


#: ListBuckets' page size: AWS's default and largest ``max-buckets``.
MAX_BUCKETS = 10_000


async def list_buckets(node: Node, ctx: S3Context) -> Response:
    """The caller's buckets in name order, filtered by ``prefix`` and ``bucket-region`` (ours is the only
    region), ``max-buckets`` at a time; the continuation token is the last name of the page."""
    query = ctx.request.query_dict
    limit = _max_buckets(query.get("max-buckets"))
    prefix = query.get("prefix")
    after = query.get("continuation-token") or ""
    region = node.settings.region
    found = sorted(await node.read(buckets.list_buckets, node, ctx.auth.principal), key=lambda b: b.name)
    if query.get("bucket-region", region) != region:
        found = []
    page = [b for b in found if b.name > after and b.name.startswith(prefix or "")]
    token = page[limit - 1].name if len(page) > limit else None
    owner_id, owner_name = _owner(ctx)
    return Response(200, [XML], xml.list_buckets(page[:limit], owner_id, owner_name, region=region, prefix=prefix,
                                                 continuation_token=token))


def _max_buckets(value: str | None) -> int:
    if value is None:
        return MAX_BUCKETS
    number = decimal(value, 5)
    if number is None or not 1 <= number <= MAX_BUCKETS:
        raise InvalidArgument(f"Argument max-buckets must be an integer between 1 and {MAX_BUCKETS}",
                              ArgumentName="max-buckets", ArgumentValue=value)
    return int(value)


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
    grants = await node.read(acl.for_new_bucket, node, ctx.auth.principal, ctx.request.headers)
    try:
        await buckets.create_bucket(node, ctx.auth.principal, name, contract_owned=contract,
                                    publish=grants is not None and acl.is_public(grants))
    except BucketAlreadyOwnedByYou:
        # AWS's legacy behaviour in us-east-1 (its CreateBucket errors table): re-creating a bucket you
        # already own answers 200 there, 409 in every other region. Nothing about the bucket changes
        # (its ACL neither).
        if region != LEGACY_REGION:
            raise
        return Response(200, [("Location", f"/{name}")])
    if grants:
        await acl.put_bucket_acl(node, ctx.auth.principal, name, grants, [])
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


async def get_bucket_cors(node: Node, ctx: S3Context) -> Response:
    rules = buckets.get_cors(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], xml.cors_configuration(rules))


async def put_bucket_cors(node: Node, ctx: S3Context) -> Response:
    rules = xml.parse_cors(await read_document(ctx, MAX_CORS_CONFIG_BYTES))
    await buckets.put_cors(node, ctx.auth.principal, ctx.bucket, rules)
    return Response(200)


async def delete_bucket_cors(node: Node, ctx: S3Context) -> Response:
    await buckets.put_cors(node, ctx.auth.principal, ctx.bucket, None)
    return Response(204)
