"""Minting links and managing them: who may have a link to what, and who oversees it afterwards.

A minted S3 link is a standard presigned URL plus the signed query parameter
``x-amz-satchel-link-id`` naming its registry entry (revocable one by one, use-limited, counted).
Using any link goes through ``core/admission.py``; revocations "before a moment" are
``core/revocations.py``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from satchel import metrics
from satchel.core.access import NOT_SHARED, Action, Resource, authorize
from satchel.core.errors import (
    AccessDenied,
    InvalidArgument,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    NotFound,
    SatchelError,
)
from satchel.core.models import AccessKey, AuditEvent, Bucket, Link, LinkKind, Principal, User
from satchel.core.versioning import check_version_id
from satchel.meta.store import Store
from satchel.signing.linkid import LINK_ID_PARAM as LINK_ID_PARAM  # part of this module's interface
from satchel.signing.sigv4.parse import MAX_PRESIGNED_EXPIRES

if TYPE_CHECKING:
    from satchel.core.node import Node

#: The null version is not one set of bytes: every write while versioning is off or suspended replaces it,
#: so a link pinned to it would publish whatever the next writer (who may lack the share right) puts there.
NULL_VERSION = "null"
NULL_PIN_REFUSED = ("version_id null names whatever the key's null version holds at each use, not fixed bytes: "
                    "mint the link without version_id, or enable versioning and name a version id")

#: SigV4's own ceiling; longer-lived sharing needs TempURLs or pre-authenticated requests.
MAX_SIGV4_LIFETIME = MAX_PRESIGNED_EXPIRES
MAX_LINKS_PER_REQUEST = 1000
#: The most uses a minted link may allow (and a store's 64-bit integer column can count).
MAX_USES = 1_000_000_000

_READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """What to sign: ``keys`` of ``bucket`` (or every key under ``prefix``, up to 1000)."""

    bucket: str
    keys: tuple[str, ...]
    prefix: str | None = None
    method: str = "GET"
    expires_in: int = 3600
    kind: LinkKind = LinkKind.S3V4
    mode: str | None = None
    filename: str | None = None
    max_uses: int | None = None
    #: One object version to serve (versioning): a read link of one key keeps serving those bytes.
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class Minted:
    key: str
    link: Link | None = None
    error: SatchelError | None = None


def content_disposition(mode: str, filename: str) -> str:
    """RFC 6266: a plain ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"{mode}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def check_spec(spec: LinkSpec, bucket: Bucket, server_max: int) -> None:
    if spec.method not in ("GET", "PUT", "HEAD", "DELETE"):
        raise InvalidArgument("method must be GET, HEAD, PUT or DELETE", ArgumentName="method")
    if spec.kind not in (LinkKind.S3V4, LinkKind.S3V2, LinkKind.SWIFT):
        raise InvalidArgument("kind must be s3v4, s3v2 or swift", ArgumentName="kind")
    if spec.kind is LinkKind.SWIFT and spec.max_uses is not None:
        # A TempURL's query is cut down to its own parameters: it cannot name a registry entry to count.
        raise InvalidArgument("max_uses cannot apply to swift TempURLs (they are not in the link registry): "
                              "use kind s3v4", ArgumentName="max_uses")
    ceiling = min(server_max, bucket.max_link_lifetime or server_max)
    if spec.kind is LinkKind.S3V4:
        ceiling = min(ceiling, MAX_SIGV4_LIFETIME)
    if not 1 <= spec.expires_in <= ceiling:
        raise InvalidArgument(f"expires_in must be between 1 and {ceiling} seconds for this bucket and kind.",
                              ArgumentName="expires_in", ArgumentValue=str(spec.expires_in))
    if spec.mode not in (None, "view", "download"):
        raise InvalidArgument("mode must be view or download", ArgumentName="mode")
    if spec.mode is not None and spec.method not in _READ_METHODS:
        raise InvalidArgument("mode applies to GET links only", ArgumentName="mode")
    if spec.max_uses is not None and not 1 <= spec.max_uses <= MAX_USES:
        raise InvalidArgument(f"max_uses must be between 1 and {MAX_USES}", ArgumentName="max_uses")
    if not spec.keys and spec.prefix is None:
        raise InvalidArgument("give keys or a prefix", ArgumentName="keys")
    if spec.version_id is not None:
        if len(spec.keys) != 1 or spec.prefix is not None or spec.method not in _READ_METHODS:
            raise InvalidArgument("version_id goes with a GET or HEAD link to one key", ArgumentName="version_id")
        if spec.kind is LinkKind.SWIFT:
            raise InvalidArgument("version_id cannot apply to swift TempURLs: use kind s3v4", ArgumentName="version_id")
        check_version_id(spec.version_id)
        if spec.version_id == NULL_VERSION:
            raise InvalidArgument(NULL_PIN_REFUSED, ArgumentName="version_id")
    if len(spec.keys) > MAX_LINKS_PER_REQUEST:
        raise InvalidArgument(f"at most {MAX_LINKS_PER_REQUEST} keys per request", ArgumentName="keys")


