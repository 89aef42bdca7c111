"""The whole ASGI application in-process: a real :class:`~satchel.app.SatchelApp` over SQLite and blobs in a
temporary directory, sent requests without a socket.

What a real client would need a server process, a port and a second or two for, this does in
milliseconds: the cheap way to reach the error paths of the S3 front-end and the management API. Requests
are signed by botocore (``S3SigV4Auth`` / ``S3SigV4QueryAuth``), so the server verifies real signatures,
and :meth:`InProcessApp.boto3` gives a boto3 client whose requests go through the app. A front-end that
logs an unexpected exception (its 500 path) re-raises it here: the test fails on the line that broke.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import sys
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote, unquote, urlsplit

import boto3
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from defusedxml import ElementTree

from satchel.app import SatchelApp
from satchel.config import Settings
from satchel.core import identity
from satchel.core.masterkey import load_master_key
from satchel.core.models import Permission, Role
from satchel.core.node import Node
from satchel.meta import open_store

ROOT_ACCESS_KEY = "SATCHELAPPROOTKEY001"
ROOT_SECRET = "app-tier-root-secret-with-forty-chars-00"
HOST = "127.0.0.1:9"
REGION = "us-east-1"
#: Loggers whose ``exception()`` marks a request the front-end could only answer with a 500.
_ERROR_LOGGERS = ("satchel.s3.frontend.log", "satchel.admin.api.log", "satchel.par.frontend.log",
                  "satchel.swift.frontend.log")


@dataclass(frozen=True)
class Key:
    access_key: str
    secret: str
    user_id: str = ""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        """The error code: S3's ``<Code>``, the management API's ``error.code`` or OCI's ``code``."""
        if self.body.startswith(b"{"):
            found = self.json()
            return str(found["error"]["code"] if "error" in found else found["code"])
        found = ElementTree.fromstring(self.body).find("Code")
        return found.text or "" if found is not None else ""


class _DeclaredPayload(S3SigV4Auth):  # type: ignore[misc]  # botocore ships no type hints
    """Signs ``x-amz-content-sha256`` as given (UNSIGNED-PAYLOAD, a wrong hash) instead of the body's."""

    def __init__(self, creds: Credentials, declared: str) -> None:
        super().__init__(creds, "s3", REGION)
        self.declared = declared

    def payload(self, request: AWSRequest) -> str:
        return self.declared


