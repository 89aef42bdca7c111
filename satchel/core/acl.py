"""S3 ACLs mapped onto Satchel's model; ``authorize()`` (``core/access.py`` rule 14) decides what they allow.

Mapping: a bucket's AllUsers READ is the bucket's public flag (rule 5), every other grant of a bucket or an
object is stored with it (``Bucket.acl``, ``ObjectRecord.acl``); the owner's FULL_CONTROL is implicit (whoever
controls the bucket, rule 4, holds it whatever the ACL says) and never stored. User grants live in the ACL, not
in Satchel's grants table: PutBucketAcl replaces the whole ACL, which must not delete the grants (prefixes,
share rights) an administrator made.

Canned ACLs: ``private``, ``bucket-owner-read`` and ``bucket-owner-full-control`` grant nothing beyond the
bucket's controllers, who hold full control of every object in Satchel anyway; ``public-read`` is AllUsers
READ, ``public-read-write`` adds AllUsers WRITE (meaningful on buckets: anonymous uploads), and
``authenticated-read`` is AuthenticatedUsers READ. ``aws-exec-read`` and ``log-delivery-write`` name AWS
services Satchel has not (501), e-mail grantees name nobody: Satchel users have no e-mail addresses.

Who may set what: an ACL is written by whoever may ``ACL_WRITE`` (the bucket's controllers, WRITE_ACP
grantees); an ACL given with a write (PutObject, CopyObject, POST, CreateMultipartUpload, CreateBucket) needs
that right too (a ``read-write`` grant holder cannot hand objects to others through ACLs: that would be
sharing without the share right). A *public* grant (AllUsers, AuthenticatedUsers) not already there needs the
publishing right (rule 9: account admins), and any public grant is refused with AccessDenied under
BlockPublicAcls (``core/publicaccess.py``), as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from satchel.core import versioning
from satchel.core.access import PUBLIC_GRANTEES, Action, Resource, authorize
from satchel.core.buckets import bucket_for, require
from satchel.core.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidRequest,
    MalformedACLError,
    NoSuchKey,
    NotImplementedFeature,
    UnresolvableGrantByEmailAddress,
)
from satchel.core.models import ALL_USERS, AUTHENTICATED_USERS, AclGrant, Bucket, ObjectRecord, Principal
from satchel.core.node import Node
from satchel.core.publicaccess import BLOCKED, effective

PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
#: AWS's limit on the grants of one ACL.
MAX_GRANTS = 100
GROUP_URIS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": ALL_USERS,
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": AUTHENTICATED_USERS,
}
GROUP_URI = {group: uri for uri, group in GROUP_URIS.items()}
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
_PUBLIC_READ = AclGrant(ALL_USERS, "READ")
CANNED: dict[str, tuple[AclGrant, ...]] = {
    "private": (),
    "bucket-owner-read": (),
    "bucket-owner-full-control": (),
    "public-read": (_PUBLIC_READ,),
    "public-read-write": (_PUBLIC_READ, AclGrant(ALL_USERS, "WRITE")),
    "authenticated-read": (AclGrant(AUTHENTICATED_USERS, "READ"),),
}
_UNSUPPORTED_CANNED = {
    "aws-exec-read": "aws-exec-read grants Amazon EC2 read access; Satchel has no EC2.",
    "log-delivery-write": "log-delivery-write is for server access logging to a bucket, which Satchel does not do.",
}
#: ``x-amz-grant-*`` header -> permission.
GRANT_HEADERS = {f"x-amz-grant-{p.lower().replace('_', '-')}": p for p in PERMISSIONS}
#: One grantee of a grant header: ``id="..."``, ``uri="..."`` or ``emailAddress="..."`` (quotes optional).
_GRANTEE = re.compile(r'\s*(id|uri|emailaddress)\s*=\s*(?:"([^"]*)"|([^,"\s]+))\s*(?:,|$)', re.IGNORECASE)
#: Largest grant header value we parse (AWS bounds headers at 8 KiB).
MAX_GRANT_HEADER = 8192


class Grantee(NamedTuple):
    """What a client named: ``kind`` ``id``, ``uri`` or ``email``, and the value."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class AclView:
    """An ACL as GetBucketAcl / GetObjectAcl show it: the Owner element and every grant, implicit first.
    ``names`` gives the display name of each user id shown."""

    owner_id: str
    grants: tuple[AclGrant, ...]
    names: Mapping[str, str]


