"""A real node on a PostgreSQL that hangs (SIGSTOP of the postmaster and its backends: the kernel still
ACKs, so no socket timeout fires), as the eleventh attack's ``t_pghang.py`` did (finding 4): every request,
including those already waiting on a statement sent before the freeze and ``health/ready``, answers 503
within ``postgres_timeout`` plus its own work; the node recovers without restart when PostgreSQL resumes.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests import pgcluster
from tests.clients.server import SatchelProcess
from tests.clients.test_postgres_nodes import PgNode, client
from tests.unit.meta.test_postgres_hang import frozen

BOUND = 1.0  # the node's postgres_timeout


def _port() -> int:
    """A free port of this test's range."""
    for port in range(25500 + os.getpid() % 400, 26000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 25500-25999")


class HangNode(PgNode):
    """A PostgreSQL node with a port of this test's range and a short ``postgres_timeout``."""

    def __init__(self, data_dir: Path, url: str) -> None:
        SatchelProcess.__init__(self, data_dir, port=_port(), extra_args=("--postgres-timeout", f"{BOUND:g}"))
        self.url = url


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, pg_module_url: str) -> Iterator[tuple[HangNode, str]]:
    made = HangNode(tmp_path_factory.mktemp("pghang") / "a", pg_module_url)
    with made.running():
        yield made, pg_module_url


def _status(call: Callable[[], Any]) -> int:
    try:
        answer = call()
    except ClientError as exc:
        return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
    if isinstance(answer, requests.Response):
        return answer.status_code
    return int(answer["ResponseMetadata"]["HTTPStatusCode"])


def test_every_request_answers_503_within_the_bound_while_postgresql_hangs(
        node: tuple[HangNode, str], pg_cluster: pgcluster.PgCluster) -> None:
    server, url = node
    s3 = client(server)
    s3.create_bucket(Bucket="hang")
    s3.put_object(Bucket="hang", Key="k", Body=b"kept")
    calls: dict[str, Callable[[], Any]] = {
        "get": lambda: s3.get_object(Bucket="hang", Key="k"),
        "put": lambda: s3.put_object(Bucket="hang", Key="new", Body=b"fresh"),
        "list": lambda: s3.list_objects_v2(Bucket="hang"),
        "ready": lambda: requests.get(server.endpoint + "/_satchel/health/ready", timeout=30),
    }
    results: dict[str, tuple[int, float]] = {}

    def one(name: str, call: Callable[[], Any]) -> None:
        began = time.monotonic()
        results[name] = (_status(call), time.monotonic() - began)

    with frozen(pg_cluster, url):
        threads = [threading.Thread(target=one, args=item) for item in calls.items()]
        for thread in threads:
            thread.start()
            time.sleep(0.2)  # the first one's statements are sent (and never answered) before the next
        for thread in threads:
            thread.join(BOUND + 8)
        assert not any(thread.is_alive() for thread in threads), results
        assert requests.get(server.endpoint + "/_satchel/health/live", timeout=5).status_code == 200
    for name, (status, took) in results.items():
        assert status == 503, (name, results)
        assert took < BOUND + 2.0, (name, results)  # the bound, signing, and a busy 2-core machine

    deadline = time.monotonic() + 15
    while _status(calls["ready"]) != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert s3.get_object(Bucket="hang", Key="k")["Body"].read() == b"kept"  # no restart
    try:
        assert s3.get_object(Bucket="hang", Key="new")["Body"].read() == b"fresh"  # committed late: whole
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchKey"
