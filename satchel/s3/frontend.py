"""The S3 front-end: one ASGI callable from socket to core and back.

Per request: parse → (OPTIONS preflight answered from bucket CORS, unsigned) → route → authenticate →
handler (which calls core) → response, with ``x-amz-request-id`` on everything and every failure
rendered as S3's XML error. No framework sits in between: this is the hot path.
"""

from __future__ import annotations

import itertools
import logging
import os

from satchel.asgi import Receive, Request, Response, Scope, Send
from satchel.core.errors import InvalidArgument, InvalidBucketName, MethodNotAllowed, NotModified, SatchelError
from satchel.core.node import Node
from satchel.s3 import cors
from satchel.s3.auth import Authenticator
from satchel.s3.context import S3Context
from satchel.s3.endpoints import Op
from satchel.s3.errors import render_error
from satchel.s3.handlers import HANDLERS
from satchel.s3.router import route, valid_bucket_name

log = logging.getLogger("satchel.s3")

#: Request ids: a per-process random prefix and a counter — unique, cheap, and no secret.
_PREFIX = os.urandom(4).hex().upper()
_COUNTER = itertools.count(1)

#: Unread request bodies up to this size are drained after an early answer so the keep-alive
#: connection stays usable; larger ones close the connection.
_DRAIN_LIMIT = 1024 * 1024

#: Operations whose bucket need not exist or be valid yet (CreateBucket validates the name itself).
_NAME_CHECKED_BY_HANDLER = frozenset({Op.CreateBucket})


class S3Frontend:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.auth = Authenticator(node)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = f"{_PREFIX}{next(_COUNTER):012X}"
        request = Request(scope, receive)
        head = request.method == "HEAD"
        resource = request.raw_path
        origin_bucket: str | None = None
        try:
            try:
                endpoint = route(request.method, request.path, request.query_dict, request.headers,
                                 domain=self.node.settings.domain)
            except UnicodeDecodeError:
                raise InvalidArgument("Invalid URI: the path is not valid UTF-8.") from None
            origin_bucket = endpoint.bucket
            if endpoint.bucket is not None and endpoint.op not in _NAME_CHECKED_BY_HANDLER \
                    and not valid_bucket_name(endpoint.bucket):
                raise InvalidBucketName(BucketName=endpoint.bucket)
            if endpoint.op is Op.Options:
                response = cors.preflight(self.node, endpoint.bucket, request.headers)
            else:
                auth = await self.auth.authenticate(request, endpoint)
                ctx = S3Context(request=request, endpoint=endpoint, auth=auth, request_id=request_id)
                handler = HANDLERS.get(endpoint.op)
                if handler is None:
                    raise MethodNotAllowed(Method=request.method, ResourceType="OBJECT" if endpoint.key else "BUCKET")
                response = await handler(self.node, ctx)
        except NotModified:
            response = Response(304)
        except SatchelError as exc:
            status, body = render_error(exc, resource=resource, request_id=request_id)
            response = Response(status, [("Content-Type", "application/xml")], body)
        except Exception:
            log.exception("internal error serving %s %s (request %s)", request.method, resource, request_id)
            status, body = render_error(Exception(), resource=resource, request_id=request_id)
            response = Response(status, [("Content-Type", "application/xml")], body)
        response.headers.append(("x-amz-request-id", request_id))
        if not request.body_done and not await request.discard_body(_DRAIN_LIMIT):
            # A refused upload still on the wire: closing is cheaper than reading gigabytes.
            response.headers.append(("Connection", "close"))
        if origin_bucket and "origin" in request.headers and request.method != "OPTIONS":
            response.headers.extend(cors.response_headers(self.node, origin_bucket, request))
        await response.send(send, head=head)
