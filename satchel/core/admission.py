"""Admission of a link at use time: whatever made a link, using it passes here.

Every link kind — an SDK's presigned URL, Satchel's minted links, POST policies, later Swift TempURLs
and pre-authenticated requests — goes through :func:`admit` after the signature and expiry checks of
its protocol, and then through ``authorize()`` with the *signer* as principal. :func:`admit` adds
what no S3 peer has:

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

Minting lives in ``core/links.py``, revocation management in ``core/revocations.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from satchel.core.access import Action
from satchel.core.caches import GenerationGate
from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.models import Bucket, Link, Principal, Revocation, RevocationScope
from satchel.meta.store import Store
from satchel.signing.sigv4.verify import MAX_SKEW_SECONDS

if TYPE_CHECKING:
    from satchel.core.node import Node

#: Client dates (X-Amz-Date, a POST policy's x-amz-date) have whole seconds.
DATE_RESOLUTION = 1.0
#: The longest link lifetime ceiling a bucket may set: 100 years (any longer is no ceiling at all).
MAX_LIFETIME_CEILING = 100 * 365 * 86400


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
    #: The object version the request names (``?versionId=``): a minted link serves only its own.
    version_id: str | None = None

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
            refuse_revoked(revocations.revoked(self.issued, self.use.target(self.bucket, key)))

    def check_source(self, revocations: RevocationList, bucket: Bucket | None, key: str, *, server_max: int,
                     now: float) -> None:
        """A copy through a link (CopyObject, UploadPartCopy) reads its source as a GET of it would: the
        source bucket's lifetime ceiling and the revocations covering the source apply too, or a copy
        link would carry a revoked object out into a bucket the revocation does not reach."""
        expires = self.link.expires if self.link is not None else self.use.expires_at
        check_lifetime(expires, min(self.issued.at, now) if self.issued else None, bucket, server_max, now)
        if self.issued is not None:
            refuse_revoked(revocations.revoked(self.issued, self.use.target(bucket, key)))


def refuse_revoked(revocation: Revocation | None) -> None:
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
        or link.version_id != use.version_id
        or not _method_allowed(link.method, use.method)
    ):
        raise AccessDenied("The link is not valid for this request.")
    if link.version_id == "null":  # minted before such links were refused (``links.NULL_PIN_REFUSED``)
        raise AccessDenied("A link pinned to the null version is not honoured: its bytes are not fixed.")
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
        refuse_revoked(revocations.revoked(issued, use.target(bucket)))
    return Admission(use, link, issued, bucket)


async def check_use(node: Node, use: LinkUse) -> Admission:
    """:func:`admit` with the node's caches; a SigV2 URL's first sighting is looked up (and recorded)
    here, before any other check, so that a URL refused now stays refused for its whole life."""
    now = node.clock.now()
    bucket = node.bucket(use.bucket) if use.bucket else None
    first_seen = None
    if use.fingerprint is not None and use.link_id is None and use.expires_at is not None:
        first_seen = await node.sightings.first_seen(use.fingerprint, now, use.expires_at)
    return await node.read(admit, node.store, node.revocations, use, bucket,
                           server_max=node.settings.max_link_lifetime, now=now, first_seen=first_seen)


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

