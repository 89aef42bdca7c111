"""The client tier's second topology: two ``satchel serve`` nodes behind HAProxy (issue 14).

``SATCHEL_TEST_TOPOLOGY=cluster`` makes the client tier's ``satchel_server`` fixture start, instead of one
process over SQLite and a local blob directory, what a scaled-out deployment runs:

- one database of the session's private PostgreSQL cluster (``tests/pgcluster.py``), cloned from the
  migrated template, as ``metadata_url``;
- one bucket of the session's SeaweedFS (``tests/seaweedfs.py``) as ``blobs_url`` (the real upstream: no
  shared directory);
- two nodes with the same settings, each with its own data directory, as separate machines would have,
  and the same ``master.key`` — copied from the first node into the second's data dir, as README's
  "Several nodes" section tells an operator to do;
- HAProxy on loopback in front of them, configured from ``deploy/haproxy.cfg`` (plain HTTP instead of
  TLS, ``balance roundrobin`` over both nodes), the nodes trusting it (``trusted_proxies``) as deploy/'s
  ``satchel.toml`` does.

The tests get the load balancer's endpoint. ``admin()`` (``satchel admin --data-dir``) runs with the
first node's data dir and the same environment (``metadata_url``, ``blobs_*``), so it changes the shared
database exactly as an operator's ``satchel admin`` on one of the machines would.

Modules that cannot run here carry ``pytestmark = pytest.mark.single_node`` with the reason beside it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.clients.server import STARTUP_TIMEOUT, STOP_TIMEOUT, SatchelProcess, free_port

if TYPE_CHECKING:
    from tests.seaweedfs import SeaweedFS

TOPOLOGY_ENV = "SATCHEL_TEST_TOPOLOGY"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MiB = 1024 * 1024


def topology() -> str:
    """``single`` (the default) or ``cluster``; anything else is a typo that must not silently run single."""
    value = os.environ.get(TOPOLOGY_ENV, "single") or "single"
    if value not in ("single", "cluster"):
        raise pytest.UsageError(f"{TOPOLOGY_ENV} must be 'single' or 'cluster', not {value!r}")
    return value


#: Audit events of uses and revocations reach the database at most this long after they happen
#: (core/audit.py FLUSH_INTERVAL, 0.25 s), plus a margin for a loaded machine.
AUDIT_FLUSH_BOUND = 0.5


def settle_audit() -> None:
    """Before reading the audit trail: on one node the query flushes that node's buffer first, so it shows
    everything up to the call; on the cluster the query may reach the other node, which shows another
    node's events only after their batch is written (within AUDIT_FLUSH_BOUND, the documented bound)."""
    if topology() == "cluster":
        time.sleep(AUDIT_FLUSH_BOUND)


class ClusterNode(SatchelProcess):
    """One node: its own data dir and port, the deployment's shared settings in its environment."""

    def __init__(self, data_dir: Path, shared: dict[str, str]) -> None:
        super().__init__(data_dir)
        self.shared = shared

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.shared}


class Cluster(SatchelProcess):
    """What the tests see: the load balancer's endpoint, the root keys, and ``admin()`` on node A's machine.

    It is a :class:`SatchelProcess` (``managed``) so that every fixture and helper written for one node
    works unchanged; ``start``/``stop`` act on the whole deployment.
    """

    def __init__(self, root: Path, metadata_url: str, upstream: SeaweedFS, bucket: str) -> None:
        super().__init__(root / "a")
        self.shared = {f"SATCHEL_{name.upper()}": value for name, value in {
            "metadata_url": metadata_url,
            "blobs_url": f"s3://{bucket}/satchel", "blobs_endpoint_url": upstream.url,
            "blobs_access_key_id": upstream.weed.access_key,
            "blobs_secret_access_key": upstream.weed.secret_key,
            "blobs_part_size": str(5 * MiB),
            "trusted_proxies": "127.0.0.1",
            "access_log": "true",  # which node served what: tests/clients/test_cluster_topology.py
        }.items()}
        self.upstream, self.bucket = upstream, bucket
        self.nodes = (ClusterNode(root / "a", self.shared), ClusterNode(root / "b", self.shared))
        for node in self.nodes:  # one deployment: the same root identity everywhere
            node.root, node.password = self.root, self.password
        self.proxy_dir = root / "haproxy"
        self.log_path = self.proxy_dir / "haproxy.log"
        self._proxy: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.shared}

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        a, b = self.nodes
        a.start()  # creates the schema's bootstrap rows (root account and key) and master.key
        key = b.data_dir / "master.key"
        if not key.exists():
            b.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            key.write_bytes((a.data_dir / "master.key").read_bytes())
            key.chmod(0o600)
        b.start()
        self._start_proxy()

    def haproxy_config(self) -> str:
        """``deploy/haproxy.cfg`` with loopback ports, plain HTTP, and both nodes in its backend."""
        text = (DEPLOY / "haproxy.cfg").read_text()
        servers = "".join(f"    server satchel{i} 127.0.0.1:{node.port} check inter 1s\n"
                          for i, node in enumerate(self.nodes, 1))
        for old, new in {
            "log /dev/log local0": "log stdout local0",
            "maxconn 20000": "maxconn 1000",  # 2 descriptors each: more than a test machine may allow
            "    bind :443 ssl crt /etc/haproxy/certs/files.example.com.pem alpn http/1.1\n": "",
            "bind :80\n": f"bind 127.0.0.1:{self.port}\n",
            "    http-request redirect scheme https code 301 unless { ssl_fc }\n": "",
            "X-Forwarded-Proto https": "X-Forwarded-Proto http",
            "    server satchel1 127.0.0.1:9000 check inter 5s\n": "    balance roundrobin\n" + servers,
        }.items():
            assert old in text, f"deploy/haproxy.cfg changed: {old!r} is gone; update tests/clients/cluster.py"
            text = text.replace(old, new)
        return text

    def _start_proxy(self) -> None:
        """HAProxy on the cluster's port. A port chosen free can be taken before HAProxy binds it (another
        test's server, or an outgoing connection's ephemeral port on a busy machine): an HAProxy that could
        not bind is started again on another port, three times at most."""
        self.proxy_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            if self._try_proxy():
                return
            self.stop()
            if attempt == 2 or "failed to start their listeners" not in self.log_tail():
                break
            self.port = free_port()
            self.endpoint = f"http://127.0.0.1:{self.port}"
        pytest.fail(f"HAProxy did not answer; log tail:\n{self.log_tail()}")

    def _try_proxy(self) -> bool:
        config = self.proxy_dir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        with self.log_path.open("ab") as log:
            self._proxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and self._proxy.poll() is None:
            with contextlib.suppress(OSError, urllib.error.HTTPError), \
                    urllib.request.urlopen(self.endpoint + "/_satchel/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self._proxy is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proxy.pid, signal.SIGTERM)
            try:
                self._proxy.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self._proxy.pid, signal.SIGKILL)
                self._proxy.wait(timeout=STOP_TIMEOUT)
            self._proxy = None
        for node in reversed(self.nodes):
            node.stop()

    def kill9(self) -> None:
        raise NotImplementedError("a cluster is not killed as one process: mark the module single_node")


def start_cluster(request: pytest.FixtureRequest, root: Path) -> Cluster:
    """A started cluster on the session's PostgreSQL and SeaweedFS (a database and a bucket of its own)."""
    from tests import pgcluster

    pg = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_template")
    upstream = request.getfixturevalue("seaweedfs")
    url = pg.create_database(pgcluster.fresh_name(), template.name)
    cluster = Cluster(root, url, upstream, upstream.new_bucket())
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
