"""Threads and processes sharing one file; connection settings; schema versioning; the factory."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from satchel.config import Settings
from satchel.core.errors import ServiceUnavailable
from satchel.core.models import Bucket
from satchel.meta import UnusableStore, open_store
from satchel.meta.schema import MIGRATIONS
from satchel.meta.sqlite import SqliteStore
from satchel.meta.sqlite_db import SqliteDatabase

from .conftest import World, record


def _write_objects(path: str, prefix: str, count: int) -> None:
    """Runs in another process: its own store on the same file."""
    store = SqliteStore(path)
    try:
        for i in range(count):
            store.put_object(record(f"{prefix}{i:04d}", f"{i + 10**6:032x}"))
    finally:
        store.close()


def test_two_threads_write_while_a_third_reads(world: World, store: SqliteStore) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(prefix: str) -> None:
        try:
            for i in range(150):
                store.put_object(record(f"{prefix}/{i:04d}", f"{prefix}{i:031d}"))
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            while not stop.is_set():
                store.list_objects("photos", limit=50)
                store.get_bucket("photos")
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    reader = threading.Thread(target=read)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert errors == []
    assert len(store.list_objects("photos", limit=1000)) == 300


@pytest.mark.sqlite_only
def test_a_second_process_writes_the_same_file(world: World, store: SqliteStore) -> None:
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_write_objects, args=(str(store.path), "p", 100))
    child.start()
    for i in range(100):
        store.put_object(record(f"m{i:04d}", f"{i:032x}"))
    child.join(30)
    assert child.exitcode == 0
    keys = [r.key for r in store.list_objects("photos", limit=1000)]
    assert len(keys) == 200
    assert sum(k.startswith("p") for k in keys) == 100


@pytest.mark.sqlite_only
def test_a_writer_waits_for_the_lock_instead_of_failing(world: World, store: SqliteStore) -> None:
    """Another connection holds the write lock for a while; BEGIN IMMEDIATE queues behind it."""
    other = SqliteDatabase(store.path)
    holder = other.conn()
    holder.execute("BEGIN IMMEDIATE")
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(store.put_object(record("k", "a" * 32))))
    started = time.monotonic()
    worker.start()
    time.sleep(0.3)
    assert result == []  # still waiting
    holder.execute("COMMIT")
    worker.join(10)
    assert result == [[]] and time.monotonic() - started >= 0.3
    other.close()


@pytest.mark.sqlite_only
def test_a_writer_gives_up_after_the_busy_timeout(world: World, store: SqliteStore) -> None:
    impatient = SqliteDatabase(store.path, busy_timeout=0.2)
    holder = SqliteDatabase(store.path).conn()
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"), impatient.transaction():
        pass
    assert time.monotonic() - started >= 0.2
    # The connection keeps its busy timeout for everything else, and works once the lock is free.
    assert impatient.conn().execute("PRAGMA busy_timeout").fetchone()[0] == 200
    holder.execute("COMMIT")
    with impatient.transaction() as c:
        c.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
    impatient.close()


@pytest.mark.sqlite_only
def test_each_thread_has_its_own_connection(store: SqliteStore) -> None:
    mine = store._db.conn()
    theirs: list[object] = []
    t = threading.Thread(target=lambda: theirs.append(store._db.conn()))
    t.start()
    t.join()
    assert theirs[0] is not mine
    assert store._db.conn() is mine


def test_connection_settings(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.sqlite3", synchronous="normal")
    conn = store._db.conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    store.close()
    full = SqliteStore(tmp_path / "f.sqlite3")
    assert full._db.conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL by default
    full.close()
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore(tmp_path / "x.sqlite3", synchronous="sometimes")


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = SqliteStore(tmp_path / "data" / "meta.sqlite3")
        store.create_account("acme")  # writes the WAL
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    for name in ("meta.sqlite3", "meta.sqlite3-wal", "meta.sqlite3-shm"):
        assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
    store.close()


def test_schema_version_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    store = SqliteStore(path)
    assert store.schema_version() == len(MIGRATIONS)
    account = store.create_account("acme")
    store.close()
    again = SqliteStore(path)  # migrations are not re-applied to a current file
    assert again.schema_version() == len(MIGRATIONS)
    assert again.get_account(account.id) == account
    again._db.conn().execute("UPDATE schema_version SET version = 999")
    again.close()
    with pytest.raises(UnusableStore, match="newer than this Satchel"):
        SqliteStore(path)


def test_closed_store_is_unusable(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.sqlite3")
    store.close()
    with pytest.raises(Exception, match="closed"):
        store.get_bucket("x")


def test_open_store_factory(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path / "d", sqlite_synchronous="NORMAL"))
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "d" / "meta.sqlite3"
    assert store._db.conn().execute("PRAGMA synchronous").fetchone()[0] == 1
    account = store.create_account("a")
    store.create_bucket(Bucket("b", account.id, None, 0.0))
    store.close()
    # Nothing listens on port 1: the PostgreSQL store says so within its timeout, naming no secret.
    with pytest.raises(ServiceUnavailable) as unreachable:
        open_store(Settings(data_dir=tmp_path, metadata_url="postgresql://u:secret@127.0.0.1:1/satchel",
                            postgres_timeout=1.0))
    assert "secret" not in str(unreachable.value)
    with pytest.raises(ValueError) as info:
        open_store(Settings(data_dir=tmp_path, metadata_url="mysql://u:secret@db/x"))
    assert "secret" not in str(info.value)
