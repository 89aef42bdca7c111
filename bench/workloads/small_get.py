"""Workload 1: presigned GET of a 1 KiB object with wrk at 16 and 64 connections.

S3 servers get a SigV4 presigned URL (so every request pays the signature check, the metadata lookup
and authorization); nginx gets the plain static URL: it is the physical limit, not a peer.
"""

from __future__ import annotations

from bench import loadgen
from bench.dataset import SMALL_KEY
from bench.servers import Server
from bench.workloads import Context, recorded

CONNECTIONS = (16, 64)
#: Rounds over all servers; each server keeps its best: noise from a shared machine only slows down.
ROUNDS = 2


def run(ctx: Context, server: Server) -> None:
    for conns in CONNECTIONS:
        m = f"get1k_c{conns}"
        metrics = (f"{m}_rps", f"{m}_p50_ms", f"{m}_p99_ms")
        with recorded(ctx, server.name, metrics):
            url = server.get_url(SMALL_KEY)
            got = loadgen.wrk(url, conns, ctx.limits.wrk_seconds, ctx.cores)
            ctx.results.details.setdefault("wrk", {}).setdefault(server.name, {}).setdefault(
                str(conns), []).append(vars(got))
            best = ctx.results.cells.get(server.name, {}).get(f"{m}_rps")
            if got.errors and got.errors > got.requests // 100:
                if best is None or best.value is None:  # a clean round wins over one with errors
                    note = f"errors: {got.errors} of {got.requests}"
                    for metric in metrics:
                        ctx.results.skip(server.name, metric, note)
                continue
            if best is not None and best.value is not None and best.value >= got.rps:
                continue
            ctx.results.set(server.name, f"{m}_rps", got.rps)
            ctx.results.set(server.name, f"{m}_p50_ms", got.p50_ms)
            ctx.results.set(server.name, f"{m}_p99_ms", got.p99_ms)
