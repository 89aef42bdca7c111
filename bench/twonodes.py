"""The ``satchel-2n`` column: Satchel scaled out, as issue 14 deploys it, on loopback.

Two ``satchel serve`` nodes (one worker each: two workers in all, like ``satchel-2w``) with their
metadata in one PostgreSQL database (a private cluster, :mod:`bench.pgcluster`) and their blobs in one
SeaweedFS bucket (like ``satchel-s3``), sharing one master key (copied from node A's data dir to node
B's, as an operator distributes it), behind HAProxy (round robin, keep-alive both sides,
``option forwardfor`` with the nodes trusting it, as a deployment would). Every workload reaches it
through the load balancer: ``satchel-2n`` ÷ ``satchel-1w`` is the cost of scale-out per request, and
``satchel-2n`` ÷ ``satchel-s3`` the part of it that is PostgreSQL and the balancer.

What is measured (CPU, RSS): HAProxy, both nodes (one process each: with one worker, ``satchel serve``
becomes the worker) and PostgreSQL (the
postmaster and its backends: the metadata work that the single-node columns do inside their workers,
in SQLite). Not SeaweedFS, as for ``satchel-s3``: the ``seaweedfs`` column shows what it costs.
The per-process figures are in the JSON (``idle_rss_per_process_mib``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench import procs
from bench.pgcluster import PgCluster
from bench.servers import Satchel, SeaweedFS, free_port

HAPROXY_CONFIG = """\
global
    maxconn 8192
defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 65s
    maxconn 8192
frontend s3
    bind 127.0.0.1:{port}
    default_backend satchel
backend satchel
    balance roundrobin
{servers}
"""


class SatchelTwoNodes(Satchel):
    """``pid`` is HAProxy's; :attr:`nodes` are the two Satchels, started before it."""

    kind = "satchel-2n"

    def __init__(self, name: str, root: Path, access_key: str, secret_key: str, haproxy: str) -> None:
        super().__init__(name, root / "node-a", None, access_key, secret_key)
        self.root = root
        self.haproxy = haproxy
        self._nodes = [Satchel(f"{name}-{n}", root / f"node-{n}", None, access_key, secret_key) for n in "ab"]
        self.upstream = SeaweedFS(f"{name}-upstream", root / "upstream")
        self.pg: PgCluster | None = None

    @property
    def nodes(self) -> list[Satchel]:
        return self._nodes

    def command(self) -> list[str]:
        servers = "\n".join(f"    server {n.name} 127.0.0.1:{n.port}" for n in self._nodes)
        config = self.root / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        return [self.haproxy, "-db", "-f", str(config)]

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self, log_dir: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.failure = self.upstream.start_upstream(log_dir)
        if self.failure is not None:
            return
        try:
            self.pg = PgCluster(port=free_port())  # in the system's temp dir: PostgreSQL's user must reach it
            url = self.pg.create_database("bench")
        except Exception as exc:
            self.failure = f"PostgreSQL: {exc}"
            return
        settings = {**self.upstream.blobs_env(), "SATCHEL_METADATA_URL": url, "SATCHEL_TRUSTED_PROXIES": "127.0.0.1"}
        self.settings_env.update(settings)
        first, second = self._nodes
        for node in self._nodes:
            node.settings_env.update(settings)
        first.start(log_dir)  # first alone: it creates the schema and the master key
        if first.failure is None:
            _share_master_key(first.data_dir, second.data_dir)
            second.start(log_dir)
        for node in self._nodes:
            if node.failure is not None:
                self.failure = f"node {node.name}: {node.failure}"
                return
        super().start(log_dir)

    @property
    def measured(self) -> procs.Roots | None:
        """HAProxy, the two nodes and PostgreSQL's postmaster (each with its descendants)."""
        pids = [self.pid, *(n.pid for n in self._nodes), self._postmaster()]
        return tuple(p for p in pids if p is not None) if self.pid is not None else None

    def _postmaster(self) -> int | None:
        if self.pg is None:
            return None
        try:
            return int((self.pg.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    @property
    def up(self) -> bool:
        return super().up and all(n.pid is not None for n in self._nodes)

    def kill(self) -> None:
        super().kill()
        for node in self._nodes:
            node.kill()

    def stop(self) -> None:
        super().stop()
        for node in reversed(self._nodes):
            node.stop()
        self.upstream.stop()
        if self.pg is not None:
            self.pg.close()


def _share_master_key(source: Path, target: Path) -> None:
    """Node B gets node A's master key (sealed credentials must open on both), owner-only as Satchel wants."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(source / "master.key", target / "master.key")
    (target / "master.key").chmod(0o600)
