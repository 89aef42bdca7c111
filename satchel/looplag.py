"""The event loop's lag: how late a timer fires, sampled every ``event_loop_lag_interval`` seconds.

A worker serves every connection on one event loop, so a synchronous call made on it (a metadata read on
PostgreSQL is a network round trip) stalls every request the worker holds for as long. The probe sleeps
``interval`` and records, in ``satchel_event_loop_lag_seconds``, how much later than asked it woke: the
wait any request that became ready at that moment had before the loop ran it. The same measure as
Node's ``monitorEventLoopDelay``; ``bench/`` reads its p99 under load (issue 14's goal: ≤ 5 ms).

The clock is ``time.perf_counter``; uvloop's timers have millisecond resolution, so a lag under ~1 ms is
timer granularity rather than a stall (the idle figure shows it). Off by default (``interval`` 0);
each sample costs one histogram update, a few microseconds.
"""

from __future__ import annotations

import asyncio
import time

from satchel import metrics


async def probe(interval: float) -> None:
    """Sample the loop's lag for ever (cancelled at shutdown); returns at once when ``interval`` is 0."""
    if interval <= 0:
        return
    clock = time.perf_counter
    while True:
        began = clock()
        await asyncio.sleep(interval)
        metrics.LOOP_LAG.observe(max(0.0, clock() - began - interval))
