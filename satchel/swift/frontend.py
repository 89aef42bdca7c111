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
from satchel.core.models import ANONYMOUS
from satchel.core.node import Node
from satchel.logs import redact
from satchel.swift import formpost, info, tempurl
from satchel.swift.auth import authenticate, token_holder
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError, error_body, status_of
from satchel.swift.handlers import HANDLERS
from satchel.swift.router import SwiftEndpoint, Target, refuse_unsupported_query, route

log = logging.getLogger("satchel.swift")

#: Unread request bodies up to this size are drained after an early answer (keep-alive stays usable);
#: larger ones close the connection.
_DRAIN_LIMIT = 1024 * 1024


def new_trans_id() -> str:
    """Swift's transaction id shape: ``tx`` + 21 hex digits + ``-`` + the time in hex."""
    return f"tx{secrets.token_hex(11)[:21]}-{int(time.time()):010x}"


class SwiftFrontend:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        trans_id = new_trans_id()
        anonymous = True
        try:
            endpoint = route(request.method, request.path, request.query_dict, request.headers)
            if endpoint.target is Target.AUTH:
                response = await authenticate(self.node, request)
            elif endpoint.target is Target.INFO:
                response = info.serve(self.node)
            elif endpoint.target in (Target.TEMPURL, Target.FORMPOST):
                anonymous = False  # they answer as their key's setter would be answered (and audit that)
                response = await self.signed_link(endpoint, request, trans_id)
            else:
                ctx = self.context(endpoint, request, trans_id)
                anonymous = ctx.principal.anonymous
                refuse_unsupported_query(request.method, endpoint.target, request.query_dict)
                response = await HANDLERS[endpoint.target, request.method](ctx)
        except NotModified:
            response = Response(304)
        except Exception as exc:
            if not isinstance(exc, (SatchelError, SwiftError)):
                log.exception("internal error serving %s %s (transaction %s)", request.method,
                              redact(request.raw_path), trans_id)
            response = self.error(exc, anonymous=anonymous)
        response.headers.extend((("X-Trans-Id", trans_id), ("X-Openstack-Request-Id", trans_id)))
        if not request.body_done and not await request.discard_body(_DRAIN_LIMIT):
            response.headers.append(("Connection", "close"))  # a refused upload still on the wire
        try:
            await response.send(send, head=request.method == "HEAD", transport=request.transport)
        except Exception as exc:
            log.warning("response to %s %s (transaction %s) not completed: %r", request.method,
                        redact(request.raw_path), trans_id, exc)

    def context(self, endpoint: SwiftEndpoint, request: Request, trans_id: str) -> SwiftContext:
        """The storage request's principal: its token's holder, or anonymous. A token is good only on its
        own account's URL (403 elsewhere, as tempauth answers)."""
        holder = token_holder(self.node, request)
        assert endpoint.account is not None  # storage targets always name one
        account = self.node.store.get_account_by_name(endpoint.account)
        if holder is not None:
            if account is None or account.id != holder.account_id:
                raise SwiftError(403)
            principal = holder.principal
        else:
            principal = ANONYMOUS
            if account is None:
                raise SwiftError(401)
        return SwiftContext(self.node, request, principal, account, endpoint.container, endpoint.obj, trans_id)

    async def signed_link(self, endpoint: SwiftEndpoint, request: Request, trans_id: str) -> Response:
        """TempURL and FormPost requests (no token; signed query or form): ``swift/tempurl.py`` and
        ``swift/formpost.py`` verify, admit and audit them, then call the same handlers."""
        if endpoint.target is Target.TEMPURL:
            return await tempurl.serve(self.node, endpoint, request, trans_id)
        return await formpost.serve(self.node, endpoint, request, trans_id)

    @staticmethod
    def error(exc: BaseException, *, anonymous: bool) -> Response:
        status, message = status_of(exc, anonymous=anonymous)
        content_type, body = error_body(status, message)
        headers = [("Content-Type", content_type)]
        if isinstance(exc, SwiftError):
            headers.extend(exc.headers)
        if status == 401:
            headers.append(("Www-Authenticate", 'Swift realm="unknown"'))
        return Response(status, headers, body)
