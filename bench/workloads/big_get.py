"""Workload 2: GET of the 1 GiB object, one stream and 4 parallel streams (curl to /dev/null).

Besides MB/s it measures what the server spends: peak RSS of its process tree (sampled every 100 ms)
and CPU seconds per GiB sent (utime + stime of the tree before and after), the figure that says
whether a server streams as cheaply as nginx's sendfile.

A fast server sends the object in a fraction of a second, a few dozen 10 ms clock ticks of CPU, so a
single transfer made the CPU ratio swing by half between runs. The transfer is therefore repeated
until ``Limits.big_get_min_seconds`` have been measured (at most ``MAX_ROUNDS`` times, within the
time limit), and both figures are over all rounds.
"""

from __future__ import annotations

import threading

from bench import loadgen, procs
from bench.dataset import BIG_KEY, GIB
from bench.servers import Server
from bench.workloads import Context, recorded

STREAMS = (1, 4)
MAX_ROUNDS = 10


def run(ctx: Context, server: Server, seeded: bool, why: str | None) -> None:
    for n in STREAMS:
        m = f"get1g_s{n}"
        metrics = (f"{m}_mb_s", f"{m}_cpu_s_gib", f"{m}_peak_rss_mib")
        if not seeded:
            for metric in metrics:
                ctx.results.skip(server.name, metric, f"skipped: {why}")
            continue
        with recorded(ctx, server.name, metrics):
            measure(ctx, server, n, m)


def measure(ctx: Context, server: Server, n: int, m: str) -> None:
    urls = [server.get_url(BIG_KEY) for _ in range(n)]
    pid = server.measured if server.local else None
    cpu_before = procs.tree_cpu(pid) if pid else 0.0
    with procs.RssSampler(pid, cap_mib=ctx.mem_cap_mib) as sampler:
        got = _rounds(urls, ctx.limits.big_get_seconds, ctx.limits.big_get_min_seconds, sampler.tripped)
    cpu = procs.tree_cpu(pid) - cpu_before if pid else None
    ctx.results.details.setdefault("big_get", {}).setdefault(server.name, {})[str(n)] = got.summary()
    note = None
    if sampler.tripped.is_set():
        note = f"aborted: RSS over {ctx.mem_cap_mib:,.0f} MiB"
    elif not got.complete:
        if any(s not in (0, 200) for s in got.statuses):
            for metric in (f"{m}_mb_s", f"{m}_cpu_s_gib", f"{m}_peak_rss_mib"):
                ctx.results.skip(server.name, metric, f"HTTP {got.statuses}")
            return
        note = f"timed out after {got.seconds:.0f} s"
    ctx.results.set(server.name, f"{m}_mb_s", got.mb_per_s if got.nbytes else None, note)
    if pid:
        ctx.results.set(server.name, f"{m}_peak_rss_mib", sampler.peak_mib)
        if cpu is not None and got.nbytes:
            ctx.results.set(server.name, f"{m}_cpu_s_gib", cpu / (got.nbytes / GIB))
    else:
        ctx.results.skip(server.name, f"{m}_peak_rss_mib", "remote")
        ctx.results.skip(server.name, f"{m}_cpu_s_gib", "remote")


def _rounds(urls: list[str], max_seconds: float, min_seconds: float, abort: threading.Event) -> loadgen.Streams:
    """The parallel transfer again and again until ``min_seconds`` are measured; stops at the first
    incomplete round (a timeout, an error or the RSS guard), which then speaks for the whole."""
    rounds: list[loadgen.Streams] = []
    spent = 0.0
    while len(rounds) < MAX_ROUNDS and spent < min_seconds:
        got = loadgen.parallel_curl(urls, max_seconds - spent, abort=abort)
        rounds.append(got)
        spent += got.seconds
        if not got.complete or max_seconds - spent < got.seconds:
            break
    nbytes = sum(r.nbytes for r in rounds)
    return loadgen.Streams(
        mb_per_s=nbytes / 1e6 / spent if spent > 0 else 0.0,
        nbytes=nbytes,
        seconds=spent,
        complete=all(r.complete for r in rounds),
        statuses=[s for r in rounds for s in r.statuses],
        first_bytes=[t for r in rounds for t in r.first_bytes],
    )
