"""Each Satchel column's event-loop lag under the benchmark's load (issue 14: p99 ≤ 5 ms on either engine).

Every Satchel the harness starts runs the lag probe (``event_loop_lag_interval`` = :data:`INTERVAL`;
satchel/looplag.py): each worker wakes every 10 ms and records how late it woke into the
``satchel_event_loop_lag_seconds`` histogram, which a node's workers share. The harness scrapes each
node's ``/_satchel/metrics`` (directly, not through a load balancer) before and after a server's turn
at a workload, so the difference is the lag of that server's workers under that load alone; the
``satchel-2n`` column adds its two nodes' histograms. The p99 is interpolated within the histogram's
buckets as Prometheus's ``histogram_quantile`` does (bounds at 0.5, 1, 2, 3, 4, 5, 7.5 and 10 ms ...).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterable

#: Seconds between two wake-ups of each worker's probe while the harness runs it.
INTERVAL = 0.01
_BUCKET = re.compile(r'^satchel_event_loop_lag_seconds_bucket\{le="([^"]+)"\} ([0-9.e+-]+)$', re.M)

#: Cumulative counts by upper bound (seconds; +Inf included), as the exposition gives them.
Buckets = dict[float, float]


def scrape(urls: Iterable[str], timeout: float = 5.0) -> Buckets:
    """The lag histogram of every node at ``urls``, added together."""
    total: Buckets = {}
    for url in urls:
        with urllib.request.urlopen(url + "/_satchel/metrics", timeout=timeout) as resp:
            text = resp.read().decode()
        for bound, count in _BUCKET.findall(text):
            le = float(bound)
            total[le] = total.get(le, 0.0) + float(count)
    return total


def minus(after: Buckets, before: Buckets) -> Buckets:
    return {le: count - before.get(le, 0.0) for le, count in after.items()}


def plus(a: Buckets, b: Buckets) -> Buckets:
    return {le: a.get(le, 0.0) + b.get(le, 0.0) for le in a.keys() | b.keys()}


def samples(buckets: Buckets) -> float:
    return buckets.get(float("inf"), 0.0)


def quantile(buckets: Buckets, q: float) -> float | None:
    """The ``q`` quantile in seconds, interpolated linearly within its bucket; the largest finite bound
    when it falls in the +Inf bucket; None without samples."""
    total = samples(buckets)
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for le in sorted(buckets):
        count = buckets[le]
        if count >= rank:
            if le == float("inf"):
                return lower
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, count
    return lower
