"""The S3 front-end: one ASGI callable from socket to core and back.

Per request: parse → (OPTIONS preflight answered from bucket CORS, unsigned) → route → authenticate →
handler (which calls core) → response, with ``x-amz-request-id`` on everything and every failure
rendered as S3's XML error. No framework sits in between: this is the hot path.
"""

from __future__ import annotations

import dataclasses
import logging

from satchel.asgi import Message, Receive, Request, Response, Scope, Send
from satchel.core import inflight
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.errors import InternalError, InvalidBucketName, NotModified, SatchelError
from satchel.core.models import LinkKind
from satchel.core.node import Node
from satchel.core.streams import close_stream
from satchel.logs import redact
from satchel.requestinfo import request_info
from satchel.s3 import cors, linkuse
from satchel.s3 import sse as s3sse
from satchel.s3.auth import Authenticator
from satchel.s3.context import S3Context
from satchel.s3.endpoints import Endpoint, Op, amz_query_headers
from satchel.s3.errors import render_error
from satchel.s3.handlers import HANDLERS
from satchel.s3.handlers.versioning import version_headers
from satchel.s3.headervalues import wire_headers
from satchel.s3.policyfacts import s3_facts
from satchel.s3.router import route

log = logging.getLogger("satchel.s3")

#: Unread request bodies up to this size are drained after an early answer so the keep-alive
#: connection stays usable; larger ones close the connection.
_DRAIN_LIMIT = 1024 * 1024

#: Operations whose bucket need not exist or be valid yet (CreateBucket validates the name itself).
_NAME_CHECKED_BY_HANDLER = frozenset({Op.CreateBucket})