def sign(key: Key, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes,
         presign: bool = False, expires: int = 600, payload: str | None = None,
         signed_at: float | None = None) -> tuple[str, list[tuple[str, str]]]:
    """(path?query, headers) of the request signed by ``key``: SigV4 in the header or presigned;
    ``payload`` is the ``x-amz-content-sha256`` to declare (default: the body's hash), ``signed_at`` the
    signature's date (default: now). The query is percent-encoded as SigV4 canonicalizes it first
    (botocore signs a query it is given as it stands)."""
    if signed_at is not None:
        moment = datetime.datetime.fromtimestamp(signed_at, datetime.UTC).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
            return sign(key, method, url, headers, body, presign, expires, payload)
    path, mark, query = url.partition("?")
    if query:
        url = path + mark + "&".join(
            _requote(name) + eq + _requote(value)
            for name, eq, value in (pair.partition("=") for pair in query.split("&")))
    # A presigned URL signs no body (botocore would move a POST body into the query).
    request = AWSRequest(method=method, url=f"http://{HOST}{url}", headers=dict(headers),
                         data=b"" if presign else body)
    creds = Credentials(key.access_key, key.secret)
    if presign:
        S3SigV4QueryAuth(creds, "s3", REGION, expires=expires).add_auth(request)
    elif payload is not None:
        _DeclaredPayload(creds, payload).add_auth(request)
    else:
        S3SigV4Auth(creds, "s3", REGION).add_auth(request)
    target = request.url.split(HOST, 1)[1]
    signed = [(k, v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()]
    return target, signed


def _requote(text: str) -> str:
    return quote(unquote(text), safe="-_.~")


#: The TCP peer of every request unless told otherwise.
CLIENT = ("127.0.0.1", 5000)


async def exchange(app: SatchelApp, method: str, target: str, headers: Sequence[tuple[str, str]],
                   body: bytes | Sequence[bytes], host: str = HOST,
                   client: tuple[str, int] | None = CLIENT) -> Reply:
    """One request through the app. ``body`` in several pieces arrives as several ASGI messages;
    ``client`` None is a peer without an address (a Unix socket)."""
    raw_path, _, query = target.partition("?")
    pieces = [body] if isinstance(body, bytes) else list(body)
    scope: dict[str, Any] = {
        "type": "http", "http_version": "1.1", "method": method, "scheme": "http",
        "path": unquote(raw_path, errors="surrogateescape"), "raw_path": raw_path.encode("latin-1"),
        "query_string": query.encode("latin-1"), "client": client, "server": ("127.0.0.1", 9),
        "headers": [(b"host", host.encode()), *((k.lower().encode("latin-1"), v.encode("latin-1"))
                                                for k, v in headers if k.lower() != "host")],
    }
    size = sum(len(p) for p in pieces)
    if (size or method in ("PUT", "POST")) and not any(k.lower() in ("content-length", "transfer-encoding")
                                                       for k, _ in headers):
        scope["headers"].append((b"content-length", str(size).encode()))
    pending = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
    reply = Reply(0)
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = int(message["status"])
            reply.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    caught: list[BaseException] = []

    def record(*_args: object, **_kwargs: object) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            caught.append(error)

    patches = [mock.patch(f"{name}.exception", side_effect=record) for name in _ERROR_LOGGERS]
    for patch in patches:
        patch.start()
    try:
        await app(scope, receive, send)
    finally:
        for patch in patches:
            patch.stop()
    if caught:
        raise caught[0]  # the test fails on the line in satchel/ that failed, not on a bare 500
    reply.body = b"".join(chunks)
    return reply


class _Raw(io.BytesIO):
    """An answer body as botocore reads it: ``stream()`` for parsed answers, ``read()`` for GetObject."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


class InProcessApp:
    """A node in ``data_dir`` with a known root key; ``settings`` overrides :class:`Settings` fields."""

    def __init__(self, data_dir: Path, **settings: Any) -> None:
        self.settings = Settings(data_dir=data_dir, **settings)
        store = open_store(self.settings)
        self.master_key = load_master_key(data_dir)
        made = identity.bootstrap(store, self.settings, {identity.ENV_ROOT_ACCESS_KEY: ROOT_ACCESS_KEY,
                                                         identity.ENV_ROOT_SECRET_KEY: ROOT_SECRET},
                                  master_key=self.master_key)
        store.close()
        assert made is not None
        self.root = Key(ROOT_ACCESS_KEY, ROOT_SECRET, made.user.id)
        self.account_id = made.account.id
        self.app = SatchelApp(self.settings)
        self.node: Node = self.app.start()
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.app.stop()
        self.loop.close()

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def request(self, method: str, target: str, headers: Sequence[tuple[str, str]] = (),
                body: bytes | Sequence[bytes] = b"", *, key: Key | None = None, presign: bool = False,
                host: str = HOST, payload: str | None = None, expires: int = 600,
                signed_at: float | None = None) -> Reply:
        """Signed by ``key`` (header SigV4, or presigned), or unsigned when ``key`` is None."""
        if key is not None:
            whole = body if isinstance(body, bytes) else b"".join(body)
            target, headers = sign(key, method, target, headers, whole, presign=presign, payload=payload,
                                   expires=expires, signed_at=signed_at)
        reply: Reply = self.run(exchange(self.app, method, target, headers, body, host))
        return reply

    def follow(self, url: str, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
               body: bytes = b"", client: tuple[str, int] | None = CLIENT) -> Reply:
        """A link as its holder uses it: the whole URL the server minted, Host included, nothing signed."""
        reply: Reply = self.run(self.following(url, method, headers, body, client))
        return reply

    async def following(self, url: str, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
                        body: bytes = b"", client: tuple[str, int] | None = CLIENT) -> Reply:
        """:meth:`follow`, to await: several at once on the app's loop."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        return await exchange(self.app, method, target, headers, body, parts.netloc, client)

    def s3(self, method: str, target: str, headers: Sequence[tuple[str, str]] = (),
           body: bytes | Sequence[bytes] = b"", *, presign: bool = False) -> Reply:
        """Signed by root."""
        return self.request(method, target, headers, body, key=self.root, presign=presign)

    def api(self, method: str, path: str, payload: Any = None, *, key: Key | None = None,
            query: str = "") -> Reply:
        """A management API call (``/_satchel/api`` + path), JSON body, signed by ``key`` (default root)."""
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = [("Content-Type", "application/json")] if payload is not None else []
        target = "/_satchel/api" + path + (f"?{query}" if query else "")
        reply = self.request(method, target, headers, body, key=key or self.root)
        if method != "GET":
            # A worker sees its own changes to users, keys and grants within GENERATION_TTL (5 ms); the
            # next request in-process may come sooner than any real client's.
            self.node.credentials.invalidate()
        return reply

    def flush_audit(self) -> None:
        self.run(self.node.audit.flush())

    def user(self, name: str, role: Role = Role.MEMBER, grants: Iterable[tuple[str, Permission]] = (),
             *, share: bool = False, account_id: str | None = None) -> Key:
        """A user with one access key and the given (bucket, permission) grants."""
        store = self.node.store
        made = identity.create_user(store, account_id or self.account_id, name, role)
        key = identity.create_access_key(store, self.master_key, made.id)
        for bucket, permission in grants:
            identity.add_grant(store, made.id, bucket, permission, share=share)
        self.node.gate.expire()
        return Key(key.access_key_id, key.secret, made.id)

    def boto3(self, key: Key | None = None) -> Any:
        """A boto3 S3 client (path style) whose requests the app answers in-process."""
        key = key or self.root
        client = boto3.session.Session().client(
            "s3", endpoint_url=f"http://{HOST}", region_name=REGION, aws_access_key_id=key.access_key,
            aws_secret_access_key=key.secret,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                          signature_version="s3v4", request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        client.meta.events.register("before-send.s3", self._answer)
        return client

    def _answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body
        if body is None:
            data = b""
        elif isinstance(body, bytes | bytearray):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body.read()
        headers = [(k, v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()]
        target = url.path + (f"?{url.query}" if url.query else "")
        reply = self.run(exchange(self.app, request.method, target, headers, data))
        return AWSResponse(request.url, reply.status, dict(reply.headers), _Raw(reply.body))