# --- parsing requests -----------------------------------------------------------------------------
def requested(headers: Mapping[str, str]) -> tuple[tuple[AclGrant, ...], list[tuple[Grantee, str]]] | None:
    """The ACL a request's headers ask for, unresolved: (canned grants, explicit (grantee, permission)
    pairs), or None when it names none. Canned and grant headers together are refused, as on AWS."""
    canned = headers.get("x-amz-acl")
    unknown = next((name for name in headers if name.startswith("x-amz-grant-") and name not in GRANT_HEADERS), None)
    if unknown is not None:  # a grant S3 does not define: refused, as every header asking for what we lack
        raise NotImplementedFeature(Header=unknown)
    explicit = [(grantee, permission) for name, permission in GRANT_HEADERS.items()
                if name in headers for grantee in parse_grant_header(name, headers[name])]
    if canned is None and not any(name in headers for name in GRANT_HEADERS):
        return None
    if canned is not None and explicit:
        raise InvalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned is not None:
        return canned_acl(canned), []
    return (), explicit


def canned_acl(value: str) -> tuple[AclGrant, ...]:
    wanted = value.strip().lower()
    if wanted in _UNSUPPORTED_CANNED:
        raise NotImplementedFeature(_UNSUPPORTED_CANNED[wanted], Header="x-amz-acl")
    if wanted not in CANNED:
        raise InvalidArgument(ArgumentName="x-amz-acl", ArgumentValue=value)
    return CANNED[wanted]


def parse_grant_header(name: str, value: str) -> list[Grantee]:
    """``id="a", uri="http://acs.amazonaws.com/groups/global/AllUsers"`` -> grantees."""
    if len(value) > MAX_GRANT_HEADER:
        raise InvalidArgument(f"{name} is too long.", ArgumentName=name)
    found: list[Grantee] = []
    position = 0
    text = value.strip()
    while position < len(text):
        match = _GRANTEE.match(text, position)
        if match is None or match.end() == position:
            raise InvalidArgument(f"Invalid grantee in {name}: expected id=\"...\", uri=\"...\".",
                                  ArgumentName=name, ArgumentValue=value)
        kind = match.group(1).lower()
        found.append(Grantee("email" if kind == "emailaddress" else kind, match.group(2) or match.group(3) or ""))
        position = match.end()
    if not found:
        raise InvalidArgument(f"{name} names no grantee.", ArgumentName=name, ArgumentValue=value)
    return found


def resolve(node: Node, pairs: Iterable[tuple[Grantee, str]], implicit: Iterable[str] = ()) -> tuple[AclGrant, ...]:
    """Explicit grants -> stored grants: user ids must be users of this node; groups are AllUsers and
    AuthenticatedUsers; the implicit FULL_CONTROL of the ids in ``implicit`` is dropped (a client echoing
    what GetBucketAcl showed); duplicates count once."""
    out: dict[AclGrant, None] = {}
    skip = set(implicit)
    pairs = list(pairs)
    if len(pairs) > MAX_GRANTS + 1:  # bounded before any lookup (one more: the owner's, echoed back)
        raise MalformedACLError(f"An ACL has at most {MAX_GRANTS} grants.")
    for grantee, permission in pairs:
        if permission not in PERMISSIONS:
            raise MalformedACLError(f"Unknown permission {permission!r}.")
        if grantee.kind == "email":
            raise UnresolvableGrantByEmailAddress(
                "Satchel users have no e-mail addresses: grant to the canonical user id instead "
                "(the Owner ID that ListBuckets and GetBucketAcl show).", EmailAddress=grantee.value)
        if grantee.kind == "uri":
            if grantee.value == LOG_DELIVERY:
                raise NotImplementedFeature("LogDelivery grants are for server access logging to a bucket, "
                                            "which Satchel does not do.")
            group = GROUP_URIS.get(grantee.value)
            if group is None:
                raise InvalidArgument("Invalid group uri", ArgumentName="uri", ArgumentValue=grantee.value)
            out[AclGrant(group, permission)] = None
            continue
        if grantee.value in skip and permission == "FULL_CONTROL":
            continue
        if not grantee.value or grantee.value in PUBLIC_GRANTEES or node.store.get_user(grantee.value) is None:
            raise InvalidArgument("Invalid id", ArgumentName="CanonicalUser/ID", ArgumentValue=grantee.value)
        out[AclGrant(grantee.value, permission)] = None
    if len(out) > MAX_GRANTS:
        raise MalformedACLError(f"An ACL has at most {MAX_GRANTS} grants.")
    return tuple(out)


