"""What the app's dispatch knows about one request, filled in by the front-end that serves it.

The dispatch (``app.py``) creates one :class:`RequestInfo` per request, puts it in the ASGI scope under
:data:`SCOPE_KEY`, and after the response reads it back for the access log line and the metrics: the
request id, which front-end and operation served it, the bucket and the principal. Front-ends take
their request id from it, so the id in ``x-amz-request-id``, in an error body, in the audit trail and
in the access log is one and the same.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

#: The ASGI scope key (scopes may carry extension keys) under which the dispatch leaves the record.
SCOPE_KEY = "satchel.request"

#: Request ids: a per-process random prefix and a counter — unique, cheap, and no secret.
_PREFIX = os.urandom(4).hex().upper()
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):012X}"


@dataclass(slots=True)
class RequestInfo:
    request_id: str
    #: ``s3``, ``api``, ``satchel`` (health, metrics) or another front-end's name: each front-end names
    #: itself here (and its operation below) as it starts on a request; unnamed requests count as ``other``.
    frontend: str = ""
    #: The operation as its front-end names it (``GetObject``, ``GET /links``); empty when unrouted.
    operation: str = ""
    bucket: str | None = None
    #: Who the request was verified to come from: a user name (and its access key id), or None.
    principal: str | None = None
    access_key_id: str | None = None
    status: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


def request_info(scope: MutableMapping[str, Any]) -> RequestInfo:
    """The record the dispatch left in ``scope``, or a fresh one (a front-end called without the app)."""
    info = scope.get(SCOPE_KEY)
    if info is None:
        info = scope[SCOPE_KEY] = RequestInfo(new_request_id())
    assert isinstance(info, RequestInfo)
    return info