def plan_links(
    store: Store, principal: Principal, key: AccessKey, spec: LinkSpec, *, server_max: int, now: float
) -> list[Minted]:
    """Decide, per object, whether the caller may have a link, and build the registry entries.

    Only someone allowed to *share* reading (GET/HEAD) or writing (PUT/DELETE) an object gets a link to
    it — the same ``authorize()`` call the link's use will make, with the caller acting through a link;
    for reads the object must exist. A prefix is listed only when the caller may list it (the listing is
    authorized as one, before any key is looked at, so refused keys never reveal names). URLs are signed
    afterwards by the front-end that knows the wire form.
    """
    bucket = store.get_bucket(spec.bucket)
    if bucket is None:
        raise NoSuchBucket(BucketName=spec.bucket)
    check_spec(spec, bucket, server_max)
    keys = list(spec.keys)
    if spec.prefix is not None:
        if not authorize(principal, Action.BUCKET_READ, Resource(bucket=bucket, key=spec.prefix)):
            raise AccessDenied()
        keys += [r.key for r in store.list_objects(spec.bucket, prefix=spec.prefix, limit=MAX_LINKS_PER_REQUEST)]
    action = Action.OBJECT_READ if spec.method in _READ_METHODS else Action.OBJECT_WRITE
    user = principal.user
    assert user is not None  # minting needs an authenticated principal
    sharer = principal.through_link()
    unique = list(dict.fromkeys(keys))
    allowed = {k for k in unique if authorize(sharer, action, Resource(bucket=bucket, key=k))}
    existing = store.existing_keys(spec.bucket, [k for k in unique if k in allowed]) \
        if action is Action.OBJECT_READ else allowed
    if spec.version_id is not None:  # one key: the version must exist, and hold bytes
        found = {k for k in unique if k in allowed and _has_version(store, spec.bucket, k, spec.version_id)}
        existing = found
    planned: list[Minted] = []
    ids = iter(new_link_ids(now, len(unique)))
    for object_key in unique:
        if object_key not in allowed:
            shareable = authorize(principal, action, Resource(bucket=bucket, key=object_key))
            planned.append(Minted(object_key, error=AccessDenied(NOT_SHARED if shareable else None)))
            continue
        if object_key not in existing:
            missing = NoSuchVersion(Key=object_key, VersionId=spec.version_id) if spec.version_id else None
            planned.append(Minted(object_key, error=missing or NoSuchKey(Key=object_key)))
            continue
        link = Link(
            id=next(ids),
            kind=spec.kind,
            user_id=user.id,
            access_key_id=key.access_key_id,
            bucket=spec.bucket,
            bucket_id=bucket.id,
            key=object_key,
            method=spec.method,
            created=now,
            expires=now + spec.expires_in,
            max_uses=spec.max_uses,
            mode=spec.mode,
            filename=(spec.filename or object_key.rsplit("/", 1)[-1]) if spec.mode == "download" else None,
            version_id=spec.version_id,
        )
        planned.append(Minted(object_key, link=link))
    return planned


async def mint_links(node: Node, principal: Principal, key: AccessKey, spec: LinkSpec, *, client_ip: str,
                     user_agent: str, request_id: str) -> list[Minted]:
    """:func:`plan_links`, then register the links it allowed and their mint events (one transaction)."""
    planned = await node.read(plan_links, node.store, principal, key, spec, server_max=node.settings.max_link_lifetime,
                         now=node.clock.now())
    fresh = [m.link for m in planned if m.link is not None]
    if fresh:
        # The mint events commit with the links: a link that works always has its event, crash or not.
        events = [mint_event(link, client_ip=client_ip, user_agent=user_agent, request_id=request_id)
                  for link in fresh]
        await node.write(node.store.create_links, fresh, events)
        for event in events:
            metrics.link_event(event.action, event.kind, event.outcome, event.reason)
    return planned


def _has_version(store: Store, bucket: str, key: str, version_id: str) -> bool:
    found = store.get_object_version(bucket, key, version_id)
    return found is not None and not found.delete_marker


def new_link_ids(now: float, count: int) -> list[str]:
    """``count`` ids of 32 hex digits each: the minting millisecond, then 80 random bits.

    Time first, so ids are made in (nearly) increasing order: the registry's primary key and the
    audit trail's link index grow at their ends, and an insert costs the same at a million rows as
    at none. Fully random ids dirtied one page per insert: at a million audit rows a mint cost 2-5x
    more. A link id is not a secret (the URL's signature is what grants access), and 80 random bits
    keep ids unique and unguessable all the same. Hex, not urlsafe base64: an id starting with "-"
    would read as an option on command lines. One call to the random source serves a whole batch.
    """
    stamp = f"{int(now * 1000):012x}"
    pool = secrets.token_hex(10 * count)
    return [stamp + pool[i : i + 20] for i in range(0, 20 * count, 20)]


