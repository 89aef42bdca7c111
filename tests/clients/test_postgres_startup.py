"""Nodes that start while PostgreSQL is down (issue 14: failure behaviour, many nodes).

A fleet restarting after a power cut may find its database last up. A node then starts anyway: its
listener answers, ``/_satchel/health/live`` 200 and ``/_satchel/health/ready`` 503, every other request the
503 its protocol's clients retry, and it opens the store in the background as soon as PostgreSQL answers:
migrations once across nodes, the first start's set-up once. A metadata_url that PostgreSQL refuses (no
such database) or that names no database (a bad scheme) is no outage: ``satchel serve`` fails at once.

The PostgreSQL cluster is the session's (``tests/pgcluster.py``), stopped and started again here as
``test_postgres_nodes.py`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from botocore.exceptions import ClientError

from satchel.core.masterkey import load_master_key
from satchel.meta.schema import MIGRATIONS
from tests import pgcluster
from tests.clients.server import SatchelProcess, venv_tool
from tests.clients.test_postgres_nodes import PgNode, client

#: How long a node may take to become ready once PostgreSQL is back: its background open backs off to
#: at most 5 s between tries (app.py OPEN_RETRY_MAX), plus the open itself.
READY_BOUND = 8.0


class EarlyNode(PgNode):
    """A node whose start waits for its listener (health/live), not for readiness."""

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                pytest.fail(f"satchel exited with {self._proc.returncode}:\n{self.log_tail()}")
            if status(self, "/_satchel/health/live") == 200:
                return
            time.sleep(0.1)
        pytest.fail(f"satchel never answered health/live; log tail:\n{self.log_tail()}")


def status(node: SatchelProcess, path: str) -> int:
    try:
        with urllib.request.urlopen(node.endpoint + path, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def wait_ready(node: SatchelProcess, bound: float = READY_BOUND) -> float:
    began = time.monotonic()
    while time.monotonic() - began < bound:
        if status(node, "/_satchel/health/ready") == 200:
            return time.monotonic() - began
        time.sleep(0.1)
    pytest.fail(f"not ready {bound} s after PostgreSQL came back; log tail:\n{node.log_tail()}")


@pytest.fixture
def stopped_cluster(pg_cluster: pgcluster.PgCluster) -> Iterator[pgcluster.PgCluster]:
    """The session's cluster, stopped by the test; running again afterwards whatever happened."""
    try:
        yield pg_cluster
    finally:
        try:
            with psycopg.connect(pg_cluster.url(), connect_timeout=2):
                pass
        except psycopg.OperationalError:
            pg_cluster.start()


def two_nodes(root: Path, url: str) -> tuple[EarlyNode, EarlyNode]:
    """Two nodes that share what a deployment shares (database, master key, root credentials, blobs)."""
    a, b = EarlyNode(root / "a", url), EarlyNode(root / "b", url)
    b.root, b.password = a.root, a.password
    for node in (a, b):
        node.data_dir.mkdir(mode=0o700, parents=True)
    load_master_key(a.data_dir)
    shutil.copy2(a.data_dir / "master.key", b.data_dir / "master.key")
    (a.data_dir / "blobs").mkdir()
    os.symlink(a.data_dir / "blobs", b.data_dir / "blobs")
    return a, b


