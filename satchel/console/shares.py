"""Share pages: a minted GET link sent as a friendly page ``/s/{id}`` instead of a raw URL.

The page shows the file's name, size, type and expiry, a preview for images, PDF, audio and video, and a
download button. It holds no right of its own: its buttons redirect to the link's presigned URL, signed
again from the link's record with its signer's key, so every byte still goes through the S3 front-end's
admission (revocation, ceilings, the signer's current rights, use counting) and its audit event. The
page itself is audited too: each view (``share-view``) and each wrong passphrase (``share-passphrase``,
refused) is an event of the link's bucket.

The id in the URL is 192 random bits; the store keeps its SHA-256. A passphrase is hashed with argon2;
wrong ones are throttled per page, and the right one sets a cookie for that page only (an HMAC keyed by
the passphrase hash, so it dies with a new passphrase and is worth nothing elsewhere).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Callable

from satchel.core import admission, identity, links
from satchel.core.access import Action
from satchel.core.errors import Conflict, InvalidArgument, SatchelError, ServiceUnavailable
from satchel.core.models import AuditEvent, Link, LinkKind, ObjectRecord, Principal, Role, Status, User
from satchel.core.node import Node
from satchel.core.requestfacts import RequestFacts
from satchel.meta.store import Store, StoredShare

#: How long a right passphrase opens its page in that browser (seconds).
UNLOCK_LIFETIME = 3600
SHARE_KINDS = (LinkKind.S3V4, LinkKind.S3V2)
#: Share pages one link may have: each is a row kept as long as its link, made by a click.
MAX_SHARES_PER_LINK = 100


def id_hash(share_id: str) -> str:
    return hashlib.sha256(share_id.encode("utf-8", "surrogateescape")).hexdigest()


async def create_share(node: Node, principal: Principal, link_id: str, passphrase: str | None) -> str:
    """A new page for a link the caller manages (``LINK_ADMIN``); returns its id, shown once."""
    link = await node.read(links.get_managed_link, node.store, principal, link_id)
    if link.method != "GET" or link.kind not in SHARE_KINDS or link.key is None:
        raise InvalidArgument("A share page shows a GET link to one object.", ArgumentName="link_id")
    if link.version_id is not None:  # the page shows and previews the key's current object, not a version
        raise InvalidArgument("A share page shows a key's current object; this link names a version: send the "
                              "link's URL itself.", ArgumentName="link_id")
    if link.state(node.clock.now()) != "active":
        raise InvalidArgument("This link is no longer active.", ArgumentName="link_id")
    hashed = await asyncio.to_thread(identity.hash_password, passphrase) if passphrase is not None else None
    share_id = secrets.token_urlsafe(24)
    user = principal.active_user
    share = StoredShare(id_hash(share_id), link.id, hashed, node.clock.now(), user.id if user else None)
    if not await node.write(node.store.create_share, share, MAX_SHARES_PER_LINK):
        raise Conflict(f"This link has {MAX_SHARES_PER_LINK} share pages already: send one of them, or mint "
                       "another link.")
    return share_id


def unlock_value(share: StoredShare, expires: int) -> str:
    assert share.passphrase_hash is not None
    mac = hmac.new(share.passphrase_hash.encode(), f"{share.id_hash}:{expires}".encode(), hashlib.sha256)
    return f"{expires}.{mac.hexdigest()}"


def unlocked(share: StoredShare, cookie: str | None, now: float) -> bool:
    if share.passphrase_hash is None:
        return True
    if not cookie:
        return False
    expires, _, _ = cookie.partition(".")
    if not expires.isdigit() or int(expires) < now:
        return False
    return hmac.compare_digest(cookie.encode("latin-1", "replace"), unlock_value(share, int(expires)).encode())


async def check_passphrase(share: StoredShare, passphrase: str) -> bool:
    if share.passphrase_hash is None or len(passphrase) > identity.MAX_PASSWORD_LENGTH:
        return False
    holder = User("", "", "", Role.MEMBER, Status.ACTIVE, 0.0, share.passphrase_hash)
    return await asyncio.to_thread(identity.verify_password, holder, passphrase)


def current_object(node: Node, link: Link) -> ObjectRecord | None:
    """The object the link names, in the bucket it was minted for (not a later bucket of that name)."""
    bucket = node.bucket(link.bucket)
    if bucket is None or link.key is None or (link.bucket_id is not None and bucket.id != link.bucket_id):
        return None
    return node.store.get_object(link.bucket, link.key)


async def refusal(node: Node, link: Link, facts: RequestFacts | None = None) -> str | None:
    """Why a use of the link would be refused now (None: it would be admitted), decided as the S3
    front-end decides one: the signer's key and user active, admission (revocations against the link's
    registry time, lifetime ceilings) and the signer's right to read the object through a link. Counts
    no use: a page view is not one. Without this the page kept showing a dead link's file name and its
    object's current size and type."""
    from satchel.core.buckets import bucket_for  # here: buckets imports node, which imports admission

    found = await node.read(node.credentials.lookup, link.access_key_id or "")
    if found is None:
        return "the signer's key is gone"
    key, signer = found
    if key.status != Status.ACTIVE or signer.active_user is None:
        return "the signer's key or user is disabled"
    principal = signer.through_link().with_facts(facts)  # the visitor's request, for bucket policy conditions
    use = admission.LinkUse(principal, link.bucket, link.key, "GET", issued_at=None, expires_at=link.expires,
                            link_id=link.id)
    try:
        await admission.check_use(node, use)
        bucket_for(node, principal, link.bucket, Action.OBJECT_READ, link.key)
    except ServiceUnavailable:
        raise  # the store cannot answer: a 503, not a dead link
    except SatchelError as exc:
        return exc.message.rstrip(".")
    return None


def resolve_page(share_hash: str) -> Callable[[Store, AuditEvent], None]:
    """Fill in, when it is written, the link of a page's event recorded while the store was away (as
    :func:`page_event` would have; a share that turns out not to exist leaves it the operator's alone)."""
    def resolve(store: Store, event: AuditEvent) -> None:
        share = store.get_share(share_hash)
        link = store.get_link(share.link_id) if share is not None else None
        if link is not None:
            event.kind, event.link_id, event.user_id, event.access_key_id = (link.kind.value, link.id, link.user_id,
                                                                             link.access_key_id)
            event.bucket, event.key, event.bucket_id = link.bucket, link.key, link.bucket_id
    return resolve


def page_event(link: Link, action: str, outcome: str, reason: str, client_ip: str, user_agent: str,
               now: float, status: int) -> AuditEvent:
    return AuditEvent(time=now, action=action, outcome=outcome, kind=link.kind.value, link_id=link.id,
                      user_id=link.user_id, access_key_id=link.access_key_id, bucket=link.bucket, key=link.key,
                      method="GET", client_ip=client_ip, user_agent=user_agent, status=status, reason=reason,
                      bucket_id=link.bucket_id)
