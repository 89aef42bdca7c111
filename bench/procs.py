"""Processes the harness starts, and what the kernel says they cost.

Memory and CPU are read from /proc for a server's whole process tree (nginx master + workers, uvicorn
supervisor + workers), because that is what an operator pays for. RSS is summed over the tree, so pages
shared between a master and its forked workers count twice: the figure errs on the high side, never low.

Every process the harness starts goes through :func:`spawn`, which records it, so :func:`kill_all`
can end exactly those (and their process groups) on exit, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from bench.rgw import alive as alive  # the one liveness check; rgw.py must stay importable alone

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

_started: list[subprocess.Popen[Any]] = []
#: Pids of the processes started as leaders of their own group: the group id stays theirs even after
#: the leader is reaped, while any of its members lives (Linux does not hand out a pid in use as a
#: process group id).
_leaders: set[int] = set()
_lock = threading.Lock()


def spawn(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdout: IO[Any] | int | None = subprocess.DEVNULL,
    stderr: IO[Any] | int | None = subprocess.DEVNULL,
    new_group: bool = True,
) -> subprocess.Popen[Any]:
    """Start a process we own; with ``new_group`` it leads its own process group, so stopping it
    also stops the workers it forks, and the terminal's Ctrl-C reaches only the harness, which then
    cleans up in order."""
    proc = subprocess.Popen(
        list(args), env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, start_new_session=new_group
    )
    with _lock:
        _started.append(proc)
        if new_group:
            _leaders.add(proc.pid)
    return proc


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM the process (and its group when it leads one), then SIGKILL after ``timeout``."""
    if proc.poll() is None:
        _signal(proc, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
    # Workers may outlive a master that died first: sweep the group we created anyway.
    if _leads_group(proc):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with _lock:
        if proc in _started:
            _started.remove(proc)
        _leaders.discard(proc.pid)


def kill_now(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the process and its group without waiting: the RSS guard's last resort."""
    _signal(proc, signal.SIGKILL)


def _leads_group(proc: subprocess.Popen[Any]) -> bool:
    """Started as the leader of its own group. Asked of our records, not of ``getpgid``: once the
    leader is reaped it has no pgid to ask, and its workers would escape."""
    with _lock:
        return proc.pid in _leaders


def _signal(proc: subprocess.Popen[Any], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if _leads_group(proc):
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)


def kill_all() -> None:
    """Stop every process the harness started and has not stopped yet, newest first."""
    with _lock:
        procs = list(reversed(_started))
    for proc in procs:
        stop(proc, timeout=5.0)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rindex(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(name))
    return children


#: What a server's cost is read from: one process, or several that together make the server (the
#: ``satchel-2n`` column: its load balancer, its two nodes and PostgreSQL), each with its descendants.
Roots = int | tuple[int, ...]


def tree(pid: Roots) -> list[int]:
    """``pid`` (or each of several roots) and all their descendants that are alive now."""
    children = _children_map()
    found: list[int] = []
    todo = [pid] if isinstance(pid, int) else list(pid)
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def rss_kib(pid: int) -> int:
    """Resident set of one process in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (its reaped children's time included)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(b")") + 2 :].split()
    # utime, stime, cutime, cstime are fields 14-17 of stat(5); fields[0] here is field 3.
    ticks = sum(int(f) for f in fields[11:15])
    return ticks / _CLK_TCK


@dataclass
class TreeSample:
    rss_mib: float
    per_process_mib: list[float] = field(default_factory=list)


def sample_tree(pid: Roots) -> TreeSample:
    per = [rss_kib(p) / 1024 for p in tree(pid)]
    return TreeSample(rss_mib=sum(per), per_process_mib=per)


def tree_cpu(pid: Roots) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


class RssSampler:
    """Samples a process tree's summed RSS every ``interval`` seconds in a thread; keeps the peak.

    ``cap_mib`` is a guard, not a measurement: a server that buffers whole objects in memory (moto
    does) could take the machine down under 64 concurrent 1 GiB downloads, so when the tree crosses
    the cap the sampler sets :attr:`tripped` and the workload stops its clients.
    """

    def __init__(
        self,
        pid: Roots | None,
        interval: float = 0.1,
        cap_mib: float | None = None,
        on_trip: Callable[[], None] | None = None,
    ) -> None:
        self.pid = pid
        self.interval = interval
        self.cap_mib = cap_mib
        #: Called once when the cap trips, from the sampler thread (to kill a runaway server at once).
        self.on_trip = on_trip
        self.peak_mib = 0.0
        self.tripped = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        assert self.pid is not None
        while not self._stop.is_set():
            rss = sample_tree(self.pid).rss_mib
            self.peak_mib = max(self.peak_mib, rss)
            if self.cap_mib is not None and rss > self.cap_mib and not self.tripped.is_set():
                self.tripped.set()
                if self.on_trip is not None:
                    self.on_trip()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        if self.pid is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)


def wait_all(procs: Sequence[subprocess.Popen[Any]], deadline: float, abort: threading.Event | None = None) -> bool:
    """Wait for client processes until ``deadline`` (monotonic) or ``abort``; stops stragglers.

    Returns False when any had to be stopped."""
    clean = True
    while any(p.poll() is None for p in procs):
        if time.monotonic() > deadline or (abort is not None and abort.is_set()):
            clean = False
            break
        time.sleep(0.05)
    for proc in procs:
        if proc.poll() is None:
            stop(proc, timeout=2.0)
    return clean
