"""The ASGI application: picks a front-end by reserved path prefix, owns the node's lifecycle.

``/_satchel/...`` is Satchel's own (health, management API, metrics, the web console under
``/_satchel/console/``), ``/s/{id}`` the console's share pages, ``/p/...`` the pre-authenticated
requests', ``/v1/...``, ``/auth/...`` and ``/info`` the Swift API's, and a browser opening ``/`` without
credentials is sent to the console; every other path is S3. Reserved first segments cannot collide with
buckets: S3 bucket names never contain ``_``, ``s``, ``p`` and ``v1`` are too short, and ``auth`` and
``info`` are reserved names (see DESIGN.md "Reserved paths"). On a virtual host (``bucket.DOMAIN``) the
whole path is that bucket's key.

The dispatch is also where every request is measured (``satchel/metrics.py``) and, with ``access_log``
on, logged as one line (``satchel/logs.py``): it creates the request's
:class:`~satchel.requestinfo.RequestInfo`, which the front-end fills in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from satchel import heap, looplag, metrics, unavailable
from satchel.admin.api import PREFIX as API_PREFIX
from satchel.admin.api import AdminApi
from satchel.asgi import Message, Receive, Request, Response, Scope, Send
from satchel.blobs import open_blobs
from satchel.config import Settings, load_settings
from satchel.console import routes as console_routes
from satchel.console.routes import ConsoleFrontend
from satchel.contentsafety import error_headers
from satchel.core.audit import prune_expired
from satchel.core.caches import GENERATION_TTL
from satchel.core.credentials import CredentialCache
from satchel.core.errors import ServiceUnavailable
from satchel.core.gc import abort_abandoned_uploads, collect_garbage, write_grace
from satchel.core.keycheck import node_master_key
from satchel.core.lifecycle_worker import elected, lifecycle_loop
from satchel.core.node import Node
from satchel.core.webhookqueue import prune_endpoints
from satchel.logs import access_line, level_number
from satchel.meta import open_store
from satchel.meta.store import Store
from satchel.par.frontend import ParFrontend
from satchel.par.router import PREFIX as PAR_PREFIX
from satchel.readiness import ReadinessProbe
from satchel.requestinfo import SCOPE_KEY, RequestInfo, new_request_id
from satchel.s3.frontend import S3Frontend
from satchel.s3.router import split_target
from satchel.swift.frontend import SwiftFrontend
from satchel.webhooks.delivery import run as webhook_delivery

log = logging.getLogger("satchel")
access_log = logging.getLogger("satchel.access")
#: The plain endpoints under ``/_satchel/`` (beside the API and the console): probes and the metrics.
_SATCHEL_ENDPOINTS = frozenset({"/_satchel/metrics", "/_satchel/health", "/_satchel/health/ready",
                                "/_satchel/health/live"})
#: Seconds between tries to open a metadata store that was down at start: doubling from the first to the
#: last, then every last (each try waits at most ``postgres_timeout`` to connect).
OPEN_RETRY_FIRST = 0.25
OPEN_RETRY_MAX = 5.0

def _header(scope: Scope, name: bytes) -> str:
    """The first value of a header (names arrive lower-case from the server), "" when absent."""
    return next((value.decode("latin-1") for key, value in scope["headers"] if key == name), "")


def _framing_understood(headers: list[tuple[bytes, bytes]]) -> bool:
    """False for a body sent with a transfer coding besides ``chunked`` (``gzip, chunked``): the HTTP layer
    removes the chunking only, so its bytes would be stored still encoded. RFC 9112 section 6.1: a server
    answers 501 to a transfer coding it does not understand; a proxy in front that decodes it differently
    would otherwise see another body than Satchel (request smuggling)."""
    codings = [coding.strip().lower() for name, value in headers if name == b"transfer-encoding"
               for coding in value.split(b",")]
    return not codings or codings == [b"chunked"]


class SatchelApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.node: Node | None = None
        self.s3: S3Frontend | None = None
        self.api: AdminApi | None = None
        self.par: ParFrontend | None = None
        self.swift: SwiftFrontend | None = None
        self.console: ConsoleFrontend | None = None
        self._tasks: list[asyncio.Task[None]] = []
        #: Set when the lifespan shutdown begins: not ready any more (``/_satchel/health/ready``).
        self.stopping = False
        #: Set while the node serves without its metadata store (PostgreSQL was down when it started):
        #: the probes answer (live 200, ready 503), every other request a 503 (``satchel/unavailable.py``),
        #: until :meth:`_open_when_up` opens it.
        self.waiting_for_store = False
        self._opener: asyncio.Task[None] | None = None
        #: Whether the blob store answers (readiness), checked at most every few seconds.
        self.blobs_ready: ReadinessProbe | None = None
        #: The last readiness check's answer about the metadata store (logged when it changes).
        self._store_ok = True

    def start(self, store: Store | None = None) -> Node:
        """Open stores (or take ``store``, opened already); idempotent so tests can build the app without
        a lifespan."""
        if self.node is None:
            store = store if store is not None else open_store(self.settings)
            try:
                # Proven against the metadata's check (`satchel serve` did it once before any worker started,
                # unless PostgreSQL was down then: this is the first proof, before anything is sealed).
                master_key = node_master_key(store, self.settings)
                credentials = CredentialCache(store, master_key, recheck_interval=GENERATION_TTL)
                self.node = Node(self.settings, store, open_blobs(self.settings), credentials)
            except BaseException:
                store.close()
                raise
            self.s3 = S3Frontend(self.node)
            self.api = AdminApi(self.node)
            self.par = ParFrontend(self.node)
            self.swift = SwiftFrontend(self.node)
            self.console = ConsoleFrontend(self.node)
            what = "the blob upstream" if self.settings.blobs_url else "the blob directory"
            self.blobs_ready = ReadinessProbe(self.node.blobs.probe, what=what)
        return self.node

    def stop(self) -> None:
        if self.blobs_ready is not None:
            self.blobs_ready.close()
            self.blobs_ready = None
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
        if self.s3 is None and not self.waiting_for_store:
            self.start()
        info = scope[SCOPE_KEY] = RequestInfo(new_request_id())
        started = time.perf_counter()

        async def receive_counted() -> Message:
            message = await receive()
            info.bytes_in += len(message.get("body", b""))
            return message

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                info.status = message["status"]
                if info.status >= 400:  # every front-end's error answers, in one place
                    message = {**message, "headers": error_headers(list(message.get("headers", [])))}
            else:
                info.bytes_out += len(message.get("body", b""))
            await send(message)

        try:
            await self._dispatch(scope, receive_counted, send_counted, info)
        finally:
            self._measure(scope, info, time.perf_counter() - started)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, info: RequestInfo) -> None:
        # The protocol (satchel.protocol) bounds the header block on the wire; this catches a request
        # pipelined behind another in one read, which it may count from its next read only.
        if sum(len(k) + len(v) for k, v in scope["headers"]) > self.settings.max_header_bytes:
            await Response(431, [("Content-Type", "text/plain")], b"Request header fields too large\n").send(send)
            return
        if not _framing_understood(scope["headers"]):
            await Response(501, [("Content-Type", "text/plain"), ("Connection", "close")],
                           b"Transfer-Encoding other than chunked is not implemented\n").send(send)
            return
        path: str = scope["path"]
        if self.s3 is None:  # the metadata store is not open yet (PostgreSQL down at start)
            await self._without_store(path, scope, send, info)
            return
        if self.console is not None and (path == "/" or path.startswith(("/_satchel/console", "/s/"))):
            domain = self.settings.domain
            if console_routes.takes(path, _header(scope, b"host"), domain):
                info.frontend = "console"
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
                info.frontend = "satchel"
                await self._satchel(path, scope, send, info)
            return
        if path.startswith(PAR_PREFIX) and self.par is not None and not self._virtual_host(scope):
            info.frontend = "par"
            await self.par(scope, receive, send)  # pre-authenticated requests (OCI)
            return
        if self.swift is not None and self._is_swift(path, scope):
            info.frontend = "swift"
            await self.swift(scope, receive, send)
            return
        await self.s3(scope, receive, send)

    async def _without_store(self, path: str, scope: Scope, send: Send, info: RequestInfo) -> None:
        """The probes and the metrics answer; every other request gets its front-end's 503."""
        if path in _SATCHEL_ENDPOINTS:
            info.frontend = "satchel"
            await self._satchel(path, scope, send, info)
            return
        if path.startswith(API_PREFIX + "/"):
            info.frontend = "api"
        elif path.startswith(("/_satchel/console", console_routes.SHARE_PREFIX)) \
                and console_routes.takes(path, _header(scope, b"host"), self.settings.domain):
            info.frontend = "console"
        elif path.startswith(PAR_PREFIX) and not self._virtual_host(scope):
            info.frontend = "par"
        elif self._is_swift(path, scope):
            info.frontend = "swift"
        else:
            info.frontend = "s3"
        info.operation = "unavailable"
        await unavailable.answer(info.frontend, scope, info).send(send)

    def _virtual_host(self, scope: Scope) -> bool:
        """A virtual-host style S3 request (``bucket.<domain>``): its path is a key, ``/p/...`` included."""
        domain = self.settings.domain
        if not domain:
            return False
        return split_target(scope["path"], _header(scope, b"host"), domain)[2]

    def _is_swift(self, path: str, scope: Scope) -> bool:
        """``/v1/...`` (storage), ``/auth/...`` (TempAuth) and ``/info`` (capabilities) are Swift's: ``v1``,
        ``auth`` and ``info`` are reserved bucket names. A bare ``/v1`` or ``/auth`` is no Swift URL: S3 answers
        it (InvalidBucketName to a CreateBucket). On a virtual host (``bucket.DOMAIN``) the whole path is an S3
        key instead."""
        swift = path.startswith(("/v1/", "/auth/", "/info/")) or path == "/info"
        return swift and not self._virtual_host(scope)

    def _measure(self, scope: Scope, info: RequestInfo, duration: float) -> None:
        """Count the request in the metrics and, when asked for, log it: never fails the request."""
        try:
            metrics.TALLY.add(info.frontend or "other", info.operation or "unknown", info.status, duration,
                              info.bytes_in, info.bytes_out)
            if self.settings.access_log:
                message, fields = access_line(scope, info, duration)
                access_log.info(message, extra={"fields": fields})
        except Exception:
            log.exception("could not measure request %s", info.request_id)

    async def _satchel(self, path: str, scope: Scope, send: Send, info: RequestInfo) -> None:
        """Health and metrics: plain endpoints for load balancers, orchestrators and Prometheus."""
        head = scope["method"] == "HEAD"
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                   ("x-amz-request-id", info.request_id)]
        if path not in _SATCHEL_ENDPOINTS:
            await Response(404, headers, b'{"error": "not found"}').send(send)
            return
        if scope["method"] not in ("GET", "HEAD"):  # probes and scrapes read; nothing here changes anything
            headers.append(("Allow", "GET, HEAD"))
            await Response(405, headers, b'{"error": "method not allowed"}').send(send)
            return
        if path == "/_satchel/metrics":
            info.operation = "metrics"
            await self._metrics(scope, send, headers)
            return
        if path in ("/_satchel/health", "/_satchel/health/ready"):
            # Ready: started (the metadata store open), not stopping, the metadata store answers and so
            # does the blob store (an upstream HeadBucket, cached: satchel/readiness.py).
            info.operation = "ready"
            ready = (self.node is not None and self.blobs_ready is not None and not self.stopping
                     and await self._store_answers() and await self.blobs_ready())
            status, state = (200, "ok") if ready else (503, "unavailable")
        elif path == "/_satchel/health/live":
            # Live: the event loop turns (this answer is the proof); a restart would not fix a slow store.
            info.operation, status, state = "live", 200, "ok"
        else:
            await Response(404, headers, b'{"error": "not found"}').send(send)
            return
        await Response(status, headers, json.dumps({"status": state}).encode()).send(send, head=head)

    async def _store_answers(self) -> bool:
        """Whether the metadata store answers now. An expected outage (ServiceUnavailable) is logged when
        it begins and ends, not on every poll of a load balancer; anything else with its traceback."""
        assert self.node is not None
        try:
            await self.node.read(self.node.store.generation)
        except ServiceUnavailable as exc:
            if self._store_ok:
                log.warning("readiness: %s Not ready until it answers.", exc.message)
            self._store_ok = False
            return False
        except Exception:
            log.exception("health check failed")
            self._store_ok = False
            return False
        if not self._store_ok:
            log.warning("readiness: the metadata store answers again")
        self._store_ok = True
        return True

    async def _metrics(self, scope: Scope, send: Send, headers: list[tuple[str, str]]) -> None:
        client = scope.get("client")
        authorization = _header(scope, b"authorization")
        # A request a proxy forwarded is no loopback scrape, whatever the TCP peer (an untrusted local proxy).
        proxied = any(k in metrics.FORWARDING_HEADERS for k, _ in scope["headers"])
        peer = client[0] if client and not proxied else ""
        if not metrics.allowed(peer, authorization, self.settings.metrics_token):
            headers.append(("WWW-Authenticate", 'Bearer realm="satchel metrics"'))
            await Response(401, headers, b'{"error": "a bearer token is required"}').send(send)
            return
        headers[0] = ("Content-Type", metrics.CONTENT_TYPE)
        await Response(200, headers, metrics.render()).send(send, head=scope["method"] == "HEAD")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    try:
                        metrics.open_worker_files()
                    except OSError as exc:  # a full disk: this worker serves, its gauges fail until there is room
                        log.warning("cannot create this worker's metric files yet: %s", exc)
                    try:
                        self._run_tasks(self.start())
                    except ServiceUnavailable as exc:
                        # PostgreSQL down (not refusing us: that is UnusableStore, a failed start): serve
                        # the probes and 503s, open it when it answers.
                        self.waiting_for_store = True
                        self._opener = asyncio.create_task(self._open_when_up(exc))
                    # Last: everything startup made lives as long as the worker (satchel/heap.py).
                    heap.freeze_startup_heap()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stopping = True
                for task in [*([self._opener] if self._opener else []), *self._tasks]:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                metrics.TALLY.flush()
                if self.node is not None:
                    await self.node.audit.close()
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _run_tasks(self, node: Node) -> None:
        self._tasks = [asyncio.create_task(self._gc_loop()), asyncio.create_task(node.audit.run()),
                       asyncio.create_task(_flush_metrics()), asyncio.create_task(webhook_delivery(node)),
                       asyncio.create_task(lifecycle_loop(node)),
                       asyncio.create_task(looplag.probe(node.settings.event_loop_lag_interval))]

    async def _open_when_up(self, first: ServiceUnavailable) -> None:
        """Open the metadata store in the background until it answers, then become a whole node.

        Tries back off from OPEN_RETRY_FIRST to OPEN_RETRY_MAX seconds; each runs in a thread (a connect
        waits up to ``postgres_timeout``), never on the event loop that answers the probes. Logged once
        per change of state, not per try: down, refusing (a database that answers but refuses this node,
        say one an init job creates later: an error, retried all the same, since the listener is up),
        open. Migrations run in the open, under PostgreSQL's migration lock: once whichever node is
        first (``meta/postgres_db.py``)."""
        log.warning("%s Serving 503 (health/ready 503, health/live 200) and retrying in the background.",
                    first.message)
        began, tries, pause, state = time.monotonic(), 1, OPEN_RETRY_FIRST, "down"
        while True:
            await asyncio.sleep(pause)
            pause, tries = min(pause * 2, OPEN_RETRY_MAX), tries + 1
            try:
                store = await asyncio.to_thread(_open_and_set_up, self.settings)
                break
            except ServiceUnavailable as exc:
                now, reason = "down", exc.message
            except Exception as exc:
                now, reason = "refusing", str(exc)
            if now != state:
                log.log(logging.ERROR if now == "refusing" else logging.WARNING, "%s Still retrying.", reason)
                state = now
        self._run_tasks(self.start(store))
        self.waiting_for_store = False  # only once the node is whole: until then requests keep their 503
        heap.freeze_startup_heap()  # what opening the store made lives as long as the worker too
        log.warning("metadata store open after %d tries (%.1f s): this node is ready", tries,
                    time.monotonic() - began)

    async def _gc_loop(self) -> None:
        """Finish deletions a crash interrupted, then keep sweeping every ``gc_interval`` seconds: blobs
        and abandoned uploads never leak for long, audit events never outlive their retention.

        On PostgreSQL one process of the whole deployment sweeps (an advisory lock elects it, as for
        lifecycle passes): every sweep acts on what all nodes share (the database, the upstream bucket),
        and N nodes listing the upstream prefix every interval would only multiply the cost. On SQLite
        every worker sweeps, as before (idempotent steps, one machine)."""
        node = self.node
        assert node is not None  # started once the store is open
        election = elected(node, "gc")
        try:
            while True:
                try:
                    if election is None or await election.held():
                        await _sweep(node)
                except Exception:
                    log.exception("garbage collection failed; retrying later")
                await asyncio.sleep(self.settings.gc_interval)
        finally:
            if election is not None:
                election.release()


