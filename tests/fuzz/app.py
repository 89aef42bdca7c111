"""The whole ASGI application in-process, for the ``s3-app`` fuzz harness: one node per process (SQLite and
blobs in a temporary directory, a known root key, one bucket with one object), and a way to send it one
request and get the status back without a socket."""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import sys
import tempfile
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from satchel.app import SatchelApp
from satchel.config import Settings
from satchel.core import identity
from satchel.core.masterkey import load_master_key
from satchel.meta import open_store

ACCESS_KEY = "SATCHELFUZZROOTKEY01"
SECRET = "fuzz-secret-key-with-forty-characters-00"
BUCKET = "fuzz"
HOST = "127.0.0.1:9"


@dataclass
class InProcess:
    app: SatchelApp
    loop: asyncio.AbstractEventLoop

    def send(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> int:
        """The response status (0 when the app sent none) of one request."""
        return self.exchange(method, target, headers, body).status

    def exchange(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        return self.loop.run_until_complete(_exchange(self.app, method, target, headers, body))


@dataclass
class Reply:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


_INSTANCE: dict[str, InProcess] = {}


def instance() -> InProcess:
    """The process's app, made on first use."""
    if "app" not in _INSTANCE:
        data_dir = Path(tempfile.mkdtemp(prefix="satchel-fuzz-"))
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
        settings = Settings(data_dir=data_dir)
        store = open_store(settings)
        identity.bootstrap(store, settings, {identity.ENV_ROOT_ACCESS_KEY: ACCESS_KEY,
                                             identity.ENV_ROOT_SECRET_KEY: SECRET},
                           master_key=load_master_key(data_dir))
        store.close()
        app = SatchelApp(settings)
        app.start()
        made = InProcess(app, asyncio.new_event_loop())
        for method, target, body in (("PUT", f"/{BUCKET}", b""), ("PUT", f"/{BUCKET}/obj.txt", b"fuzz object")):
            prepared = sign("v4", method, target, [], body)
            status = made.send(method, prepared[0], prepared[1], body)
            assert status == 200, (method, target, status)
        _INSTANCE["app"] = made
    return _INSTANCE["app"]


#: The Swift account of root and the TempURL key the ``links-app`` harness sets on it.
SWIFT_ACCOUNT = "AUTH_root"
TEMPURL_KEY = b"fuzz-tempurl-key"


def link_world() -> dict[str, str]:
    """On the process's app, once: a read-write PAR on the bucket (listing allowed) and a TempURL key on
    root's Swift account. Returns ``token`` and ``namespace`` of the PAR."""
    made = instance()
    if "links" not in _INSTANCE_LINKS:
        body = json.dumps({"name": "fuzz", "bucket": BUCKET, "accessType": "AnyObjectReadWrite",
                           "bucketListingAction": "ListObjects",
                           "timeExpires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))})
        target, headers = sign("v4", "POST", "/_satchel/api/pars", [], body.encode())
        reply = made.exchange("POST", target, headers, body.encode())
        assert reply.status == 200, reply.body
        parts = urlsplit(json.loads(reply.body)["fullPath"]).path.split("/")
        auth = made.exchange("GET", "/auth/v1.0", [("X-Auth-User", "root:root"), ("X-Auth-Key", SECRET)], b"")
        assert auth.status == 200, auth.status
        key = made.exchange("POST", f"/v1/{SWIFT_ACCOUNT}", [("X-Auth-Token", auth.headers["x-auth-token"]),
                                                             ("X-Account-Meta-Temp-URL-Key", TEMPURL_KEY.decode())],
                            b"")
        assert key.status == 204, key.status
        _INSTANCE_LINKS["links"] = {"token": parts[2], "namespace": parts[4]}
    return _INSTANCE_LINKS["links"]


_INSTANCE_LINKS: dict[str, dict[str, str]] = {}


def sign(auth: str, method: str, target: str, headers: list[tuple[str, str]],
         body: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(target, headers) of the request signed by root: ``v4`` header, ``v4q`` presigned, else as given."""
    if auth not in ("v4", "v4q"):
        return target, headers
    request = AWSRequest(method=method, url=f"http://{HOST}{target}", headers=dict(headers), data=body)
    creds = Credentials(ACCESS_KEY, SECRET)
    if auth == "v4":
        S3SigV4Auth(creds, "s3", "us-east-1").add_auth(request)
    else:
        S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=600).add_auth(request)
    url = request.url.split(HOST, 1)[1]
    out = [(k, v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()]
    return url, out


async def _exchange(app: SatchelApp, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
    raw_path, _, query = target.partition("?")

    scope: dict[str, Any] = {
        "type": "http", "http_version": "1.1", "method": method, "scheme": "http",
        "path": unquote(raw_path, errors="surrogateescape"), "raw_path": raw_path.encode("latin-1"),
        "query_string": query.encode("latin-1"), "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 9),
        "headers": [(b"host", HOST.encode()), *((k.lower().encode("latin-1"), v.encode("latin-1"))
                                                  for k, v in headers if k.lower() != "host")],
    }
    if (body or method in ("PUT", "POST")) and not any(k.lower() == "content-length" for k, _ in headers):
        scope["headers"].append((b"content-length", str(len(body)).encode()))
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    reply = Reply()

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = int(message["status"])
            reply.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")

    caught: list[BaseException] = []

    def record(*_args: object, **_kwargs: object) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            caught.append(error)

    with mock.patch("satchel.s3.frontend.log.exception", side_effect=record), \
            mock.patch("satchel.admin.api.log.exception", side_effect=record), \
            mock.patch("satchel.swift.frontend.log.exception", side_effect=record), \
            mock.patch("satchel.par.frontend.log.exception", side_effect=record):
        await app(scope, receive, send)
    if caught:
        # Re-raised so that the finding names the line in satchel/ that failed, not this harness.
        raise caught[0]
    return reply
