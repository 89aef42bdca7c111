"""GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption: a bucket's default encryption.

Only ``AES256`` (SSE-S3) can be a default: ``aws:kms`` and ``aws:kms:dsse`` need a key management
service Satchel does not have, and are refused (501) rather than stored and not applied.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from satchel.asgi import Response
from satchel.core import sse
from satchel.core.errors import InvalidArgument, MalformedXML
from satchel.core.node import Node
from satchel.s3.body import read_document
from satchel.s3.context import S3Context
from satchel.s3.xml import _children, _doc, _el, _parse, _text

XML = ("Content-Type", "application/xml")
MAX_ENCRYPTION_XML = 16 * 1024


def parse_encryption(body: bytes) -> str:
    """The one rule's SSEAlgorithm, validated as AWS does."""
    root = _parse(body, "ServerSideEncryptionConfiguration", MAX_ENCRYPTION_XML)
    rules = _children(root, "Rule")
    if len(rules) != 1:
        raise MalformedXML()
    defaults = _children(rules[0], "ApplyServerSideEncryptionByDefault")
    if len(defaults) != 1:
        raise MalformedXML()
    default: Element = defaults[0]
    algorithm = (_text(default, "SSEAlgorithm") or "").strip()
    enabled = _text(rules[0], "BucketKeyEnabled")
    if enabled is not None and enabled.strip() not in ("true", "false"):
        raise MalformedXML()
    algorithm = sse.bucket_default(algorithm)
    if _text(default, "KMSMasterKeyID") is not None:
        raise InvalidArgument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
                              "aws:kms:dsse", ArgumentName="ApplyServerSideEncryptionByDefault")
    return algorithm


def encryption_configuration(algorithm: str) -> bytes:
    return _doc("ServerSideEncryptionConfiguration", [
        "<Rule><ApplyServerSideEncryptionByDefault>", _el("SSEAlgorithm", algorithm),
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>",
    ])


async def get_bucket_encryption(node: Node, ctx: S3Context) -> Response:
    algorithm = sse.get_bucket_default(node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], encryption_configuration(algorithm))


async def put_bucket_encryption(node: Node, ctx: S3Context) -> Response:
    algorithm = parse_encryption(await read_document(ctx, MAX_ENCRYPTION_XML))
    await sse.set_bucket_default(node, ctx.auth.principal, ctx.bucket, algorithm)
    return Response(200)


async def delete_bucket_encryption(node: Node, ctx: S3Context) -> Response:
    await sse.set_bucket_default(node, ctx.auth.principal, ctx.bucket, None)
    return Response(204)
