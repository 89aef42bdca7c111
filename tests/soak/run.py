"""``make soak``: a bounded mixed workload against a real ``satchel serve`` with several workers, then a
table of what it measured and a verdict (exit 1 when a check fails).

    python -m tests.soak.run --seconds 600 --clients 4 --workers 2

Checks: no errors (every answer is checked: bytes, sizes, listings, refusals); the resident memory and
open descriptors of all server processes flat over the second half of the run (a least-squares slope,
bounded in what it amounts to across that half); and the audit trail holding exactly one use event per
link use made, by kind and outcome, read from the database once the server has stopped (a graceful stop
flushes the trail).

The growth bounds, and why: start-up growth (imports, SQLite's page caches, allocator arenas) is left out
by fitting the second half only. Over that half of a 10-minute run (~33 000 requests at the ~110 a second
this machine manages), a rise of 16 MiB of RSS (all processes together, ~12 % of what they hold) catches
a leak of ~500 bytes per request or more, and 8 descriptors one descriptor per ~4 000 requests, while the
allocator's and bounded caches' noise stays well under (measured: 1-5 MiB, under one descriptor). The
short form in ``make test`` runs for ~25 s and allows twice as much (its second half may still be
warming up).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.clients.server import SatchelProcess
from tests.soak import procs
from tests.soak.workload import OPERATIONS, Client, Shared, Tally

#: Bounds of the long form (see the module's docstring).
RSS_GROWTH_KIB = 16 * 1024
FD_GROWTH = 8
#: A client thread still running this long after the deadline is stuck: the run fails.
JOIN_GRACE = 60.0


@dataclass
class Report:
    seconds: float
    tally: Tally
    samples: list[procs.Sample]
    audited: Counter[tuple[str, bool, str]]
    rss_limit_kib: float
    fd_limit: float
    failures: list[str] = field(default_factory=list)

    @property
    def rss(self) -> procs.Trend:
        return procs.trend(self.samples, "rss_kib")

    @property
    def fds(self) -> procs.Trend:
        return procs.trend(self.samples, "fds")

    @property
    def ok(self) -> bool:
        return not self.failures

    def check(self) -> None:
        """Fill ``failures``: every property the run must have."""
        errors = sum(self.tally.errors.values())
        if errors:
            self.failures.append(f"{errors} errors: " + "; ".join(self.tally.error_samples[:5]))
        idle = [name for name in OPERATIONS if not self.tally.latencies[name]]
        if idle:
            self.failures.append(f"operations never run: {', '.join(idle)}")
        if len(self.samples) < 6:
            self.failures.append(f"only {len(self.samples)} resource samples")
        if self.rss.growth > self.rss_limit_kib:
            self.failures.append(f"RSS grew {self.rss.growth / 1024:.1f} MiB over the second half "
                                 f"(bound {self.rss_limit_kib / 1024:.0f} MiB)")
        if self.fds.growth > self.fd_limit:
            self.failures.append(f"open descriptors grew {self.fds.growth:.1f} over the second half "
                                 f"(bound {self.fd_limit:.0f})")
        if self.audited != self.tally.uses:
            self.failures.append(f"audit use events {dict(self.audited)} != link uses made {dict(self.tally.uses)}")

    def table(self) -> str:
        lines = [f"soak: {self.seconds:.0f} s, {len(self.samples)} samples of the server's processes",
                 "", f"{'operation':<15}{'count':>8}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}"]
        for name in OPERATIONS:
            samples = sorted(self.tally.latencies[name])
            lines.append(f"{name:<15}{len(samples):>8}{self.tally.errors[name]:>8}"
                         f"{_pct(samples, 50):>10.1f}{_pct(samples, 99):>10.1f}")
        total = sum(len(v) for v in self.tally.latencies.values())
        lines.append(f"{'all':<15}{total:>8}{sum(self.tally.errors.values()):>8}")
        rss, fds = self.rss, self.fds
        lines += ["", f"{'resource':<15}{'start':>10}{'end':>10}{'slope/min':>12}{'2nd-half growth':>17}{'bound':>8}",
                  f"{'RSS MiB':<15}{rss.start / 1024:>10.1f}{rss.end / 1024:>10.1f}{rss.slope * 60 / 1024:>12.2f}"
                  f"{rss.growth / 1024:>17.2f}{self.rss_limit_kib / 1024:>8.0f}",
                  f"{'open fds':<15}{fds.start:>10.0f}{fds.end:>10.0f}{fds.slope * 60:>12.2f}"
                  f"{fds.growth:>17.2f}{self.fd_limit:>8.0f}",
                  "", f"{'link uses (kind, minted, outcome)':<40}{'made':>8}{'audited':>9}"]
        for category in sorted(set(self.tally.uses) | set(self.audited)):
            kind, minted, outcome = category
            label = f"{kind}, {'minted' if minted else 'signed'}, {outcome}"
            lines.append(f"{label:<40}{self.tally.uses[category]:>8}{self.audited[category]:>9}")
        lines += ["", "PASS" if self.ok else "FAIL: " + "\n      ".join(self.failures)]
        return "\n".join(lines)


def _pct(samples: list[float], pct: float) -> float:
    if not samples:
        return 0.0
    return samples[min(len(samples) - 1, int(len(samples) * pct / 100))] * 1000


def audited_uses(data_dir: Path) -> Counter[tuple[str, bool, str]]:
    """Use events in the server's audit trail, by (kind, minted, outcome): read once the server stopped."""
    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT kind, link_id IS NOT NULL, outcome, COUNT(*) FROM audit_events "
                          "WHERE action = 'use' GROUP BY kind, link_id IS NOT NULL, outcome").fetchall()
    finally:
        db.close()
    return Counter({(kind, bool(minted), outcome): count for kind, minted, outcome, count in rows})


