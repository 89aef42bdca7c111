"""One uvicorn worker serving Satchel, configured from Satchel's settings (see ``server.run``).

Started as ``python -m satchel.worker``: alone, it binds the configured host and port itself; under
``satchel.supervisor`` it gets ``--fd N``, the listening socket the supervisor bound and shares with
every worker. uvicorn is driven through its Python API rather than its CLI, which spares each
worker the CLI's imports (click) and lets the shared socket keep its real family (uvicorn's own
``--fd`` labels any inherited socket AF_UNIX, and uvloop then treats TCP as a pipe).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import resource
import signal
import socket
import ssl
import sys
from collections.abc import Iterator

import uvicorn

from satchel.config import Settings, load_settings
from satchel.logs import log_config
from satchel.protocol import Limits, SatchelHttpProtocol
from satchel.supervisor import SUPERVISOR_PID_ENV

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class GracefulServer(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM (or SIGINT) it shut down for gracefully ends in exit status 0.

    uvicorn re-raises the signal once it has finished, so the process dies of it (status -15): systemd,
    the supervisor and scripts would read a clean, complete shutdown as a kill.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        "satchel.app:create_app", factory=True, host=settings.host, port=settings.port,
        http=SatchelHttpProtocol.configured(Limits.from_settings(settings)),
        loop="uvloop" if sys.platform != "win32" else "asyncio", lifespan="on", log_level=settings.log_level,
        # Access lines come from the app's dispatch (with request id, principal, operation), not uvicorn.
        log_config=log_config(settings.log_level, settings.log_format), access_log=False, server_header=False,
        # uvicorn annotates an int but only hands it to call_later: a fraction of a second works.
        timeout_keep_alive=settings.keepalive_timeout,  # type: ignore[arg-type]
        # X-Forwarded-For only from the configured proxies (uvicorn would trust 127.0.0.1 by default: any
        # local client, or every client of a local proxy that passes the header through, could pick its
        # address and so pass IP ranges and spoof the audit trail).
        proxy_headers=bool(settings.trusted_proxy_list), forwarded_allow_ips=settings.trusted_proxy_list or None,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        # SIGTERM: stop accepting, let requests in flight finish this long, then run the lifespan
        # shutdown (which flushes the audit trail) and exit 0.
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
        # Satchel speaks no WebSocket: never let an Upgrade header hand a connection to another protocol.
        ws="none",
    )


def reload_tls_on_hup(server: uvicorn.Server, settings: Settings) -> None:
    """SIGHUP re-reads the certificate and key into the live TLS context: connections made afterwards get
    the new certificate, open ones keep theirs. (Under the supervisor, SIGHUP goes to it instead and it
    replaces the workers one at a time, which reads them afresh too.) A pair that does not load is
    reported and the old one kept: a renewal gone wrong must not take the server down."""
    if settings.tls_cert is None or settings.tls_key is None:
        return

    def reload(signum: int, frame: object) -> None:
        context = server.config.ssl
        if context is None:
            return
        try:
            context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
            logging.getLogger("satchel").info("TLS certificate reloaded from %s", settings.tls_cert)
        except (OSError, ssl.SSLError) as exc:
            logging.getLogger("satchel").error("TLS certificate not reloaded, keeping the old one: %s", exc)

    signal.signal(signal.SIGHUP, reload)


def die_with_supervisor() -> bool:
    """Ask Linux to SIGTERM this worker when the supervisor dies, even by SIGKILL; False when it
    is already gone.

    Otherwise orphaned workers would keep serving and holding the port, and the restarted server
    would find its address in use. Elsewhere this is a no-op: stop the process group instead.
    """
    supervisor = os.environ.get(SUPERVISOR_PID_ENV)
    if not sys.platform.startswith("linux") or not supervisor:
        return True
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # The supervisor may have died between our start and the prctl: then we have a new parent.
    return os.getppid() == int(supervisor)


def raise_open_file_limit() -> None:
    """Lift the soft RLIMIT_NOFILE to the hard limit, as nginx's ``worker_rlimit_nofile`` would.

    Every connection holds a descriptor, and so does every segment of a multipart object being read
    (``satchel.core.objects.read_range`` opens them all before the first byte); the soft default of
    1024 would turn a few readers of a large multipart object into refusals.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    raise_open_file_limit()
    settings = load_settings()
    server = GracefulServer(uvicorn_config(settings))
    reload_tls_on_hup(server, settings)
    if args[:1] == ["--fd"] and len(args) == 2:
        if not die_with_supervisor():
            return 0
        server.run(sockets=[socket.socket(fileno=int(args[1]))])
    elif not args:
        server.run()
    else:
        print("usage: python -m satchel.worker [--fd N]", file=sys.stderr)
        return 2
    # uvicorn reports a failed start (e.g. the port is taken) by returning without having started.
    return 0 if server.started else 3


if __name__ == "__main__":
    sys.exit(main())
