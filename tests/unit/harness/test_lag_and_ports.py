"""The harness's event-loop lag arithmetic (bench/looplag.py) and its port picking (BENCH_PORTS)."""

from __future__ import annotations

import socket

import pytest

from bench import looplag, seaweedfs

INF = float("inf")

EXPOSITION = """\
# HELP satchel_event_loop_lag_seconds How late ...
# TYPE satchel_event_loop_lag_seconds histogram
satchel_event_loop_lag_seconds_bucket{le="0.001"} 90.0
satchel_event_loop_lag_seconds_bucket{le="0.005"} 98.0
satchel_event_loop_lag_seconds_bucket{le="0.01"} 100.0
satchel_event_loop_lag_seconds_bucket{le="+Inf"} 100.0
satchel_event_loop_lag_seconds_count 100.0
"""


def test_p99_is_interpolated_within_its_bucket_like_histogram_quantile() -> None:
    buckets = {float(le): float(n) for le, n in looplag._BUCKET.findall(EXPOSITION)}
    assert buckets == {0.001: 90.0, 0.005: 98.0, 0.01: 100.0, INF: 100.0}
    # Rank 99 lies half-way through the (5 ms, 10 ms] bucket, which holds samples 99 and 100.
    assert looplag.quantile(buckets, 0.99) == pytest.approx(0.0075)
    assert looplag.quantile(buckets, 0.5) == pytest.approx(0.001 * 50 / 90)
    # Past the last finite bound: that bound, never a made-up figure.
    assert looplag.quantile({0.01: 1.0, INF: 100.0}, 0.99) == 0.01
    assert looplag.quantile({0.01: 0.0, INF: 0.0}, 0.99) is None


def test_a_workload_counts_only_what_it_added() -> None:
    before = {0.001: 10.0, INF: 10.0}
    after = {0.001: 10.0, INF: 12.0}
    assert looplag.minus(after, before) == {0.001: 0.0, INF: 2.0}
    assert looplag.samples(looplag.plus(after, before)) == 22.0


def test_ports_come_from_bench_ports_and_are_never_handed_out_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    monkeypatch.setattr(seaweedfs, "_given", set())
    monkeypatch.setenv(seaweedfs.PORTS_ENV, f"{base}-{base + 40}")
    first, second = seaweedfs.free_ports(3), seaweedfs.free_ports(3)
    assert all(base <= p <= base + 40 for p in first + second)
    assert len(set(first + second)) == 6
    monkeypatch.setenv(seaweedfs.PORTS_ENV, f"{base}-{base}")
    with pytest.raises(OSError, match="fewer than 1 free ports"):
        seaweedfs.free_ports(1)  # the one port of the range was handed out already