def run(seconds: float, clients: int = 4, workers: int = 2, sample_every: float = 2.0,
        rss_limit_kib: float = RSS_GROWTH_KIB, fd_limit: float = FD_GROWTH, port: int | None = None,
        root: Path | None = None) -> Report:
    with tempfile.TemporaryDirectory(prefix="satchel-soak-", dir=root) as tmp:
        data_dir = Path(tmp) / "data"
        server = SatchelProcess(data_dir, port=port, extra_args=("--workers", str(workers)))
        tally = Tally()
        samples: list[procs.Sample] = []
        with server.running():
            assert server._proc is not None
            pgid = server._proc.pid  # a session of its own: the group holds the supervisor and its workers
            shared = Shared.create(server, f"soak-{uuid.uuid4().hex[:10]}")
            started = time.monotonic()
            deadline = started + seconds
            stop = threading.Event()

            def sampler() -> None:
                while not stop.is_set():
                    samples.append(procs.sample(pgid, started))
                    stop.wait(sample_every)

            watcher = threading.Thread(target=sampler, name="soak-sampler", daemon=True)
            watcher.start()
            threads = [Client(n, server, shared, tally, deadline, seed=n) for n in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()) + JOIN_GRACE)
            stop.set()
            watcher.join(timeout=sample_every + 5)
            stuck = [t.name for t in threads if t.is_alive()]
            elapsed = time.monotonic() - started
        report = Report(elapsed, tally, samples, audited_uses(data_dir), rss_limit_kib, fd_limit)
        if stuck:
            report.failures.append(f"client threads stuck past the deadline: {', '.join(stuck)}")
        report.check()
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-every", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--csv", help="write the RSS and descriptor samples (the curves) to this file")
    options = parser.parse_args(argv)
    report = run(options.seconds, options.clients, options.workers, options.sample_every, port=options.port)
    print(report.table())
    if options.csv:
        procs.write_csv(report.samples, options.csv)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
