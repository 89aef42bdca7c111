"""Workload 2: GET of the 1 GiB object, one stream and 4 parallel streams (curl to /dev/null).

Besides MB/s it measures what the server spends: peak RSS of its process tree (sampled every 100 ms)
and CPU seconds per GiB sent (utime + stime of the tree before and after), the figure that says
whether a server streams as cheaply as nginx's sendfile.
"""

from __future__ import annotations

from bench import loadgen, procs
from bench.dataset import BIG_KEY, GIB
from bench.servers import Server
from bench.workloads import Context, recorded

STREAMS = (1, 4)


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
    pid = server.pid if server.local else None
    cpu_before = procs.tree_cpu(pid) if pid else 0.0
    with procs.RssSampler(pid, cap_mib=ctx.mem_cap_mib) as sampler:
        got = loadgen.parallel_curl(urls, ctx.limits.big_get_seconds, abort=sampler.tripped)
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
