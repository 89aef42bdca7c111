"""A private PostgreSQL cluster for the tests and the benchmark: Debian's server binaries, a temporary
directory, loopback.

``initdb`` + ``pg_ctl start`` on 127.0.0.1 at a free port, its unix socket in the same temporary
directory, fsync on (the store's durability is what is tested, not a faster imitation), trust
authentication for loopback only. PostgreSQL refuses to run as root: as root (CI), the cluster
belongs to an unprivileged user (``postgres`` when Debian's package created it, else ``nobody``) and
every server command runs as that user through ``runuser``. ``scripts/install-test-deps.sh``
installs the Debian package ``postgresql`` (its system cluster never starts: policy-rc.d).

Shared by ``tests/pgcluster.py`` (which picks ports in the tests' range) and the bench's ``satchel-2n``
column (any free port).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg


def bin_dir() -> Path | None:
    """The newest installed server's binaries, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _any_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PgCluster:
    def __init__(self, base: Path | None = None, port: int | None = None) -> None:
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-test-deps.sh installs it)")
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="satchel-pg-", dir=base))
        self.data = self.root / "data"
        self.port = port or _any_free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            owner = pwd.getpwnam(self.user)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", "satchel", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-instructions")
        conf = self.data / "postgresql.conf"
        initial = conf.read_text()
        for attempt in range(3):  # another process may take the port between the probe and the start
            conf.write_text(initial + f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                            f"unix_socket_directories = '{self.root}'\nfsync = on\nmax_connections = 200\n"
                            "shared_buffers = 32MB\n")
            try:
                self.start()
                return
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
                self.port = _any_free_port()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
                       cwd=self.root)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://satchel@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (from ``template`` when given): its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            clause = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{clause}")
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
