"""Link notifications: a bucket, or the links of one mint call, name a webhook URL; every use of a link into
the bucket (minted links, presigned URLs and POST forms, PARs, TempURLs and FormPosts), allowed or refused, is
POSTed there as JSON, signed with HMAC-SHA256 (``signing/webhook.py``).

Who may set what:

* A bucket's webhook (every link use in it): whoever controls the bucket (``BUCKET_ADMIN``), as for its other
  link settings. Its events are the bucket's audit trail, which that person reads anyway.
* A mint call's webhook (the uses of the links it mints): the minter, who needs nothing beyond the right to mint
  plus ``AUDIT_READ`` over itself (which every user has: it reads the events of links it signed). The events
  sent are exactly those: a use event reaches a link's webhook only when its signer (``user_id``, set only from
  a verified signature) is the webhook's creator, so a forged URL naming someone's link id reaches the bucket's
  webhook alone, as its audit event is the bucket's alone.

Delivery never slows the request: a use is queued in the audit event's own transaction (``audit.py`` batches
them off the request path) into a bounded durable queue, which ``webhooks/delivery.py`` drains in each worker.
A secret is made by the server per webhook, shown once, stored sealed by the master key (bound to the
webhook's id) and never logged. The URL is checked here (scheme, no credentials, no literal non-public address);
the addresses a name resolves to are checked at every delivery (``webhooks/outbound.py``).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from satchel.core.access import Action, Resource, authorize
from satchel.core.buckets import bucket_for
from satchel.core.errors import AccessDenied, Conflict, InvalidArgument, NotFound
from satchel.core.models import Principal
from satchel.meta.webhooks import (
    BUCKET_SCOPE,
    DEAD,
    LINKS_SCOPE,
    PENDING,
    DeliveryRecord,
    StoredWebhook,
)

if TYPE_CHECKING:
    from satchel.core.masterkey import MasterKey
    from satchel.core.node import Node

MAX_URL_LENGTH = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix that makes a leaked secret recognisable, not a secret
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A webhook just set: its secret is in this value only (the answer that shows it once)."""

    webhook: StoredWebhook
    secret: str


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL a webhook may POST to, or InvalidArgument: http(s), a host, no user or password (they would be
    stored and shown in plain), no fragment, and no literal address or ``localhost`` that is not public unless
    ``allow_private``. Names are resolved and checked again at every delivery."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH or not url.isascii() or not url.isprintable():
        raise InvalidArgument(f"webhook must be an http or https URL of at most {MAX_URL_LENGTH} ASCII characters",
                              ArgumentName="webhook")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed for its error
    except ValueError:
        raise InvalidArgument("webhook is not a valid URL", ArgumentName="webhook") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise InvalidArgument("webhook must be an http or https URL with a host", ArgumentName="webhook")
    if parts.port == 0:
        raise InvalidArgument("webhook port must be 1 to 65535", ArgumentName="webhook")
    if parts.username is not None or parts.password is not None or parts.fragment or " " in url:
        raise InvalidArgument("webhook must not carry a user, a password or a fragment", ArgumentName="webhook")
    if not allow_private and not _public_name(parts.hostname):
        raise InvalidArgument("webhook points at a loopback, private or link-local address, which this server "
                              "does not call (setting webhook_allow_private)", ArgumentName="webhook")
    return url