async def _sweep(node: Node) -> None:
    settings = node.settings
    await abort_abandoned_uploads(node.store, node.blobs, now=node.clock.now(),
                                  age=settings.abandoned_upload_age, write=node.write)
    await collect_garbage(node.store, node.blobs, now=node.clock.now(),
                          orphan_grace=settings.orphan_grace, write_grace=write_grace(settings), write=node.write)
    await prune_expired(node.store, node.write, now=node.clock.now(), retention_days=settings.audit_retention_days)
    await prune_endpoints(node.store, node.write, now=node.clock.now())


def _open_and_set_up(settings: Settings) -> Store:
    """Open the store and do what ``satchel serve`` could not while it was down: the first start's
    set-up (the root account, once across nodes and workers; its generated secrets printed once)."""
    from satchel.server import first_start  # the CLI's bootstrap code: loaded only on this rare path

    store = open_store(settings)
    try:
        first_start(store, settings)
    except BaseException:
        store.close()
        raise
    return store


async def _flush_metrics() -> None:
    """Write this worker's request counts to the shared metric files every second (``metrics.TALLY``)."""
    while True:
        await asyncio.sleep(metrics.FLUSH_INTERVAL)
        metrics.TALLY.flush()


def create_app() -> SatchelApp:
    """Factory for uvicorn workers: settings arrive through the environment (see ``server.run``)."""
    settings = load_settings()
    if not logging.getLogger().handlers:
        # Workers are fresh interpreters: give Satchel's own loggers (errors, GC) a home beside uvicorn's.
        logging.basicConfig(level=level_number(settings.log_level),
                            format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    return SatchelApp(settings)
