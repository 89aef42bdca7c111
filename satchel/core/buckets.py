"""Bucket operations: create, delete, look up with a permission check, CORS settings."""

from __future__ import annotations

import dataclasses

from satchel.core import admission
from satchel.core.access import (
    ACL_NOT_THROUGH_LINK,
    NOT_SHARED,
    POLICY_DENIED,
    Action,
    Resource,
    authorize,
    denied_by_policy,
    visible_buckets,
)
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.errors import (
    AccessDenied,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    Conflict,
    InvalidBucketName,
    NoSuchBucket,
    NoSuchCORSConfiguration,
    NotFound,
)
from satchel.core.gc import release_blobs
from satchel.core.models import AclGrant, Bucket, CorsRule, Principal, Sharing, User
from satchel.core.node import Node
from satchel.core.publicaccess import BLOCKED, effective
from satchel.meta.store import UNSET, _Unset


def require(principal: Principal, action: Action, bucket: Bucket | None, key: str | None = None, *,
            acl: tuple[AclGrant, ...] = ()) -> None:
    """The single gate every operation passes: ``authorize()`` or AccessDenied. ``acl``: the object's."""
    resource = Resource(bucket=bucket, key=key, acl=acl)
    if not authorize(principal, action, resource):
        if principal.via_link and action in (Action.ACL_READ, Action.ACL_WRITE):
            raise AccessDenied(ACL_NOT_THROUGH_LINK)
        if denied_by_policy(principal, action, resource):
            raise AccessDenied(POLICY_DENIED)
        if principal.via_link and authorize(principal.signer(), action, resource):
            raise AccessDenied(NOT_SHARED)  # the audit trail says why the link failed
        raise AccessDenied()


def bucket_for(node: Node, principal: Principal, name: str, action: Action, key: str | None = None, *,
               acl: tuple[AclGrant, ...] = ()) -> Bucket:
    """Load a bucket and check ``action`` on it (and on ``key`` for object actions, whose ACL is ``acl``).

    A missing bucket is NoSuchBucket whoever asks, as in S3: bucket names are public knowledge there.
    """
    bucket = node.bucket(name)
    if bucket is None:
        raise NoSuchBucket(BucketName=name)
    require(principal, action, bucket, key, acl=acl)
    return bucket


def list_buckets(node: Node, principal: Principal) -> list[Bucket]:
    require(principal, Action.LIST_BUCKETS, None)
    return visible_buckets(principal, node.store.list_buckets())


async def create_bucket(node: Node, principal: Principal, name: str, *, contract_owned: bool = False,
                        publish: bool = False) -> Bucket:
    """Create a bucket owned by the caller, or by the caller's account when ``contract_owned``.

    ``authorize()`` decides on the bucket about to be made: only account admins may create
    contract-owned buckets. ``publish``: the caller is about to make it public (:func:`set_public`), so
    that right is checked too, before anything is created.
    """
    if not valid_bucket_name(name):
        raise InvalidBucketName(BucketName=name)
    user = principal.active_user
    bucket = Bucket(
        name=name,
        account_id=user.account_id if user else "",
        owner_user_id=None if contract_owned or user is None else user.id,
        created=node.clock.now(),
    )
    if not authorize(principal, Action.CREATE_BUCKET, Resource(bucket=bucket)):
        raise AccessDenied("Only account administrators can create contract-owned buckets."
                           if contract_owned and user is not None else None)
    if publish and not authorize(principal, Action.BUCKET_PUBLISH, Resource(bucket=bucket)):
        raise AccessDenied("Only account administrators can make a bucket public.")
    account_block = await node.read(node.store.get_account_public_block, bucket.account_id) if publish else None
    if publish and effective(dataclasses.replace(bucket, account_public_block=account_block)).block_public_acls:
        raise AccessDenied(BLOCKED)
    try:
        return await node.write(node.store.create_bucket, bucket)
    except Conflict:
        existing = await node.read(node.store.get_bucket, name)
        if existing is not None and authorize(principal, Action.BUCKET_ADMIN, Resource(bucket=existing)):
            raise BucketAlreadyOwnedByYou(BucketName=name) from None
        raise BucketAlreadyExists(BucketName=name) from None


async def delete_bucket(node: Node, principal: Principal, name: str) -> None:
    """Delete an empty bucket; its unfinished multipart uploads go with it (S3 does the same), and their
    parts' bytes are released at once."""
    bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    dead: list[str] = await node.write(node.store.delete_bucket, name, node.clock.now())
    await release_blobs(node.store, node.blobs, dead, node.write)


def get_cors(node: Node, principal: Principal, name: str) -> tuple[CorsRule, ...]:
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if not bucket.cors:
        raise NoSuchCORSConfiguration(BucketName=name)
    return bucket.cors


async def put_cors(node: Node, principal: Principal, name: str, rules: tuple[CorsRule, ...] | None) -> None:
    """Replace the bucket's CORS rules; None deletes them."""
    bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    await node.write(node.store.update_bucket, name, cors=rules)


def link_policy(node: Node, principal: Principal, name: str) -> Bucket:
    """The bucket, for reading its link settings (lifetime ceiling, who may share)."""
    return bucket_for(node, principal, name, Action.BUCKET_ADMIN)


async def set_link_policy(
    node: Node, principal: Principal, name: str, *, max_link_lifetime: int | None | _Unset = UNSET,
    sharing: Sharing | _Unset = UNSET,
) -> Bucket:
    """Change the bucket's link settings; both are enforced when links are used, so tightening them
    also cuts links already handed out."""
    bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if not isinstance(max_link_lifetime, _Unset):
        admission.check_lifetime_ceiling(max_link_lifetime)
    updated: Bucket = await node.write(node.store.update_bucket, name, max_link_lifetime=max_link_lifetime,
                                       sharing=sharing)
    return updated


def check_public(node: Node, principal: Principal, name: str, public: bool) -> Bucket:
    """AccessDenied unless the principal may make the bucket public (or private): see :func:`set_public`."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_PUBLISH if public else Action.BUCKET_ADMIN)
    if public and effective(bucket).block_public_acls:
        raise AccessDenied(BLOCKED)
    return bucket


async def set_public(node: Node, principal: Principal, name: str, public: bool) -> Bucket:
    """Public-read on or off (Swift's ``X-Container-Read: .r:*``, the console's bucket settings): anyone,
    anonymous included, may then list the bucket and read its objects. Publishing is an account admin's
    decision (``BUCKET_PUBLISH``); whoever controls the bucket may make it private again."""
    check_public(node, principal, name, public)
    updated: Bucket = await node.write(node.store.update_bucket, name, public_read=public)
    return updated


async def set_owner(node: Node, principal: Principal, name: str, owner_name: str | None) -> Bucket:
    """Make the bucket user-owned by the user ``owner_name`` (of the bucket's account) or, with None,
    contract-owned (access.py rule 12: account admins only). Nothing is re-signed: links and PARs the old
    owner made stay checked, at each use, against the old owner's rights, which no longer include control,
    so they stop working unless a grant with the share right still covers them.

    The permission is checked before the user is looked up, so nobody else learns which names exist; and a
    user of another account answers exactly as a name nobody has, so an account's admin learns nothing about
    the names of other accounts."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_OWNER)
    owner: User | None = None
    if owner_name is not None:
        owner = await node.read(node.store.get_user_by_name, owner_name)
        if owner is None or owner.account_id != bucket.account_id:
            raise NotFound(f"No user named {owner_name!r} in the bucket's account.")
    updated: Bucket = await node.write(node.store.set_bucket_owner, name, owner.id if owner is not None else None)
    return updated
