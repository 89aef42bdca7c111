"""One PostgreSQL database shared by every worker of every node: pool, transactions, migrations, changes.

It offers the SQLite mixins (``meta/sqlite_*.py``) the same small interface as
:class:`~satchel.meta.sqlite_db.SqliteDatabase` — ``conn()``, ``transaction()``, ``group()``,
``schema_version()`` — so the SQL is written once. What differs, and why:

- **Placeholders and types.** The mixins write ``?``; :class:`PgConnection` turns them into ``%s``
  (and a literal ``%`` into ``%%``) outside string literals, once per statement text. Values are bound
  client-side (``psycopg.ClientCursor``): PostgreSQL then types each literal in its context, as
  SQLite's loose typing does, instead of refusing a parameter it cannot type. ``numeric`` results
  (``SUM`` of a ``BIGINT``) come back as ``int``/``float``, never ``Decimal``. The migrations are the
  same scripts; their DDL is spelt for PostgreSQL by :func:`pg_ddl` (``INTEGER`` → ``BIGINT``,
  ``REAL`` → ``DOUBLE PRECISION``, ``BLOB`` → ``BYTEA``, every ``TEXT`` column ``COLLATE "C"`` so that
  names and keys sort in byte order, as in SQLite).
- **Isolation.** SQLite admits one writer at a time (``BEGIN IMMEDIATE``) and the mixins rely on it: a
  read-check-write inside ``transaction()`` (a link's use count, a precondition, a listing's order)
  must not interleave with another writer's. Here every write transaction is READ COMMITTED and takes
  one cluster-wide advisory lock first (``pg_advisory_xact_lock``): writers of every node run one at a
  time, and each statement after the lock sees everything committed before it. Reads never take it
  (MVCC). SERIALIZABLE would let writers overlap, but a failed one must be re-run whole, and a
  ``with transaction()`` block cannot be re-run by the database layer. Every changing transaction
  updates the one ``generation`` row anyway, which serialises those writers by itself. Measured on
  loopback (4 writers on 2 stores, 2 busy cores): ~200-300 small commits/s with the lock, ~700-1150/s
  without (PostgreSQL then flushes concurrent commits together); a node's writer thread amortises it by
  grouping queued writes into one transaction (:meth:`PostgresDatabase.group`).
- **Reads** outside a transaction borrow a pooled connection for one autocommit statement and return
  it at once (rows fetched); inside this thread's open transaction they use its connection, so they
  see its uncommitted writes, as on SQLite.
- **Failures.** PostgreSQL unreachable, a pool exhausted past its timeout, a lock or statement
  timeout: :class:`~satchel.core.errors.ServiceUnavailable` (503 on every front-end), never a hang past
  ``timeout`` seconds. After such a failure the database answers 503 at once for
  :data:`_BREAKER_SECONDS`, then lets one request wait :data:`_PROBE_SECONDS` for a connection, and
  so on, instead of stalling every request on the pool's timeout (reads run in the node's reader
  threads, ``Node.read``: a wait there holds a thread and its request); the pool reconnects in the
  background and the first request that gets a connection closes the breaker: recovery needs no restart.
  Pooled connections PostgreSQL closed while it stays up (``pg_terminate_backend``, a restart, an
  idle-session killer) cost no request: a statement that finds its connection closed runs again on the
  next (:meth:`PostgresDatabase.attempts`) when nothing can have run on it (an autocommit read, a
  ``BEGIN``). Checking each connection as it is borrowed (psycopg_pool's ``check=``) would do the same at
  one more round trip per statement: measured on loopback, 92-178 µs a read without it, 166-308 µs with it.
  A server that hangs without closing anything (SIGSTOP, a frozen VM) is bounded above this layer, by
  ``Node.read`` / ``Node.write``: its kernel still ACKs, so no socket timeout would fire.
- **Changes.** Every changing transaction bumps ``generation`` (the mixins do); a trigger installed
  here turns each bump into ``NOTIFY satchel_generation``. :class:`ChangeListener` (one thread per
  worker process) LISTENs, reads the generation itself and publishes it to the registered gates, so a
  change committed on any node is seen by every worker within the notification's delivery (milliseconds
  on a LAN) and the event loop never reads it; while the listener is disconnected the gates fall back to
  polling every ``GENERATION_TTL``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import psycopg
import psycopg.adapt
import psycopg.errors
from psycopg_pool import ConnectionPool, PoolTimeout

from satchel.core.errors import InvalidArgument, ServiceUnavailable
from satchel.meta import UnusableStore
from satchel.meta.schema import BOOTSTRAP, MIGRATIONS, migrate

log = logging.getLogger("satchel.meta.postgres")

#: ``pg_advisory_xact_lock`` keys (any constants, fixed forever): one for every write transaction,
#: one for migrations (taken before the write lock, so that a migrating node keeps writers out).
WRITE_LOCK = 0x5A7C4E1
MIGRATION_LOCK = 0x5A7C4E2
#: ``pg_try_advisory_lock`` keys (session level, distinct from the two above) electing the one process
#: of the whole deployment that runs each background job (:class:`JobElector`).
JOB_LOCKS = {"lifecycle": 0x5A7C4E3, "gc": 0x5A7C4E4}
#: The channel of generation bumps.
CHANNEL = "satchel_generation"
#: After a failure to reach PostgreSQL, answer 503 at once for this long (see the module docstring).
_BREAKER_SECONDS = 0.5
#: ... and then waits at most this long for a pooled connection, until one comes.
_PROBE_SECONDS = 0.1
#: A server that vanished without closing its connections (a network cut, a power loss) is noticed by
#: TCP within ~10 s (keepalives on idle connections; unacknowledged data on busy ones), not the
#: kernel's ~15 min: the statement then fails with ServiceUnavailable, the listener reconnects.
DEAD_PEER: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 4, "keepalives_interval": 2,
                             "keepalives_count": 3, "tcp_user_timeout": 10_000}
#: While the change listener is connected, gates re-read the generation at least this often anyway.
LISTENING_TTL = 1.0

_NOTIFY_TRIGGER = (
    f"""CREATE OR REPLACE FUNCTION satchel_generation_notify() RETURNS trigger AS $$
