"""Link requests on the S3 front-end: recognising them, admitting them, and auditing every use.

A request is a link use when it carries a presigned query signature (SigV4 or SigV2) or is a POST
form upload. Each one, allowed or refused, becomes one audit event with the signer, the link, the
object, the client and the outcome; refused ones carry the S3 error code and message as the reason.

What counts as a use of a registry link (one with a use count, e.g. ``--max-uses 1``): a GET that
answers 200 or 206, counted right before its first byte (a HEAD only through a link minted for HEAD);
a PUT or DELETE once the signer's right to write the key is checked, before the write (given back when
the write is refused once its body has arrived: ``core/inflight.py``). A 304, a 404 and every refusal
count nothing.

Two kinds of request act on more than their URL names, and their events say so:

* A copy through a link (CopyObject, UploadPartCopy) is one event for its destination (method PUT) and
  one for its source (method ``COPY-SOURCE``, the source's bucket and key, the bytes read), with the same
  request id, signer and link, allowed or refused: the source bucket's administrators see what is
  copied out of it as they see a GET. The detail of a refusal goes to the side that refused: the other
  event keeps the error code and says which event has the reason (a source's revocation id is not the
  destination's business, nor the reverse).
* A DeleteObjects through a link is one event for the bucket; allowed when the request was answered
  (200), with a summary of its keys as the reason: how many were deleted and refused, the first
  :data:`SUMMARY_KEYS` of each by name, every refused one with its error code and message.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from satchel.asgi import Request, Response
from satchel.core.admission import Admission, LinkUse, authorize_write, check_use, count_use
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.errors import InvalidArgument, SatchelError
from satchel.core.models import AuditEvent, Link, LinkKind
from satchel.core.node import Node
from satchel.core.streams import close_stream
from satchel.core.text import is_text
from satchel.s3.auth import AuthMethod, AuthResult
from satchel.s3.context import S3Context
from satchel.s3.endpoints import CopySource, Endpoint, Op, amz_query_headers
from satchel.s3.errors import error_code
from satchel.s3.router import split_target
from satchel.signing.linkid import link_id_claims

_READ_METHODS = frozenset({"GET", "HEAD"})
#: S3's longest key, in characters here: a longer claimed key is not stored in an audit row.
_MAX_AUDIT_KEY = 1024


def link_kind(request: Request, endpoint: Endpoint | None) -> LinkKind | None:
    query = request.query_dict
    if "X-Amz-Signature" in query or "X-Amz-Credential" in query or "X-Amz-Algorithm" in query:
        return LinkKind.S3V4
    if "AWSAccessKeyId" in query or "Signature" in query:
        return LinkKind.S3V2
    if endpoint is not None and endpoint.op is Op.PostObject:
        return LinkKind.POST
    return None


def hoist_amz_query(request: Request, auth: AuthResult) -> None:
    """SDKs move ``x-amz-*`` headers (metadata, checksums, conditions ...) of a presigned request into
    its query: where the signature covers the query (presigned URLs, SigV4 headers) they count as
    request headers from here on; a header sent as well must carry the same value (the router
    checked). Elsewhere (SigV2 headers sign no such parameter, anonymous requests sign nothing) they
    are refused: read, they would be unsigned; ignored, a checksum or condition would be skipped."""
    moved = amz_query_headers(request.query)
    if not moved:
        return
    if not (auth.presigned or auth.method is AuthMethod.HEADER_V4):
        raise InvalidArgument("x-amz-* query parameters are read only where the signature covers them "
                              "(presigned URLs, SigV4): send them as headers.", ArgumentName=moved[0][0])
    for name, value in moved:
        request.headers.setdefault(name, value)


def claimed_signer(request: Request) -> str | None:
    """The access key id a link claims, for auditing refusals that happen before it is verified."""
    query = request.query_dict
    credential = query.get("X-Amz-Credential")
    if credential:
        return credential.split("/", 1)[0][:128]
    key = query.get("AWSAccessKeyId")
    return key[:128] if key else None


def refusal_reason(reason: str, claimed_key_id: str | None) -> str:
    """The reason of a refused use, saying so when its access key id is only claimed (the signature
    was never verified): anyone can put anyone's key id in a URL."""
    if claimed_key_id is None:
        return reason
    return f"{reason} [access key id {claimed_key_id} claimed, signature not verified]"


