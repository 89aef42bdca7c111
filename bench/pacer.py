"""An open-loop HTTP load generator that holds a fixed request rate, in separate processes.

wrk is a closed loop (a connection sends its next request when the last one is answered), so it
measures a saturated server. To see the event-loop lag of a server that *keeps up*, the load must
arrive on a fixed schedule whatever the answers do: request ``i`` is due at ``start + i / rate``. One
Python process with threads cannot hold 1000 requests/s (the GIL, the scheduler), so :func:`run`
spreads the schedule over :data:`PROCESSES_PER` processes of ``python -m bench.pacer``, each an asyncio
loop with raw HTTP/1.1 on kept-alive connections (a pool that grows on demand up to
``max_connections``: a slow answer does not delay the next request, it takes another connection).

Each process reports how late it *sent* each request (its own lag) and each answer's latency counted
from the request's due time (so a late generator cannot hide a slow server, the "coordinated omission"
of closed-loop tools). The rate is *held* when the requests answered within the window are at least
:data:`HELD_FRACTION` of the target; otherwise the figure under it is a saturated server's (or a
starved generator's) and is marked so.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

#: Requests per second one generator process is given at most (it holds ~2,000/s alone on one core).
PROCESSES_PER = 400.0
HELD_FRACTION = 0.95


@dataclass(frozen=True)
class Request:
    """One request of the mix: its kind (a label), method, path with query, headers and body."""

    kind: str
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: The Host header when it is not the address connected to (a URL signed for another name).
    host: str | None = None

    def wire(self, host: str) -> bytes:
        lines = [f"{self.method} {self.target} HTTP/1.1", f"Host: {self.host or host}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body or self.method in ("PUT", "POST"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Outcome:
    """What every generator process saw, merged."""

    rate: float
    seconds: float
    processes: int
    answered: int = 0
    #: Status (or exception name) -> count, per request kind.
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    lateness_ms: list[float] = field(default_factory=list)
    connections: int = 0

    @property
    def achieved(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        return sum(n for per in self.statuses.values() for s, n in per.items() if not s.startswith("2"))

    @property
    def held(self) -> bool:
        """The target rate was answered. Sends may still run late (``send_lateness``: the generator
        short of CPU, or every connection of its pool waiting on the server); the JSON has how late."""
        return self.achieved >= HELD_FRACTION * self.rate

    def summary(self) -> dict[str, Any]:
        return {"target_rps": self.rate, "achieved_rps": round(self.achieved, 1), "held": self.held,
                "seconds": self.seconds, "processes": self.processes, "answered": self.answered,
                "failures": self.failures, "statuses": self.statuses, "connections_opened": self.connections,
                "latency_p50_ms": _pct(self.latencies_ms, 0.5), "latency_p99_ms": _pct(self.latencies_ms, 0.99),
                "send_lateness_p50_ms": _pct(self.lateness_ms, 0.5),
                "send_lateness_p99_ms": _pct(self.lateness_ms, 0.99)}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def run(host: str, port: int, mix: list[Request], rate: float, seconds: float, max_connections: int = 64
        ) -> Outcome:
    """Send ``mix`` round-robin at ``rate`` requests/s for ``seconds`` to ``host:port`` (the ``Host``
    header is ``host:port`` too: presigned URLs sign it) and merge what the processes saw."""
    processes = max(2, math.ceil(rate / PROCESSES_PER))
    start = time.time() + 1.5  # every process is up and connected before the first request is due
    spec = {"host": host, "port": port, "rate": rate, "seconds": seconds, "start": start,
            "processes": processes, "max_connections": max(2, max_connections // processes),
            "mix": [[r.kind, base64.b64encode(r.wire(f"{host}:{port}")).decode()] for r in mix]}
    children = []
    for index in range(processes):
        child = subprocess.Popen([sys.executable, "-m", "bench.pacer"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, cwd=_root(), start_new_session=True)
        assert child.stdin is not None
        child.stdin.write(json.dumps({**spec, "index": index}).encode())
        child.stdin.close()
        child.stdin = None  # written and closed: communicate() must not flush it again
        children.append(child)
    outcome = Outcome(rate, seconds, processes)
    for child in children:
        try:
            out, _ = child.communicate(timeout=seconds + 40)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
        if child.returncode != 0 or not out:
            outcome.statuses.setdefault("generator", {})[f"exit {child.returncode}"] = 1
            continue
        part = json.loads(out)
        outcome.answered += part["answered"]
        outcome.latencies_ms += part["latencies_ms"]
        outcome.lateness_ms += part["lateness_ms"]
        outcome.connections += part["connections"]
        for kind, per in part["statuses"].items():
            mine = outcome.statuses.setdefault(kind, {})
            for status, n in per.items():
                mine[status] = mine.get(status, 0) + n
    return outcome


def _root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent)


# --- one generator process -------------------------------------------------------------------------
class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, wire: bytes, head: bool) -> int:
        """Send one request and read its whole answer; the status code."""
        self.writer.write(wire)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header.split(b" ", 2)[1])
        lowered = header.lower()
        if head or status in (204, 304):
            return status
        if b"transfer-encoding: chunked" in lowered:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    return status
        at = lowered.find(b"content-length:")
        if at < 0:
            raise ValueError("answer without a length")
        length = int(lowered[at + 15:lowered.index(b"\r\n", at)])
        await self.reader.readexactly(length)
        return status


async def _generate(spec: dict[str, Any]) -> dict[str, Any]:
    mix = [(kind, base64.b64decode(wire)) for kind, wire in spec["mix"]]
    rate, processes, index = float(spec["rate"]), int(spec["processes"]), int(spec["index"])
    start, seconds = float(spec["start"]), float(spec["seconds"])
    idle: list[_Conn] = []
    opened = 0
    freed = asyncio.Event()
    statuses: dict[str, dict[str, int]] = {}
    latencies: list[float] = []
    lateness: list[float] = []
    answered = 0

    async def connect() -> _Conn:
        nonlocal opened
        opened += 1
        reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
        return _Conn(reader, writer)

    async def one(conn: _Conn, kind: str, wire: bytes, due: float) -> None:
        nonlocal answered
        try:
            status = str(await asyncio.wait_for(conn.exchange(wire, wire.startswith(b"HEAD ")), 10))
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
            status = type(exc).__name__
            conn.writer.close()
        else:
            idle.append(conn)
            freed.set()
        done = time.time()
        per = statuses.setdefault(kind, {})
        per[status] = per.get(status, 0) + 1
        if done <= start + seconds:
            answered += 1
        latencies.append((done - due) * 1e3)

    for _ in range(2):
        idle.append(await connect())
    tasks = set()
    i = index
    cap = int(spec["max_connections"])
    while (due := start + i / rate) < start + seconds:
        await asyncio.sleep(max(0.0, due - time.time()))
        while not idle and opened >= cap:  # every connection busy: the generator falls behind
            freed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(freed.wait(), max(0.001, start + seconds - time.time()))
            if time.time() >= start + seconds:
                break
        if time.time() >= start + seconds:  # the window is over: what was not sent in it is not sent
            break
        conn = idle.pop() if idle else await connect()
        lateness.append(max(0.0, time.time() - due) * 1e3)
        kind, wire = mix[i % len(mix)]
        task = asyncio.ensure_future(one(conn, kind, wire, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += processes
    if tasks:
        await asyncio.wait(tasks, timeout=15)
    for conn in idle:
        conn.writer.close()
    return {"answered": answered, "statuses": statuses, "latencies_ms": latencies, "lateness_ms": lateness,
            "connections": opened}


def main() -> None:
    spec = json.loads(sys.stdin.read())
    try:
        import uvloop
    except ImportError:
        print(json.dumps(asyncio.run(_generate(spec))))
    else:
        print(json.dumps(uvloop.run(_generate(spec))))


if __name__ == "__main__":
    main()
