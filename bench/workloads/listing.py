"""Workload 4: one ListObjectsV2 page of 1000 keys in buckets of 10^4, 10^5 and 10^6 objects.

A page must cost O(page), not O(bucket), so we time pages at the start, the middle and the end of the
key space and compare the 10^6 bucket with the 10^4 one. Loading 10^6 objects through any S3 API
takes hours, so Satchel's buckets are filled in bulk through its own metadata store (one real object
is PUT, the other keys are rows pointing at the same blob); other servers are filled through the API
up to a bound and their bigger sizes are marked skipped.

Pages are fetched with presigned URLs over one kept-alive connection and not parsed beyond counting
``<Key>``: the figure is the server's, not botocore's XML parsing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import statistics
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.servers import PRESIGN_EXPIRES, Satchel, Server
from bench.workloads import Context, recorded

PAGE = 1000
#: A ceiling on timing per bucket size, whatever ``list_reps`` says.
MEASURE_SECONDS = 60.0


def key(i: int) -> str:
    return f"obj-{i:08d}"


def bucket_name(server: Server, exp: int) -> str:
    return f"{server.bucket}-list-e{exp}"


def _metrics(exp: int) -> tuple[str, str]:
    return f"list_e{exp}_p50_ms", f"list_e{exp}_p99_ms"


def run(ctx: Context, server: Server, loaded: dict[str, set[int]]) -> None:
    """Load every size first, then time them interleaved (round after round over all sizes and
    positions), so a burst of load elsewhere hits the 10^4 and the 10^6 figures alike.

    ``loaded`` remembers which buckets a data directory already holds (Satchel configurations share
    one), keyed by :func:`load_group`."""
    ready: list[int] = []
    for exp in (4, 5, 6):
        metrics = _metrics(exp)
        if not server.s3:
            for m in metrics:
                ctx.results.skip(server.name, m, "static server")
            continue
        if exp not in ctx.limits.list_sizes:
            for m in metrics:
                ctx.results.skip(server.name, m, "skipped: not in this run")
            continue
        n = 10**exp
        if not isinstance(server, Satchel) and n > ctx.limits.api_load_max:
            for m in metrics:
                ctx.results.skip(server.name, m, "skipped: too many to load via the API")
            continue
        with recorded(ctx, server.name, metrics):
            group = load_group(server)
            if exp not in loaded.setdefault(group, set()):
                took = load(ctx, server, exp)
                if took is None:
                    for m in metrics:
                        why = f"skipped: loading took over {ctx.limits.api_load_seconds:.0f} s"
                        ctx.results.skip(server.name, m, why)
                    continue
                loaded[group].add(exp)
                ctx.results.details.setdefault("list_load_seconds", {}).setdefault(server.name, {})[str(exp)] = took
            ready.append(exp)
    if ready:
        with recorded(ctx, server.name, tuple(m for exp in ready for m in _metrics(exp))):
            measure(ctx, server, ready)


def load_group(server: Server) -> str:
    return str(server.data_dir) if isinstance(server, Satchel) else server.name


def load(ctx: Context, server: Server, exp: int) -> float | None:
    """Fill the bucket with 10^exp keys; seconds taken, or None when the API was too slow."""
    n = 10**exp
    bucket = bucket_name(server, exp)
    client = server.client()
    began = time.monotonic()
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key=key(0), Body=b"listing benchmark\n")
    if isinstance(server, Satchel):
        _bulk_load(server, bucket, n)
    elif not _api_load(client, bucket, n, began + ctx.limits.api_load_seconds):
        return None
    return time.monotonic() - began


def _bulk_load(server: Satchel, bucket: str, n: int) -> None:
    from satchel.meta import open_store

    settings = server.store_settings()
    if settings.metadata_url.startswith("postgresql"):
        _postgres_load(settings.metadata_url, bucket, n)
        return
    store = open_store(settings)
    try:
        first = store.get_object(bucket, key(0))
        if first is None:
            raise RuntimeError(f"{bucket}/{key(0)} is not in the store after PUT")
        # Not part of the abstract Store: the SQLite store (and the PostgreSQL one, built on it) has a bulk
        # loader, for fixtures and us.
        bulk = getattr(store, "bulk_insert_objects", None)
        if bulk is None:
            raise RuntimeError(f"{type(store).__name__} has no bulk_insert_objects")
        records: Iterator[Any] = (dataclasses.replace(first, key=key(i)) for i in range(1, n))
        bulk(records)
    finally:
        store.close()


def _api_load(client: Any, bucket: str, n: int, deadline: float) -> bool:
    def put(i: int) -> None:
        if time.monotonic() < deadline:
            client.put_object(Bucket=bucket, Key=key(i), Body=b"listing benchmark\n")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(1, n)))
    return time.monotonic() < deadline


def _page_urls(server: Server, bucket: str, n: int) -> dict[str, str]:
    client = server.client()
    starts = {"start": None, "middle": key(n // 2 - 1), "end": key(n - PAGE - 1)}
    urls = {}
    for where, after in starts.items():
        params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": PAGE}
        if after is not None:
            params["StartAfter"] = after
        urls[where] = str(client.generate_presigned_url("list_objects_v2", Params=params,
                                                        ExpiresIn=PRESIGN_EXPIRES))
    return urls


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname or "127.0.0.1", parts.port, timeout=30)


def _fetch(conn: http.client.HTTPConnection, url: str) -> float:
    parts = urllib.parse.urlsplit(url)
    began = time.perf_counter()
    conn.request("GET", f"{parts.path}?{parts.query}")
    resp = conn.getresponse()
    body = resp.read()
    took = time.perf_counter() - began
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
    if body.count(b"<Key>") != PAGE:
        raise RuntimeError(f"page holds {body.count(b'<Key>')} keys, not {PAGE}")
    return took * 1000


def measure(ctx: Context, server: Server, sizes: list[int]) -> None:
    urls = {(exp, where): url for exp in sizes
            for where, url in _page_urls(server, bucket_name(server, exp), 10**exp).items()}
    conn = _connect(server.url)
    samples: dict[tuple[int, str], list[float]] = {page: [] for page in urls}
    try:
        for url in urls.values():  # warm caches and the connection
            _fetch(conn, url)
        deadline = time.monotonic() + MEASURE_SECONDS * len(sizes)
        for _ in range(ctx.limits.list_reps):
            if time.monotonic() > deadline:
                break
            for page, url in urls.items():
                samples[page].append(_fetch(conn, url))
    finally:
        conn.close()
    for exp in sizes:
        every = sorted(ms for (e, _), values in samples.items() if e == exp for ms in values)
        p50_name, p99_name = _metrics(exp)
        ctx.results.set(server.name, p50_name, _percentile(every, 0.50))
        ctx.results.set(server.name, p99_name, _percentile(every, 0.99))
        ctx.results.details.setdefault("list_p50_by_position_ms", {}).setdefault(server.name, {})[str(exp)] = {
            where: statistics.median(values) for (e, where), values in samples.items() if e == exp and values
        }


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        raise ValueError("no samples")
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _postgres_load(url: str, bucket: str, n: int) -> None:
    """The same rows as ``bulk_insert_objects`` makes, in one ``INSERT ... SELECT`` that PostgreSQL runs
    alone: 10^6 rows in seconds, where the store's batches of parameters take over ten minutes on the
    loaded development machine. Every row copies ``key(0)``'s (whose blob is live already)."""
    import psycopg

    from satchel.meta.rows import OBJECT_COLUMNS

    columns = [c.strip() for c in OBJECT_COLUMNS.split(",")]
    chosen = ["'obj-' || lpad(g::text, 8, '0')" if c == "key" else c for c in columns]
    assert key(7) == "obj-00000007", "the SQL spells key() out"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"INSERT INTO objects ({', '.join(columns)}) SELECT {', '.join(chosen)} "  # noqa: S608 - constants
                     "FROM objects, generate_series(1, %s) AS g WHERE bucket = %s AND key = %s",
                     (n - 1, bucket, key(0)))
