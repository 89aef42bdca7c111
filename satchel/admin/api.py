"""The JSON management API under ``/_satchel/api/``: a routing table, SigV4 authentication with the
same access keys as S3, JSON errors, and the OpenAPI document that describes all of it.

Deliberately framework-free, like the S3 front-end: a dozen routes do not need one, and the
document is generated from the same table the router uses, so the two cannot disagree.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import orjson

from satchel.admin import auth, handlers, openapi, parhandlers
from satchel.admin.errors import error_body, render, with_request_id
from satchel.admin.schemas import MAX_BODY, query_params
from satchel.asgi import Receive, Request, Response, Scope, Send
from satchel.core.errors import InvalidArgument, MethodNotAllowed, SatchelError
from satchel.core.node import Node
from satchel.core.text import is_text
from satchel.requestinfo import RequestInfo, request_info

log = logging.getLogger("satchel.admin")

PREFIX = "/_satchel/api"
_JSON = ("Content-Type", "application/json")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: handlers.Handler
    summary: str
    request_schema: str | None = None
    response_schema: str | None = None
    query: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


ROUTES: tuple[Route, ...] = (
    Route("GET", "/whoami", handlers.whoami, "The caller's user, account, role and access key.", None, "Whoami"),
    Route("POST", "/links", handlers.mint, "Sign many objects at once; one URL per object the caller may access.",
          "LinkRequest", "MintResult"),
    Route("GET", "/links", handlers.list_links, "Links the caller may manage, newest first.", None, "LinkList",
          ("bucket", "prefix", "active", "limit")),
    Route("GET", "/links/{id}", handlers.show_link, "One minted link.", None, "Link"),
    Route("DELETE", "/links/{id}", handlers.revoke_link, "Revoke one minted link now.", None, "Link"),
    Route("POST", "/revocations", handlers.add_revocation,
          "Refuse every link issued before a moment, scoped to an object, prefix, bucket, access key or user.",
          "RevocationRequest", "Revocation"),
    Route("GET", "/revocations", handlers.list_revocations, "Revocations the caller made or administers.", None,
          "RevocationList"),
    Route("GET", "/audit", handlers.audit,
          "Link events (mint, use, revoke): the newest `limit` ones, oldest first; times in epoch seconds.", None,
          "EventList",
          ("since", "until", "bucket", "prefix", "user", "kind", "outcome", "action", "link_id", "limit")),
    Route("POST", "/buckets", handlers.create_bucket,
          "Create a bucket owned by the caller or, for an account administrator, by the account (contract).",
          "BucketRequest", "Bucket"),
    Route("GET", "/buckets/{bucket}/link-policy", handlers.get_link_policy,
          "A bucket's link lifetime ceiling and who may share it.", None, "LinkPolicy"),
    Route("PUT", "/buckets/{bucket}/link-policy", handlers.put_link_policy,
          "Change a bucket's link lifetime ceiling or who may share it (both enforced when links are used); "
          "fields left out keep their value.", "LinkPolicyRequest", "LinkPolicy"),
    # --- pre-authenticated requests (OCI's Create/List/Get/DeletePreauthenticatedRequest) ---
    Route("POST", "/pars", parhandlers.create_par,
          "Create a pre-authenticated request; the answer carries its access URL (accessUri, fullPath), "
          "which is never shown again.", "ParRequest", "ParCreated"),
    Route("GET", "/pars", parhandlers.list_pars,
          "Pre-authenticated requests the caller may manage, newest first (never their URLs).", None, "ParList",
          ("bucket", "prefix", "active", "limit")),
    Route("GET", "/pars/{bucket}/{id}", parhandlers.show_par, "One pre-authenticated request (never its URL).",
          None, "Par"),
    Route("DELETE", "/pars/{bucket}/{id}", parhandlers.delete_par,
          "Delete a pre-authenticated request: its URL stops working at once.", None, "Par"),
    Route("GET", "/buckets/{bucket}/par-policy", parhandlers.get_par_policy,
          "Whether the bucket's PARs show HTML, SVG and XML inline.", None, "ParPolicy"),
    Route("PUT", "/buckets/{bucket}/par-policy", parhandlers.put_par_policy,
          "Let (or stop) the bucket's PARs show HTML, SVG and XML inline.", "ParPolicyRequest", "ParPolicy"),
)
_COMPILED = [(route, route.pattern) for route in ROUTES]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request (path relative to :data:`PREFIX`); MethodNotAllowed if only the path
    matches, None if nothing does."""
    allowed = False
    for route, pattern in _COMPILED:
        found = pattern.match(path)
        if found:
            if route.method == method:
                return route, found.groupdict()
            allowed = True
    if allowed:
        raise MethodNotAllowed(Method=method)
    return None


class AdminApi:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.document = json.dumps(openapi.document(ROUTES, PREFIX, node.settings.endpoint)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        info = request_info(scope)
        info.frontend, request_id = "api", info.request_id
        path = request.path[len(PREFIX):]
        try:
            if path == "/openapi.json" and request.method in ("GET", "HEAD"):
                info.operation = "GET /openapi.json"
                response = Response(200, [_JSON], self.document)
            else:
                response = await self._call(request, path, info)
        except SatchelError as exc:
            status, body = render(exc)
            response = Response(status, [_JSON], body)
        except Exception as exc:
            log.exception("management API error (request %s)", request_id)
            status, body = render(exc)
            response = Response(status, [_JSON], body)
        if response.status >= 400 and isinstance(response.body, bytes):
            response.body = with_request_id(response.body, request_id)
        response.headers.append(("x-amz-request-id", request_id))
        response.headers.append(("Cache-Control", "no-store"))
        await response.send(send, head=request.method == "HEAD")

    async def _call(self, request: Request, path: str, info: RequestInfo) -> Response:
        if not is_text(path):  # percent-escapes that are not UTF-8 (surrogate escapes): no id or name is that
            raise InvalidArgument("The request path is not UTF-8.")
        found = match(request.method, path)
        if found is None:
            return Response(404, [_JSON], error_body("NotFound", f"No API route {request.method} {path}"))
        route, params = found
        info.operation = f"{route.method} {route.path}"
        try:
            body = await request.read_body(MAX_BODY)
        except ValueError:
            return Response(413, [_JSON], error_body("EntityTooLarge", "The request body is too large."))
        key, principal = auth.authenticate(self.node, request, body)
        if principal.user is not None:
            info.principal, info.access_key_id = principal.user.name, principal.access_key_id
        query = query_params(request.query, route.query)
        call = handlers.Call(self.node, request, body, key, principal, params, info.request_id, query=query)
        result: Any = await route.handler(call)
        return Response(200, [_JSON], orjson.dumps(result))
