"""Run N single-process uvicorn workers on one listening socket, from a parent that does nothing else.

Why not ``uvicorn --workers N``: its supervisor is a whole uvicorn process, and the multiprocessing
"spawn" it uses also starts a resource-tracker interpreter; the two weigh ~40 MB before a single
request, a fifth of the memory budget of a two-worker server. This parent imports only the standard
library's process tools (~10 MB), binds the socket once, and hands it to each worker as an inherited
descriptor (``uvicorn --fd``), so the kernel spreads connections across the workers exactly as with
uvicorn's own supervisor.

It restarts a worker that dies (a worker that keeps dying within seconds of starting stops the
server: that is a bug to report, not to hide), forwards SIGTERM/SIGINT and waits for the workers'
graceful shutdown, and on SIGHUP replaces the workers one at a time (a rolling restart, e.g. after an
upgrade). Standard library only: keep it that way, its memory is the point.

Usage (``satchel serve`` builds this command line)::

    python -m satchel.supervisor --host 127.0.0.1 --port 9000 --workers 2 -- <worker command>
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

#: A worker that exits this soon after starting counts as a crash loop.
CRASH_WINDOW = 5.0
#: That many quick deaths in a row and the server stops.
MAX_QUICK_DEATHS = 5
#: How long workers get to finish their requests on shutdown before they are killed (``--stop-timeout``:
#: the ``shutdown_timeout`` setting plus time to flush the audit trail and close the store).
STOP_TIMEOUT = 30.0
#: Tells a worker which process is its supervisor (see ``satchel.worker.die_with_supervisor``).
SUPERVISOR_PID_ENV = "SATCHEL_SUPERVISOR_PID"


class Supervisor:
    def __init__(self, listener: socket.socket, worker_argv: list[str], workers: int,
                 stop_timeout: float = STOP_TIMEOUT) -> None:
        self.listener = listener
        self.stop_timeout = stop_timeout
        self.worker_argv = worker_argv
        self.count = workers
        self.workers: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
        self.stopping = False
        self.restart_requested = False
        self.quick_deaths = 0

    def spawn(self) -> None:
        fd = self.listener.fileno()
        # Workers ask the kernel to stop them if this process dies, even by SIGKILL (satchel.worker).
        env = {**os.environ, SUPERVISOR_PID_ENV: str(os.getpid())}
        proc = subprocess.Popen([*self.worker_argv, "--fd", str(fd)], pass_fds=(fd,), env=env)
        self.workers[proc.pid] = (proc, time.monotonic())

    def on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        # New connections are refused at once: the workers close their copies of the socket as they
        # begin their graceful shutdown, and with ours gone too the kernel closes the port.
        self.listener.close()
        for proc, _ in self.workers.values():
            _signal(proc, signal.SIGTERM)

    def on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.restart_requested = True

    def run(self) -> int:
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, self.on_stop)
        signal.signal(signal.SIGINT, self.on_stop)
        signal.signal(signal.SIGHUP, self.on_hup)
        try:
            return self._supervise()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _supervise(self) -> int:
        for _ in range(self.count):
            self.spawn()
        while not self.stopping:
            if self.restart_requested:
                self.restart_requested = False
                self.rolling_restart()
            died = self.reap(timeout=0.5)
            if died is not None and not self.stopping:
                pid, code, started = died
                print(f"satchel: worker {pid} exited with code {code}; starting another", file=sys.stderr, flush=True)
                self.quick_deaths = self.quick_deaths + 1 if time.monotonic() - started < CRASH_WINDOW else 0
                if self.quick_deaths >= MAX_QUICK_DEATHS:
                    print("satchel: workers keep dying at start; stopping", file=sys.stderr, flush=True)
                    self.on_stop(signal.SIGTERM, None)
                    self.wait_all()
                    return 1
                self.spawn()
        self.wait_all()
        return 0

    def reap(self, timeout: float) -> tuple[int, int, float] | None:
        """Wait up to ``timeout`` for a worker to exit; (pid, exit code, start time) of one that did."""
        deadline = time.monotonic() + timeout
        while True:
            for pid, (proc, started) in list(self.workers.items()):
                code = proc.poll()
                if code is not None:
                    del self.workers[pid]
                    forget_live_gauges(pid)
                    return pid, code, started
            if self.stopping or self.restart_requested or time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def rolling_restart(self) -> None:
        for pid in list(self.workers):
            if self.stopping:
                return
            proc, _ = self.workers.pop(pid)
            self.spawn()  # the new worker shares the socket before the old one lets go of it
            _signal(proc, signal.SIGTERM)
            _wait(proc, self.stop_timeout)
            forget_live_gauges(pid)

    def wait_all(self) -> None:
        for proc, _ in list(self.workers.values()):
            _wait(proc, self.stop_timeout)
            forget_live_gauges(proc.pid)
        self.workers.clear()


def forget_live_gauges(pid: int) -> None:
    """Remove a dead worker's "live" gauge files (open connections, write queue) from the metrics
    directory, as ``prometheus_client.multiprocess.mark_process_dead`` does (not imported: see above)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    for path in glob.glob(os.path.join(glob.escape(directory), f"gauge_live*_{pid}.db")):
        with contextlib.suppress(OSError):
            os.remove(path)


def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)


def _wait(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on (SO_REUSEADDR, as uvicorn binds it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    split = args.index("--") if "--" in args else len(args)
    parser = argparse.ArgumentParser(prog="python -m satchel.supervisor")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT)
    options = parser.parse_args(args[:split])
    worker_argv = args[split + 1:]
    if options.workers < 1 or not worker_argv:
        parser.error("need --workers >= 1 and a worker command after --")
    try:
        listener = listen(options.host, options.port)
    except OSError as exc:
        print(f"satchel: cannot listen on {options.host}:{options.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return Supervisor(listener, worker_argv, options.workers, options.stop_timeout).run()


if __name__ == "__main__":
    sys.exit(main())
