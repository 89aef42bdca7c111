"""Swift TempURLs made by Satchel for a caller: the links API's ``"kind": "swift"`` and ``satchel tempurl``.

One URL per object, view (``&inline``) or download (``&filename=``), as vStorage's ``download_tempurls``
returns them. Who may have one is decided exactly as for minted S3 links (``links.plan_links``: the caller
must be allowed to *share* the object). The URL is signed with a TempURL key *the caller set* on the
container (the most recently set one) or, when it set none there, on its account; at use time it acts as
the user who set that key (``core/tempurlkeys.py``), so only that user mints with it: a URL signed for a
member with an admin's key would outlive the member's rights. Without such a key the call says how to set
one.

A TempURL carries no link id (its query is cut down to its own parameters), so it is not in the link
registry: no use limit, no one-by-one revocation. What stops it early: clearing the key's slot, the key
setter losing the right, and revocations "before a moment" (its first sighting is its issue time).
Every mint is an audit event (kind ``swift``, no link id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchBucket, SatchelError
from satchel.core.links import LinkSpec, plan_links
from satchel.core.models import AccessKey, AuditEvent, Bucket, LinkKind, Principal
from satchel.core.tempurlkeys import KeyScope, TempUrlKey, setter
from satchel.signing.tempurl import temp_url

if TYPE_CHECKING:
    from satchel.core.node import Node

#: The digest Satchel signs with, the first the server allows (sha1 only when nothing else is).
SIGNING_DIGESTS = ("sha256", "sha512", "sha1")
_READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class SwiftLink:
    key: str
    url: str | None = None
    expires: int | None = None
    error: SatchelError | None = None


def signing_key(node: Node, bucket: Bucket, user_id: str) -> TempUrlKey:
    """The container's most recently set key that ``user_id`` set, else the account's.

    Only the caller's own keys: a TempURL acts as whoever set its key (Swift's model), so a URL signed with
    someone else's key would keep working after the caller lost every right — disabled, grant removed,
    revoked "before now" by user. InvalidArgument says how to set a key when the caller set none."""
    keys = node.tempurl_keys.keys(bucket.account_id, bucket)
    for scope in (KeyScope.CONTAINER, KeyScope.ACCOUNT):
        scoped = [key for key in keys if key.scope is scope and key.secret and key.set_by == user_id]
        if scoped:
            return max(scoped, key=lambda key: key.set_at)
    raise InvalidArgument(
        f"TempURLs are signed with a TempURL key you set yourself (a TempURL acts as whoever set its key), and "
        f"you set none on container {bucket.name} or its account: set one first (the bucket's owner: swift post "
        f"-m Temp-URL-Key:<secret> {bucket.name}; an account admin: swift post -m Temp-URL-Key:<secret>).",
        ArgumentName="kind")


async def mint_swift_links(node: Node, principal: Principal, caller_key: AccessKey, spec: LinkSpec, *,
                           client_ip: str, user_agent: str, request_id: str) -> list[SwiftLink]:
    """A TempURL per object of ``spec`` the caller may share; errors per object otherwise."""
    bucket = await node.read(node.store.get_bucket, spec.bucket)
    if bucket is None:
        raise NoSuchBucket(BucketName=spec.bucket)
    now = node.clock.now()
    planned = await node.read(plan_links, node.store, principal, caller_key, spec,
                              server_max=node.settings.max_link_lifetime, now=now)
    user = principal.user
    assert user is not None  # minting needs an authenticated principal (plan_links checked it)
    if not any(item.link is not None for item in planned):
        return [SwiftLink(item.key, error=item.error) for item in planned]  # nothing to sign
    key = await node.read(signing_key, node, bucket, user.id)
    account = await node.read(node.store.get_account, bucket.account_id)
    assert account is not None  # a bucket's account outlives it
    signer = await node.read(setter, node, key)
    action = Action.OBJECT_READ if spec.method in _READ_METHODS else Action.OBJECT_WRITE
    allowed = _allowed_digest(node)
    expires = int(now) + spec.expires_in
    out: list[SwiftLink] = []
    for item in planned:
        if item.link is None:
            out.append(SwiftLink(item.key, error=item.error))
            continue
        if not authorize(signer, action, Resource(bucket=bucket, key=item.key)):
            # The URL would act as the key's setter, who may not share this: it would never work.
            out.append(SwiftLink(item.key, error=AccessDenied(
                "Access Denied: whoever set this container's (or account's) TempURL key may not share this object.")))
            continue
        url = temp_url(node.settings.endpoint, account.name, bucket.name, item.key, key=key.secret,
                       method=spec.method, expires=expires, algorithm=allowed, inline=spec.mode == "view",
                       filename=spec.filename if spec.mode == "download" else None)
        out.append(SwiftLink(item.key, url=url, expires=expires))
        node.audit.record(AuditEvent(
            time=now, action="mint", outcome="allowed", kind=LinkKind.SWIFT.value, user_id=user.id,
            access_key_id=caller_key.access_key_id, bucket=bucket.name, bucket_id=bucket.id, key=item.key,
            method=spec.method, client_ip=client_ip, user_agent=user_agent, request_id=request_id,
            reason=f"TempURL signed with the {key.scope.value} key in slot {key.slot}, expires {expires}",
        ))
    return out


def _allowed_digest(node: Node) -> str:
    allowed = node.settings.tempurl_allowed_digests
    return next(name for name in SIGNING_DIGESTS if name in allowed)