def link_query(link: Link) -> list[tuple[str, str]]:
    """The extra signed query parameters of a minted link."""
    query = [(LINK_ID_PARAM, link.id)]
    if link.version_id is not None:
        query.append(("versionId", link.version_id))
    if link.mode == "download":
        query.append(("response-content-disposition", content_disposition("attachment", link.filename or "")))
    elif link.mode == "view":
        query.append(("response-content-disposition", "inline"))
    return query


def mint_event(link: Link, *, client_ip: str, user_agent: str, request_id: str) -> AuditEvent:
    return AuditEvent(
        time=link.created, action="mint", outcome="allowed", kind=link.kind.value, link_id=link.id,
        user_id=link.user_id, access_key_id=link.access_key_id, bucket=link.bucket, key=link.key,
        method=link.method, client_ip=client_ip, user_agent=user_agent, request_id=request_id,
        bucket_id=link.bucket_id, version_id=link.version_id,
    )



# --- managing links -------------------------------------------------------------------------------


def row_bucket(store: Store, name: str | None, bucket_id: str | None) -> Bucket | None:
    """The bucket a link or revocation row was made for, if it still exists: the current bucket named
    ``name`` only when its id is the row's. The next owner of a reused name oversees nothing of the
    previous bucket."""
    bucket = store.get_bucket(name) if name and bucket_id else None
    return bucket if bucket is not None and bucket.id == bucket_id else None


def current_bucket_id(store: Store, bucket_name: str) -> str | None:
    """The id of the bucket that holds ``bucket_name`` now: what a query "for bucket NAME" filters on."""
    bucket = store.get_bucket(bucket_name)
    return bucket.id if bucket is not None else None


def oversees(store: Store, principal: Principal, action: Action, *, bucket: Bucket | None,
              subject_id: str | None) -> bool:
    """``authorize()`` for an oversight action on a bucket and/or a subject user (by id)."""
    return authorize(principal, action, Resource(
        bucket=bucket, subject=store.get_user(subject_id) if subject_id else None,
    ))


def acting_user(principal: Principal) -> User:
    """The active user a management call acts for; AccessDenied for anyone else."""
    user = principal.active_user
    if user is None:
        raise AccessDenied()
    return user


def can_manage_link(store: Store, principal: Principal, link: Link) -> bool:
    """``LINK_ADMIN``: the signer, an admin of the signer's account, or whoever controls the link's bucket
    (the same bucket: not a later one of the same name)."""
    return oversees(store, principal, Action.LINK_ADMIN, bucket=row_bucket(store, link.bucket, link.bucket_id),
                     subject_id=link.user_id)


def visible_links(
    store: Store, principal: Principal, *, bucket: str | None, key_prefix: str | None, active_at: float | None,
    limit: int,
) -> list[Link]:
    """Links the principal may manage (``LINK_ADMIN``): on a bucket it controls, all of them; otherwise
    those signed by the users it acts for (itself, and for account admins the users of its account).
    ``bucket`` means the bucket of that name now: links minted for an earlier bucket of the name are not
    its links."""
    acting_user(principal)
    bucket_id = None
    if bucket is not None:
        current = store.get_bucket(bucket)
        if current is None:
            return []
        bucket_id = current.id
        if oversees(store, principal, Action.LINK_ADMIN, bucket=current, subject_id=None):
            return store.list_links(bucket_id=bucket_id, key_prefix=key_prefix, active_at=active_at, limit=limit)
    user_ids: Sequence[str] = [
        u.id for u in store.list_users() if authorize(principal, Action.LINK_ADMIN, Resource(None, subject=u))
    ]
    return store.list_links(user_ids=user_ids, bucket_id=bucket_id, key_prefix=key_prefix, active_at=active_at,
                            limit=limit)


def get_managed_link(store: Store, principal: Principal, link_id: str) -> Link:
    link = store.get_link(link_id)
    if link is None or not can_manage_link(store, principal, link):
        raise NotFound(f"No link with id {link_id!r}.")
    return link


async def revoke_link(node: Node, principal: Principal, link_id: str) -> tuple[Link, bool]:
    """Revoke one minted link now (``LINK_ADMIN``): the link, and whether this call revoked it. Revoking
    again changes nothing (the store keeps the first revocation time), so of two concurrent calls only
    the one whose time was kept is the revocation to audit."""
    link = await node.read(get_managed_link, node.store, principal, link_id)
    if link.revoked is not None:
        return link, False
    now = node.clock.now()
    revoked: Link = await node.write(node.store.revoke_link, link.id, now)
    return revoked, revoked.revoked == now