#: Operations whose ``prefix`` query value says which keys the answer may reveal.
_LISTINGS = frozenset({Op.ListObjects, Op.ListObjectsV2, Op.ListMultipartUploads, Op.ListObjectVersions})
#: Statuses of a read that hands the object out: only these count as a use (a 304, a refusal, a
#: 404 or a HEAD preview never burn a one-time link).
_DELIVERED = frozenset({200, 206})


async def admit(node: Node, ctx: S3Context) -> Admission:
    """Check a presigned request before its handler runs. Reads count nothing here (see
    :func:`count_read`); a write through a registry link is authorized, then counted, before the
    handler writes, so two concurrent uses of a one-time upload link never both write."""
    request, endpoint, auth = ctx.request, ctx.endpoint, ctx.auth
    use = LinkUse(
        principal=auth.principal,
        bucket=endpoint.bucket,
        key=endpoint.key,
        method=request.method,
        issued_at=auth.issued_at,
        expires_at=auth.expires_at,
        link_id=auth.link_id,
        # The handler reads the same value from the same place: the listing acts on what is checked here.
        listing_prefix=request.query_dict.get("prefix", "") if endpoint.op in _LISTINGS else None,
        fingerprint=auth.fingerprint,
        version_id=endpoint.version_id,
    )
    admission = await check_use(node, use)
    if admission.link is not None and request.method not in _READ_METHODS:
        authorize_write(node, use)
        await count_use(node, admission)
    return admission


async def count_read(node: Node, ctx: S3Context, response: Response) -> None:
    """Count a read through a registry link right before its first byte is sent; when the count
    fails (the last use went to a concurrent request) the prepared answer is dropped unsent."""
    admission = ctx.admission
    if admission is None or admission.link is None or response.status not in _DELIVERED:
        return
    method = ctx.request.method
    # Writes were counted before the handler; a HEAD through a GET link is a preview.
    if not (method == "GET" or (method == "HEAD" and admission.link.method == "HEAD")):
        return
    try:
        await count_use(node, admission)
    except SatchelError:
        await close_stream(response.body)  # an opened blob stream: release it unsent
        raise


def audit_target(request: Request, domain: str | None) -> tuple[str | None, str | None]:
    """The bucket and key a request that never got routed names, as far as they can be stored: a
    bucket name S3 allows, a key that is text."""
    bucket, key, _ = split_target(request.path, request.headers.get("host", ""), domain)
    if bucket is None or not valid_bucket_name(bucket):
        return None, None
    if key is not None and not _storable(key):
        key = None
    return bucket, key


def _storable(key: str) -> bool:
    return len(key) <= _MAX_AUDIT_KEY and key.isprintable() and is_text(key)


def link_bucket_id(node: Node, link_id: str, link: Link | None, bucket: str | None) -> str | None:
    """The id of the bucket a registry link for this bucket name was minted for (the admitted link, else
    a registry read: refusals only), or the request's bucket's id when the id names no such link."""
    if link is None:
        link = node.store.get_link(link_id[:128])
    if link is not None and link.bucket == bucket:
        return link.bucket_id
    return node.bucket_id(bucket) if bucket else None


def claimed_link_id(request: Request) -> str | None:
    """The link id a request claims, for auditing refusals that happen before it is verified."""
    claims = link_id_claims(request.query, request.headers)
    return min(claims)[:128] if claims else None