def is_public(acl: Iterable[AclGrant]) -> bool:
    return any(grant.grantee in PUBLIC_GRANTEES for grant in acl)


# --- checks ---------------------------------------------------------------------------------------
def check_may_set(principal: Principal, bucket: Bucket, acl: tuple[AclGrant, ...],
                  before: Iterable[AclGrant] = (), *, block: bool | None = None) -> None:
    """Refuse an ACL the principal may not put on ``bucket`` (or one of its objects): a public one under
    BlockPublicAcls (``block``: the flag, when the bucket's own setting is not the one to read, as for a
    bucket about to be made), or a public grant not already there without the publishing right."""
    if not is_public(acl):
        return
    if effective(bucket).block_public_acls if block is None else block:
        raise AccessDenied(BLOCKED)
    added = set(acl) - set(before)
    if is_public(added) and not authorize(principal, Action.BUCKET_PUBLISH, Resource(bucket=bucket)):
        raise AccessDenied("A link (presigned URL, POST policy) cannot make anything public: set the ACL with a "
                           "signed request." if principal.via_link else
                           "Only account administrators can make a bucket or an object public.")


def for_write(node: Node, principal: Principal, bucket_name: str, key: str,
              headers: Mapping[str, str]) -> tuple[AclGrant, ...]:
    """The ACL a write (PutObject, CopyObject, POST, CreateMultipartUpload) asks for, checked before anything
    is written: () when it names none or a canned ACL that grants nothing beyond the owner's."""
    asked = requested(headers)
    if asked is None:
        return ()
    bucket = bucket_for(node, principal, bucket_name, Action.OBJECT_WRITE, key)
    acl = asked[0] + resolve(node, asked[1])
    if acl:
        require(principal, Action.ACL_WRITE, bucket, key)
        check_may_set(principal, bucket, acl)
    return acl


def check_deferred(principal: Principal, bucket: Bucket, key: str, acl: tuple[AclGrant, ...]) -> None:
    """An ACL asked for earlier and applied now (a multipart upload's, at completion), checked again for the
    principal applying it and the bucket as they are now: the completer needs the right to set it (which may
    not be the creator's, or no longer), and a public one the publishing right and no BlockPublicAcls — the
    same refusals as a PutObject asking for it today."""
    if acl:
        require(principal, Action.ACL_WRITE, bucket, key)
        check_may_set(principal, bucket, acl)


def for_new_bucket(node: Node, principal: Principal, headers: Mapping[str, str]) -> tuple[AclGrant, ...] | None:
    """The ACL CreateBucket asks for (None: none), checked against the account's BlockPublicAcls; the
    publishing right is checked by ``buckets.create_bucket(publish=...)`` before the bucket is made."""
    asked = requested(headers)
    if asked is None:
        return None
    acl = asked[0] + resolve(node, asked[1])
    user = principal.active_user
    account_block = node.store.get_account_public_block(user.account_id) if user is not None else None
    if is_public(acl) and account_block is not None and account_block.block_public_acls:
        raise AccessDenied(BLOCKED)
    return acl


# --- bucket ACLs -----------------------------------------------------------------------------------
def bucket_owner(node: Node, bucket: Bucket) -> tuple[str, str]:
    """The canonical id and display name Satchel shows as a bucket's Owner: its owning user's, or, for a
    contract-owned bucket, its account's id."""
    owner = node.store.get_user(bucket.owner_user_id) if bucket.owner_user_id else None
    return (owner.id, owner.name) if owner is not None else (bucket.account_id, bucket.account_id)


