"""Swift TempAuth tokens: issued for an access key's secret, stored only as a hash, checked per request.

``GET /auth/v1.0`` with ``X-Auth-User: <account>:<user>`` and ``X-Auth-Key: <secret of one of the
user's active access keys>`` (what Swift's tempauth middleware and Ceph RGW accept) issues a token of
``swift_token_lifetime`` seconds. The token acts for the key that obtained it: it stops working at once
and for good when that key or its user is disabled or deleted (the store deletes the rows in the same
transaction, and :func:`resolve_token` re-checks the key and user on every use anyway), and it is only
good for its own account's storage URL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from satchel.core.errors import AccessDenied, InvalidAccessKeyId, NotFound
from satchel.core.models import Account, Principal
from satchel.core.node import Node
from satchel.meta.store import StoredToken

#: tempauth's token shape (``AUTH_tk`` + 32 hex digits): clients and log scrubbers recognise it.
TOKEN_PREFIX = "AUTH_tk"  # noqa: S105 - a public prefix, not a secret
#: Live tokens one key may hold; logging in again beyond that retires the oldest.
MAX_TOKENS_PER_KEY = 100
#: Longest token accepted for lookup: anything longer is no token of ours.
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires: float
    account: Account


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """Who a valid token acts for: the key's current principal and the account its storage URL names."""

    principal: Principal
    account_id: str


def hash_token(token: str) -> str:
    """Tokens are stored and looked up by SHA-256 only: a copy of the database yields no usable token."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


async def issue_token(node: Node, auth_user: str, auth_key: str) -> IssuedToken:
    """A new token for ``account:user`` and one of the user's active key secrets; AccessDenied otherwise
    (without saying which part was wrong)."""
    account_name, colon, user_name = auth_user.partition(":")
    user = await node.read(node.store.get_user_by_name, user_name) if colon else None
    account = await node.read(node.store.get_account, user.account_id) if user is not None else None
    matched: str | None = None
    if user is not None:
        for stored in await node.read(node.store.list_access_keys, user.id):
            found = await node.read(node.credentials.lookup, stored.access_key_id)
            # Every key is compared, in constant time, whether or not an earlier one matched.
            if found is not None and hmac.compare_digest(found[0].secret.encode(), auth_key.encode()) \
                    and found[0].active and matched is None:
                matched = stored.access_key_id
    if user is None or account is None or account.name != account_name or not user.active or matched is None:
        raise AccessDenied()
    token = TOKEN_PREFIX + secrets.token_hex(16)
    now = node.clock.now()
    expires = now + node.settings.swift_token_lifetime
    stored_token = StoredToken(hash_token(token), user.id, matched, account.id, now, expires)
    try:
        await node.write(node.store.create_swift_token, stored_token, now=now, max_per_key=MAX_TOKENS_PER_KEY)
    except NotFound:
        raise AccessDenied() from None  # the key or user was disabled or deleted meanwhile
    return IssuedToken(token, expires, account)


def resolve_token(node: Node, token: str) -> TokenHolder:
    """The holder of a live token; AccessDenied for an unknown, expired or dead one."""
    if len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        raise AccessDenied()
    stored = node.store.get_swift_token(hash_token(token))
    if stored is None or stored.expires <= node.clock.now():
        raise AccessDenied()
    try:
        key, principal = node.credentials.resolve(stored.access_key_id)
    except (InvalidAccessKeyId, AccessDenied) as exc:  # the key gone or disabled, the user disabled
        # Only these: a store that cannot answer (ServiceUnavailable) is a 503, never a 401 that tells a
        # client holding a valid token to throw it away.
        raise AccessDenied() from exc
    if principal.user is None or principal.user.id != stored.user_id or not key.active:
        raise AccessDenied()
    return TokenHolder(principal, stored.account_id)
