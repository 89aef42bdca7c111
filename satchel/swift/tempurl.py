"""TempURL requests on the Swift front-end: verify, admit, act as the key's setter, audit every use.

A storage request whose query has ``temp_url_sig`` or ``temp_url_expires`` comes here, with or without a token
(``router.Target.TEMPURL``). In order:

1. **Verify** (``signing/tempurl.py``): the parameters, parsed once; the signature against the account's
   and the container's TempURL keys; method, path or prefix, expiry, IP range, allowed digests.
2. **Admit** (``core/admission.check_use``, kind ``swift``): a TempURL carries no issue time, so the first
   moment any worker saw it (``core/sightings.py``, keyed by a hash of the decoded signature) stands in
   for it, as for SigV2 URLs: lifetime ceilings (server and bucket) hold from then on, and a revocation
   "before B" (object, prefix, bucket or the key setter's user) refuses every TempURL first seen before B.
3. **Act as the key's setter, through a link**: the request goes to the ordinary Swift handler with the
   principal of whoever set the key (``core/tempurlkeys.setter``), so ``authorize()`` re-checks that
   user's read or write right *and* share right now. The query is cut down to the TempURL parameters,
   headers are scrubbed (:data:`~satchel.signing.tempurl.DISALLOWED_INCOMING_HEADERS` refused,
   :data:`~satchel.signing.tempurl.INCOMING_REMOVE_HEADERS` dropped); a successful GET/HEAD answer gets
   Swift's Content-Disposition and an ``Expires`` header, and loses private ``X-Object-Meta-*``.
4. **Audit** exactly one event per request, allowed or refused, with the reason, the setter as user and
   the bytes sent; the event is recorded when the answer has been sent (or its stream closed).

Every refusal of the URL itself — unreadable, expired, wrong signature, revoked, over a ceiling, or a
setter who may no longer do this — is Swift's ``401 Unauthorized: Temp URL invalid`` with
``Www-Authenticate``; the reason goes to the audit trail only. TempURLs are not registry links: nothing is
use-counted (``admission.count_use`` has no entry to count).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from satchel.asgi import Request, Response
from satchel.core.admission import LinkUse, check_use
from satchel.core.audit import Resolver, resolve_in_account
from satchel.core.errors import AccessDenied, NotModified, SatchelError
from satchel.core.inflight import signer_recheck
from satchel.core.models import AuditEvent, LinkKind
from satchel.core.node import Node
from satchel.core.requestfacts import AUTH_QUERY
from satchel.core.tempurlkeys import current_setter, setter
from satchel.policyfacts import http_facts
from satchel.signing import tempurl
from satchel.signing.tempurl import TempUrlInvalid, TempUrlParams
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError, error_body, status_of
from satchel.swift.handlers import HANDLERS
from satchel.swift.router import RESELLER_PREFIX, TEMPURL_PARAMS, SwiftEndpoint, Target

INVALID_BODY = b"401 Unauthorized: Temp URL invalid\n"
_SUCCESS = range(200, 300)


@dataclass(slots=True)
class _Event:
    """The one audit event of a TempURL request, filled in as the request goes."""

    node: Node
    request: Request
    trans_id: str
    bucket: str | None
    key: str | None
    user_id: str | None = None
    recorded: bool = False

    def record(self, status: int, sent: int, reason: str | None, resolve_later: Resolver | None = None) -> None:
        if self.recorded:
            return
        self.recorded = True
        refused = status not in _SUCCESS and status != 304
        self.node.audit.record(AuditEvent(
            time=self.node.clock.now(), action="use", outcome="refused" if refused else "allowed",
            kind=LinkKind.SWIFT.value, user_id=self.user_id, bucket=self.bucket, key=self.key,
            method=self.request.method, client_ip=self.request.client, user_agent=self.request.user_agent,
            status=self.request.answered_by_server or status, bytes=sent, reason=reason, request_id=self.trans_id,
        ), resolve_later=resolve_later or False)

    def failed(self, exc: BaseException, resolve_later: Resolver | None = None) -> None:
        """Record a refusal by an error the front-end answers (503 while the store is away ...)."""
        status, message = status_of(exc, anonymous=False)
        self.record(status, 0, f"{type(exc).__name__}: {message or ''}".rstrip(": "), resolve_later)


def refused_path(node: Node, request: Request, trans_id: str, exc: SwiftError) -> None:
    """The one event of a TempURL whose path the router refused (not UTF-8 or NUL: 412, a name over 1024
    bytes: 400, no ``AUTH_<account>``: 404) before it could reach :func:`serve`: still a use of a link,
    refused. Nothing of the path is kept (it may not even be text)."""
    if not TEMPURL_PARAMS & request.query_dict.keys() or not request.path.startswith("/v1/"):
        return
    reason = f"TempUrlInvalid: path refused ({exc.status} {exc.message or str(exc)})"
    named = _path_container(request.path)
    if named is None:
        _Event(node, request, trans_id, None, None).record(exc.status, 0, reason)
        return
    try:
        bucket = _container_of(node, *named)
    except SatchelError:  # the store away: the bucket is looked up when the event is written
        _Event(node, request, trans_id, None, None).record(exc.status, 0, reason, resolve_in_account(*named))
        return
    _Event(node, request, trans_id, bucket, None).record(exc.status, 0, reason)


def _path_container(path: str) -> tuple[str, str] | None:
    """The account and container a refused path names, when they could be stored."""
    parts = path.split("/", 4)
    if len(parts) < 4 or not parts[2].startswith(RESELLER_PREFIX) or not parts[3]:
        return None
    try:
        "/".join(parts[2:4]).encode("utf-8")  # not text (a name with %ff): names nothing stored
    except UnicodeEncodeError:
        return None
    if "\x00" in parts[2] or "\x00" in parts[3]:
        return None
    return parts[2][len(RESELLER_PREFIX):], parts[3]


def _container_of(node: Node, account_name: str, container: str) -> str | None:
    """The bucket a refused path names, when its account and container are this server's: the event is then
    that bucket's (its owners see it); else it has none (the operator's trail only)."""
    account = node.store.get_account_by_name(account_name)
    bucket = node.bucket(container) if account is not None else None
    return bucket.name if bucket is not None and account is not None and bucket.account_id == account.id else None


def invalid(request: Request, account: str | None) -> Response:
    """Swift's answer to every TempURL it refuses (no body for a HEAD)."""
    realm = f"{RESELLER_PREFIX}{account}" if account and account.isprintable() and '"' not in account \
        and account.isascii() else "unknown"
    headers = [("Content-Type", "text/plain; charset=UTF-8"), ("Www-Authenticate", f'Swift realm="{realm}"')]
    return Response(401, headers, b"" if request.method == "HEAD" else INVALID_BODY)