def test_nodes_start_while_postgres_is_down_and_serve_once_it_answers(
        tmp_path: Path, stopped_cluster: pgcluster.PgCluster) -> None:
    # A database never migrated, never set up: both nodes find it down, then race for the migrations
    # and the root account when it comes up.
    url = stopped_cluster.create_database(pgcluster.fresh_name())
    a, b = two_nodes(tmp_path, url)
    stopped_cluster.stop()
    a.start()
    try:
        b.start()
        try:
            for node in (a, b):
                assert status(node, "/_satchel/health/live") == 200
                assert status(node, "/_satchel/health/ready") == 503
                assert status(node, "/_satchel/health") == 503
            unavailable_answers(a)
            time.sleep(1.5)  # several background tries, each failing
            stopped_cluster.start()
            for node in (a, b):
                wait_ready(node)
            s3a, s3b = client(a), client(b)
            s3a.create_bucket(Bucket="after-outage")
            s3a.put_object(Bucket="after-outage", Key="k", Body=b"written through node a")
            assert s3b.get_object(Bucket="after-outage", Key="k")["Body"].read() == b"written through node a"
            # Down again under a running node: unready on every poll, logged once (not per poll).
            stopped_cluster.stop()
            assert [status(a, "/_satchel/health/ready") for _ in range(5)] == [503] * 5
            stopped_cluster.start()
            wait_ready(a)
        finally:
            b.stop()
    finally:
        a.stop()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert conn.execute("SELECT count(*) FROM users WHERE name = 'root'").fetchone() == (1,)
    for node in (a, b):
        log = node.log_path.read_text(errors="replace")
        # Logged once per change of state (down, then open), not once per try.
        assert log.count("Cannot reach the metadata database") == 2, log  # serve's, then the worker's
        assert log.count("metadata store open after") == 1, log
        # Never refused meanwhile (a second node migrating too would have failed on existing tables).
        assert "Still retrying" not in log, log
        assert node.root.secret_key not in log and node.password not in log
    polled = a.log_path.read_text(errors="replace")
    # Whichever way the outage showed (refused connections, or no answer within the store's bound).
    assert polled.count("Not ready until it answers.") == 1, polled
    assert "webhook delivery failed" not in polled, polled  # the outage is no traceback per poll either
    assert polled.count("webhook delivery waits for the metadata store") <= 1, polled
    assert polled.count("readiness: the metadata store answers again") == 1, polled


def unavailable_answers(node: SatchelProcess) -> None:
    """Every front-end's own 503 while the store is not open: what its clients retry."""
    with pytest.raises(ClientError) as raised:
        client(node).list_buckets()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
    put = requests.put(f"{node.endpoint}/bucket/key", data=b"x" * 1000, timeout=5)
    assert put.status_code == 503 and b"<Code>ServiceUnavailable</Code>" in put.content
    assert put.headers["Connection"] == "close"  # the body was never read
    swift = requests.get(f"{node.endpoint}/v1/AUTH_root/container", timeout=5)
    assert swift.status_code == 503 and "X-Trans-Id" in swift.headers
    par = requests.get(f"{node.endpoint}/p/some-token/n/ns/b/bucket/o/key", timeout=5)
    assert par.status_code == 503 and par.json()["code"] == "ServiceUnavailable"
    api = requests.get(f"{node.endpoint}/_satchel/api/v1/users", timeout=5)
    assert api.status_code == 503 and api.json()["error"]["code"] == "ServiceUnavailable"
    assert requests.head(f"{node.endpoint}/bucket/key", timeout=5).status_code == 503


def serve(tmp_path: Path, url: str) -> tuple[subprocess.CompletedProcess[str], float]:
    node = SatchelProcess(tmp_path / "node")
    env = {**node.env(), "SATCHEL_METADATA_URL": url}
    began = time.monotonic()
    done = subprocess.run([venv_tool("satchel"), "serve", "--host", "127.0.0.1", "--port", str(node.port),
                           "--data-dir", str(node.data_dir), "--postgres-timeout", "2"],
                          env=env, capture_output=True, text=True, timeout=30, check=False)
    return done, time.monotonic() - began


@pytest.mark.parametrize("case", ["no such database", "no such role", "bad scheme"])
def test_a_metadata_url_that_cannot_work_fails_the_start_at_once(
        tmp_path: Path, pg_cluster: pgcluster.PgCluster, case: str) -> None:
    url = {"no such database": pg_cluster.url("satchel_never_created"),
           "no such role": f"postgresql://nobody_here@127.0.0.1:{pg_cluster.port}/postgres",
           "bad scheme": f"mysql://satchel@127.0.0.1:{pg_cluster.port}/postgres"}[case]
    done, took = serve(tmp_path, url)
    assert done.returncode == 1, done
    assert took < 10
    expected = {"no such database": 'database "satchel_never_created" does not exist',
                "no such role": 'role "nobody_here" does not exist',
                "bad scheme": "metadata_url must be 'sqlite' or a postgresql:// URL"}[case]
    assert expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
