"""Where a saturated worker's event-loop lag comes from: one long callback, or a batch of short ones.

    PYTHONPATH=. .venv/bin/python -m bench.loopwhy            # about 1 minute
    PYTHONPATH=. .venv/bin/python -m bench.loopwhy --pin      # server on CPU 0, wrk on CPU 1

Runs one ``satchel serve`` worker (SQLite, local disk) in a wrapper that leaves Satchel's code alone
and adds two instruments inside the worker:

- the lag probe (``satchel.looplag.probe``, every 10 ms) also counts the requests the worker finished
  between two of its wake-ups, and the process's CPU time over that gap: so each lag sample comes
  with the batch that ran while the timer waited and what that batch cost;
- a second pass (the census) runs the same worker on asyncio's own event loop instead of uvloop, with
  its ``Handle._run`` wrapped to read the loop thread's CPU time (``time.thread_time``) around every
  callback (a task's step, a socket's data, a timer): each callback slower than :data:`SLOW` of CPU
  is kept and named, and the callbacks run between two probe wake-ups are counted. CPU time, not wall
  time: a worker the kernel took off its core for 30 ms would otherwise look like a 30 ms callback
  (asyncio's own ``slow_callback_duration`` measures wall time, and under uvloop's debug mode every
  handle also records a traceback, which triples the cost of a request). So this pass answers "is any
  single callback long?"; its lag figures are asyncio's, a little slower than uvloop's.

Then wrk sends a presigned 1 KiB GET at 1, 4, 16, 32 and 64 connections, one step each, and prints per
step: req/s, CPU ms per request, the lag's p50/p99, the requests finished in a probe gap (mean, and
mean over the gaps at or above the p99 lag), that batch times the CPU per request (what the batch alone
predicts), and the slow callbacks. If the lag is the batch, it grows with the connections and
matches the prediction; a long callback shows as a census entry of its own size.
Results are written to ``bench/results/loopwhy-<time>.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: A callback that takes more CPU than this is named by the census (the goal's 5 ms, with room to spare).
SLOW = 0.002
STEPS = (1, 4, 16, 32, 64)
STATS_PATH = "/_loopwhy"


# --- inside the worker ------------------------------------------------------------------------------
class _Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.finished = 0
        self.callbacks = 0
        #: (lag ms, requests finished in the gap, CPU ms of the process in the gap, callbacks run in it)
        self.gaps: list[tuple[float, int, float, int]] = []
        self.slow: list[tuple[float, str]] = []
        #: Garbage collections slower than SLOW: (CPU ms, generation)
        self.gc: list[tuple[float, int]] = []


STATS = _Stats()


def _instrument(census: bool) -> None:
    import asyncio
    import asyncio.events

    import satchel.app
    import satchel.looplag
    import satchel.worker
    from satchel import metrics

    if census:
        run = asyncio.events.Handle._run
        thread_time = time.thread_time

        def timed(handle: asyncio.events.Handle) -> None:
            began = thread_time()
            run(handle)
            took = thread_time() - began
            STATS.callbacks += 1
            if took > SLOW:
                # A task's step names only a wrapper; the task itself names its coroutine.
                what = getattr(getattr(handle, "_callback", None), "__self__", handle)
                STATS.slow.append((took * 1e3, repr(what)[:300]))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
        configure = satchel.worker.uvicorn_config

        def on_asyncio(settings: Any) -> Any:
            config = configure(settings)
            config.loop = "asyncio"
            return config

        satchel.worker.uvicorn_config = on_asyncio

    collecting: list[float] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        """Garbage collections that took more than SLOW (a pause no callback of ours asked for)."""
        if phase == "start":
            collecting[:] = [time.thread_time()]
        elif collecting:
            took = time.thread_time() - collecting[0]
            if took > SLOW:
                STATS.gc.append((took * 1e3, info.get("generation", -1)))

    gc.callbacks.append(collected)

    async def probe(interval: float) -> None:
        if interval <= 0:
            return
        while True:
            began, cpu, done, calls = time.perf_counter(), time.process_time(), STATS.finished, STATS.callbacks
            await asyncio.sleep(interval)
            lag = max(0.0, time.perf_counter() - began - interval)
            metrics.LOOP_LAG.observe(lag)
            STATS.gaps.append((lag * 1e3, STATS.finished - done, (time.process_time() - cpu) * 1e3,
                               STATS.callbacks - calls))

    create = satchel.app.create_app

    def create_app() -> Any:
        app = create()

        async def counted(scope: Any, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("path") == STATS_PATH:
                body = json.dumps({"gaps": STATS.gaps, "slow": STATS.slow, "gc": STATS.gc}).encode()
                STATS.reset()
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)
            STATS.finished += 1

        return counted

    satchel.looplag.probe = probe
    satchel.app.create_app = create_app


def _worker(census: bool) -> int:
    _instrument(census)
    from satchel.worker import main

    return main([])


def _serve(census: bool) -> None:
    """``satchel serve`` as usual (data dir, bootstrap), but exec'ing the instrumented worker."""
    import satchel.server
    from satchel.cli.main import main

    satchel.server.serve_argv = lambda settings: [
        sys.executable, "-m", "bench.loopwhy", "--worker", *(["--census"] if census else [])]
    sys.argv = ["satchel", "serve"]
    main()


