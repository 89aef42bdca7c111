"""One lifecycle runner and one garbage-collection sweeper per deployment, not per node (issue 14).

Two nodes (two worker processes each) on one PostgreSQL database run their background loops every 0.2 s;
a session-level advisory lock per job (``meta/postgres_db.py`` ``JobElector``, keys distinct from the
write lock's) elects exactly one of the four processes for each, and a node killed with SIGKILL hands
its jobs over to the other within a few intervals.
"""

from __future__ import annotations

import concurrent.futures
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from satchel.meta.postgres_db import JOB_LOCKS, MIGRATION_LOCK, WRITE_LOCK
from tests import pgcluster
from tests.clients.test_postgres_nodes import client
from tests.clients.test_postgres_startup import EarlyNode, two_nodes, wait_ready

INTERVALS = ("--lifecycle-interval", "0.2", "--gc-interval", "0.2", "--workers", "2")
#: A job lost by a killed node is taken by another process within a few intervals (plus its start).
TAKEOVER_BOUND = 5.0
_RUNS = re.compile(r"this process (now runs|no longer runs) the (\w+) job \(pid (\d+)\)")


def runners(nodes: tuple[EarlyNode, ...], job: str) -> dict[int, str]:
    """pid -> node name of the processes whose last word on ``job`` is that they run it."""
    last: dict[int, tuple[str, str]] = {}
    for node in nodes:
        for state, found_job, pid in _RUNS.findall(node.log_path.read_text(errors="replace")):
            if found_job == job:
                last[int(pid)] = (state, node.data_dir.name)
    return {pid: name for pid, (state, name) in last.items() if state == "now runs"}


def held_job_locks(url: str) -> list[int]:
    """The job locks granted now, by key (a bigint key below 2**32 is its objid); a write transaction's
    lock may come and go meanwhile."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
                            "AND classid = 0 AND objsubid = 1").fetchall()
    return sorted(int(row[0]) for row in rows if int(row[0]) in JOB_LOCKS.values())


def settle(check: Callable[[], bool], bound: float) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)


def test_one_runner_per_job_across_nodes_and_a_dead_node_hands_over(
        tmp_path: Path, pg_cluster: pgcluster.PgCluster, pg_template: Any) -> None:
    url = pg_cluster.create_database(pgcluster.fresh_name(), pg_template.name)
    a, b = two_nodes(tmp_path, url)
    a.extra_args = b.extra_args = (*a.extra_args, *INTERVALS)
    with concurrent.futures.ThreadPoolExecutor(2) as starting:  # both at once: half the wait
        started = [starting.submit(node.start) for node in (a, b)]
    try:
        try:
            for future in started:
                future.result()
            wait_ready(a)
            wait_ready(b)
            both = (a, b)

            def one_each() -> bool:
                return all(len(runners(both, job)) == 1 for job in JOB_LOCKS)

            settle(one_each, TAKEOVER_BOUND)
            time.sleep(1.0)  # five more intervals of four processes trying: still one runner each
            assert one_each(), {job: runners(both, job) for job in JOB_LOCKS}
            assert held_job_locks(url) == sorted(JOB_LOCKS.values())
            s3 = client(b)
            s3.create_bucket(Bucket="while-elected")
            s3.put_object(Bucket="while-elected", Key="k", Body=b"v")

            holder = a if next(iter(runners(both, "lifecycle").values())) == "a" else b
            survivor = b if holder is a else a
            holder.kill9()  # no goodbye: its sessions end when the kernel closes its sockets

            def survivor_runs_all() -> bool:
                return all(set(runners((survivor,), job).values()) == {survivor.data_dir.name}
                           and len(runners((survivor,), job)) == 1 for job in JOB_LOCKS)

            settle(survivor_runs_all, TAKEOVER_BOUND)
            assert survivor_runs_all(), survivor.log_tail()
            assert held_job_locks(url) == sorted(JOB_LOCKS.values())
        finally:
            b.stop()
    finally:
        a.stop()
    assert held_job_locks(url) == []


@pytest.mark.parametrize("job", sorted(JOB_LOCKS))
def test_job_locks_are_their_own(job: str) -> None:
    """Distinct from the write and migration locks (taking one never blocks writers or migrations)."""
    assert JOB_LOCKS[job] not in (WRITE_LOCK, MIGRATION_LOCK)
    assert len(set(JOB_LOCKS.values())) == len(JOB_LOCKS)
