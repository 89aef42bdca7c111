"""The PAR front-end: one ASGI callable for every path under ``/p/``.

Per request: parse the path → look the token up (by its hash) → route → handler (admission, core call,
use counting) → response, with ``opc-request-id`` and the security headers on everything, every failure
rendered as OCI's JSON error, and exactly one audit event (kind ``par``, action ``use``) per request,
allowed or refused, with the reason — whatever happens to the send.
"""

from __future__ import annotations

import itertools
import logging
import os

from satchel.asgi import Message, Receive, Request, Response, Scope, Send
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.errors import AccessDenied, InternalError, NotModified, SatchelError
from satchel.core.models import AuditEvent, LinkKind
from satchel.core.node import Node
from satchel.core.par import use
from satchel.core.par.model import Par
from satchel.logs import redact
from satchel.par import errors, multipart
from satchel.par.handlers import Handler, ParContext, get_object, head_object, put_object
from satchel.par.headers import NO_STORE, SECURITY_HEADERS, refuse_unsupported
from satchel.par.listing import list_objects
from satchel.par.router import Op, Target, parse_target, route

log = logging.getLogger("satchel.par")

_PREFIX = os.urandom(4).hex().upper()
_COUNTER = itertools.count(1)
#: Unread request bodies up to this size are drained after an early answer (keep-alive); larger: close.
_DRAIN_LIMIT = 1024 * 1024
HANDLERS: dict[Op, Handler] = {
    Op.GetObject: get_object, Op.HeadObject: head_object, Op.PutObject: put_object, Op.ListObjects: list_objects,
    Op.CreateMultipartUpload: multipart.create_upload, Op.UploadPart: multipart.upload_part,
    Op.CommitMultipartUpload: multipart.commit_upload, Op.AbortMultipartUpload: multipart.abort_upload,
}
_MAX_AUDIT_KEY = 1024
#: OCI's limit on ``opc-client-request-id``.
_MAX_CLIENT_ID = 98
#: Later steps of a multipart upload: a PAR whose uses are spent still serves the upload it started.
_UPLOAD_STEPS = frozenset({Op.UploadPart, Op.CommitMultipartUpload, Op.AbortMultipartUpload})


class _Counter:
    """Wraps ASGI ``send`` to count the body bytes that went out."""

    __slots__ = ("body_bytes", "send")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.body_bytes = 0

    async def __call__(self, message: Message) -> None:
        await self.send(message)
        if message["type"] == "http.response.body":
            self.body_bytes += len(message.get("body", b""))


class ParFrontend:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = f"PAR{_PREFIX}{next(_COUNTER):012X}"
        request = Request(scope, receive)
        target: Target | None = None
        par: Par | None = None
        ctx: ParContext | None = None
        failure: SatchelError | None = None
        try:
            target = parse_target(request.raw_path)
            par = await self.node.read(use.find, self.node, target.token)
            endpoint = route(request.method, target, request.headers)
            if par is None:
                raise AccessDenied("No pre-authenticated request has this token.")
            await self.node.warm(par.bucket)  # the caches it reads, loaded off the loop
            use.refuse_state(par, self.node.clock.now(), continuing=endpoint.op in _UPLOAD_STEPS)
            refuse_unsupported(request.headers)
            ctx = ParContext(request, endpoint, par, request_id)
            response = await HANDLERS[endpoint.op](self.node, ctx)
        except NotModified:
            response = Response(304)
        except SatchelError as exc:
            failure = exc
            response = self._error(exc)
        except Exception:
            log.exception("internal error serving %s %s (request %s)", request.method, redact(request.raw_path),
                          request_id)
            failure = InternalError()
            response = self._error(failure)
        # No cache may keep a PAR answer: a shared one would serve it past the PAR's deletion or maxUses.
        response.headers = [(k, v) for k, v in response.headers if k.lower() not in ("cache-control", "expires")]
        response.headers += [("opc-request-id", request_id), *SECURITY_HEADERS, NO_STORE]
        client_id = request.headers.get("opc-client-request-id")
        if client_id is not None and len(client_id) <= _MAX_CLIENT_ID and client_id.isascii() \
                and client_id.isprintable():
            response.headers.append(("opc-client-request-id", client_id))  # OCI echoes the client's own id
        if not request.body_done and not await request.discard_body(_DRAIN_LIMIT):
            response.headers.append(("Connection", "close"))
        counter = _Counter(send)
        sent = 0
        try:
            sent = await response.send(counter, head=request.method == "HEAD", transport=request.transport)
        except Exception as exc:
            log.warning("response to request %s ended after %d body bytes: %r", request_id, counter.body_bytes, exc)
            sent = counter.body_bytes
        finally:
            self._audit(request, target, par, ctx, response.status, sent, failure, request_id)

    @staticmethod
    def _error(exc: BaseException) -> Response:
        status, body = errors.render(exc)
        return Response(status, [("Content-Type", "application/json")], body)

    def _audit(self, request: Request, target: Target | None, par: Par | None, ctx: ParContext | None, status: int,
               sent: int, failure: SatchelError | None, request_id: str) -> None:
        bucket = key = None
        if par is not None:
            bucket = par.bucket
        elif target is not None and valid_bucket_name(target.bucket):
            bucket = target.bucket
        if target is not None and len(target.key) <= _MAX_AUDIT_KEY:
            key = target.key
        reason = None
        if failure is not None:
            code, _ = errors.error_code(failure)
            reason = f"{code}: {failure.message}"
        elif ctx is not None:
            reason = ctx.summary
        event = AuditEvent(
            time=self.node.clock.now(), action="use", outcome="refused" if failure is not None else "allowed",
            kind=LinkKind.PAR.value, link_id=par.id if par is not None else None,
            user_id=par.user_id if par is not None else None, access_key_id=None, bucket=bucket, key=key,
            method=request.method, client_ip=request.client, user_agent=request.user_agent,
            status=request.answered_by_server or status,
            bytes=sent if request.method in ("GET", "HEAD") else request.bytes_received, reason=reason,
            request_id=request_id, bucket_id=par.bucket_id if par is not None else None,
            version_id=(request.query_dict.get("versionId") or "")[:128] or None,
        )
        self.node.audit.record(event)
