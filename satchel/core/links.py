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
  every link *issued* before that moment is refused afterwards. The issue time of a minted link is its
  registry time (exact); of a SigV4 URL its ``X-Amz-Date`` and of a POST policy its ``x-amz-date``
  (client-dated: refused when later than now plus the allowed skew, and a revocation "before B" covers
  them up to B plus that skew, so dating a link ahead dodges nothing); of a SigV2 URL, which carries
  none, the moment any worker first saw it (``core/sightings.py``). Object and prefix revocations also
  cover a listing that could reveal a key in their scope, and each key of a DeleteObjects.
- **Lifetime ceilings**: a server-wide maximum and a per-bucket one, enforced when the link is used,
  so tightening a bucket's ceiling also shortens links already handed out. Measured from the issue
  time above, so a link too long for a ceiling is too long for its whole life.
- **Uses are counted only when admitted**: :func:`check_use` checks and counts nothing; the front-end
  calls :func:`count_use` once the operation has been authorized and is about to succeed.
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
from satchel.signing.linkid import LINK_ID_PARAM as LINK_ID_PARAM  # part of this module's interface
from satchel.signing.sigv4.parse import MAX_PRESIGNED_EXPIRES
from satchel.signing.sigv4.verify import MAX_SKEW_SECONDS

if TYPE_CHECKING:
    from satchel.core.node import Node

#: SigV4's own ceiling; longer-lived sharing needs TempURLs or pre-authenticated requests.
MAX_SIGV4_LIFETIME = MAX_PRESIGNED_EXPIRES
MAX_LINKS_PER_REQUEST = 1000
#: Client dates (X-Amz-Date, a POST policy's x-amz-date) have whole seconds.
DATE_RESOLUTION = 1.0
#: The most uses a minted link may allow (and a store's 64-bit integer column can count).
MAX_USES = 1_000_000_000
#: The longest link lifetime ceiling a bucket may set: 100 years (any longer is no ceiling at all).
MAX_LIFETIME_CEILING = 100 * 365 * 86400
#: The earliest moment a revocation may name (2000-01-01 UTC): no link was issued before it, and an
#: earlier time (0, a negative one) is a client's mistake, not a revocation.
EARLIEST_REVOCATION = 946684800.0

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

    def revoked(self, issued: IssueTime, target: Target) -> Revocation | None:
        for revocation in self.current():
            if issued.at < revocation.before + issued.slack and in_scope(revocation, target):
                return revocation
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """What a link use reaches, as revocation scopes see it."""

    #: The id of the bucket the request acts on (revocations follow the bucket, not its name).
    bucket_id: str | None
    key: str | None
    access_key_id: str | None
    user_id: str | None
    #: Set for listings (ListObjects, ListObjectsV2, ListMultipartUploads): the listing prefix.
    listing_prefix: str | None = None


def in_scope(revocation: Revocation, target: Target) -> bool:
    """A listing is in an object or prefix revocation's scope when it could reveal a key inside it:
    the listing prefix lies inside the revoked prefix, or the revoked object or prefix lies inside the
    listing prefix (an empty listing prefix reaches everything)."""
    prefix = target.listing_prefix
    if prefix is None or revocation.scope not in (RevocationScope.OBJECT, RevocationScope.PREFIX):
        return revocation.covers(bucket_id=target.bucket_id, key=target.key, access_key_id=target.access_key_id,
                                 user_id=target.user_id)
    if target.bucket_id is None or target.bucket_id != revocation.bucket_id:
        return False
    inside = revocation.scope is RevocationScope.PREFIX and prefix.startswith(revocation.target)
    return inside or revocation.target.startswith(prefix)


@dataclass(frozen=True, slots=True)
class IssueTime:
    """When a link was issued, as far as the server can tell.

    ``slack`` is how far past a revocation's moment the revocation still reaches: a client-dated link
    (SigV4 ``X-Amz-Date``, a POST policy's ``x-amz-date``) may be dated up to the allowed clock skew
    ahead, so a revocation "before B" covers issue times below B + skew; server-dated times (a minted
    link's registry time, a SigV2 URL's first sighting) are exact.
    """

    at: float
    slack: float = 0.0


@dataclass(frozen=True, slots=True)
class LinkUse:
    """What a front-end knows about a request that arrived through a link."""

    principal: Principal
    bucket: str | None
    key: str | None
    method: str
    issued_at: float | None
    expires_at: float | None
    #: The minted link id the signature covered, as the verifier parsed it.
    link_id: str | None = None
    #: For listings: the listing prefix ("" for the whole bucket).
    listing_prefix: str | None = None
    #: SigV2 URLs: the fingerprint whose first sighting is the issue time (``core/sightings.py``).
    fingerprint: str | None = None

    def target(self, bucket: Bucket | None, key: str | None = None) -> Target:
        """The use's reach in ``bucket`` (the request's, as loaded for it), or (``key``) that of one key a
        bucket-level request acts on."""
        user = self.principal.user
        return Target(
            bucket_id=bucket.id if bucket is not None else None,
            key=key if key is not None else self.key,
            access_key_id=self.principal.access_key_id,
            user_id=user.id if user else None,
            listing_prefix=None if key is not None else self.listing_prefix,
        )


