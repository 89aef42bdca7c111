"""The answer of a node whose metadata store is not open yet (PostgreSQL down when it started).

Every request but the probes gets what the same request gets while PostgreSQL goes down under a running
node — :class:`~satchel.core.errors.ServiceUnavailable` rendered by its own front-end's error table: S3
``503 ServiceUnavailable`` (XML), Swift ``503`` (text), OCI ``503 ServiceUnavailable`` (JSON), the
management API ``503 ServiceUnavailable`` (JSON) — so clients retry it as they already do. No front-end
exists yet (each needs the node), hence these few lines instead of their dispatch.
"""

from __future__ import annotations

import json

from satchel.admin import errors as admin_errors
from satchel.asgi import Response, Scope
from satchel.core.errors import ServiceUnavailable
from satchel.par import errors as par_errors
from satchel.requestinfo import RequestInfo
from satchel.s3 import errors as s3_errors
from satchel.swift import errors as swift_errors

#: What the client reads: the node is up, its metadata database is not (yet).
MESSAGE = "The metadata database is unavailable; this node serves requests as soon as it answers. Retry."
#: Seconds a client may wait before retrying (SDKs use their own back-off anyway).
RETRY_AFTER = "1"


def answer(frontend: str, scope: Scope, info: RequestInfo) -> Response:
    """The 503 of ``frontend`` (``s3``, ``swift``, ``par``, ``api`` or ``console``) for this request."""
    exc = ServiceUnavailable(MESSAGE)
    if frontend == "swift":
        status, reason = swift_errors.status_of(exc, anonymous=False)
        content_type, body = swift_errors.error_body(status, reason)
        headers = [("Content-Type", content_type), ("X-Trans-Id", info.request_id)]
    elif frontend == "par":
        status, body = par_errors.render(exc)
        headers = [("Content-Type", "application/json"), ("opc-request-id", info.request_id)]
    elif frontend == "api":
        status, body = admin_errors.render(exc)
        body = admin_errors.with_request_id(body, info.request_id)
        headers = [("Content-Type", "application/json")]
    elif frontend == "console":
        status, body = 503, json.dumps({"error": {"code": "ServiceUnavailable", "message": MESSAGE}}).encode()
        headers = [("Content-Type", "application/json")]
    else:
        status, body = s3_errors.render_error(exc, resource=scope["path"], request_id=info.request_id)
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", info.request_id)]
    headers += [("Retry-After", RETRY_AFTER), ("Cache-Control", "no-store")]
    if _has_body(scope):  # unread: the connection cannot carry another request after it
        headers.append(("Connection", "close"))
    return Response(status, headers, b"" if scope["method"] == "HEAD" else body)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False