def use_event(
    request: Request,
    *,
    kind: LinkKind,
    link_id: str | None,
    bucket: str | None,
    key: str | None,
    user_id: str | None,
    access_key_id: str | None,
    status: int,
    transferred: int,
    reason: str | None,
    refused: bool,
    request_id: str,
    now: float,
    version_id: str | None = None,
) -> AuditEvent:
    """``reason``: a refusal's, or what an allowed request did beyond its URL (a DeleteObjects summary);
    ``version_id``: the object version the request named (as the router parsed it)."""
    return AuditEvent(
        time=now,
        action="use",
        outcome="refused" if refused else "allowed",
        kind=kind.value,
        link_id=link_id,
        user_id=user_id,
        access_key_id=access_key_id,
        bucket=bucket,
        key=key,
        method=request.method,
        client_ip=request.client,
        user_agent=request.user_agent,
        status=request.answered_by_server or status,
        bytes=transferred,
        reason=reason,
        request_id=request_id,
        version_id=version_id,
    )


#: The method of a copy's source event: read by a copy (its destination's event is the PUT).
COPY_SOURCE = "COPY-SOURCE"
_SOURCE_REFUSED = "The copy source was refused; the event of the source (method COPY-SOURCE) says why."
_COPY_REFUSED = "The copy was refused; the event of its destination says why."


def use_reason(ctx: S3Context | None, failure: SatchelError | None, claimed_key_id: str | None) -> str | None:
    """The reason of a use's event: a refusal's code and message (a copy's refused source: only that it
    was refused), else an allowed request's summary."""
    if failure is None:
        return ctx.summary if ctx is not None else None
    message = _SOURCE_REFUSED if ctx is not None and failure is ctx.source_failure else failure.message
    return refusal_reason(f"{error_code(failure)}: {message}", claimed_key_id)


def copy_source_event(event: AuditEvent, source: CopySource, ctx: S3Context | None, failure: SatchelError | None,
                      claimed_key_id: str | None) -> AuditEvent | None:
    """The source's event of a copy through a link, from its destination's ``event``; None when the
    source names no bucket or key an event can hold (then it names no bucket that exists)."""
    if not valid_bucket_name(source.bucket) or not _storable(source.key):
        return None
    reason = None
    if failure is not None:
        own = ctx is not None and failure is ctx.source_failure
        reason = refusal_reason(f"{error_code(failure)}: {failure.message if own else _COPY_REFUSED}", claimed_key_id)
    return dataclasses.replace(
        event,
        bucket=source.bucket,
        key=source.key,
        method=COPY_SOURCE,
        bytes=ctx.source_bytes if ctx is not None and failure is None else 0,
        outcome="allowed" if failure is None else "refused",
        reason=reason,
        bucket_id=None,  # the source bucket's, by its name now (core.audit.AuditLog.record)
    )


#: A DeleteObjects summary names this many deleted and this many refused keys (the rest are counted),
#: each cut to :data:`SUMMARY_KEY_CHARS` characters: a 1000-key request's event stays a few KiB.
SUMMARY_KEYS = 10
SUMMARY_KEY_CHARS = 100


def delete_summary(requested: int, deleted: Sequence[str], refused: Sequence[tuple[str, str, str]]) -> str:
    """What a DeleteObjects did, for its event's reason, e.g. ``2 of 3 keys deleted: "a", "b"; 1 refused:
    "c" (AccessDenied: The link was revoked (object revocation R...))``. Keys are JSON-quoted: a key may
    hold commas, quotes or line breaks, and the line must still read unambiguously in ``satchel audit``."""
    text = f"{len(deleted)} of {requested} keys deleted"
    if deleted:
        text += ": " + _first(deleted, [_quoted(key) for key in deleted[:SUMMARY_KEYS]])
    if refused:
        named = [f"{_quoted(key)} ({code}: {message})" for key, code, message in refused[:SUMMARY_KEYS]]
        text += f"; {len(refused)} refused: " + _first(refused, named)
    return text


def _first(items: Sequence[object], named: list[str]) -> str:
    more = len(items) - len(named)
    return ", ".join(named) + (f" and {more} more" if more else "")


def _quoted(key: str) -> str:
    cut = key if len(key) <= SUMMARY_KEY_CHARS else key[:SUMMARY_KEY_CHARS] + "…"
    return json.dumps(cut, ensure_ascii=False)