@dataclass(frozen=True, slots=True)
class Admission:
    """A link use that passed every check; for a registry link, its use is not counted yet."""

    use: LinkUse
    link: Link | None
    issued: IssueTime | None
    bucket: Bucket | None = None

    def check_key(self, revocations: RevocationList, key: str) -> None:
        """Refuse one key of a bucket-level request (DeleteObjects) that a revocation covers."""
        if self.issued is not None:
            _refuse_revoked(revocations.revoked(self.issued, self.use.target(self.bucket, key)))

    def check_source(self, revocations: RevocationList, bucket: Bucket | None, key: str, *, server_max: int,
                     now: float) -> None:
        """A copy through a link (CopyObject, UploadPartCopy) reads its source as a GET of it would: the
        source bucket's lifetime ceiling and the revocations covering the source apply too, or a copy
        link would carry a revoked object out into a bucket the revocation does not reach."""
        expires = self.link.expires if self.link is not None else self.use.expires_at
        check_lifetime(expires, min(self.issued.at, now) if self.issued else None, bucket, server_max, now)
        if self.issued is not None:
            _refuse_revoked(revocations.revoked(self.issued, self.use.target(bucket, key)))


def _refuse_revoked(revocation: Revocation | None) -> None:
    if revocation is not None:
        raise AccessDenied(f"The link was revoked ({revocation.scope.value} revocation {revocation.id}).")


def check_lifetime_ceiling(seconds: int | None) -> None:
    """A bucket's link lifetime ceiling: None (only the server's applies) or 1 s to 100 years."""
    if seconds is not None and not 1 <= seconds <= MAX_LIFETIME_CEILING:
        raise InvalidArgument(f"A link lifetime ceiling must be between 1 and {MAX_LIFETIME_CEILING} seconds.",
                              ArgumentName="max_link_lifetime", ArgumentValue=str(seconds))


def check_lifetime(expires_at: float | None, issued_at: float | None, bucket: Bucket | None, server_max: int,
                   now: float) -> None:
    """Both ceilings, measured from the issue time (from now for a link with none at all, or one dated
    ahead of now: such a link works at most the ceiling from any moment it is used)."""
    if expires_at is None:
        return
    lifetime = expires_at - (issued_at if issued_at is not None else now)
    if lifetime > server_max:
        raise AccessDenied(f"The link's lifetime exceeds the maximum of {server_max} seconds this server allows.")
    if bucket is not None and bucket.max_link_lifetime is not None and lifetime > bucket.max_link_lifetime:
        raise AccessDenied(
            f"The link's lifetime exceeds the maximum of {bucket.max_link_lifetime} seconds set on this bucket."
        )


def issue_time(use: LinkUse, link: Link | None, first_seen: float | None, now: float) -> IssueTime | None:
    """The registry time of a minted link, else the signer's date (never later than now plus the
    allowed skew: AWS's "Request is not valid yet"), else a SigV2 URL's first sighting."""
    if link is not None:
        return IssueTime(link.created)
    if use.issued_at is not None:
        if use.issued_at > now + MAX_SKEW_SECONDS:
            raise AccessDenied("Request is not valid yet")
        return IssueTime(use.issued_at, MAX_SKEW_SECONDS)
    if first_seen is not None:
        return IssueTime(first_seen)
    return None


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
    store: Store,
    revocations: RevocationList,
    use: LinkUse,
    bucket: Bucket | None,
    *,
    server_max: int,
    now: float,
    first_seen: float | None = None,
) -> Admission:
    """Refuse (AccessDenied, with the reason as message) a link that is dated ahead, over a lifetime
    ceiling, revoked or unknown to the registry. Counts nothing: see :func:`count_use`. The signer's
    rights are checked by the operation itself."""
    link = check_registry(store, use, bucket, now)
    issued = issue_time(use, link, first_seen, now)
    if link is None and issued is not None and bucket is not None and bucket.links_since is not None \
            and issued.at < bucket.links_since - DATE_RESOLUTION:
        # Signed offline for an earlier bucket of this name. No skew slack here, unlike revocations: a
        # name is often released and taken again at once (test suites do), and links signed for the new
        # bucket must work; the second's grace is X-Amz-Date's truncation.
        refused = AccessDenied("The link was issued for an earlier bucket of this name.")
        refused.earlier_bucket = True
        raise refused
    check_lifetime(link.expires if link is not None else use.expires_at, min(issued.at, now) if issued else None,
                   bucket, server_max, now)
    if issued is not None:
        _refuse_revoked(revocations.revoked(issued, use.target(bucket)))
    return Admission(use, link, issued, bucket)


