"""One model behind every kind of link: minting, admission at use time, revocation.

Whatever made a link — an SDK signing offline, Satchel's own link API, a POST policy, later Swift
TempURLs and pre-authenticated requests — using it goes through :func:`admit` (after the signature
and expiry checks of its protocol) and then through ``authorize()`` with the *signer* as principal.
:func:`admit` adds what no S3 peer has:

- **Registry** of links Satchel minted. A minted S3 link is a standard presigned URL plus the query
  parameter ``x-amz-satchel-link-id``; the signature covers it (SigV4 signs every query parameter,
  SigV2 signs ``x-amz-*`` query parameters as headers), so it can be neither stripped nor changed.
  Registry links can be revoked one by one, limited to N uses (one-time links) and are use-counted.
- **Revocation "before a moment"** scoped to an object, a prefix, a bucket, an access key or a user:
  every link *issued* before that moment is refused afterwards. The issue time of a SigV4 URL is its
  ``X-Amz-Date``, of a POST policy its ``x-amz-date``, of a minted link its registry time. SigV2 URLs
  and Swift TempURLs carry no issue time: they are revoked by rotating (disabling or deleting) the key
  that signed them.
- **Lifetime ceilings**: a server-wide maximum and a per-bucket one, enforced when the link is used,
  so tightening a bucket's ceiling also shortens links already handed out.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from satchel.core.access import NOT_SHARED, Action, Resource, authorize
from satchel.core.caches import GenerationGate
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchBucket, NoSuchKey, NotFound, SatchelError
from satchel.core.models import (
    AccessKey,
    AuditEvent,
    Bucket,
    Link,
    LinkKind,
    Principal,
    Revocation,
    RevocationScope,
    User,
)
from satchel.meta.store import Store
from satchel.signing.sigv4.parse import MAX_PRESIGNED_EXPIRES

if TYPE_CHECKING:
    from satchel.core.node import Node

#: The registry id of a minted link, inside the signed query string.
LINK_ID_PARAM = "x-amz-satchel-link-id"
#: SigV4's own ceiling; longer-lived sharing needs TempURLs or pre-authenticated requests.
MAX_SIGV4_LIFETIME = MAX_PRESIGNED_EXPIRES
MAX_LINKS_PER_REQUEST = 1000

_READ_METHODS = frozenset({"GET", "HEAD"})


class RevocationList:
    """All revocations, cached per worker and reloaded when the store generation moves."""

    def __init__(self, store: Store, gate: GenerationGate) -> None:
        self._store = store
        self._gate = gate
        self._generation: int | None = None
        self._items: list[Revocation] = []

    def current(self) -> list[Revocation]:
        generation = self._gate.current()
        if generation != self._generation:
            self._items = self._store.list_revocations()
            self._generation = generation
        return self._items

    def revoked(
        self, *, issued_at: float, bucket_id: str | None, key: str | None, access_key_id: str | None,
        user_id: str | None,
    ) -> Revocation | None:
        for revocation in self.current():
            if issued_at < revocation.before and revocation.covers(
                bucket_id=bucket_id, key=key, access_key_id=access_key_id, user_id=user_id
            ):
                return revocation
        return None


@dataclass(frozen=True, slots=True)
class LinkUse:
    """What a front-end knows about a request that arrived through a link."""

    principal: Principal
    bucket: str | None
    key: str | None
    method: str
    issued_at: float | None
    expires_at: float | None
    link_id: str | None = None


def check_lifetime(use: LinkUse, bucket: Bucket | None, server_max: int, now: float) -> None:
    """Both ceilings, measured from the issue time, or from now when the link has none (SigV2)."""
    if use.expires_at is None:
        return
    lifetime = use.expires_at - (use.issued_at if use.issued_at is not None else now)
    if lifetime > server_max:
        raise AccessDenied(f"The link's lifetime exceeds the maximum of {server_max} seconds this server allows.")
    if bucket is not None and bucket.max_link_lifetime is not None and lifetime > bucket.max_link_lifetime:
        raise AccessDenied(
            f"The link's lifetime exceeds the maximum of {bucket.max_link_lifetime} seconds set on this bucket."
        )


def check_registry(store: Store, use: LinkUse, bucket: Bucket | None, now: float) -> Link | None:
    """The registry entry of a minted link, validated against the request; None for other links.

    ``bucket`` is the request's bucket as loaded for it: a link minted for an earlier bucket of the
    same name (another id) is refused, compared in memory at no extra query."""
    if use.link_id is None:
        return None
    link = store.get_link(use.link_id)
    principal = use.principal
    if (
        link is None
        or link.access_key_id != principal.access_key_id
        or link.bucket != use.bucket
        or bucket is None
        or link.bucket_id != bucket.id
        or link.key != use.key
        or not _method_allowed(link.method, use.method)
    ):
        raise AccessDenied("The link is not valid for this request.")
    state = link.state(now)
    if state != "active":
        raise AccessDenied(_REFUSED_STATES[state])
    return link


#: Why a registered link in each unusable state is refused (``Link.state`` decides which one applies).
_REFUSED_STATES = {
    "revoked": "The link has been revoked.",
    "expired": "Request has expired",
    "used-up": "The link has no uses left.",
}


def _method_allowed(signed: str, used: str) -> bool:
    return signed == used or (signed == "GET" and used == "HEAD")


def admit(
    store: Store, revocations: RevocationList, use: LinkUse, bucket: Bucket | None, *, server_max: int, now: float
) -> Link | None:
    """Refuse (AccessDenied, with the reason as message) a link that is revoked, over a lifetime
    ceiling or unknown to the registry. The signer's rights are checked by the operation itself."""
    check_lifetime(use, bucket, server_max, now)
    link = check_registry(store, use, bucket, now)
    issued_at = link.created if link is not None else use.issued_at
    if issued_at is not None:
        user = use.principal.user
        revocation = revocations.revoked(
            issued_at=issued_at,
            bucket_id=bucket.id if bucket is not None else None,
            key=use.key,
            access_key_id=use.principal.access_key_id,
            user_id=user.id if user else None,
        )
        if revocation is not None:
            raise AccessDenied(f"The link was revoked ({revocation.scope.value} revocation {revocation.id}).")
    return link


