"""Benchmark Satchel against nginx, moto and any extra S3 endpoint, in one run on loopback.

    make bench                 # full run (about 10 minutes)
    make bench ARGS=--quick    # smoke run (a few minutes)
    .venv/bin/python bench/run.py --servers satchel,nginx --workloads get1k,get1g

Prints one Markdown table of absolute figures and ratios to the reference measured in the same run,
with pass/fail marks against issue 4's targets, and writes everything to bench/results/<time>.json.
See bench/README.md for what is compared and why.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the ``bench`` package importable
    sys.path.insert(0, str(ROOT))

from bench import deps, looplag, pacer, procs  # noqa: E402
from bench.dataset import GIB, MIB, Files, check_disk, make_files, seed  # noqa: E402
from bench.results import (  # noqa: E402
    LAG_WORKLOADS,
    NOT_HELD,
    PACED_HALF,
    PACED_RATES,
    Results,
    save,
    table,
)
from bench.servers import (  # noqa: E402
    BUCKET,
    External,
    Moto,
    Nginx,
    Rgw,
    Satchel,
    SatchelS3,
    SeaweedFS,
    Server,
    external_from_env,
)
from bench.twonodes import SatchelTwoNodes  # noqa: E402
from bench.workloads import (  # noqa: E402
    FULL,
    QUICK,
    Context,
    Limits,
    big_get,
    big_put,
    listing,
    memory,
    minting,
    paced,
    small_get,
)

WORKLOADS = ("get1k", "paced", "get1g", "put", "list", "mint", "memory")
#: The workloads that use the big object (``--big-mib``).
BIG_WORKLOADS = {"get1g", "put", "memory"}
RESULTS_DIR = ROOT / "bench" / "results"
#: Name and kind of the opt-in Ceph column: its packages are installed only when ``--servers`` names it.
RGW_NAME = Rgw.kind


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short loads: a smoke run in a few minutes")
    p.add_argument("--servers", default="",
                   help="comma-separated names or kinds: satchel, satchel-Nw, satchel-s3, satchel-2n, nginx, moto, "
                        "seaweedfs, external, rgw "
                        "(default: all but rgw, a Ceph cluster started only when named)")
    p.add_argument("--workloads", default="", help=f"comma-separated subset of {','.join(WORKLOADS)}")
    p.add_argument("--big-mib", type=int, default=1024,
                   help="size of the big object in MiB (1024 is what the targets mean; smaller for debugging)")
    p.add_argument("--workers", type=int, default=0, help="workers of the multi-worker Satchel (default: cores)")
    args = p.parse_args(argv)
    args.servers = {s.strip() for s in args.servers.split(",") if s.strip()}
    args.workloads = {w.strip() for w in args.workloads.split(",") if w.strip()} or set(WORKLOADS)
    unknown = args.workloads - set(WORKLOADS)
    if unknown:
        p.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


def build_servers(tmp: Path, files: Files, tools: dict[str, str], cores: int, workers: int) -> list[Server]:
    access_key, secret = "benchroot", "bench-" + os.urandom(12).hex()
    data_dir = tmp / "satchel-data"
    # Both Satchel configurations serve one data directory: literally the same data, loaded once.
    servers: list[Server] = [Satchel("satchel-1w", data_dir, None, access_key, secret)]
    if workers > 1:  # on one core the default already is "as many workers as cores"
        servers.append(Satchel(f"satchel-{workers}w", data_dir, workers, access_key, secret))
    servers += [
        Nginx(f"nginx-{Nginx.WORKERS}w", files.www, tmp / "nginx", tools["nginx"]),
        Moto("moto"),
        # Blobs in an upstream S3 cluster (its own SeaweedFS): its own data dir, loaded on its own.
        SatchelS3("satchel-s3", tmp / "satchel-s3-data", access_key, secret, tmp / "satchel-s3-upstream"),
        # Scaled out: two nodes on PostgreSQL and SeaweedFS behind HAProxy (bench/twonodes.py).
        SatchelTwoNodes("satchel-2n", tmp / "satchel-2n", access_key, secret, tools["haproxy"]),
        SeaweedFS("seaweedfs", tmp / "seaweedfs"),
        Rgw(RGW_NAME, tmp / "rgw"),
    ]
    extra = external_from_env()
    if extra is not None:
        servers.append(extra)
    return servers


def selected(server: Server, wanted: set[str]) -> bool:
    """Named by ``--servers`` (name or kind); without it, every server that is not opt-in."""
    if not wanted:
        return not server.opt_in
    return server.name in wanted or server.kind in wanted


class Run:
    """One benchmark run: owns the temporary directory, the servers and the results."""

    def __init__(self, args: argparse.Namespace, limits: Limits, tools: dict[str, str], tmp: Path) -> None:
        self.args = args
        self.limits = limits
        self.tmp = tmp
        self.cores = len(os.sched_getaffinity(0))
        self.workers = args.workers or self.cores
        self.results = Results(quick=args.quick)
        # Only the big-object workloads read it: without them a 1 MiB stand-in spares minutes of seeding.
        self.big_bytes = args.big_mib * MIB if args.workloads & BIG_WORKLOADS else MIB
        self.results.details["big_object_bytes"] = self.big_bytes
        self.tools = tools
        self.servers: list[Server] = []
        #: Each Satchel's first and last lag histogram (:meth:`_lag`).
        self._lag_span: dict[str, list[looplag.Buckets]] = {}

    def want(self, workload: str) -> bool:
        return workload in self.args.workloads

    def execute(self) -> None:
        big = self.big_bytes
        # RGW keeps what it stores (and what is deleted, until its garbage collector runs hours later).
        check_disk(self.tmp, 6 * big + GIB + (4 * big if RGW_NAME in self.args.servers else 0))
        print(f"bench: writing the {big // MIB} MiB object to {self.tmp}", flush=True)
        files = make_files(self.tmp, BUCKET, big)
        servers = build_servers(self.tmp, files, self.tools, self.cores, self.workers)
        self.servers = [s for s in servers if selected(s, self.args.servers)]
        for s in self.servers:
            self.results.add_server(s.name, s.kind)
        self.results.target_server = next(
            (s.name for s in self.servers if isinstance(s, Satchel) and (s.workers or 1) == self.workers), None)
        ctx = Context(self.results, files, self.limits, self.cores, mem_cap_mib=_mem_cap_mib())

        logs = self.tmp / "logs"
        logs.mkdir()
        for s in self.servers:
            print(f"bench: starting {s.name}", flush=True)
            began = time.monotonic()
            s.start(logs)
            self.results.details.setdefault("startup_seconds", {})[s.name] = round(time.monotonic() - began, 2)
            if s.failure:
                print(f"bench: {s.name} failed to start: {s.failure}", flush=True)
                self.results.failures[s.name] = s.failure
                continue
            memory.idle(ctx, s)

        groups: dict[str, str | None] = {}
        seeded = {s.name: self._seed(s, files, groups) for s in self.servers if s.up}
        loaded: dict[str, set[int]] = {}
        # Workload by workload, server after server: a server and its reference are measured seconds
        # apart, not minutes, so a burst of load from elsewhere on the machine skews a ratio less.
        if self.want("get1k"):
            for rnd in range(small_get.ROUNDS):
                self._each(f"1 KiB presigned GET, round {rnd + 1}", lambda s: small_get.run(ctx, s), "get1k")
        if self.want("paced"):
            mixes = {s.name: paced.prepare(ctx, s) for s in self.servers if s.up}
            for rate in PACED_RATES:
                self._each(f"mixed requests at {rate}/s", functools.partial(_paced, ctx, mixes, rate),
                           paced.metric(rate))
            self._each("mixed requests at half the column's capacity", functools.partial(_paced, ctx, mixes, None),
                       PACED_HALF)
        if self.want("get1g"):
            self._each("GET of the big object", lambda s: big_get.run(ctx, s, seeded[s.name] is None, seeded[s.name]),
                       "get1g")
        if self.want("put"):
            # Right before the uploads, not at the start: the machine's load drifts over minutes.
            print("bench: MD5 on one core", flush=True)
            big_put.md5_rate(self.results)
            self._each("PUT of the big object", lambda s: big_put.run(ctx, s), "put")
        if self.want("list"):
            self._each("ListObjectsV2", lambda s: listing.run(ctx, s, loaded), "list")
        if self.want("mint"):
            # boto3's rate, the reference, right before the link API's: measured at the start of the run
            # it once met a burst of load that the link API minutes later did not, and the ratio lied.
            print("bench: minting presigned URLs in process", flush=True)
            minting.client_side(self.results, self.limits.mint_seconds)
            self._each("link API minting", lambda s: minting.per_server(self.results, s, self.limits.link_api_seconds),
                       "mint")
        if self.want("memory"):  # last: its guard may have to kill a server
            self._each("64 concurrent downloads",
                       lambda s: memory.concurrent(ctx, s, seeded[s.name] is None, seeded[s.name]), "memory")
        self.lag_figures()

    def _each(self, what: str, work: Callable[[Server], None], lag: str) -> None:
        """Run ``work`` on every server that is up; a Satchel's event-loop lag during it is added to
        the histogram kept for workload ``lag``."""
        for s in self.servers:
            if s.up:
                print(f"bench: {what}: {s.name}", flush=True)
                before = self._lag(s)
                try:
                    work(s)
                except Exception as exc:  # one server's surprise must not end the run for the others
                    print(f"bench: {what}: {s.name}: {type(exc).__name__}: {exc}", flush=True)
                    self.results.details.setdefault("errors", []).append(
                        {"server": s.name, "workload": what, "error": repr(exc)[:1000]})
                after = self._lag(s)
                if before is not None and after is not None:
                    kept = self.results.details.setdefault("loop_lag_buckets", {}).setdefault(s.name, {})
                    kept[lag] = looplag.plus(kept.get(lag, {}), looplag.minus(after, before))

    def _lag(self, server: Server) -> looplag.Buckets | None:
        """The lag histogram of a Satchel's nodes now (None for other servers, or when a scrape fails)."""
        if not isinstance(server, Satchel) or not server.up:
            return None
        try:
            now = looplag.scrape(n.url for n in server.nodes)
        except OSError as exc:
            self.results.details.setdefault("errors", []).append(
                {"server": server.name, "workload": "event-loop lag scrape", "error": repr(exc)[:1000]})
            return None
        # The first and the last scrape: what lies between them outside the server's own turns is its
        # lag while idle, with the other columns under load (the machine's own noise).
        self._lag_span.setdefault(server.name, [now, now])[1] = now
        return now

    def lag_figures(self) -> None:
        """p99 lag per workload and over all of them, for every Satchel column."""
        for s in self.servers:
            if not isinstance(s, Satchel):
                for tag in (*LAG_WORKLOADS, "all", "idle"):
                    self.results.skip(s.name, f"loop_lag_{tag}_p99_ms", "not Satchel")
        shared = _metrics_shared(self.servers)
        for name, per_workload in self.results.details.get("loop_lag_buckets", {}).items():
            if name in shared:
                for tag in (*LAG_WORKLOADS, "all", "idle"):
                    self.results.skip(name, f"loop_lag_{tag}_p99_ms", f"not measured: {shared[name]}")
                continue
            everything: looplag.Buckets = {}
            for workload, buckets in per_workload.items():
                everything = looplag.plus(everything, buckets)
                self._set_lag(name, workload, buckets)
            self._set_lag(name, "all", everything)
            first, last = self._lag_span.get(name, [{}, {}])
            self._set_lag(name, "idle", looplag.minus(looplag.minus(last, first), everything))

    def _set_lag(self, name: str, workload: str, buckets: looplag.Buckets) -> None:
        p99 = looplag.quantile(buckets, 0.99)
        if p99 is None:
            self.results.skip(name, f"loop_lag_{workload}_p99_ms", "no samples")
        else:
            # Under a rate the generator or the server did not hold, the lag is a saturated server's.
            held = NOT_HELD not in (self.results.get(name, f"{workload}_rps").note or "")
            self.results.set(name, f"loop_lag_{workload}_p99_ms", p99 * 1e3, None if held else NOT_HELD)
        self.results.set(name, f"loop_lag_{workload}_samples", looplag.samples(buckets))

    def _seed(self, server: Server, files: Files, seeded: dict[str, str | None]) -> str | None:
        if not server.s3:
            return None
        group = listing.load_group(server)
        if group not in seeded:
            print(f"bench: {server.name}: uploading the test objects", flush=True)
            seeded[group] = seed(server, files, self.limits.seed_seconds)
            if seeded[group] is not None:
                self.results.details.setdefault("seed_failures", {})[server.name] = seeded[group]
        return seeded[group]

    def cleanup(self) -> None:
        for s in self.servers:
            if isinstance(s, External) and s.up:
                _empty_external(s)
        for s in reversed(self.servers):
            s.stop()
        procs.kill_all()


