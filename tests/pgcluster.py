"""The tests' private PostgreSQL cluster (:mod:`bench.pgcluster`), on a port of this project's test range."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from bench import pgcluster
from bench.pgcluster import bin_dir as bin_dir

#: Ports tried first (this project's test range), then any free one.
_PORTS = range(43500, 44000)


def _free_port() -> int:
    """A free port, each xdist worker starting in its own slice of the range (two workers probing
    the same port at once would both find it free)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = 50 * int(worker[2:]) if worker[2:].isdigit() else 0
    for port in [*_PORTS[offset:], *_PORTS[:offset]]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(port)
    return 0


class PgCluster(pgcluster.PgCluster):
    def __init__(self, base: Path | None = None) -> None:
        super().__init__(base, _free_port() or None)


_names = iter(range(1, 1 << 62))


def fresh_name() -> str:
    """A database name not used before in this process."""
    return f"satchel_{os.getpid()}_{next(_names)}"