BEGIN PERFORM pg_notify('{CHANNEL}', NEW.value::text); RETURN NEW; END $$ LANGUAGE plpgsql""",
    "CREATE OR REPLACE TRIGGER satchel_generation_notify AFTER UPDATE ON generation "
    "FOR EACH ROW EXECUTE FUNCTION satchel_generation_notify()",
)

#: Failures that mean "the database cannot answer now" rather than "this statement is wrong".
_UNAVAILABLE = (psycopg.OperationalError, PoolTimeout, psycopg.errors.LockNotAvailable,
                psycopg.errors.QueryCanceled, psycopg.errors.AdminShutdown, psycopg.errors.CannotConnectNow)


#: What libpq says when it never reached a server that could answer (nothing listens, no route, a
#: timeout, a name not resolvable yet) or reached one that is not ready yet (starting up, shutting down,
#: in recovery, out of connection slots): PostgreSQL is *down*, and a node keeps retrying. Connection
#: failures carry no SQLSTATE in psycopg (the server's ``FATAL`` arrives as libpq's message text), so
#: they are told apart by these messages (libpq's and the server's, in English: the server's
#: ``lc_messages`` must be C or English for a not-ready server to be told from a refusal).
_DOWN_MESSAGES = (
    "connection refused", "timeout expired", "timed out", "no route to host", "network is unreachable",
    "host is down", "could not translate host name", "failed to resolve host", "name or service not known",
    "temporary failure in name resolution", "server closed the connection unexpectedly",
    "connection reset", "no such file or directory",  # a unix socket not there yet
    "the database system is starting up", "the database system is shutting down",
    "the database system is in recovery mode", "the database system is not yet accepting connections",
    "the database system is not accepting connections", "too many clients already",
    "remaining connection slots are reserved",
)


def check_reachable(url: str, *, timeout: float) -> None:
    """Connect once, so that a start tells *down* (:class:`ServiceUnavailable`: retried) from *refused*
    (:class:`~satchel.meta.UnusableStore`: a fast, clear failure). The pool cannot tell: it retries every failure
    in the background until its timeout."""
    try:
        psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)), **DEAD_PEER).close()
    except psycopg.OperationalError as exc:
        reason = _scrubbed(str(exc), url)
        if any(marker in reason.lower() for marker in _DOWN_MESSAGES):
            raise ServiceUnavailable(f"Cannot reach the metadata database: {reason}") from exc
        raise UnusableStore(f"The metadata database refused this node: {reason}") from exc
    except psycopg.Error as exc:  # a URL psycopg cannot parse (ProgrammingError), anything else
        raise UnusableStore(f"Cannot use metadata_url: {_scrubbed(str(exc), url)}") from exc


def _scrubbed(message: str, url: str) -> str:
    """libpq's message on one line, without the URL's password (a malformed URL may be quoted back)."""
    message = " ".join(message.split())
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, urllib.parse.unquote(password)} if password else ():
        message = message.replace(secret, "***")
    return message


class NumericLoader(psycopg.adapt.Loader):
    """``numeric`` as ``int`` when whole, else ``float``: what SQLite hands back for the same sums."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        if "." in text or "e" in text.lower() or text == "NaN":
            return float(text)
        return int(text)


