"""Workload 6: idle RSS, and RSS while serving 64 concurrent downloads of the 1 GiB object.

The 64 downloads run for a fixed time, not to completion: what matters is the plateau a server's
memory reaches when every connection has a large body in flight. A guard stops the clients if a
server's tree grows past a share of the machine's memory (moto buffers whole objects).
"""

from __future__ import annotations

import time

from bench import loadgen, procs
from bench.dataset import BIG_KEY
from bench.servers import Server
from bench.workloads import Context, recorded

DOWNLOADS = 64
#: Anything above this is far past the target (200 MB) and only risks the machine: the server is
#: killed (this workload runs last for each server for that reason).
CAP_MIB = 4096.0


def idle(ctx: Context, server: Server) -> None:
    """Right after start, before any request: what the server costs doing nothing."""
    if not server.local or server.measured is None:
        ctx.results.skip(server.name, "idle_rss_mib", "remote")
        ctx.results.skip(server.name, "idle_rss_max_proc_mib", "remote")
        return
    time.sleep(1.0)  # let forked workers finish importing
    sample = procs.sample_tree(server.measured)
    ctx.results.set(server.name, "idle_rss_mib", sample.rss_mib)
    ctx.results.set(server.name, "idle_rss_max_proc_mib", max(sample.per_process_mib, default=0.0))
    ctx.results.details.setdefault("idle_rss_per_process_mib", {})[server.name] = sample.per_process_mib
    if isinstance(server.measured, tuple):  # several roots (satchel-2n): what each part costs
        ctx.results.details.setdefault("idle_rss_per_root_mib", {})[server.name] = {
            _command(root): procs.sample_tree(root).rss_mib for root in server.measured}


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            words = fh.read().split(b"\0")
    except OSError:
        return str(pid)
    return f"{pid} " + " ".join(w.decode(errors="replace") for w in words[:3])


def concurrent(ctx: Context, server: Server, seeded: bool, why: str | None) -> None:
    metrics = ("rss64_peak_mib", "rss64_mb_s")
    if not seeded:
        for m in metrics:
            ctx.results.skip(server.name, m, f"skipped: {why}")
        return
    with recorded(ctx, server.name, metrics):
        url = server.get_url(BIG_KEY)
        pid = server.measured if server.local else None
        cap = min(CAP_MIB, ctx.mem_cap_mib)
        with procs.RssSampler(pid, cap_mib=cap, on_trip=server.kill) as sampler:
            got = loadgen.parallel_curl([url] * DOWNLOADS, ctx.limits.rss64_seconds, abort=sampler.tripped)
        ctx.results.details.setdefault("rss64", {})[server.name] = got.summary()
        bad = [s for s in got.statuses if s not in (0, 200)]
        if sampler.tripped.is_set():
            ctx.results.skip(server.name, "rss64_mb_s", "server killed")
        elif bad:
            ctx.results.skip(server.name, "rss64_mb_s", f"HTTP {sorted(set(bad))}")
        else:
            ctx.results.set(server.name, "rss64_mb_s", got.mb_per_s)
        if pid is None:
            ctx.results.skip(server.name, "rss64_peak_mib", "remote")
        elif sampler.tripped.is_set():
            ctx.results.set(server.name, "rss64_peak_mib", sampler.peak_mib, f"killed over {cap:,.0f} MiB")
        else:
            ctx.results.set(server.name, "rss64_peak_mib", sampler.peak_mib)
