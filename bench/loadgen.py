"""Load generators: wrk for many small requests, curl for big streams, each bounded in time.

Both are separate processes (C, not Python), so the client is never the slower side of the
comparison, and each run ends by its own clock (wrk ``-d``, curl ``--max-time``) even if the harness
is stuck.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import procs

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    #: Non-2xx/3xx answers plus socket errors: a figure with errors measures the wrong thing.
    errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(out: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    if not (rps and p50 and p99 and total):
        raise ValueError("wrk output not understood: " + out[-400:])
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        # Read errors at the very end are connections wrk closes itself when -d runs out: ignore them.
        errors += int(sock.group(1)) + int(sock.group(3)) + int(sock.group(4))
    return WrkResult(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), errors)


def wrk(url: str, connections: int, seconds: float, threads: int) -> WrkResult:
    threads = max(1, min(threads, connections))
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
            "--timeout", "5s", url]
    proc = procs.spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
    finally:
        procs.stop(proc)
    return parse_wrk(out.decode(errors="replace"))


@dataclass
class Transfer:
    """One curl transfer: bytes moved and whether it finished (``status`` 200 and exit code 0)."""

    status: int
    nbytes: int
    seconds: float
    complete: bool
    #: Seconds from curl's start to the response's first byte (0.0 when none came).
    first_byte: float = 0.0


_WRITE_OUT = "%{http_code} %{size_download} %{size_upload} %{time_total} %{time_starttransfer}"


def start_curl(url: str, max_seconds: float, upload: Path | None = None) -> subprocess.Popen[bytes]:
    """Download ``url`` to /dev/null, or upload ``upload`` to it with a streamed PUT (``curl -T``)."""
    args = ["curl", "-s", "-o", "/dev/null", "--max-time", f"{max_seconds:.0f}", "-w", _WRITE_OUT]
    if upload is not None:
        # No "Expect: 100-continue" round trip: every server gets the body straight away.
        args += ["-T", str(upload), "-H", "Expect:"]
    args.append(url)
    return procs.spawn(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def finish_curl(proc: subprocess.Popen[bytes], upload: bool = False) -> Transfer:
    out, _ = proc.communicate()
    fields = out.decode(errors="replace").split()
    if len(fields) != 5:
        return Transfer(0, 0, 0.0, False)
    status, down, up, total = int(fields[0]), int(float(fields[1])), int(float(fields[2])), float(fields[3])
    return Transfer(status, up if upload else down, total, proc.returncode == 0 and 200 <= status < 300,
                    float(fields[4]))


@dataclass
class Streams:
    """Several parallel transfers: aggregate MB/s over the wall time they took together."""

    mb_per_s: float
    nbytes: int
    seconds: float
    complete: bool
    statuses: list[int]
    #: Seconds to the first byte of each transfer that got a response (a starved download shows here).
    first_bytes: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """For the JSON file: status codes counted rather than listed 64 times."""
        counts: dict[str, int] = {}
        for s in self.statuses:
            counts[str(s)] = counts.get(str(s), 0) + 1
        answer: dict[str, object] = {"mb_per_s": self.mb_per_s, "bytes": self.nbytes, "seconds": self.seconds,
                                     "complete": self.complete, "statuses": counts}
        if self.first_bytes:
            ordered = sorted(self.first_bytes)
            answer["first_byte_p50_s"] = ordered[len(ordered) // 2]
            answer["first_byte_max_s"] = ordered[-1]
        return answer


def parallel_curl(
    urls: list[str], max_seconds: float, upload: Path | None = None, abort: threading.Event | None = None
) -> Streams:
    """Run one curl per URL at once; ``abort`` stops them early (the RSS guard)."""
    began = time.monotonic()
    started = [start_curl(u, max_seconds, upload) for u in urls]
    finished = procs.wait_all(started, began + max_seconds + 10, abort)
    wall = time.monotonic() - began
    results = [finish_curl(p, upload is not None) for p in started]
    total = sum(r.nbytes for r in results)
    return Streams(
        mb_per_s=total / 1e6 / wall if wall > 0 else 0.0,
        nbytes=total,
        seconds=wall,
        complete=finished and all(r.complete for r in results),
        statuses=[r.status for r in results],
        first_bytes=[r.first_byte for r in results if r.status],
    )
