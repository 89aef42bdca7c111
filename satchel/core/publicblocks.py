"""Block Public Access settings: read, set and delete them, per bucket and per account (what the flags do:
``core/publicaccess.py``)."""

from __future__ import annotations

from satchel.core.access import Action, Resource, authorize
from satchel.core.buckets import bucket_for
from satchel.core.errors import AccessDenied, NoSuchPublicAccessBlockConfiguration
from satchel.core.models import Bucket, Principal, PublicAccessBlock
from satchel.core.node import Node


def get_bucket_block(node: Node, principal: Principal, name: str) -> PublicAccessBlock:
    """The bucket's own setting (GetPublicAccessBlock); its account's is not part of it, as on AWS."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if bucket.public_block is None:
        raise NoSuchPublicAccessBlockConfiguration(BucketName=name)
    return bucket.public_block


async def set_bucket_block(node: Node, principal: Principal, name: str, block: PublicAccessBlock | None) -> Bucket:
    """Put (or, with None, delete) the bucket's own setting: whoever controls the bucket. Loosening it
    cannot loosen its account's, and making anything public still needs an account admin."""
    bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    updated: Bucket = await node.write(node.store.set_bucket_public_block, name, block)
    return updated


def get_account_block(node: Node, principal: Principal, account_id: str) -> PublicAccessBlock | None:
    """The account's setting (None: none); its admins only (``ACCOUNT_ADMIN``)."""
    require_account(principal, account_id)
    return node.store.get_account_public_block(account_id)


async def set_account_block(node: Node, principal: Principal, account_id: str,
                            block: PublicAccessBlock | None) -> None:
    require_account(principal, account_id)
    await node.write(node.store.set_account_public_block, account_id, block)


def require_account(principal: Principal, account_id: str) -> None:
    if not authorize(principal, Action.ACCOUNT_ADMIN, Resource(bucket=None, account_id=account_id)):
        raise AccessDenied("Only the account's administrators set its Block Public Access.")
