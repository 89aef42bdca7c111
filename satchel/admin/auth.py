"""Who calls the management API: the same SigV4 access keys as S3 (header auth only), so the aws-cli
style credential chain works for ``satchel presign``/``links``/``audit`` and any SDK can sign calls."""

from __future__ import annotations

from satchel.asgi import Request
from satchel.core.errors import AccessDenied, InvalidRequest
from satchel.core.models import AccessKey, Principal
from satchel.core.node import Node
from satchel.core.receive import Expectations, new_hasher, verify_digests
from satchel.signing.sigv4.verify import verify_header_auth


def authenticate(node: Node, request: Request, body: bytes) -> tuple[AccessKey, Principal]:
    """Verify the Authorization header and the signed body hash; returns the caller's key and principal."""
    if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
        raise AccessDenied("The management API needs an AWS4-HMAC-SHA256 Authorization header.")
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
        raise InvalidRequest("The management API takes plain JSON bodies, not aws-chunked ones.")
    if result.payload_hash == "UNSIGNED-PAYLOAD":
        # The signature would not cover the body: whoever saw the headers could replay them, within the
        # signature's 15 minutes, with a body of their own (mint links, revoke). A call that has no body
        # (GET, DELETE) has nothing to swap.
        if body or request.method in _WITH_BODY:
            raise InvalidRequest("The management API needs x-amz-content-sha256 to be the hex SHA-256 of the "
                                 "body (signed), not UNSIGNED-PAYLOAD.")
    else:
        expect = Expectations(sha256_hex=result.payload_hash)
        hasher = new_hasher(expect)
        hasher.update(body)
        verify_digests(hasher, expect, None)
    return lookup.key, lookup.principal


_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