async def use_link(node: Node, use: LinkUse) -> Link | None:
    """:func:`admit`, then count the use: exactly (one transaction) for links with a use limit, in
    the next audit batch for the others."""
    now = node.clock.now()
    bucket = node.bucket(use.bucket) if use.bucket else None
    link = admit(node.store, node.revocations, use, bucket, server_max=node.settings.max_link_lifetime, now=now)
    if link is None:
        return None
    if link.max_uses is not None:
        counted = await node.write(node.store.consume_link, link.id, now)
        if counted is None:
            raise AccessDenied("The link has no uses left.")
        return counted
    node.audit.count_use(link.id, now)
    return link


# --- minting -------------------------------------------------------------------------------------------


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
    if spec.kind not in (LinkKind.S3V4, LinkKind.S3V2):
        raise InvalidArgument("kind must be s3v4 or s3v2", ArgumentName="kind")
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
    if spec.max_uses is not None and spec.max_uses < 1:
        raise InvalidArgument("max_uses must be at least 1", ArgumentName="max_uses")
    if not spec.keys and spec.prefix is None:
        raise InvalidArgument("give keys or a prefix", ArgumentName="keys")
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
    planned: list[Minted] = []
    ids = iter(new_link_ids(now, len(unique)))
    for object_key in unique:
        if object_key not in allowed:
            shareable = authorize(principal, action, Resource(bucket=bucket, key=object_key))
            planned.append(Minted(object_key, error=AccessDenied(NOT_SHARED if shareable else None)))
            continue
        if object_key not in existing:
            planned.append(Minted(object_key, error=NoSuchKey(Key=object_key)))
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
        )
        planned.append(Minted(object_key, link=link))
    return planned


async def mint_links(node: Node, principal: Principal, key: AccessKey, spec: LinkSpec, *, client_ip: str,
                     user_agent: str, request_id: str) -> list[Minted]:
    """:func:`plan_links`, then register the links it allowed and their mint events (one transaction)."""
    planned = plan_links(node.store, principal, key, spec, server_max=node.settings.max_link_lifetime,
                         now=node.clock.now())
    fresh = [m.link for m in planned if m.link is not None]
    if fresh:
        # The mint events commit with the links: a link that works always has its event, crash or not.
        events = [mint_event(link, client_ip=client_ip, user_agent=user_agent, request_id=request_id)
                  for link in fresh]
        await node.write(node.store.create_links, fresh, events)
    return planned


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
        bucket_id=link.bucket_id,
    )


# --- managing links and revocations -----------------------------------------------------------------


def _row_bucket(store: Store, name: str | None, bucket_id: str | None) -> Bucket | None:
    """The bucket a link or revocation row was made for, if it still exists: the current bucket named
    ``name`` only when its id is the row's. The next owner of a reused name oversees nothing of the
    previous bucket."""
    bucket = store.get_bucket(name) if name and bucket_id else None
    return bucket if bucket is not None and bucket.id == bucket_id else None