# --- the driver ---------------------------------------------------------------------------------------
def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _step(url: str, base: str, pid: int, conns: int, seconds: float, pin: bool) -> dict[str, Any]:
    from bench import loadgen

    _fetch(base + STATS_PATH)  # forget what came before
    cpu = _cpu_seconds(pid)
    args = ["wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", "--latency", url]
    if pin:
        args = ["taskset", "-c", "1", *args]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30).stdout
    cpu = _cpu_seconds(pid) - cpu
    got = loadgen.parse_wrk(out)
    stats = _fetch(base + STATS_PATH)
    gaps = [g for g in stats["gaps"] if g[1] > 0] or stats["gaps"]
    lags = [g[0] for g in gaps]
    p99 = _pct(lags, 0.99)
    top = [g for g in gaps if g[0] >= p99] or gaps
    cpu_per_req = cpu * 1e3 / got.requests if got.requests else 0.0
    batch_top = sum(g[1] for g in top) / len(top) if top else 0.0
    slow = sorted(stats["slow"], reverse=True)
    return {"connections": conns, "rps": round(got.rps), "errors": got.errors,
            "cpu_ms_per_request": round(cpu_per_req, 3),
            "lag_p50_ms": round(_pct(lags, 0.5), 2), "lag_p99_ms": round(p99, 2), "gaps": len(lags),
            "batch_mean": round(sum(g[1] for g in gaps) / len(gaps), 1) if gaps else 0.0,
            "batch_at_p99": round(batch_top, 1), "predicted_p99_ms": round(batch_top * cpu_per_req, 2),
            "gap_cpu_ms_at_p99": round(sum(g[2] for g in top) / len(top), 2) if top else 0.0,
            "callbacks_at_p99": round(sum(g[3] for g in top) / len(top), 1) if top else 0.0,
            "slow_callbacks": len(slow), "slowest": slow[:5], "slow_gcs": sorted(stats["gc"], reverse=True)[:5],
            "wrk_p99_ms": got.p99_ms}


def _server(tmp: Path, port: int, census: bool, pin: bool, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SATCHEL_DATA_DIR=str(tmp / "data"), SATCHEL_HOST="127.0.0.1",
               SATCHEL_PORT=str(port), SATCHEL_ROOT_ACCESS_KEY="loopwhyroot",
               SATCHEL_ROOT_SECRET_KEY="loopwhy-secret-0123456789", SATCHEL_EVENT_LOOP_LAG_INTERVAL="0.01")
    args = [sys.executable, "-m", "bench.loopwhy", "--serve", *(["--census"] if census else [])]
    if pin:
        args = ["taskset", "-c", "0", *args]
    with open(log, "ab") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _measure(tmp: Path, census: bool, pin: bool, seconds: float) -> list[dict[str, Any]]:
    import boto3
    from botocore.config import Config

    from bench.seaweedfs import free_ports

    port = free_ports(1)[0]
    base = f"http://127.0.0.1:{port}"
    proc = _server(tmp, port, census, pin, tmp / "server.log")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/_satchel/health", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start: " + (tmp / "server.log").read_text()[-800:]) from None
                time.sleep(0.2)
        s3 = boto3.client("s3", endpoint_url=base, region_name="us-east-1", aws_access_key_id="loopwhyroot",
                          aws_secret_access_key="loopwhy-secret-0123456789",
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        if "bench" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="1k", Body=b"x" * 1024)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "1k"}, ExpiresIn=3600)
        rows = []
        for conns in STEPS:
            row = _step(url, base, proc.pid, conns, seconds, pin)
            row["loadavg"] = round(os.getloadavg()[0], 2)
            print(json.dumps({"census": census, **row}), flush=True)
            rows.append(row)
        return rows
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pin", action="store_true", help="server on CPU 0, wrk on CPU 1 (no contention between them)")
    p.add_argument("--seconds", type=float, default=5.0, help="wrk's duration per step")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--census", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args.census)
    if args.serve:
        _serve(args.census)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="satchel-bench-loopwhy-"))
    try:
        report = {"pinned": args.pin, "uptime_start": os.getloadavg(), "slow_threshold_ms": SLOW * 1e3,
                  "plain": _measure(tmp, False, args.pin, args.seconds),
                  "census": _measure(tmp, True, args.pin, args.seconds), "uptime_end": os.getloadavg()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = ROOT / "bench" / "results" / time.strftime("loopwhy-%Y%m%dT%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"loopwhy: written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
