"""One SQLite file shared by threads and processes: connections, transactions, migrations.

Concurrency model. Several worker processes open the same file; inside each, the event-loop thread
reads while a writer thread writes. So:

- the writer thread may run several writes as savepoints of one transaction (:meth:`SqliteDatabase.group`,
  group commit: one fsync for all of them); each ``transaction()`` inside becomes a savepoint;
- every thread gets its own connection (``threading.local``), never a shared one: a connection's
  statement cache and transaction state belong to one thread;
- WAL journal mode lets readers proceed while a writer commits;
- writes open with ``BEGIN IMMEDIATE``, which takes the write lock up front: a second writer waits
  (up to ``busy_timeout``, 10 s) at ``BEGIN`` instead of failing with ``SQLITE_BUSY`` half-way through,
  when a deferred transaction tries to upgrade its read lock. It waits in :meth:`_begin`, retrying
  every 0.1-2 ms: SQLite's own busy handler sleeps 1, 2, 5, 10 … ms between tries, which gave two
  workers writing small objects waits of hundreds of milliseconds for a lock held for one;
- ``synchronous`` defaults to FULL (a committed write survives power loss); NORMAL only guarantees it
  across process crashes, for deployments that accept that for throughput.

Connections run in autocommit mode (``isolation_level=None``): a read is one statement and one
implicit read transaction; only :meth:`SqliteDatabase.transaction` opens explicit ones.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from satchel.core.errors import InsufficientStorage
from satchel.meta.schema import BOOTSTRAP, MIGRATIONS, migrate

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
#: Waits between tries for the write lock: doubling from the first to the last, then the last.
_FIRST_PAUSE = 0.0001
_LAST_PAUSE = 0.002


def _private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by the owner only, whatever the umask."""
    if path.is_dir():
        return
    _private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)


class SqliteDatabase:
    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL", busy_timeout: float = 10.0):
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"sqlite synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self.path = Path(path)
        self._synchronous = mode
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        _private_dir(self.path.parent)
        # SQLite gives the -wal and -shm files the main file's permissions: create it private first.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        self._migrate()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        try:
            conn: sqlite3.Connection = self._local.conn
        except AttributeError:
            conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the metadata store is closed")
            # check_same_thread=False only so that close() may close every thread's connection;
            # each connection is still used by the one thread that opened it.
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            # Threads that ended leave their connections behind: close those now.
            alive = []
            for thread, other in self._connections:
                if thread.is_alive():
                    alive.append((thread, other))
                else:
                    other.close()
            alive.append((threading.current_thread(), conn))
            self._connections = alive
            self._local.conn = conn
            return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; anything raised inside rolls it back.

        Inside :meth:`group` it is a savepoint of the group's transaction instead: it still happens
        whole or not at all, but becomes durable with the group's commit.
        """
        conn = self.conn()
        if getattr(self._local, "grouped", False):
            with self._savepoint(conn):
                yield conn
            return
        with self._committed(conn):
            yield conn

    @contextlib.contextmanager
    def _committed(self, conn: sqlite3.Connection) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if anything inside raises."""
        self._begin(conn)
        self._local.full = False
        try:
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if _disk_full(exc) or self._local.full:
                raise InsufficientStorage() from exc
            raise

    @contextlib.contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[None]:
        if not conn.in_transaction:
            # SQLite rolled the whole group back (a full disk, an I/O error): a savepoint now would
            # open and commit a transaction of its own, outside the group that is about to fail.
            if self._local.full:
                raise InsufficientStorage()
            raise sqlite3.OperationalError("the grouped transaction was rolled back")
        conn.execute("SAVEPOINT grouped")
        try:
            yield
            conn.execute("RELEASE grouped")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO grouped")
                conn.execute("RELEASE grouped")
            if _disk_full(exc):
                # Every other write of the group fails with it too: say why, not "rolled back".
                self._local.full = True
                raise InsufficientStorage() from exc
            raise

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """Run this thread's transactions inside as savepoints of one transaction: one commit (one
        fsync) for all of them. If the commit fails, none of them happened."""
        with self._committed(self.conn()):
            self._local.grouped = True
            try:
                yield
            finally:
                self._local.grouped = False

    def _begin(self, conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting for another writer in short steps (see the module docstring)."""
        deadline = time.monotonic() + self._busy_timeout
        pause = _FIRST_PAUSE
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # also its extended codes
                    if not busy or time.monotonic() >= deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, _LAST_PAUSE)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    def _migrate(self) -> None:
        """Apply the migrations this file lacks. Safe when several processes start at once: the
        first takes the write lock and migrates, the others then find nothing left to do."""
        self.conn().execute(BOOTSTRAP)
        with self.transaction() as c:
            migrate(c, "sqlite", str(self.path), MIGRATIONS)

    def schema_version(self) -> int:
        row = self.conn().execute("SELECT version FROM schema_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _, conn in self._connections:
                conn.close()
            self._connections = []


def _disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL: the database (or its WAL, or a temporary file) could not grow. The transaction is
    rolled back, which needs no space, so the file stays consistent and later writes work once there
    is room again; the caller gets :class:`InsufficientStorage` rather than an internal error."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL
