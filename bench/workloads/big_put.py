"""Workload 3: uploads of the 1 GiB file, and the MD5 rate that bounds them.

A presigned PUT streamed by ``curl -T`` measures the server's receive path alone; boto3
``upload_file`` (multipart, 8 MiB parts, 10 threads) is what most users run. S3 servers must compute
the MD5 ETag of what they receive, so the target is a share of single-core MD5 throughput measured in
the same run, on the same noisy machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import time

from bench import loadgen, procs
from bench.dataset import MIB, upload_bounded
from bench.results import Cell, Results
from bench.servers import Server
from bench.workloads import Context, recorded

CURL_KEY = "put-curl.bin"
BOTO_KEY = "put-boto3.bin"
MD5_BUFFER = 256 * MIB


def md5_rate(results: Results, rounds: int = 3) -> None:
    """hashlib MD5 over a 256 MiB buffer on one core; best of ``rounds`` (MB/s)."""
    buf = bytes(MD5_BUFFER)
    best = 0.0
    for _ in range(rounds):
        began = time.perf_counter()
        hashlib.md5(buf, usedforsecurity=False).digest()
        best = max(best, MD5_BUFFER / 1e6 / (time.perf_counter() - began))
    results.globals["md5_mb_s"] = Cell(best)


def run(ctx: Context, server: Server) -> None:
    metrics = ("put1g_curl_mb_s", "put1g_curl_peak_rss_mib", "put1g_boto3_mb_s")
    if not server.s3:
        for m in metrics:
            ctx.results.skip(server.name, m, "static server")
        return
    with recorded(ctx, server.name, metrics[:2]):
        curl_put(ctx, server)
    with recorded(ctx, server.name, metrics[2:]):
        boto_put(ctx, server)
    # Free the space (and moto's memory) before the next workload.
    client = server.client()
    for key in (CURL_KEY, BOTO_KEY):
        with contextlib.suppress(Exception):
            client.delete_object(Bucket=server.bucket, Key=key)


def curl_put(ctx: Context, server: Server) -> None:
    url = server.put_url(CURL_KEY)
    pid = server.measured if server.local else None
    with procs.RssSampler(pid, cap_mib=ctx.mem_cap_mib) as sampler:
        got = loadgen.parallel_curl([url], ctx.limits.put_seconds, upload=ctx.files.big, abort=sampler.tripped)
    ctx.results.details.setdefault("put_curl", {})[server.name] = got.summary()
    if got.statuses and got.statuses[0] not in (0, 200):
        ctx.results.skip(server.name, "put1g_curl_mb_s", f"HTTP {got.statuses[0]}")
    elif got.complete:
        ctx.results.set(server.name, "put1g_curl_mb_s", got.mb_per_s)
    else:
        note = "aborted: RSS cap" if sampler.tripped.is_set() else f"timed out after {got.seconds:.0f} s"
        ctx.results.set(server.name, "put1g_curl_mb_s", got.mb_per_s if got.nbytes else None, note)
    if pid is None:
        ctx.results.skip(server.name, "put1g_curl_peak_rss_mib", "remote")
    else:
        ctx.results.set(server.name, "put1g_curl_peak_rss_mib", sampler.peak_mib)


def boto_put(ctx: Context, server: Server) -> None:
    sent, took, done = upload_bounded(server.client(), ctx.files.big, server.bucket, BOTO_KEY,
                                      ctx.limits.put_seconds)
    rate = sent / 1e6 / took if took > 0 else None
    ctx.results.set(server.name, "put1g_boto3_mb_s", rate, None if done else f"timed out after {took:.0f} s")
