"""A PostgreSQL that hangs or drops connections, against a real node (in-process app, private cluster).

Findings 4 and 6 of the eleventh attack. A frozen server (SIGSTOP: its kernel still ACKs, so no socket
timeout fires) held the first request for the whole hang; every wait on the store is now bounded by
``postgres_timeout`` in ``Node.read`` / ``Node.write`` and the node's threads and connections stay
bounded. Pooled connections PostgreSQL closed (``pg_terminate_backend``, a restart, an idle-session
killer) gave 503s while it was up; a statement that finds its connection dead is now run again on
another one, as long as nothing can have run on the dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests import pgcluster
from tests.app.driver import InProcessApp, Reply, exchange, sign

BOUND = 0.5  # postgres_timeout of the node under test: seconds, so the test takes seconds


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, pg_module_url: str) -> Iterator[InProcessApp]:
    made = InProcessApp(tmp_path_factory.mktemp("hang"), metadata_url=pg_module_url, postgres_timeout=BOUND,
                        postgres_pool_size=4)
    assert made.s3("PUT", "/hang").status == 200
    assert made.s3("PUT", "/hang/k", body=b"kept").status == 200
    yield made
    made.close()


def _backends(url: str) -> list[int]:
    """The node's backends: every client connection to its database but ours."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")]


@contextlib.contextmanager
def frozen(cluster: pgcluster.PgCluster, url: str) -> Iterator[None]:
    """SIGSTOP the postmaster (no new connection is answered) and the node's backends (a statement sent
    is never answered), as the attacker did; SIGCONT whatever happens."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    pids = [postmaster, *_backends(url)]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def _signed(app: InProcessApp, method: str, target: str, body: bytes = b"") -> tuple[Reply, float]:
    started = time.monotonic()
    target, headers = sign(app.root, method, target, [], body, presign=False, payload=None, expires=600,
                           signed_at=None)
    reply = await exchange(app.app, method, target, headers, body)
    return reply, time.monotonic() - started


async def _plain(app: InProcessApp, target: str) -> tuple[Reply, float]:
    started = time.monotonic()
    return await exchange(app.app, "GET", target, [], b""), time.monotonic() - started


def _grow_pool(app: InProcessApp) -> None:
    """Several reads at once, so that the pool holds several connections (all of them to be frozen)."""
    async def many() -> list[Any]:
        return await asyncio.gather(*(_signed(app, "GET", "/hang/k") for _ in range(8)))
    assert all(reply.status == 200 for reply, _ in app.run(many()))


def test_a_frozen_postgresql_answers_503_within_the_bound(app: InProcessApp, pg_module_url: str,
                                                          pg_cluster: pgcluster.PgCluster) -> None:
    _grow_pool(app)
    app.node.credentials.invalidate()  # the request reads the store from its first step
    app.node.gate.expire()
    threads = threading.active_count()

    async def during() -> list[tuple[Reply, float]]:
        calls = [_signed(app, "GET", "/hang/k"), _signed(app, "PUT", "/hang/new", b"fresh bytes"),
                 _plain(app, "/_satchel/health/ready"), *(_signed(app, "HEAD", f"/hang/k{i}") for i in range(20))]
        # A guard of the test's own: without the bound these wait for the whole hang (the SIGCONT below).
        return await asyncio.wait_for(asyncio.gather(*calls), BOUND + 4)

    with frozen(pg_cluster, pg_module_url):
        answers = app.run(during())
        for reply, took in answers:
            assert reply.status == 503, (reply.status, reply.body)
            assert took < BOUND + 1.0, took  # the bound, and the request's own work
        # Bounded threads and connections: a reader per pooled connection (but one), one writer, whatever
        # the pool and its reconnection start: not one per request.
        assert threading.active_count() - threads <= 6
        assert app.node.store.database._pool.get_stats().get("pool_size", 0) <= 4  # type: ignore[attr-defined]
        later, took = app.run(_signed(app, "GET", "/hang/k"))
        assert later.status == 503 and took < BOUND + 1.0

    # Recovery without restart; the PUT answered 503 may have committed after all (its write had started):
    # if it did, its bytes are there (its blob was not deleted under it).
    deadline = time.monotonic() + 15
    while (got := app.s3("GET", "/hang/k")).status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert got.status == 200 and got.body == b"kept"
    fresh = app.s3("GET", "/hang/new")
    assert fresh.status in (200, 404)
    if fresh.status == 200:
        assert fresh.body == b"fresh bytes"
    assert app.request("GET", "/_satchel/health/ready").status == 200


def test_a_link_use_answered_503_by_a_hang_is_one_event_and_counted_at_most_once(
        app: InProcessApp, pg_module_url: str, pg_cluster: pgcluster.PgCluster) -> None:
    minted = app.api("POST", "/links", {"bucket": "hang", "keys": ["k"], "max_uses": 5, "expires_in": 600})
    assert minted.status == 200, minted.body
    [link] = minted.json()["links"]
    assert app.follow(link["url"]).status == 200
    app.flush_audit()

    async def use() -> Reply:
        return await asyncio.wait_for(app.following(link["url"]), BOUND + 4)

    with frozen(pg_cluster, pg_module_url):
        refused = app.run(use())
        assert refused.status == 503
    deadline = time.monotonic() + 15
    while app.request("GET", "/_satchel/health/ready").status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    app.flush_audit()
    events = app.api("GET", "/audit", query=f"link_id={link['link']['id']}&action=use").json()["events"]
    assert sorted(e["status"] for e in events) == [200, 503], events  # one event per request
    uses = app.api("GET", f"/links/{link['link']['id']}").json()["uses"]
    late = [e for e in events if e["status"] == 503 and "may still be applied" in (e.get("reason") or "")]
    assert uses == 1 + len(late), (uses, events)  # the 503's use counted only if its write had started


def test_dropped_connections_cost_no_request(app: InProcessApp, pg_module_url: str) -> None:
    for trial in range(3):
        _grow_pool(app)
        with psycopg.connect(pg_module_url, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchall()
        assert len(killed) >= 2
        app.node.credentials.invalidate()
        app.node.gate.expire()
        for i in range(6):
            assert app.s3("HEAD", "/hang/k").status == 200, (trial, i)
            put = app.s3("PUT", f"/hang/p{trial}-{i}", body=b"y")
            assert put.status == 200, (trial, i, put.body)
