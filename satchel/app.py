"""The ASGI application: picks a front-end by reserved path prefix, owns the node's lifecycle.

``/_satchel/...`` is Satchel's own (health, management API, the web console under ``/_satchel/console/``;
metrics later), ``/s/{id}`` the console's share pages, and a browser opening ``/`` without credentials is
sent to the console; every other path is S3. Reserved first segments cannot collide with buckets because
S3 bucket names never contain ``_`` and are at least 3 characters long (see DESIGN.md "Reserved paths").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from satchel.admin.api import PREFIX as API_PREFIX
from satchel.admin.api import AdminApi
from satchel.asgi import Receive, Request, Response, Scope, Send
from satchel.blobs import open_blobs
from satchel.config import Settings, load_settings
from satchel.console import routes as console_routes
from satchel.console.routes import ConsoleFrontend
from satchel.core.caches import GENERATION_TTL
from satchel.core.credentials import CredentialCache
from satchel.core.gc import collect_garbage
from satchel.core.masterkey import load_master_key
from satchel.core.node import Node
from satchel.logs import level_number
from satchel.meta import open_store
from satchel.s3.frontend import S3Frontend

log = logging.getLogger("satchel")

#: How often each worker sweeps dead and orphaned blobs.
GC_INTERVAL = 300.0


class SatchelApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.node: Node | None = None
        self.s3: S3Frontend | None = None
        self.api: AdminApi | None = None
        self.console: ConsoleFrontend | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> Node:
        """Open stores; idempotent so tests can build the app without a lifespan."""
        if self.node is None:
            store = open_store(self.settings)
            master_key = load_master_key(self.settings.data_dir)
            credentials = CredentialCache(store, master_key, recheck_interval=GENERATION_TTL)
            self.node = Node(self.settings, store, open_blobs(self.settings), credentials)
            self.s3 = S3Frontend(self.node)
            self.api = AdminApi(self.node)
            self.console = ConsoleFrontend(self.node)
        return self.node

    def stop(self) -> None:
        if self.node is not None:
            self.node.close()
            self.node = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        if self.s3 is None:
            self.start()
        assert self.s3 is not None and self.node is not None
        # The protocol (satchel.protocol) bounds the header block on the wire; this catches a request
        # pipelined behind another in one read, which it may count from its next read only.
        if sum(len(k) + len(v) for k, v in scope["headers"]) > self.settings.max_header_bytes:
            await Response(431, [("Content-Type", "text/plain")], b"Request header fields too large\n").send(send)
            return
        path: str = scope["path"]
        if self.console is not None and (path == "/" or path.startswith(("/_satchel/console", "/s/"))):
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            domain = self.settings.domain
            if console_routes.takes(path, host, domain):
                if path == console_routes.ROOT:
                    await self.console.redirect(console_routes.PREFIX, 308).send(send)
                else:
                    await self.console(scope, receive, send)
                return
            if path == "/" and console_routes.wants_console(Request(scope, receive), domain):
                await self.console.redirect(console_routes.PREFIX, 302).send(send)
                return
        if path.startswith("/_satchel/"):
            if path.startswith(API_PREFIX + "/") and self.api is not None:
                await self.api(scope, receive, send)
            else:
                await self._satchel(path, scope, send)
            return
        await self.s3(scope, receive, send)

    async def _satchel(self, path: str, scope: Scope, send: Send) -> None:
        assert self.node is not None
        if path == "/_satchel/health":
            try:
                self.node.store.generation()
                body, status = {"status": "ok"}, 200
            except Exception:
                log.exception("health check failed")
                body, status = {"status": "unavailable"}, 503
            await Response(status, [("Content-Type", "application/json")], json.dumps(body).encode()).send(
                send, head=scope["method"] == "HEAD"
            )
            return
        await Response(404, [("Content-Type", "application/json")], b'{"error": "not found"}').send(send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    node = self.start()
                    self._tasks = [asyncio.create_task(self._gc_loop()), asyncio.create_task(node.audit.run())]
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in self._tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if self.node is not None:
                    await self.node.audit.flush()
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _gc_loop(self) -> None:
        """Finish deletions a crash interrupted, then keep sweeping: blobs never leak for long."""
        while True:
            node = self.node
            if node is not None:
                try:
                    await collect_garbage(node.store, node.blobs, now=node.clock.now(),
                                          orphan_grace=node.settings.orphan_grace, write=node.write)
                except Exception:
                    log.exception("garbage collection failed; retrying later")
            await asyncio.sleep(GC_INTERVAL)


def create_app() -> SatchelApp:
    """Factory for uvicorn workers: settings arrive through the environment (see ``server.run``)."""
    settings = load_settings()
    if not logging.getLogger().handlers:
        # Workers are fresh interpreters: give Satchel's own loggers (errors, GC) a home beside uvicorn's.
        logging.basicConfig(level=level_number(settings.log_level),
                            format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    return SatchelApp(settings)
