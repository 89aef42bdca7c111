"""Many writes at once through boto3: the metadata writer commits the ones that queue up together
(group commit), and each one must still succeed or fail on its own."""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from tests.clients.boto import empty_and_delete, unique_bucket

THREADS = 16


def _at_once(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every call on its own thread, released together; exceptions are returned, not raised."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(10)
        try:
            return call()
        except ClientError as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_small_puts_at_once_all_land_with_their_own_bytes(s3: Any, bucket: str) -> None:
    bodies = {f"burst/{i:03d}": os.urandom(i * 37) for i in range(THREADS * 4)}
    hot = [b"hot:%d:" % i + os.urandom(100) for i in range(THREADS)]
    calls = [functools.partial(s3.put_object, Bucket=bucket, Key=k, Body=b) for k, b in bodies.items()]
    calls += [functools.partial(s3.put_object, Bucket=bucket, Key="hot", Body=b) for b in hot]
    results = _at_once(calls)
    assert all(not isinstance(r, Exception) for r in results), [r for r in results if isinstance(r, Exception)]
    for key, body in bodies.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == body
        assert got["ETag"].strip('"') == hashlib.md5(body).hexdigest()  # noqa: S324 - S3's ETag
    assert s3.get_object(Bucket=bucket, Key="hot")["Body"].read() in hot
    listed = s3.list_objects_v2(Bucket=bucket)["KeyCount"]
    assert listed == len(bodies) + 1


def test_a_refused_write_among_concurrent_ones_fails_alone(s3: Any, bucket: str) -> None:
    # Eight CreateBucket calls race for one name while PUTs run: the losers are refused inside the
    # writer (a savepoint rolled back), and the writes committed beside them must all stand. The server is
    # in us-east-1, where S3 answers a refused re-create of your own bucket with 200 (AWS's legacy
    # behaviour), so every create answers 200 and exactly one bucket exists.
    name = unique_bucket("race")
    creates = [functools.partial(s3.create_bucket, Bucket=name) for _ in range(8)]
    puts = [functools.partial(s3.put_object, Bucket=bucket, Key=f"beside/{i}", Body=b"%d" % i) for i in range(8)]
    try:
        results = _at_once(creates + puts)
        created = [r for r in results[:8] if not isinstance(r, Exception)]
        assert len(created) == 8
        assert {r["ResponseMetadata"]["HTTPStatusCode"] for r in created} == {200}
        assert all(not isinstance(r, Exception) for r in results[8:])
        for i in range(8):
            assert s3.get_object(Bucket=bucket, Key=f"beside/{i}")["Body"].read() == b"%d" % i
        assert name in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    finally:
        empty_and_delete(s3, name)
