"""A private PostgreSQL cluster for the tests: Debian's server binaries, a temporary directory, loopback.

``initdb`` + ``pg_ctl start`` on 127.0.0.1 at a free port, its unix socket in the same temporary
directory, fsync on (the store's durability is what is tested, not a faster imitation), trust
authentication for loopback only. PostgreSQL refuses to run as root: as root (CI), the cluster
belongs to an unprivileged user (``postgres`` when Debian's package created it, else ``nobody``) and
every server command runs as that user through ``runuser``. ``scripts/install-test-deps.sh``
installs the Debian package ``postgresql`` (its system cluster never starts: policy-rc.d).
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

#: Ports tried first (this project's test range), then any free one.
_PORTS = range(43500, 44000)


def bin_dir() -> Path | None:
    """The newest installed server's binaries, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


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
    return _any_free_port()


def _any_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PgCluster:
    def __init__(self, base: Path | None = None) -> None:
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-test-deps.sh installs it)")
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="satchel-pg-", dir=base))
        self.data = self.root / "data"
        self.port = _free_port()
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


_names = iter(range(1, 1 << 62))


def fresh_name() -> str:
    """A database name not used before in this process."""
    return f"satchel_{os.getpid()}_{next(_names)}"
