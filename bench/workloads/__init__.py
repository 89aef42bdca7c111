"""The six workloads of issue 4; each records into :class:`bench.results.Results` and is bounded in time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from bench.dataset import Files
from bench.results import Results


@dataclass(frozen=True)
class Limits:
    """How long each load may run; ``--quick`` shrinks every one of them."""

    wrk_seconds: float
    big_get_seconds: float
    #: The big GET repeats until this much transfer time is measured (one fast transfer is too few
    #: clock ticks of CPU to compare).
    big_get_min_seconds: float
    put_seconds: float
    seed_seconds: float
    list_reps: int
    list_sizes: tuple[int, ...]
    api_load_max: int
    api_load_seconds: float
    mint_seconds: float
    #: Each link API figure (one client, then several) calls for this long.
    link_api_seconds: float
    rss64_seconds: float


FULL = Limits(wrk_seconds=15, big_get_seconds=90, big_get_min_seconds=3, put_seconds=180, seed_seconds=300,
              list_reps=60, list_sizes=(4, 5, 6), api_load_max=10_000, api_load_seconds=180, mint_seconds=3,
              link_api_seconds=5, rss64_seconds=20)
QUICK = Limits(wrk_seconds=5, big_get_seconds=30, big_get_min_seconds=3, put_seconds=60, seed_seconds=120,
               list_reps=15, list_sizes=(4, 5, 6), api_load_max=10_000, api_load_seconds=60, mint_seconds=1,
               link_api_seconds=5, rss64_seconds=10)


@dataclass
class Context:
    results: Results
    files: Files
    limits: Limits
    #: Threads for wrk: one per core, as the server side gets.
    cores: int
    #: RSS guard for a server tree (MiB): above it the workload stops its clients.
    mem_cap_mib: float


@contextlib.contextmanager
def recorded(ctx: Context, server: str, metrics: tuple[str, ...]) -> Iterator[None]:
    """Turn an unexpected failure of one workload into notes on its metrics, and go on."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        why = f"error: {type(exc).__name__}: {exc}"[:120]
        for m in metrics:
            if m not in ctx.results.cells.get(server, {}):
                ctx.results.skip(server, m, why)
        ctx.results.details.setdefault("errors", []).append({"server": server, "metrics": list(metrics),
                                                             "error": repr(exc)[:1000]})
