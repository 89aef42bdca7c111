"""What a server costs, read from /proc: the resident memory and open descriptors of every process of its
process group (the supervisor and all its workers), and the least-squares trend of a series of samples.

A leak shows as a trend, not as a level: memory grows at start-up (imports, caches, SQLite's page cache,
allocator arenas) and then should stay flat, so the trend is fitted over the second half of a run only.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


def group_pids(pgid: int) -> list[int]:
    """Every live process whose process group is ``pgid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # seconds since the run began
    processes: int
    rss_kib: int
    fds: int
    #: Per process (pid order): resident KiB, so that a growth can be traced to the supervisor or a worker.
    each_rss_kib: tuple[int, ...] = ()


def sample(pgid: int, started: float) -> Sample:
    pids = sorted(group_pids(pgid))
    each = tuple(rss_kib(p) for p in pids)
    return Sample(time.monotonic() - started, len(pids), sum(each), sum(open_fds(p) for p in pids), each)


def write_csv(samples: list[Sample], path: str) -> None:
    """The curves, one row per sample: seconds, processes, total RSS KiB, fds, then each process's RSS KiB."""
    with open(path, "w") as out:
        out.write("seconds,processes,rss_kib,fds,rss_kib_each\n")
        for s in samples:
            out.write(f"{s.at:.1f},{s.processes},{s.rss_kib},{s.fds},{' '.join(map(str, s.each_rss_kib))}\n")


def slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of ``(x, y)`` points (0 for fewer than two distinct x)."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


@dataclass(frozen=True, slots=True)
class Trend:
    """A series over the run: first and last value, and the slope fitted over the second half (per second)
    with the growth it amounts to across that half."""

    start: float
    end: float
    slope: float
    growth: float


def trend(samples: list[Sample], field: str) -> Trend:
    values = [(s.at, float(getattr(s, field))) for s in samples]
    if not values:
        return Trend(0, 0, 0, 0)
    half = values[len(values) // 2:]
    fitted = slope(half)
    return Trend(values[0][1], values[-1][1], fitted, fitted * (half[-1][0] - half[0][0]))
