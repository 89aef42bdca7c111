"""kill -9 in the middle of concurrent overwrites: no acknowledged write lost, no object torn.

The check is linearizability of each key as a register, with the kill as the end of time:

* every PUT has an interval [start, end] measured on one monotonic clock: ``start`` is read before the
  request is sent, ``end`` after the acknowledgement arrived. A PUT that got no 2xx (in flight at the
  kill, or failed) may or may not have taken effect: its interval is [start, +inf).
* after restart, the key's value must come from a write W that no *acknowledged* write W' follows in
  real time (W'.start > W.end): such a W' was linearized after W, so W cannot be the last value.
  The acknowledged write with the latest start is always a candidate, so an acknowledged write can only
  be "replaced" by a write that overlapped it or started later, never silently lost.
* a key with an acknowledged write must exist; a key must not exist if no PUT to it was ever sent.

Values are identified by SHA-256 and size; every body is unique, so a torn or mixed object matches none.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.clients.server import REGION, SatchelProcess

THREADS = 8
KEYS = [f"k/{i:02d}" for i in range(50)]
MAX_BODY = 3 * 1024 * 1024
SMALL_BODY = 4096
WRITE_SECONDS = 3.0
INF = float("inf")


@dataclass
class Write:
    key: str
    sha256: str
    size: int
    start: float
    end: float = INF  # stays infinite unless the server acknowledged the write

    @property
    def acknowledged(self) -> bool:
        return self.end != INF


def _client(server: SatchelProcess) -> Any:
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                      connect_timeout=5, read_timeout=30),
    )


def _writer(server: SatchelProcess, bucket: str, stop: threading.Event, log: list[Write],
            lock: threading.Lock, seed: int) -> None:
    client = _client(server)
    rng = random.Random(seed)
    n = 0
    while not stop.is_set() and n < 10_000:
        n += 1
        key = rng.choice(KEYS)
        # A unique prefix makes every body distinct even when sizes collide (or are tiny).
        # Half are small: those queue up at the metadata writer and share commits (group commit).
        size = rng.randint(0, SMALL_BODY) if rng.random() < 0.5 else rng.randint(0, MAX_BODY)
        body = f"{seed}:{n}:".encode() + os.urandom(size)
        write = Write(key, hashlib.sha256(body).hexdigest(), len(body), time.monotonic())
        with lock:
            log.append(write)
        try:
            client.put_object(Bucket=bucket, Key=key, Body=body)
        except Exception:  # noqa: S112 - a failed PUT has an unknown outcome, which the check allows
            continue
        write.end = time.monotonic()


def candidates(writes: list[Write]) -> list[Write]:
    """The writes whose value may legitimately be the key's final value (see the module docstring)."""
    acked_starts = [w.start for w in writes if w.acknowledged]
    latest_acked_start = max(acked_starts, default=-INF)
    return [w for w in writes if not latest_acked_start > w.end]


def test_candidates_rule() -> None:
    a = Write("k", "a", 1, start=0, end=1)
    b = Write("k", "b", 1, start=2, end=3)
    overlapping = Write("k", "c", 1, start=2.5, end=4)
    in_flight = Write("k", "d", 1, start=3.5)
    assert candidates([a, b]) == [b]
    assert candidates([a, b, overlapping]) == [b, overlapping]
    assert candidates([a, b, in_flight]) == [b, in_flight]
    assert candidates([Write("k", "e", 1, start=0)]) == [Write("k", "e", 1, start=0)]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kill9_during_concurrent_overwrites(server: SatchelProcess) -> None:
    began = time.monotonic()
    client = _client(server)
    bucket = "crash-test"
    client.create_bucket(Bucket=bucket)

    log: list[Write] = []
    lock = threading.Lock()
    stop = threading.Event()
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(_writer, server, bucket, stop, log, lock, seed) for seed in range(THREADS)]
        time.sleep(WRITE_SECONDS)
        stop.set()  # no new writes; the ones already sent stay in flight for the kill
        server.kill9()
        killed_at = time.monotonic()
        for fut in futures:
            fut.result(timeout=60)

    in_flight_at_kill = sum(1 for w in log if not w.acknowledged and w.start < killed_at)
    acked = [w for w in log if w.acknowledged]
    print(f"writes={len(log)} acknowledged={len(acked)} in_flight_at_kill={in_flight_at_kill}")
    assert len(acked) >= 10, f"too few acknowledged writes to test anything ({len(acked)})"
    assert in_flight_at_kill >= 1, "the kill hit no write in flight"

    server.start()
    client = _client(server)
    by_key: dict[str, list[Write]] = {k: [w for w in log if w.key == k] for k in KEYS}
    listed = {o["Key"]: o["Size"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
              for o in page.get("Contents", [])}
    assert set(listed) <= {k for k, ws in by_key.items() if ws}, "a key that was never written exists"

    final: dict[str, str] = {}
    for key, writes in by_key.items():
        if any(w.acknowledged for w in writes):
            assert key in listed, f"{key}: acknowledged writes lost, key missing"
        if key not in listed:
            continue
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        digest = hashlib.sha256(body).hexdigest()
        matching = [w for w in writes if w.sha256 == digest and w.size == len(body)]
        assert matching, f"{key}: content ({len(body)} bytes) matches no body ever sent: torn object"
        allowed = {w.sha256 for w in candidates(writes)}
        assert digest in allowed, f"{key}: holds a value superseded by a later acknowledged write"
        assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
        assert listed[key] == len(body)
        final[key] = digest

    server.admin("gc", "--write-grace", "0", env={"SATCHEL_ORPHAN_GRACE": "0"})
    tmp_dir = server.data_dir / "blobs" / "tmp"
    assert (server.data_dir / "blobs").is_dir()
    leftovers = sorted(p.name for p in tmp_dir.rglob("*") if p.is_file()) if tmp_dir.exists() else []
    assert leftovers == [], f"temp files survived gc: {leftovers[:10]}"
    # gc must not have touched live data.
    for key, digest in final.items():
        assert hashlib.sha256(client.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest() == digest
    assert time.monotonic() - began < 60
