"""TempAuth-style ``GET /auth/v1.0``, and the token check of every storage request.

Request::

    GET /auth/v1.0
    X-Auth-User: <account>:<user>          (or X-Storage-User)
    X-Auth-Key: <secret of one of the user's active access keys>   (or X-Storage-Pass)

Answer ``200`` with ``X-Auth-Token`` / ``X-Storage-Token`` (the same token), ``X-Storage-Url``
(``<endpoint>/v1/AUTH_<account>``) and ``X-Auth-Token-Expires`` (seconds left), or ``401``. The
token then goes in ``X-Auth-Token`` on every storage request (see ``core/swifttokens.py`` for its life).
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import quote

from satchel.asgi import Request, Response
from satchel.core.errors import AccessDenied
from satchel.core.node import Node
from satchel.core.swifttokens import TokenHolder, issue_token, resolve_token
from satchel.swift.errors import SwiftError, unauthorized
from satchel.swift.router import RESELLER_PREFIX

#: Longest X-Auth-User / X-Auth-Key considered (account and user names are at most 64 characters, key
#: secrets 128).
MAX_CREDENTIAL_LENGTH = 256


#: What a Host header may be to go into a storage URL: a DNS name (``_`` tolerated), an IPv4 address or a
#: bracketed IPv6 one, and an optional port. Anything else (a second Host joined by a comma, ``/``, ``?``,
#: ``#``, ``@``) would make the URL clients are told to use point elsewhere.
_HOST = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}"
                   r"[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_MAX_HOST_LENGTH = 261  # 253 for the name, 6 for the port, 2 spare for a trailing dot and brackets


def base_url(node: Node, request: Request) -> str:
    """Where storage URLs start: ``public_url`` when set, else the Host the client used (400 when that is no
    host[:port])."""
    base = node.settings.public_url
    if not base:
        host = request.headers.get("host") or f"{node.settings.host}:{node.settings.port}"
        if len(host) > _MAX_HOST_LENGTH or not _HOST.fullmatch(host):
            raise SwiftError(400, "The Host header is not a valid host[:port]; set public_url to name this "
                                  "server's address.")
        scheme = request.scope.get("scheme", "http")
        base = f"{scheme}://{host}"
    return base.rstrip("/")


async def authenticate(node: Node, request: Request) -> Response:
    headers = request.headers
    user = headers.get("x-auth-user") or headers.get("x-storage-user")
    key = headers.get("x-auth-key") or headers.get("x-storage-pass")
    if not user or not key or len(user) > MAX_CREDENTIAL_LENGTH or len(key) > MAX_CREDENTIAL_LENGTH:
        raise unauthorized()
    base = base_url(node, request)  # refused before a token is minted for nothing
    try:
        issued = await issue_token(node, user, key)
    except AccessDenied:
        raise unauthorized() from None
    url = f"{base}/v1/{RESELLER_PREFIX}{quote(issued.account.name)}"
    left = max(0, math.floor(issued.expires - node.clock.now()))
    body = json.dumps({"storage": {"default": "local", "local": url}}).encode()
    return Response(200, [
        ("X-Storage-Url", url),
        ("X-Auth-Token", issued.token),
        ("X-Storage-Token", issued.token),
        ("X-Auth-Token-Expires", str(left)),
        ("Content-Type", "application/json; charset=UTF-8"),
        ("Cache-Control", "no-store"),
    ], body)


def token_holder(node: Node, request: Request) -> TokenHolder | None:
    """Who the request's token acts for; None without a token; 401 for a token that is not (or no
    longer) valid."""
    token = request.headers.get("x-auth-token") or request.headers.get("x-storage-token")
    if token is None:
        return None
    try:
        return resolve_token(node, token.strip())
    except AccessDenied:
        raise SwiftError(401) from None
