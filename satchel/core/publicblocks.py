"""Block Public Access settings: read, set and delete them, per bucket and per account (what the flags do:
``core/publicaccess.py``)."""

from __future__ import annotations

from satchel.core.access import Action, Resource, authorize
from satchel.core.buckets import bucket_for
from satchel.core.errors import NoSuchPublicAccessBlockConfiguration, NotFound
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


def get_account_block(node: Node, principal: Principal, account_name: str) -> PublicAccessBlock | None:
    """The account's setting (None: none); its admins only (``ACCOUNT_ADMIN``)."""
    return node.store.get_account_public_block(_account_id(node, principal, account_name))


async def set_account_block(node: Node, principal: Principal, account_name: str,
                            block: PublicAccessBlock | None) -> None:
    """Put (or, with None, delete) the account's setting; its admins only."""
    await node.write(node.store.set_account_public_block, _account_id(node, principal, account_name), block)


def _account_id(node: Node, principal: Principal, name: str) -> str:
    """The id of the account ``name`` the principal administers; NotFound for one it does not, exactly as for a
    name nobody has (account names are the node's customer list)."""
    account = node.store.get_account_by_name(name)
    if account is None or not authorize(principal, Action.ACCOUNT_ADMIN, Resource(bucket=None, account_id=account.id)):
        raise NotFound(f"No account named {name!r} that you administer.")
    return account.id
