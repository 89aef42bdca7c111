"""Build a request's :class:`~satchel.core.requestfacts.RequestFacts` from its HTTP side, once per request.

Every front-end calls :func:`http_facts` with what it knows of the request (its own operation name and how
it authenticated) and hangs the result on the request's principal (``Principal.with_facts``), so bucket
policy conditions (``core/policy.py``) see the same facts whichever front-end served the request.

The client address and scheme are the ASGI scope's: with ``trusted_proxies`` set, the server has already
replaced them with what a trusted proxy's ``X-Forwarded-For`` / ``X-Forwarded-Proto`` said, and only then
(``worker.py``), so an untrusted client cannot choose its ``aws:SourceIp`` by sending that header.
"""

from __future__ import annotations

from collections.abc import Iterable

from satchel.asgi import Request
from satchel.core.requestfacts import RequestFacts

#: Longest Referer / User-Agent a condition compares (longer values are cut, never a reason to fail).
MAX_HEADER_FACT = 2048


def http_facts(request: Request, *, now: float, operation: str | None = None, auth_type: str | None = None,
               signature_version: str | None = None, signed_at: float | None = None,
               keys: Iterable[tuple[str, str]] = ()) -> RequestFacts:
    scheme = request.scope.get("scheme", "http")
    referer = request.headers.get("referer")
    agent = request.headers.get("user-agent")
    return RequestFacts(
        now=now,
        source_ip=request.client or None,
        secure=scheme in ("https", "wss"),
        auth_type=auth_type,
        signature_version=signature_version,
        signed_at=signed_at,
        referer=referer[:MAX_HEADER_FACT] if referer is not None else None,
        user_agent=agent[:MAX_HEADER_FACT] if agent is not None else None,
        operation=operation,
        keys=tuple(keys),
    )