def _translate(sql: str) -> str:
    return _translate_cached(sql)


@functools.lru_cache(maxsize=4096)
def _translate_cached(sql: str) -> str:
    """``?`` → ``%s`` and ``%`` → ``%%`` outside single-quoted literals (``''`` escapes stay inside)."""
    out: list[str] = []
    quoted = comment = False
    for char in sql:
        if comment:
            comment = char != "\n"
            out.append("%%" if char == "%" else char)
        elif char == "-" and not quoted and out and out[-1] == "-":
            comment = True
            out.append(char)
        elif char == "'":
            quoted = not quoted
            out.append(char)
        elif char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


_TEXT = re.compile(r"\bTEXT\b(?!\s+COLLATE)")
_DDL_TYPES = ((re.compile(r"\bINTEGER\b"), "BIGINT"), (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
              (re.compile(r"\bBLOB\b"), "BYTEA"))


def pg_ddl(statement: str) -> str:
    """A migration statement spelt for PostgreSQL (see the module docstring); DML passes unchanged."""
    head = statement.lstrip().upper()
    if not head.startswith(("CREATE TABLE", "ALTER TABLE")):
        return statement
    for pattern, replacement in _DDL_TYPES:
        statement = pattern.sub(replacement, statement)
    return _TEXT.sub('TEXT COLLATE "C"', statement)


class Result:
    """The rows of one statement, fetched: what the mixins use of a ``sqlite3.Cursor``."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class PgConnection:
    """A ``sqlite3.Connection``-shaped view of one pooled connection (inside a transaction)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        with _unavailable(), self._conn.cursor() as cur:
            cur.execute(_translate(sql), tuple(params))
            found = cur.fetchall() if cur.description is not None else []
            return Result(found, cur.rowcount)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Result:
        """One pipeline (psycopg's ``executemany``): one round trip for the batch, not one per row."""
        rows = [tuple(params) for params in seq]
        if not rows:
            return Result([], 0)
        with _unavailable(), self._conn.cursor() as cur:
            cur.executemany(_translate(sql), rows)
            return Result([], max(cur.rowcount, 0))


class _Autocommit:
    """``conn()`` outside a transaction: each statement on a pooled connection, returned at once."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        for attempt in self._db.attempts():
            with self._db._borrow() as conn:
                try:
                    return PgConnection(conn).execute(sql, params)
                except ServiceUnavailable:
                    if attempt.last or not _dead(conn):
                        raise
                    # A pooled connection PostgreSQL closed meanwhile (a restart, pg_terminate_backend, an
                    # idle-session killer): the pool drops it on return. One statement in autocommit on a
                    # connection found closed did not commit; run it again on the next one.
        raise AssertionError("unreachable")

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Result:
        with self._db.transaction() as c:
            return c.executemany(sql, seq)


def _up_to_date(c: PgConnection) -> bool:
    """Whether the database holds every migration and the change trigger already (autocommit reads)."""
    if c.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone() != (True,):
        return False
    row = c.execute("SELECT version FROM schema_version").fetchone()
    trigger = c.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'satchel_generation_notify'").fetchone()
    return row is not None and row[0] == len(MIGRATIONS) and trigger is not None


def read_schema_version(url: str, *, timeout: float) -> int:
    """The version a database has, read without migrating it (0 before the first; 0 too when it cannot
    be reached: opening the store then says why)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
            if conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone() != (True,):
                return 0
            row = conn.execute("SELECT version FROM schema_version").fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0


class _Attempt:
    __slots__ = ("last",)

    def __init__(self, last: bool) -> None:
        self.last = last


def _dead(conn: psycopg.Connection[Any]) -> bool:
    return conn.broken or conn.closed


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    """PostgreSQL's failures in the vocabulary the mixins were written against: a constraint
    violation is ``sqlite3.IntegrityError`` (what callers catch on either engine), an unreachable
    database :class:`ServiceUnavailable`, a NUL character (text PostgreSQL cannot hold) the client's
    :class:`InvalidArgument`."""
    try:
        yield
    except psycopg.IntegrityError as exc:
        raise sqlite3.IntegrityError(str(exc)) from exc
    except psycopg.DataError as exc:
        if "NUL" not in str(exc):
            raise
        # SQLite stores U+0000 in text; PostgreSQL cannot: a name or key holding one is refused whole.
        raise InvalidArgument("Names and keys cannot contain the character U+0000 (NUL) "
                              "with the PostgreSQL metadata store.") from exc
    except _UNAVAILABLE as exc:
        raise ServiceUnavailable("The metadata database is unavailable; try again.") from exc


class Gate(Protocol):
    def expire(self) -> None: ...
    def relax(self, ttl: float | None) -> None: ...
    def publish(self, generation: int | None) -> None: ...


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", NumericLoader)


class PostgresDatabase:
    def __init__(self, url: str, *, pool_size: int = 10, timeout: float = 3.0,
                 lock_timeout: float = 10.0) -> None:
        self.url = url
        self._timeout = timeout
        self._down_until = 0.0
        self._local = threading.local()
        # Every connection: client-side binding, numeric loader, a bound on lock waits (the write
        # lock, like SQLite's busy_timeout) and on connecting.
        kwargs: dict[str, Any] = {
            "cursor_factory": psycopg.ClientCursor,
            "autocommit": True,
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c lock_timeout={int(lock_timeout * 1000)}",
            **DEAD_PEER,
        }
        check_reachable(url, timeout=timeout)
        self._max_size = max(1, pool_size)
        self._pool = ConnectionPool(url, min_size=1, max_size=self._max_size, kwargs=kwargs,
                                    configure=_configure, timeout=timeout, open=False,
                                    reconnect_timeout=24 * 3600, name="satchel-meta")
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            self._pool.close(timeout=0)
            raise ServiceUnavailable(f"Cannot reach the metadata database within {timeout:g} s.") from exc
        self._listener: ChangeListener | None = None
        self._listener_lock = threading.Lock()
        self._elector: JobElector | None = None
        try:
            self._migrate()
        except BaseException:
            self._pool.close(timeout=0)  # a node retrying the open (app.py) must not pile up pools
            raise

    # --- connections -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection, or 503 at once while the breaker is open (see the module docstring)."""
        if time.monotonic() < self._down_until:
            raise ServiceUnavailable("The metadata database is unavailable; try again.")
        try:
            # While PostgreSQL is known to be down, a probe waits briefly: the pool reconnects in the
            # background and hands a connection out as soon as it has one.
            conn = self._pool.getconn(timeout=_PROBE_SECONDS if self._down_until else self._timeout)
        except _UNAVAILABLE as exc:
            self._down_until = time.monotonic() + _BREAKER_SECONDS
            raise ServiceUnavailable("The metadata database is unavailable; try again.") from exc
        self._down_until = 0.0
        try:
            yield conn
        finally:
            self._pool.putconn(conn)

    def conn(self) -> PgConnection | _Autocommit:
        """This thread's transaction connection when one is open, else one-statement autocommit."""
        current: PgConnection | None = getattr(self._local, "conn", None)
        return current if current is not None else _Autocommit(self)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One write transaction (serialised cluster-wide); anything raised inside rolls it back.
        Inside :meth:`group` it is a savepoint of the group's transaction instead."""
        current: PgConnection | None = getattr(self._local, "conn", None)
        if current is not None:
            with self._savepoint(current):
                yield current
            return
        with self._committed() as c:
            yield c

    @contextlib.contextmanager
    def _begun(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection inside ``BEGIN``: a connection PostgreSQL closed meanwhile (a restart)
        is swapped for a fresh one once, since nothing ran on it yet."""
        for attempt in self.attempts():
            with self._borrow() as raw:
                try:
                    PgConnection(raw).execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                except ServiceUnavailable:
                    if attempt.last or not _dead(raw):
                        raise
                    continue
                yield raw
                return

    def attempts(self) -> Iterator[_Attempt]:
        """Tries of a statement that may run again when its connection was found closed: one per pooled
        connection and one more, since every idle one may have been closed at once (a restart kills
        them all) and each closed one is dropped as it fails, at no cost (its failure is already in its
        socket). A fresh connection then comes from the pool's reconnection."""
        total = self._max_size + 1
        return (_Attempt(i == total - 1) for i in range(total))

    @contextlib.contextmanager
    def _committed(self, lock: int = WRITE_LOCK) -> Iterator[PgConnection]:
        with self._begun() as raw:
            c = PgConnection(raw)
            self._local.conn = c
            try:
                c.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
                yield c
                c.execute("COMMIT")
            except BaseException:
                if raw.info.transaction_status != psycopg.pq.TransactionStatus.UNKNOWN:
                    with contextlib.suppress(psycopg.Error, ServiceUnavailable):
                        c.execute("ROLLBACK")
                raise
            finally:
                self._local.conn = None

    @contextlib.contextmanager
    def _savepoint(self, c: PgConnection) -> Iterator[None]:
        c.execute("SAVEPOINT grouped")
        try:
            yield
            c.execute("RELEASE SAVEPOINT grouped")
        except BaseException:
            with contextlib.suppress(psycopg.Error, ServiceUnavailable):
                c.execute("ROLLBACK TO SAVEPOINT grouped")
                c.execute("RELEASE SAVEPOINT grouped")
            raise

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """This thread's transactions inside become savepoints of one transaction: one commit."""
        with self._committed():
            yield

    # --- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Apply the missing migrations once, whichever node gets there first (the migration lock,
        then the write lock, inside one transaction: DDL is transactional in PostgreSQL)."""
        with self._borrow() as raw:
            c = PgConnection(raw)
            if _up_to_date(c):  # the common start: no lock, no DDL, no commit
                return
            c.execute("BEGIN")
            try:
                c.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                c.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
                c.execute(BOOTSTRAP)
                migrate(c, "postgresql", "the database", MIGRATIONS, pg_ddl)
                for statement in _NOTIFY_TRIGGER:
                    c.execute(statement)
                c.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(psycopg.Error, ServiceUnavailable):
                    c.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        row = self.conn().execute("SELECT version FROM schema_version").fetchone()
        return int(row[0])

    # --- changes ---------------------------------------------------------------------------------
    def watch(self, gate: Gate) -> None:
        """Expire ``gate`` whenever any node commits a change (see :class:`ChangeListener`)."""
        with self._listener_lock:
            if self._listener is None:
                self._listener = ChangeListener(self.url, timeout=self._timeout)
            self._listener.add(gate)

    def job_lock(self, job: str) -> JobLock:
        """The deployment-wide election for ``job`` (see :class:`JobElector`)."""
        with self._listener_lock:
            if self._elector is None:
                self._elector = JobElector(self.url, timeout=self._timeout)
        return JobLock(self._elector, JOB_LOCKS[job])

    def close(self) -> None:
        with self._listener_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self._elector is not None:
                self._elector.close()
                self._elector = None
        self._pool.close()


class JobElector:
    """One connection per worker process, outside the pool, holding the session-level advisory locks
    (``pg_try_advisory_lock``) that make this process the deployment's runner of a background job.

    Session-level, not transaction-level: a pass lasts minutes and makes many transactions of its own.
    The lock lives as long as this connection: a process that exits or dies (its socket closed by the
    kernel) releases it at once, a machine that vanishes within ~10 s (``DEAD_PEER``'s keepalives and
    ``tcp_user_timeout``), a PostgreSQL restart for everyone; each worker's next check then finds it free
    and one takes it. ``held`` checks that the connection is alive before saying yes, so a process whose
    session was lost stops running passes at its next interval. Between a lost session and that check two
    processes may overlap for one pass: the jobs are idempotent (conditional deletes, aborts that find
    the upload gone), so the cost is duplicated work, never a wrong result.
    """

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[int] = set()
        self._lock = threading.Lock()

    def held(self, key: int) -> bool:
        with self._lock:
            try:
                if self._conn is not None and not _dead(self._conn):
                    self._conn.execute("SELECT 1")  # the session (and so its locks) still alive
                else:
                    self._reconnect()
                if key not in self._held:
                    row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()  # type: ignore[union-attr]
                    if row is None or not row[0]:
                        return False
                    self._held.add(key)
                return True
            except psycopg.Error:
                self._drop()
                return False

    def release(self, key: int) -> None:
        with self._lock:
            if key in self._held and self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            self._held.discard(key)

    def _reconnect(self) -> None:
        self._drop()
        self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=max(1, int(self._timeout)),
                                     **DEAD_PEER)

    def _drop(self) -> None:
        """Forget the connection and every lock it held (a closed session holds none)."""
        self._held.clear()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


class JobLock:
    """:class:`~satchel.meta.store.JobLock` for one job, on the process's :class:`JobElector`."""

    def __init__(self, elector: JobElector, key: int) -> None:
        self._elector = elector
        self._key = key

    def held(self) -> bool:
        return self._elector.held(self._key)

    def release(self) -> None:
        self._elector.release(self._key)


class ChangeListener:
    """One thread per worker process: ``LISTEN satchel_generation``, expire every gate on a notification.

    While connected, this thread reads the generation itself, on every notification and at least every
    half second, and publishes it to the gates (``GenerationGate.publish``): the event loop never reads
    it. While not (PostgreSQL restarting, a network cut), the gates poll every ``GENERATION_TTL`` as on
    SQLite (each poll is counted by the store's loop guard), and on reconnecting they get the generation
    read afresh (changes made during the gap).
    """

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._gates: list[Gate] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._listening = False
        self._thread = threading.Thread(target=self._run, name="satchel-pg-listen", daemon=True)
        self._thread.start()

    def add(self, gate: Gate) -> None:
        with self._lock:
            self._gates.append(gate)
            listening = self._listening
        if listening:
            gate.relax(LISTENING_TTL)

    def _set_listening(self, listening: bool, generation: int | None = None) -> None:
        """Relax the gates (or tighten them back to polling) and expire them: whatever changed while
        nobody listened is read afresh. ``connected`` is set only once every gate is relaxed."""
        with self._lock:
            self._listening = listening
            gates = list(self._gates)
        for gate in gates:
            gate.relax(LISTENING_TTL if listening else None)
            gate.expire()
            gate.publish(generation if listening else None)
        if listening:
            self.connected.set()

    def _publish(self, generation: int) -> None:
        with self._lock:
            gates = list(self._gates)
        for gate in gates:
            gate.publish(generation)

    @staticmethod
    def _generation(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT value FROM generation WHERE id = 1").fetchone()
        return int(row[0]) if row is not None else 0

    def _run(self) -> None:
        pause = 0.05
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=max(1, int(self._timeout)),
                                     **DEAD_PEER) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._set_listening(True, self._generation(conn))
                    pause = 0.05
                    while not self._stop.is_set():
                        # A notification, or half a second without one (the safety net): read it anew.
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            pass
                        self._publish(self._generation(conn))
            except Exception as exc:  # whatever broke: fall back to polling, reconnect
                if not self._stop.is_set():
                    log.warning("metadata change listener disconnected (%s); polling until it reconnects",
                                type(exc).__name__)
            finally:
                self.connected.clear()
                self._set_listening(False)
            self._stop.wait(pause)
            pause = min(pause * 2, 2.0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * self._timeout + 1)