def current_bucket_id(store: Store, bucket_name: str) -> str | None:
    """The id of the bucket that holds ``bucket_name`` now: what a query "for bucket NAME" filters on."""
    bucket = store.get_bucket(bucket_name)
    return bucket.id if bucket is not None else None


def _oversees(store: Store, principal: Principal, action: Action, *, bucket: Bucket | None,
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
    return _oversees(store, principal, Action.LINK_ADMIN, bucket=_row_bucket(store, link.bucket, link.bucket_id),
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
        if _oversees(store, principal, Action.LINK_ADMIN, bucket=current, subject_id=None):
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


async def revoke_link(node: Node, principal: Principal, link_id: str) -> Link:
    """Revoke one minted link now (``LINK_ADMIN``)."""
    link = get_managed_link(node.store, principal, link_id)
    revoked: Link = await node.write(node.store.revoke_link, link.id, node.clock.now())
    return revoked


def check_revocation_scope(store: Store, principal: Principal, scope: RevocationScope, target: str,
                           bucket: str | None) -> None:
    """``REVOCATION_ADMIN``: object, prefix and bucket scopes need control of the bucket; key and user
    scopes need to act for that user (or its key's user): be it, or an admin of its account."""
    acting_user(principal)
    if scope in (RevocationScope.OBJECT, RevocationScope.PREFIX, RevocationScope.BUCKET):
        name = target if scope is RevocationScope.BUCKET else bucket
        if not name:
            raise InvalidArgument("object and prefix revocations need a bucket", ArgumentName="bucket")
        current = store.get_bucket(name)
        if current is None:
            raise NoSuchBucket(BucketName=name)
        if not _oversees(store, principal, Action.REVOCATION_ADMIN, bucket=current, subject_id=None):
            raise AccessDenied()
        return
    if scope is RevocationScope.ACCESS_KEY:
        stored = store.get_access_key(target)
        owner_id = stored.user_id if stored else None
    else:
        owner_id = target
    owner = store.get_user(owner_id) if owner_id else None
    if owner is None:
        raise NotFound(f"No {scope.value} {target!r}.")
    if not authorize(principal, Action.REVOCATION_ADMIN, Resource(None, subject=owner)):
        raise AccessDenied()


_BUCKET_SCOPES = frozenset({RevocationScope.OBJECT, RevocationScope.PREFIX, RevocationScope.BUCKET})


def new_revocation(principal: Principal, scope: RevocationScope, target: str, bucket: str | None,
                   before: float, now: float, *, bucket_id: str | None = None) -> Revocation:
    """``bucket_id``: the current bucket's id for object, prefix and bucket scopes (a revocation covers
    that bucket only)."""
    user = principal.user
    return Revocation(
        id=secrets.token_hex(8),
        scope=scope,
        target=target,
        bucket=bucket if scope in (RevocationScope.OBJECT, RevocationScope.PREFIX) else None,
        before=before,
        created=now,
        created_by=user.id if user else None,
        bucket_id=bucket_id if scope in _BUCKET_SCOPES else None,
    )


async def add_revocation(node: Node, principal: Principal, scope: RevocationScope, target: str,
                         bucket: str | None, before: float | None) -> Revocation:
    """Refuse from now on every link in the scope issued before ``before`` (default: now). A user scope's
    target may be a user name or id."""
    store = node.store
    if scope is RevocationScope.USER:
        user = store.get_user_by_name(target) or store.get_user(target)
        if user is None:
            raise NotFound(f"No user {target!r}.")
        target = user.id
    # The id is read before the check: if the name changed hands in between, the check refuses or the
    # revocation names a bucket that is gone; it never lands on a bucket the caller was not checked on.
    name = target if scope is RevocationScope.BUCKET else bucket
    bucket_id = current_bucket_id(store, name) if name else None
    check_revocation_scope(store, principal, scope, target, bucket)
    now = node.clock.now()
    revocation = new_revocation(principal, scope, target, bucket, before or now, now, bucket_id=bucket_id)
    await node.write(store.add_revocation, revocation)
    return revocation


def visible_revocations(store: Store, principal: Principal) -> list[Revocation]:
    """Revocations the principal oversees (``REVOCATION_ADMIN``): on buckets it controls, and those made by
    the users it acts for."""
    acting_user(principal)
    return [r for r in store.list_revocations() if _oversees(
        store, principal, Action.REVOCATION_ADMIN,
        bucket=_row_bucket(store, r.target if r.scope is RevocationScope.BUCKET else r.bucket, r.bucket_id),
        subject_id=r.created_by)]
