"""How many metadata-store calls each request makes on the event loop, and what they cost, per engine.

The store interface is synchronous and the event loop reaches it through ``Node.read``/``Node.write``: reads
run inline on SQLite (microseconds: cheaper than a hop) and in reader threads on PostgreSQL (a round trip
each), so the PostgreSQL column must show 0 calls (see bench/README.md). This
drives the real ASGI app in-process (``tests/app/driver.py``: no sockets, so only the store's cost is
measured), counts the store calls made on the event-loop thread per request kind and reports their
p50/p99, for SQLite and for PostgreSQL on a private loopback cluster (``bench/pgcluster.py``).

    PYTHONPATH=. .venv/bin/python -m bench.storecalls [--rounds 200]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satchel.meta.store import Store


def _instrument(store: Store, calls: list[tuple[str, float]], loop_thread: threading.Thread) -> None:
    """Wrap every public method of ``store`` to record (name, seconds) when called on the loop's thread."""
    for name in dir(store):
        if name.startswith("_") or name in ("close", "group", "watch"):
            continue
        method = getattr(store, name)
        if not callable(method):
            continue

        def timed(*args: Any, __method: Callable[..., Any] = method, __name: str = name, **kwargs: Any) -> Any:
            if threading.current_thread() is not loop_thread:
                return __method(*args, **kwargs)
            began = time.perf_counter()
            try:
                return __method(*args, **kwargs)
            finally:
                calls.append((__name, time.perf_counter() - began))

        functools.update_wrapper(timed, method)
        setattr(store, name, timed)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def measure(engine: str, url: str | None, rounds: int) -> None:
    from tests.app.driver import InProcessApp

    with tempfile.TemporaryDirectory() as tmp:
        settings = {"metadata_url": url} if url else {}
        app = InProcessApp(Path(tmp), **settings)
        try:
            calls: list[tuple[str, float]] = []
            main = threading.current_thread()
            _instrument(app.node.store, calls, main)
            assert app.s3("PUT", "/bench").status == 200
            per_kind: dict[str, list[int]] = defaultdict(list)
            names: dict[str, list[str]] = {}
            single: list[float] = []
            request_cost: dict[str, list[float]] = defaultdict(list)
            for i in range(rounds):
                for kind, method, target, body in (
                    ("PUT", "PUT", f"/bench/k{i % 50}", b"x" * 100),
                    ("GET", "GET", f"/bench/k{i % 50}", b""),
                    ("LIST", "GET", "/bench?list-type=2&max-keys=100", b""),
                ):
                    calls.clear()
                    reply = app.s3(method, target, body=body)
                    assert reply.status == 200, (kind, reply.status, reply.body[:200])
                    per_kind[kind].append(len(calls))
                    names[kind] = [n for n, _ in calls]
                    single.extend(d for _, d in calls)
                    request_cost[kind].append(sum(d for _, d in calls))
            print(f"\n{engine}: store calls on the event loop per request (median), and their summed cost")
            for kind in per_kind:
                costs = request_cost[kind]
                print(f"  {kind:5} calls {statistics.median(per_kind[kind]):4.0f}   "
                      f"p50 {_pct(costs, 0.5) * 1e3:7.3f} ms   p99 {_pct(costs, 0.99) * 1e3:7.3f} ms   "
                      f"({', '.join(names[kind])})")
            print(f"  one call: p50 {_pct(single, 0.5) * 1e3:.3f} ms, p99 {_pct(single, 0.99) * 1e3:.3f} ms")
        finally:
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    from bench import pgcluster

    measure("sqlite", None, args.rounds)
    cluster = pgcluster.PgCluster()
    try:
        measure("postgresql (loopback)", cluster.create_database("bench"), args.rounds)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
