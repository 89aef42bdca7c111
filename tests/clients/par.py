"""Helpers for the pre-authenticated request tests: create PARs through the management API, fetch their
URLs with plain HTTP clients (no credentials), read the audit trail."""

from __future__ import annotations

import datetime
import time
from typing import Any

import requests

from tests.clients import mgmt
from tests.clients.cluster import settle_audit
from tests.clients.server import Credentials, ServerHandle

TIMEOUT = 30
UNIFORM = ("Either the pre-authenticated request does not exist, or it does not allow this request. "
           "It may have expired or been deleted.")


def rfc3339(seconds_from_now: float) -> str:
    moment = datetime.datetime.fromtimestamp(time.time() + seconds_from_now, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create(server: ServerHandle, creds: Credentials | None = None, *, expect: int = 200, **fields: Any) -> Any:
    body = {"name": "test", "timeExpires": rfc3339(3600), **fields}
    reply = mgmt.call(server, creds, "POST", "/pars", body)
    assert reply.status_code == expect, reply.text
    return reply.json()


def url(par: dict[str, Any], key: str = "") -> str:
    """The access URL for ``key`` (an object PAR's URL names its object already)."""
    full = str(par["fullPath"])
    return full + key if full.endswith("/o/") else full


def assert_refused(reply: requests.Response) -> None:
    """The one answer every refusal of access gets: nothing in it says whether the token exists."""
    assert reply.status_code == 404, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    if reply.request.method != "HEAD":
        assert reply.json() == {"code": "NotAuthorizedOrNotFound", "message": UNIFORM}
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def events(server: ServerHandle, par_id: str, creds: Credentials | None = None) -> list[dict[str, Any]]:
    settle_audit()
    reply = mgmt.call(server, creds, "GET", f"/audit?link_id={par_id}&kind=par")
    return list(mgmt.ok(reply)["events"])