def _paced(ctx: Context, mixes: dict[str, list[pacer.Request] | None], rate: int | None, server: Server) -> None:
    """One rate of the paced mix on ``server`` (None: half its capacity); nothing when it has no mix
    (not Satchel, or it failed)."""
    mix = mixes.get(server.name)
    if mix is not None:
        paced.run(ctx, server, mix, rate)


def _metrics_shared(servers: list[Server]) -> dict[str, str]:
    """Satchels whose metric files a later one replaced: ``satchel serve`` empties ``<data
    dir>/run/metrics`` when it starts, and ``satchel-1w`` and ``satchel-Nw`` serve one data dir, so
    scraping the first reads the second's workers. Name -> why its lag is not measured."""
    last: dict[Path, str] = {}
    for s in servers:
        if isinstance(s, Satchel):
            for node in s.nodes:
                last[node.data_dir] = s.name
    return {s.name: f"its metric files are {last[s.data_dir]}'s (one data dir)" for s in servers
            if isinstance(s, Satchel) and last.get(s.data_dir, s.name) != s.name}


def _mem_cap_mib() -> float:
    """Half the memory available now: the RSS guard for servers that buffer whole objects."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 / 2
    return 8192.0


def _empty_external(server: External) -> None:
    """Remove what this run created on someone else's endpoint (bounded: our buckets only)."""
    client = server.client()
    buckets = [server.bucket] + [listing.bucket_name(server, e) for e in (4, 5, 6)]
    for bucket in buckets:
        with contextlib.suppress(Exception):
            for _ in range(200):
                page = client.list_objects_v2(Bucket=bucket, MaxKeys=1000)
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if not keys:
                    break
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            client.delete_bucket(Bucket=bucket)


