"""Event-loop lag at a steady load well below saturation: presigned 1 KiB GETs at a fixed rate.

wrk is a closed loop: it keeps every connection busy, so a worker's loop always has a full batch of
ready connections and the lag probe's timer waits behind the whole batch (tens of ms at 64
connections, whatever the store). That is the lag of a saturated server. What issue 14's goal asks
about is whether a *single* call stalls the loop, which shows best at a load the server keeps up
with: here :data:`RATE` requests per second, spread over :data:`CONNECTIONS` kept-alive connections
on a fixed schedule (open loop: a late answer does not delay the next request), for as long as one
wrk run. Satchel columns only (the figure is the probe's); its request latencies are in the JSON.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse

from bench.dataset import SMALL_KEY
from bench.servers import Satchel, Server
from bench.workloads import Context, recorded

#: Requests per second in all: about a tenth of what one loaded worker answers on the 2-core machine.
RATE = 100
CONNECTIONS = 4


def run(ctx: Context, server: Server) -> None:
    metrics = ("paced_rps",)
    if not isinstance(server, Satchel):
        ctx.results.skip(server.name, "paced_rps", "not Satchel")
        return
    with recorded(ctx, server.name, metrics):
        url = urllib.parse.urlsplit(server.get_url(SMALL_KEY))
        target = url.path + "?" + url.query
        seconds = ctx.limits.wrk_seconds
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(offset: int) -> None:
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
            began = time.monotonic()
            n = 0
            try:
                while (due := began + (offset + n * CONNECTIONS) / RATE) < began + seconds:
                    time.sleep(max(0.0, due - time.monotonic()))
                    sent = time.monotonic()
                    conn.request("GET", target)
                    resp = conn.getresponse()
                    resp.read()
                    with lock:
                        latencies.append(time.monotonic() - sent)
                        if resp.status != 200:
                            failures.append(str(resp.status))
                    n += 1
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(type(exc).__name__)
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 30)
        latencies.sort()
        ctx.results.details.setdefault("paced", {})[server.name] = {
            "requests": len(latencies), "failures": failures[:20], "rate": RATE, "connections": CONNECTIONS,
            "p50_ms": latencies[len(latencies) // 2] * 1e3 if latencies else None,
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1e3 if latencies else None}
        if failures:
            ctx.results.skip(server.name, "paced_rps", f"errors: {len(failures)} of {len(latencies)}")
        else:
            ctx.results.set(server.name, "paced_rps", len(latencies) / seconds)