async def serve(node: Node, endpoint: SwiftEndpoint, request: Request, trans_id: str) -> Response:
    """Answer one TempURL request; every path out records its audit event exactly once."""
    event = _Event(node, request, trans_id, None, endpoint.obj)
    try:
        ctx, params = await _admit(node, endpoint, request, trans_id, event)
    except (TempUrlInvalid, AccessDenied) as exc:
        if isinstance(exc, AccessDenied) and exc.earlier_bucket:
            event.bucket = None  # first seen for an earlier bucket of this name: not the new owner's event
        event.record(401, 0, f"TempUrlInvalid: {_reason(exc)}")
        return invalid(request, endpoint.account)
    except SwiftError as exc:  # a header a TempURL may not carry
        event.record(exc.status, 0, f"TempUrlHeaderNotAllowed: {exc.message}")
        content_type, body = error_body(exc.status, exc.message)
        return Response(exc.status, [("Content-Type", content_type)], body)
    except Exception as exc:
        # The store away (503) before the TempURL was checked: still one refused use, its container's
        # bucket looked up when the event is written (core/audit.py).
        event.failed(exc, None if event.bucket else resolve_in_account(endpoint.account, endpoint.container))
        raise
    try:
        response = await HANDLERS[Target.OBJECT, request.method](ctx)
    except NotModified:
        event.record(304, 0, None)
        raise
    except AccessDenied as exc:
        # The setter may no longer do this (lost the grant, the share right, the admin role ...), or (in
        # flight) the key changed or a revocation came while the body arrived.
        why = exc.message if exc.in_flight else f"the key's setter may not: {exc.message}"
        event.record(401, 0, f"TempUrlInvalid: {why}")
        return invalid(request, endpoint.account)
    except Exception as exc:
        event.failed(exc)
        raise
    if request.method in ("GET", "HEAD") and response.status in _SUCCESS:
        response.headers = _read_headers(response.headers, params, endpoint.obj or "")
    else:
        response.headers = tempurl.scrub_response_headers(response.headers)
    return _audited(response, event, request.method == "HEAD")