def _commit() -> str:
    """The commit measured (read only), plus a mark when the tree has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "satchel"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if head.returncode != 0:
        return "none (no commit yet)"
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = deps.ensure_all(rgw=RGW_NAME in args.servers)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    tmp = Path(tempfile.mkdtemp(prefix="satchel-bench-"))
    run = Run(args, QUICK if args.quick else FULL, tools, tmp)
    began = time.monotonic()
    run.results.details["loadavg_start"] = os.getloadavg()
    interrupted = False
    try:
        run.execute()
    except KeyboardInterrupt:
        interrupted = True
        print("\nbench: interrupted; stopping servers and cleaning up", flush=True)
        run.lag_figures()  # of the workloads that ran
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave servers behind
        run.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    run.results.details["interrupted"] = interrupted
    run.results.details["wall_seconds"] = time.monotonic() - began
    details = run.results.details
    details["commit"] = _commit()
    details["loadavg_end"] = os.getloadavg()
    heading = [
        "quick run" if args.quick else "full run",
        time.strftime("%Y-%m-%d %H:%M"),
        f"commit {details['commit']}",
        f"{run.cores} cores",
        f"1-min load average {details['loadavg_start'][0]:.1f} at start, {details['loadavg_end'][0]:.1f} at end",
        f"{time.monotonic() - began:.0f} s",
    ]
    if interrupted:
        heading.append("INTERRUPTED")
    print(f"\n## Results ({', '.join(heading)})\n")
    print(table(run.results))
    path = save(run.results, RESULTS_DIR)
    print(f"\nbench: results written to {path.relative_to(ROOT)}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