async def check_use(node: Node, use: LinkUse) -> Admission:
    """:func:`admit` with the node's caches; a SigV2 URL's first sighting is looked up (and recorded)
    here, before any other check, so that a URL refused now stays refused for its whole life."""
    now = node.clock.now()
    bucket = node.bucket(use.bucket) if use.bucket else None
    first_seen = None
    if use.fingerprint is not None and use.link_id is None and use.expires_at is not None:
        first_seen = await node.sightings.first_seen(use.fingerprint, now, use.expires_at)
    return admit(node.store, node.revocations, use, bucket, server_max=node.settings.max_link_lifetime, now=now,
                 first_seen=first_seen)


def authorize_write(node: Node, use: LinkUse) -> None:
    """The signer's right to write the link's key, checked before a write's use is counted (the
    handler checks it again: a use is never counted for a write that would be refused)."""
    from satchel.core.buckets import bucket_for  # here: buckets imports node, which imports this module

    assert use.bucket is not None and use.key is not None  # registry links always name an object
    bucket_for(node, use.principal, use.bucket, Action.OBJECT_WRITE, use.key)


async def count_use(node: Node, admission: Admission) -> Link | None:
    """Count one use of an admitted registry link: exactly (one conditional update) for links with a
    use limit, so of two concurrent uses of a one-time link exactly one gets through; in the next audit
    batch for the others. AccessDenied when the last use went meanwhile."""
    link = admission.link
    if link is None:
        return None
    now = node.clock.now()
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
    if spec.max_uses is not None and not 1 <= spec.max_uses <= MAX_USES:
        raise InvalidArgument(f"max_uses must be between 1 and {MAX_USES}", ArgumentName="max_uses")
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


async def revoke_link(node: Node, principal: Principal, link_id: str) -> tuple[Link, bool]:
    """Revoke one minted link now (``LINK_ADMIN``): the link, and whether this call revoked it. Revoking
    again changes nothing (the store keeps the first revocation time), so of two concurrent calls only
    the one whose time was kept is the revocation to audit."""
    link = get_managed_link(node.store, principal, link_id)
    if link.revoked is not None:
        return link, False
    now = node.clock.now()
    revoked: Link = await node.write(node.store.revoke_link, link.id, now)
    return revoked, revoked.revoked == now


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
    # One answer for a user or key that does not exist and one the caller may not act for: telling them
    # apart would let anyone enumerate the names and key ids of every account.
    if owner is None or not authorize(principal, Action.REVOCATION_ADMIN, Resource(None, subject=owner)):
        raise AccessDenied(f"No {scope.value} of that name whose links you may revoke.")


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


def revocation_time(before: float | None, now: float, server_max: int) -> float:
    """The moment a revocation names: ``before``, or now when None.

    Refused (InvalidArgument) unless it is a finite time from :data:`EARLIEST_REVOCATION` to now plus
    the server's link lifetime ceiling. A moment ahead refuses links minted until then too; beyond
    that bound it would stop every new link for longer than any link may live (``1e308``, infinity),
    and no store or audit line could even write it."""
    if before is None:
        return now
    latest = now + server_max
    if not EARLIEST_REVOCATION <= before <= latest:  # NaN fails every comparison
        raise InvalidArgument(f"before must be epoch seconds from {EARLIEST_REVOCATION:.0f} (2000-01-01) to "
                              f"{latest:.0f} (now plus the server's longest link lifetime).",
                              ArgumentName="before", ArgumentValue=repr(before))
    return float(before)


async def add_revocation(node: Node, principal: Principal, scope: RevocationScope, target: str,
                         bucket: str | None, before: float | None) -> Revocation:
    """Refuse from now on every link in the scope issued before ``before`` (default: now; see
    :func:`revocation_time`). A user scope's target may be a user name or id."""
    moment = revocation_time(before, node.clock.now(), node.settings.max_link_lifetime)
    store = node.store
    if scope is RevocationScope.USER:  # nobody by that name: check_revocation_scope refuses it as any other
        user = store.get_user_by_name(target) or store.get_user(target)
        target = user.id if user is not None else target
    # The id is read before the check: if the name changed hands in between, the check refuses or the
    # revocation names a bucket that is gone; it never lands on a bucket the caller was not checked on.
    name = target if scope is RevocationScope.BUCKET else bucket
    bucket_id = current_bucket_id(store, name) if name else None
    check_revocation_scope(store, principal, scope, target, bucket)
    now = node.clock.now()
    revocation = new_revocation(principal, scope, target, bucket, moment, now, bucket_id=bucket_id)
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