def bucket_grants(bucket: Bucket) -> tuple[AclGrant, ...]:
    """The bucket's stored ACL with its public flag as AllUsers READ."""
    return ((_PUBLIC_READ,) if bucket.public_read else ()) + bucket.acl


def get_bucket_acl(node: Node, principal: Principal, name: str) -> AclView:
    bucket = bucket_for(node, principal, name, Action.ACL_READ)
    return _view(node, bucket_owner(node, bucket), bucket_owner(node, bucket), bucket_grants(bucket))


async def put_bucket_acl(node: Node, principal: Principal, name: str,
                         acl: tuple[AclGrant, ...] | None, explicit: list[tuple[Grantee, str]]) -> Bucket:
    """Replace the bucket's ACL with ``acl`` (canned) plus ``explicit`` grants."""
    bucket = bucket_for(node, principal, name, Action.ACL_WRITE)
    owner_id, _ = await node.read(bucket_owner, node, bucket)
    grants = (acl or ()) + await node.read(resolve, node, explicit, (owner_id,))
    check_may_set(principal, bucket, grants, bucket_grants(bucket))
    public_read = _PUBLIC_READ in grants
    stored = tuple(grant for grant in grants if grant != _PUBLIC_READ)
    if bucket.public_read and not public_read:
        require(principal, Action.BUCKET_ADMIN, bucket)  # as ``buckets.set_public(False)``
    updated: Bucket = await node.write(node.store.set_bucket_acl, name, stored, public_read)
    return updated


# --- object ACLs -----------------------------------------------------------------------------------
def _object(node: Node, principal: Principal, name: str, key: str, action: Action,
            version_id: str | None = None) -> tuple[Bucket, ObjectRecord]:
    """The object (its current version, or the version ``version_id``) whose ACL is asked, authorised for
    ``action`` with that version's own ACL."""
    if version_id is not None:
        record = versioning.named_version(node, principal, name, key, version_id, action)
        return bucket_for(node, principal, name, action, key, acl=record.acl), record
    current = node.store.get_object(name, key)
    bucket = bucket_for(node, principal, name, action, key, acl=current.acl if current is not None else ())
    if current is None:
        raise NoSuchKey(Key=key)
    return bucket, current


def get_object_acl(node: Node, principal: Principal, name: str, key: str, version_id: str | None = None) -> AclView:
    """The ACL of the current version, or of version ``version_id`` (s3:GetObjectVersionAcl to a policy)."""
    bucket, record = _object(node, principal, name, key, Action.ACL_READ, version_id)
    writer = node.store.get_user(record.owner_user_id) if record.owner_user_id else None
    owner = (writer.id, writer.name) if writer is not None else bucket_owner(node, bucket)
    return _view(node, owner, bucket_owner(node, bucket), record.acl)


async def put_object_acl(node: Node, principal: Principal, name: str, key: str,
                         acl: tuple[AclGrant, ...] | None, explicit: list[tuple[Grantee, str]],
                         version_id: str | None = None) -> None:
    """Replace the ACL of the current version, or of version ``version_id`` (each version keeps its own, as
    on S3: s3:PutObjectVersionAcl to a policy)."""
    bucket, record = await node.read(_object, node, principal, name, key, Action.ACL_WRITE, version_id)
    owner_id, _ = await node.read(bucket_owner, node, bucket)
    grants = (acl or ()) + await node.read(resolve, node, explicit, (owner_id,))
    check_may_set(principal, bucket, grants, record.acl)
    await node.write(node.store.set_object_acl, name, key, record.etag, record.last_modified, grants,
                     **({"version_id": version_id} if version_id is not None else {}))


def _view(node: Node, owner: tuple[str, str], controller: tuple[str, str], grants: tuple[AclGrant, ...]) -> AclView:
    names = {owner[0]: owner[1], controller[0]: controller[1]}
    for grant in grants:
        if grant.grantee not in PUBLIC_GRANTEES and grant.grantee not in names:
            user = node.store.get_user(grant.grantee)
            names[grant.grantee] = user.name if user is not None else grant.grantee
    return AclView(owner[0], (AclGrant(controller[0], "FULL_CONTROL"), *grants), names)
