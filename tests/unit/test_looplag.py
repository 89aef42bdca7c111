"""The event-loop lag probe (satchel/looplag.py): a loop blocked by a synchronous call shows as lag."""

from __future__ import annotations

import asyncio
import time

from satchel import looplag, metrics


def _count_and_over(bound: float) -> tuple[float, float]:
    """Samples observed so far, and those above ``bound`` seconds (from the histogram's buckets)."""
    samples = {s.labels.get("le"): s.value for s in next(iter(metrics.LOOP_LAG.collect())).samples
               if s.name.endswith("_bucket")}
    total = samples["+Inf"]
    return total, total - samples[str(bound)]


def test_a_blocked_loop_is_measured_as_lag() -> None:
    async def scenario() -> None:
        task = asyncio.create_task(looplag.probe(0.005))
        await asyncio.sleep(0.05)  # a few samples of an idle loop
        time.sleep(0.06)  # a synchronous call holding the loop (a database round trip, say)
        await asyncio.sleep(0.02)
        task.cancel()

    before, before_over = _count_and_over(0.05)
    asyncio.run(scenario())
    after, after_over = _count_and_over(0.05)
    assert after - before >= 3
    # Exactly the one wake-up that waited behind the 60 ms call was more than 50 ms late.
    assert after_over - before_over == 1


def test_interval_zero_is_no_probe() -> None:
    before, _ = _count_and_over(0.05)
    asyncio.run(asyncio.wait_for(looplag.probe(0), 1))
    assert _count_and_over(0.05)[0] == before