async def _admit(node: Node, endpoint: SwiftEndpoint, request: Request, trans_id: str,
                 event: _Event) -> tuple[SwiftContext, TempUrlParams]:
    account = await node.read(node.store.get_account_by_name, endpoint.account or "")
    if account is None:
        raise TempUrlInvalid("no such account")
    bucket = node.bucket(endpoint.container) if endpoint.container else None
    if bucket is not None and bucket.account_id != account.id:
        bucket = None  # another account's bucket of that name: not this account's container, nor its event
    event.bucket = bucket.name if bucket is not None else None
    params = tempurl.parse_query(request.query)
    if params is None:
        raise TempUrlInvalid("not a TempURL")
    keys = await node.read(node.tempurl_keys.keys, account.id, bucket)
    signed = tempurl.Request(request.method, RESELLER_PREFIX + account.name, endpoint.container or "",
                             endpoint.obj or "", request.client or None)
    key = keys[tempurl.verify(params, signed, [k.secret for k in keys], allowed=node.settings.tempurl_allowed_digests,
                              now=node.clock.now())]
    principal = (await node.read(setter, node, key)).with_facts(http_facts(request, now=node.clock.now(),
                                                                          auth_type=AUTH_QUERY))
    event.user_id = key.set_by
    admission = await check_use(node, LinkUse(
        principal=principal, bucket=event.bucket, key=endpoint.obj, method=request.method,
        issued_at=None, expires_at=float(params.expires), fingerprint=params.signature.fingerprint,
    ))
    refused = tempurl.disallowed_header(request.method, request.headers)
    if refused is not None:
        raise SwiftError(400, f"The header {refused.title()!r} is not allowed in this tempurl")
    for name in [name for name in request.headers if tempurl.removed_request_header(name)]:
        del request.headers[name]
    _cut_query(request, params)
    # A PUT in flight when the key changes, or its setter loses the right, or a revocation comes, stores nothing.
    recheck = signer_recheck(node, principal, admission, current=lambda: current_setter(node, key, bucket))
    return SwiftContext(node, request, principal, account, endpoint.container, endpoint.obj, trans_id,
                        recheck), params


def _cut_query(request: Request, params: TempUrlParams) -> None:
    """The handler sees the TempURL parameters and nothing else (Swift rewrites the query the same way)."""
    sig = next(value for name, value in request.query if name == "temp_url_sig")
    pairs = params.query(sig)
    request._query = pairs  # the parsed forms the handlers read
    request._query_dict = dict(pairs)
    request.raw_query = ""


def _read_headers(headers: list[tuple[str, str]], params: TempUrlParams, obj: str) -> list[tuple[str, str]]:
    stored = next((value for name, value in headers if name.lower() == "content-disposition"), None)
    out = [(name, value) for name, value in tempurl.scrub_response_headers(headers)
           if name.lower() not in ("content-disposition", "expires")]
    out.append(("Content-Disposition", tempurl.content_disposition(
        inline=params.inline, filename=params.filename, stored=stored, object_name=obj)))
    out.append(("Expires", tempurl.expires_header(params.expires)))
    return out


def _audited(response: Response, event: _Event, head: bool) -> Response:
    """The response, recording its event once sent: at once for a body in memory, at the end of the
    stream (or when the stream is closed unsent) for an object's bytes."""
    body = response.body
    if isinstance(body, bytes):
        event.record(response.status, 0 if head else len(body), None)
        return response
    response.body = _counting(body, lambda sent: event.record(response.status, sent, None))
    return response


async def _counting(body: AsyncIterator[bytes], done: Callable[[int], None]) -> AsyncIterator[bytes]:
    sent = 0
    try:
        async for chunk in body:
            yield chunk
            sent += len(chunk)
    finally:
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()
        done(sent)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TempUrlInvalid):
        return exc.reason
    return exc.message if isinstance(exc, SatchelError) else str(exc)
