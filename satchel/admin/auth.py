"""Who calls the management API. Two ways in:

- SigV4 with the same access keys as S3 (header auth only), so the aws-cli style credential chain works
  for ``satchel presign``/``links``/``audit`` and any SDK can sign calls;
- a console session (``satchel_session`` cookie, see ``satchel/console/session.py``), for the web console:
  every state change also needs the session's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass

from satchel.asgi import Request
from satchel.console import session as sessions
from satchel.core.errors import AccessDenied, InvalidRequest
from satchel.core.models import AccessKey, Principal, Status
from satchel.core.node import Node
from satchel.core.receive import Expectations, new_hasher, verify_digests
from satchel.core.requestfacts import AUTH_HEADER, SIGV4
from satchel.policyfacts import http_facts
from satchel.signing.sigv4.verify import verify_header_auth


@dataclass(frozen=True)
class Caller:
    #: The key that signed the call; for a session, the user's newest active key (it signs the links the
    #: console mints), or None when the user has none.
    key: AccessKey | None
    principal: Principal
    session: sessions.SignedIn | None = None
    #: The signed SHA-256 of a body the route streams (checked as it is received), for SigV4 calls.
    payload_sha256: str | None = None


async def authenticate(node: Node, request: Request, body: bytes | None) -> Caller:
    """Verify the Authorization header and the signed body hash, or the session cookie (and, for a state
    change, its CSRF token). ``body`` is None for a route that streams its body."""
    if "authorization" not in request.headers and sessions.session_cookie(request) is not None:
        signed_in, principal = await sessions.resume(node, request, state_change=request.method not in _SAFE)
        # A console session is no S3 signature: no s3:authType, as an anonymous request has none.
        return Caller(signing_key(node, signed_in.user.id),
                      principal.with_facts(http_facts(request, now=node.clock.now())), signed_in)
    if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
        raise AccessDenied("The management API needs an AWS4-HMAC-SHA256 Authorization header "
                           "or a console session.")
    lookup = node.credentials.signer()
    result = verify_header_auth(
        method=request.method,
        raw_path=request.raw_path,
        query=request.query,
        headers=request.headers,
        now=node.clock.now(),
        region=node.settings.region,
        lookup_secret=lookup,
    )
    if result.streaming:
        raise InvalidRequest("The management API takes plain bodies, not aws-chunked ones.")
    if result.payload_hash == "UNSIGNED-PAYLOAD":
        # The signature would not cover the body: whoever saw the headers could replay them, within the
        # signature's 15 minutes, with a body of their own (mint links, revoke). A call that has no body
        # (GET, DELETE) has nothing to swap.
        if body or body is None or request.method in _WITH_BODY:
            raise InvalidRequest("The management API needs x-amz-content-sha256 to be the hex SHA-256 of the "
                                 "body (signed), not UNSIGNED-PAYLOAD.")
    elif body is not None:
        expect = Expectations(sha256_hex=result.payload_hash)
        hasher = new_hasher(expect)
        hasher.update(body)
        verify_digests(hasher, expect, None)
    facts = http_facts(request, now=node.clock.now(), auth_type=AUTH_HEADER, signature_version=SIGV4)
    return Caller(lookup.key, lookup.principal.with_facts(facts),
                  payload_sha256=result.payload_hash if body is None else None)


def signing_key(node: Node, user_id: str) -> AccessKey | None:
    """The user's newest active access key, decrypted: what signs the links a console user mints (so
    disabling that key kills them, as for links minted with SigV4)."""
    stored = [k for k in node.store.list_access_keys(user_id) if k.status is Status.ACTIVE]
    for candidate in sorted(stored, key=lambda k: k.created, reverse=True):
        found = node.credentials.lookup(candidate.access_key_id)
        if found is not None and found[0].active:
            return found[0]
    return None


_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_SAFE = frozenset({"GET", "HEAD"})