def _public_name(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return is_public(ipaddress.ip_address(host))
    except ValueError:
        return True  # a name: its addresses are checked when it is called


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: IPv6 ranges refused whatever ``is_global`` says (its answer differs between Python versions): IPv4-compatible
#: (deprecated, ``::a.b.c.d``), IPv4-translated (``::ffff:0:a.b.c.d``), local-use NAT64 and site-local.
_NOT_PUBLIC_V6 = tuple(ipaddress.ip_network(net) for net in (
    "::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "fec0::/10"))


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local (cloud metadata at 169.254.169.254),
    shared (CGNAT), reserved, multicast or unspecified. An IPv6 address that carries an IPv4 one (mapped,
    NAT64, 6to4, Teredo) is judged by that one too: ``64:ff9b::7f00:1`` reaches 127.0.0.1 through a NAT64."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None,
                    ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None]
        if any(inner is not None and not is_public(inner) for inner in embedded):
            return False
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if any(address in net for net in _NOT_PUBLIC_V6):
            return False
    return address.is_global and not address.is_multicast


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def seal(master_key: MasterKey, webhook_id: str, secret: str) -> bytes:
    return master_key.seal(secret.encode(), b"satchel-webhook:" + webhook_id.encode())


def unseal(master_key: MasterKey, webhook: StoredWebhook) -> str:
    return master_key.unseal(webhook.secret_ciphertext, b"satchel-webhook:" + webhook.id.encode()).decode()


def _new(node: Node, principal: Principal, bucket_id: str, scope: str, url: str) -> NewWebhook:
    user = principal.user
    assert user is not None  # authorized above: never anonymous
    webhook_id = secrets.token_hex(16)
    secret = new_secret()
    stored = StoredWebhook(webhook_id, bucket_id, scope, url, seal(node.credentials.master_key, webhook_id, secret),
                           node.clock.now(), user.id)
    return NewWebhook(stored, secret)


async def set_bucket_webhook(node: Node, principal: Principal, bucket: str, url: str) -> NewWebhook:
    """Set (or replace, with a fresh secret) the bucket's webhook; deliveries queued for the previous one are
    dropped with it."""
    found = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    url = check_url(url, allow_private=node.settings.webhook_allow_private)
    made = _new(node, principal, found.id, BUCKET_SCOPE, url)
    await node.write(node.store.put_webhook, made.webhook)
    return made


def bucket_webhook(node: Node, principal: Principal, bucket: str) -> StoredWebhook:
    found = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    webhook = node.store.get_bucket_webhook(found.id)
    if webhook is None:
        raise NotFound(f"The bucket {bucket} has no webhook.")
    return webhook


async def delete_bucket_webhook(node: Node, principal: Principal, bucket: str) -> StoredWebhook:
    found = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    removed: StoredWebhook | None = await node.write(node.store.delete_bucket_webhook, found.id)
    if removed is None:
        raise NotFound(f"The bucket {bucket} has no webhook.")
    return removed


def deliveries(node: Node, principal: Principal, bucket: str, state: str, limit: int) -> list[DeliveryRecord]:
    """The bucket's queued (``pending``) or failed (``dead``) deliveries, oldest first."""
    found = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    if state not in (PENDING, DEAD):
        raise InvalidArgument("state must be pending or dead", ArgumentName="state")
    return node.store.list_webhook_deliveries(found.id, state, limit)


def check_link_webhook(node: Node, principal: Principal, url: str) -> str:
    """A mint call's ``webhook``: a valid URL, and a caller who may read the events of links it signs."""
    user = principal.user
    if user is None or not authorize(principal, Action.AUDIT_READ, Resource(None, subject=user)):
        raise AccessDenied()
    url = check_url(url, allow_private=node.settings.webhook_allow_private)
    cap = node.settings.webhook_max_per_user
    if node.store.count_link_webhooks(user.id) >= cap:  # checked before minting: a refused call mints nothing
        raise Conflict(f"You have {cap} mint-call webhooks, the most one user may have (webhook_max_per_user): "
                       "they go when every link of their call expired or was revoked.")
    return url


async def attach_link_webhook(node: Node, principal: Principal, bucket_id: str, url: str,
                              link_ids: Sequence[str]) -> NewWebhook:
    """One webhook for the links a mint call made (checked by :func:`check_link_webhook` before minting)."""
    made = _new(node, principal, bucket_id, LINKS_SCOPE, url)
    await node.write(node.store.put_webhook, made.webhook, link_ids)
    return made
