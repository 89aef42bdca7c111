"""The Swift front-end: one ASGI callable for ``/auth/...``, ``/info`` and ``/v1/...``.

Per request: route → (TempAuth | signed link | token → principal → handler) → response, with
``X-Trans-Id`` / ``X-Openstack-Request-Id`` on everything and every failure rendered as Swift does
(status, and a short HTML page or a plain-text reason).
"""

from __future__ import annotations

import logging
import secrets
import time

from satchel.asgi import Receive, Request, Response, Scope, Send
from satchel.core.errors import NotModified, SatchelError
from satchel.core.inflight import signer_recheck
from satchel.core.models import ANONYMOUS, Principal
from satchel.core.node import Node
from satchel.core.requestfacts import AUTH_HEADER
from satchel.logs import redact
from satchel.policyfacts import http_facts
from satchel.requestinfo import request_info
from satchel.swift import formpost, info, tempurl
from satchel.swift.auth import authenticate, token_holder
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError, error_body, status_of
from satchel.swift.handlers import HANDLERS
from satchel.swift.router import SwiftEndpoint, Target, operation, refuse_unsupported_query, route

log = logging.getLogger("satchel.swift")

#: Unread request bodies up to this size are drained after an early answer (keep-alive stays usable);
#: larger ones close the connection.
_DRAIN_LIMIT = 1024 * 1024


def new_trans_id() -> str:
    """Swift's transaction id shape: ``tx`` + 21 hex digits + ``-`` + the time in hex."""
    return f"tx{secrets.token_hex(11)[:21]}-{int(time.time()):010x}"


#: The S3 operation a Swift storage request is, for the IAM action a bucket policy names it by (an object
#: DELETE is s3:DeleteObject, not the s3:PutObject an OBJECT_WRITE check would default to).
_OBJECT_OPERATIONS = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "COPY": "CopyObject",
                      "POST": "PutObject", "DELETE": "DeleteObject"}
_CONTAINER_OPERATIONS = {"GET": "ListObjects", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}


def s3_operation(method: str, obj: str | None) -> str | None:
    return (_OBJECT_OPERATIONS if obj else _CONTAINER_OPERATIONS).get(method)


class SwiftFrontend:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        trans_id = new_trans_id()
        anonymous, foreign = True, False
        measured = request_info(scope)  # what the metrics count this request as
        measured.operation = operation(request.method, None)
        try:
            try:
                endpoint = route(request.method, request.path, request.query_dict, request.headers)
            except SwiftError as exc:
                tempurl.refused_path(self.node, request, trans_id, exc)  # a TempURL's use, audited all the same
                raise
            measured.operation = operation(request.method, endpoint)
            try:
                await self.node.warm(endpoint.container)  # the caches it reads, loaded off the loop
            except SatchelError:
                if endpoint.target not in (Target.TEMPURL, Target.FORMPOST):
                    raise
                # A link's use: its handler meets the same outage and records the refused use's one event.
            if endpoint.target is Target.AUTH:
                response = await authenticate(self.node, request)
            elif endpoint.target is Target.INFO:
                response = info.serve(self.node)
            elif endpoint.target in (Target.TEMPURL, Target.FORMPOST):
                anonymous = False  # they answer as their key's setter would be answered (and audit that)
                response = await self.signed_link(endpoint, request, trans_id)
            else:
                ctx, foreign = await self.node.read(self.context, endpoint, request, trans_id)
                anonymous = ctx.principal.anonymous
                refuse_unsupported_query(request.method, endpoint.target, request.query_dict)
                response = await HANDLERS[endpoint.target, request.method](ctx)
        except NotModified:
            response = Response(304)
        except Exception as exc:
            if not isinstance(exc, (SatchelError, SwiftError)):
                log.exception("internal error serving %s %s (transaction %s)", request.method,
                              redact(request.raw_path), trans_id)
            response = self.error(exc, anonymous=anonymous, foreign=foreign)
        response.headers.extend((("X-Trans-Id", trans_id), ("X-Openstack-Request-Id", trans_id)))
        if not request.body_done and not await request.discard_body(_DRAIN_LIMIT):
            response.headers.append(("Connection", "close"))  # a refused upload still on the wire
        try:
            await response.send(send, head=request.method == "HEAD", transport=request.transport)
        except Exception as exc:
            log.warning("response to %s %s (transaction %s) not completed: %r", request.method,
                        redact(request.raw_path), trans_id, exc)

    def context(self, endpoint: SwiftEndpoint, request: Request, trans_id: str) -> tuple[SwiftContext, bool]:
        """The storage request's principal: its token's holder, or anonymous; and whether the token is of
        another account. A token acts only on its own account's URL: elsewhere, as with tempauth, it reads
        what anybody may read (a public container) and is refused with 403 otherwise."""
        holder = token_holder(self.node, request)
        assert endpoint.account is not None  # storage targets always name one
        account = self.node.store.get_account_by_name(endpoint.account)
        foreign = holder is not None and (account is None or account.id != holder.account_id)
        if account is None:
            raise SwiftError(403 if foreign else 401)
        principal = ANONYMOUS if holder is None or foreign else holder.principal
        principal = principal.with_facts(http_facts(request, now=self.node.clock.now(),
                                                    auth_type=None if principal.anonymous else AUTH_HEADER,
                                                    operation=s3_operation(request.method, endpoint.obj)))
        # A write in flight when its token goes, or its user is disabled or loses its rights, stores nothing:
        # its token is resolved again once the body has arrived (401 as for a request starting then).
        recheck = None if principal.anonymous else signer_recheck(
            self.node, principal, current=lambda: self.holder_now(request))
        return SwiftContext(self.node, request, principal, account, endpoint.container, endpoint.obj,
                            trans_id, recheck), foreign

    def holder_now(self, request: Request) -> Principal:
        """The principal of the request's token as it is now: 401 when the token is no longer valid."""
        holder = token_holder(self.node, request)
        if holder is None:
            raise SwiftError(401)
        return holder.principal

    async def signed_link(self, endpoint: SwiftEndpoint, request: Request, trans_id: str) -> Response:
        """TempURL and FormPost requests (signed query or form; any token is ignored, as in Swift):
        ``swift/tempurl.py`` and ``swift/formpost.py`` verify, admit and audit them, then call the same handlers."""
        if endpoint.target is Target.TEMPURL:
            return await tempurl.serve(self.node, endpoint, request, trans_id)
        return await formpost.serve(self.node, endpoint, request, trans_id)

    @staticmethod
    def error(exc: BaseException, *, anonymous: bool, foreign: bool = False) -> Response:
        status, message = status_of(exc, anonymous=anonymous)
        if foreign and status == 401:  # refused as anonymous, but it did authenticate (for another account)
            status = 403
        content_type, body = error_body(status, message)
        headers = [("Content-Type", content_type)]
        if isinstance(exc, SwiftError):
            headers.extend(exc.headers)
        if status == 401:
            headers.append(("Www-Authenticate", 'Swift realm="unknown"'))
        return Response(status, headers, body)