class _SendTracker:
    """Wraps ASGI ``send``: whether the status line went out and how many body bytes followed."""

    __slots__ = ("body_bytes", "send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False
        self.body_bytes = 0

    async def __call__(self, message: Message) -> None:
        await self.send(message)
        if message["type"] == "http.response.start":
            self.started = True
        else:
            self.body_bytes += len(message.get("body", b""))


class S3Frontend:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.auth = Authenticator(node)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        info = request_info(scope)
        info.frontend, request_id = "s3", info.request_id
        request = Request(scope, receive)
        endpoint: Endpoint | None = None
        ctx: S3Context | None = None
        failure: SatchelError | None = None
        try:
            endpoint = route(request.method, request.path, request.query, request.headers,
                             domain=self.node.settings.domain)
            info.operation, info.bucket = endpoint.op.name, endpoint.bucket
            s3sse.check_request(self.node, scope.get("scheme"), endpoint,
                                [*request.headers.items(), *amz_query_headers(request.query)])
            if endpoint.bucket is not None and endpoint.op not in _NAME_CHECKED_BY_HANDLER \
                    and not valid_bucket_name(endpoint.bucket):
                raise InvalidBucketName(BucketName=endpoint.bucket)
            await self.node.warm(endpoint.bucket)  # the caches it reads, loaded off the loop
            if endpoint.op is Op.Options:
                response = cors.preflight(self.node, endpoint.bucket, request.headers)
            else:
                auth = await self.auth.authenticate(request, endpoint)
                auth = dataclasses.replace(auth, principal=auth.principal.with_facts(
                    s3_facts(request, endpoint, auth, self.node.clock.now())))
                if auth.principal.user is not None:
                    info.principal, info.access_key_id = auth.principal.user.name, auth.principal.access_key_id
                ctx = S3Context(request=request, endpoint=endpoint, auth=auth, request_id=request_id)
                if auth.presigned:
                    ctx.admission = await linkuse.admit(self.node, ctx)
                linkuse.hoist_amz_query(request, auth)
                response = await HANDLERS[endpoint.op](self.node, ctx)
                if ctx.admission is not None:
                    await linkuse.count_read(self.node, ctx, response)
        except NotModified:
            response = Response(304)
        except SatchelError as exc:
            failure = exc
            if exc.in_flight and ctx is not None:
                await inflight.give_back(self.node, ctx.admission)  # refused once its body had arrived
            response = self._error(exc, request, request_id)
        except Exception as exc:
            log.exception("internal error serving %s %s (request %s)", request.method,
                          redact(request.raw_path), request_id)
            failure = InternalError()  # audited as what the client was told, never as allowed
            response = self._error(exc, request, request_id)
        response.headers.append(("x-amz-request-id", request_id))
        if not request.body_done and not await request.discard_body(_DRAIN_LIMIT):
            # A refused upload still on the wire: closing is cheaper than reading gigabytes.
            response.headers.append(("Connection", "close"))
        if endpoint is not None and endpoint.bucket and "origin" in request.headers and request.method != "OPTIONS":
            response.headers.extend(cors.response_headers(self.node, endpoint.bucket, request))
        response.headers = wire_headers(response.headers)
        tracker = _SendTracker(send)
        status, sent = response.status, None
        kind = linkuse.link_kind(request, endpoint)
        # What the audit of a link use reads from the store, read now (off the loop), not while it records.
        bucket_id, resolve_later = None, False
        if kind is not None:
            try:
                bucket_id = await self.node.read(self._audit_bucket_id, request, endpoint, ctx)
            except SatchelError:  # the store away (503): the event is still recorded, its bucket id looked up
                resolve_later = True  # when it is written (core/audit.py), never again now
        try:
            status, sent, failure = await self._send(response, tracker, request, request_id, failure)
        finally:
            # One audit event per link use (a copy: one more, for its source), whatever happened to the send
            # (cancelled mid-send: what was handed to the server by then).
            if kind is not None:
                self._audit(kind, request, endpoint, ctx, status, tracker.body_bytes if sent is None else sent,
                            failure, request_id, bucket_id, resolve_later)

    async def _send(self, response: Response, tracker: _SendTracker, request: Request, request_id: str,
                    failure: SatchelError | None) -> tuple[int, int, SatchelError | None]:
        """Send; (status, body bytes, failure) as the audit should record them."""
        head = request.method == "HEAD"
        try:
            return response.status, await response.send(tracker, head=head, transport=request.transport), failure
        except Exception as exc:
            if tracker.started:
                # The client left or the body stream broke after the status line: nothing more can be
                # said to this client. One line, no traceback: a departing client is not a bug.
                log.warning("response to %s %s (request %s) ended after %d body bytes: %r",
                            request.method, redact(request.raw_path), request_id, tracker.body_bytes, exc)
                return response.status, tracker.body_bytes, failure
            log.exception("internal error sending %s %s (request %s)", request.method, redact(request.raw_path),
                          request_id)
            await close_stream(response.body)  # opened for a body that will never be sent
        error = self._error(InternalError(), request, request_id)
        error.headers.append(("x-amz-request-id", request_id))
        try:
            await error.send(tracker, head=head, transport=request.transport)
        except Exception as exc:  # the connection is gone as well
            log.warning("error response to request %s not sent: %r", request_id, exc)
        return error.status, 0, InternalError()

    @staticmethod
    def _error(exc: Exception, request: Request, request_id: str) -> Response:
        status, body = render_error(exc, resource=request.raw_path, request_id=request_id)
        headers = [("Content-Type", "application/xml")]
        if isinstance(exc, SatchelError):  # a refusal about a version: which one (versioning)
            headers += version_headers(exc.version_id, exc.delete_marker)
        return Response(status, headers, body)

    @staticmethod
    def _link_id(request: Request, ctx: S3Context | None) -> str | None:
        return ctx.auth.link_id if ctx is not None else linkuse.claimed_link_id(request)

    def _target(self, request: Request, endpoint: Endpoint | None,
                ctx: S3Context | None) -> tuple[str | None, str | None]:
        if endpoint is not None:
            return endpoint.bucket, ctx.object_key if ctx is not None and ctx.object_key else endpoint.key
        # Refused while routed (a refused header, an unknown subresource): still the bucket's event.
        return linkuse.audit_target(request, self.node.settings.domain)

    def _audit_bucket_id(self, request: Request, endpoint: Endpoint | None, ctx: S3Context | None) -> str | None:
        """A minted link's use belongs to the bucket it was minted for: if the name now holds another
        bucket, whoever administers that one must not see the old link's signer, key or id."""
        link_id = self._link_id(request, ctx)
        if link_id is None:
            return None
        link = ctx.admission.link if ctx is not None and ctx.admission is not None else None
        return linkuse.link_bucket_id(self.node, link_id, link, self._target(request, endpoint, ctx)[0])

    def _audit(self, kind: LinkKind, request: Request, endpoint: Endpoint | None, ctx: S3Context | None,
               status: int, sent: int, failure: SatchelError | None, request_id: str, bucket_id: str | None,
               resolve_later: bool = False) -> None:
        principal = ctx.auth.principal if ctx is not None else None
        if ctx is not None and ctx.signer is not None:
            principal = ctx.signer  # POST uploads: the policy's signer, known only to the handler
        user = principal.user if principal is not None else None
        link_id = self._link_id(request, ctx)
        # A key id the signature never proved is kept, marked as claimed, and never makes its user the
        # event's signer (who may read an event follows user_id, not access_key_id: core/audit.py).
        verified = principal.access_key_id if principal is not None else None
        claimed = None if verified else linkuse.claimed_signer(request)
        bucket, key = self._target(request, endpoint, ctx)
        event = linkuse.use_event(
            request,
            kind=kind,
            link_id=link_id,
            bucket=bucket,
            key=key,
            user_id=user.id if user else None,
            access_key_id=verified or claimed,
            status=status,
            transferred=sent if request.method in ("GET", "HEAD") else request.bytes_received,
            reason=linkuse.use_reason(ctx, failure, claimed),
            refused=failure is not None,
            request_id=request_id,
            now=self.node.clock.now(),
            version_id=endpoint.version_id if endpoint is not None else None,
        )
        if link_id is not None:
            event.bucket_id = bucket_id
        if failure is not None and failure.earlier_bucket:
            event.bucket_id = ""  # the earlier bucket's, which no current bucket is: its signer still sees it
        self.node.audit.record(event, resolve_later=resolve_later and event.bucket_id is None)
        if endpoint is not None and endpoint.copy_source is not None:
            # A copy also reads: its source's bucket gets an event of its own (the same request id).
            source = linkuse.copy_source_event(event, endpoint.copy_source, ctx, failure, claimed)
            if source is not None:
                self.node.audit.record(source)
