"""Link requests on the S3 front-end: recognising them, admitting them, and auditing every use.

A request is a link use when it carries a presigned query signature (SigV4 or SigV2) or is a POST
form upload. Each one, allowed or refused, becomes one audit event with the signer, the link, the
object, the client and the outcome; refused ones carry the S3 error code and message as the reason.
"""

from __future__ import annotations

from satchel.asgi import Request
from satchel.core.links import LINK_ID_PARAM, LinkUse, use_link
from satchel.core.models import AuditEvent, Link, LinkKind
from satchel.core.node import Node
from satchel.s3.auth import AuthResult
from satchel.s3.endpoints import Endpoint, Op


def link_kind(request: Request, endpoint: Endpoint | None) -> LinkKind | None:
    query = request.query_dict
    if "X-Amz-Signature" in query or "X-Amz-Credential" in query or "X-Amz-Algorithm" in query:
        return LinkKind.S3V4
    if "AWSAccessKeyId" in query or "Signature" in query:
        return LinkKind.S3V2
    if endpoint is not None and endpoint.op is Op.PostObject:
        return LinkKind.POST
    return None


def hoist_amz_query(request: Request) -> None:
    """SDKs move ``x-amz-*`` headers (metadata, storage class ...) of a presigned request into its
    query, where the signature covers them: they count as request headers from here on. A header
    sent as well must carry the same value (an unsigned, different one was refused by the signature
    check)."""
    for name, value in request.query:
        lowered = name.lower()
        if lowered.startswith("x-amz-") and lowered not in _AUTH_PARAMS:
            request.headers.setdefault(lowered, value)


#: Query parameters of the signature itself, never object headers.
_AUTH_PARAMS = frozenset({
    "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
    "x-amz-signature", "x-amz-security-token", "x-amz-content-sha256", "x-amz-satchel-link-id",
})


def claimed_signer(request: Request) -> str | None:
    """The access key id a link claims, for auditing refusals that happen before it is verified."""
    query = request.query_dict
    credential = query.get("X-Amz-Credential")
    if credential:
        return credential.split("/", 1)[0][:128]
    key = query.get("AWSAccessKeyId")
    return key[:128] if key else None


async def admit(node: Node, request: Request, endpoint: Endpoint, auth: AuthResult) -> Link | None:
    use = LinkUse(
        principal=auth.principal,
        bucket=endpoint.bucket,
        key=endpoint.key,
        method=request.method,
        issued_at=auth.issued_at,
        expires_at=auth.expires_at,
        link_id=request.query_dict.get(LINK_ID_PARAM),
    )
    return await use_link(node, use)


def use_event(
    request: Request,
    *,
    kind: LinkKind,
    bucket: str | None,
    key: str | None,
    user_id: str | None,
    access_key_id: str | None,
    status: int,
    transferred: int,
    reason: str | None,
    request_id: str,
    now: float,
) -> AuditEvent:
    return AuditEvent(
        time=now,
        action="use",
        outcome="allowed" if reason is None else "refused",
        kind=kind.value,
        link_id=request.query_dict.get(LINK_ID_PARAM),
        user_id=user_id,
        access_key_id=access_key_id,
        bucket=bucket,
        key=key,
        method=request.method,
        client_ip=request.client,
        user_agent=request.user_agent,
        status=status,
        bytes=transferred,
        reason=reason,
        request_id=request_id,
    )
