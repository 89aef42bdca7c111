"""What is PostgreSQL's own in the PostgreSQL store (``meta/postgres_db.py``): the SQL spelling, the
writers serialised across nodes, migrations run once when nodes start together, and change notices.

The store's behaviour itself is tested on both engines by every other module of this directory.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.cli.main import cli
from satchel.core.errors import Conflict, InvalidArgument
from satchel.core.masterkey import load_master_key
from satchel.core.models import Bucket, Link, LinkKind, ObjectRecord, Role, Segment
from satchel.meta.postgres import PostgresStore
from satchel.meta.postgres_db import LISTENING_TTL, _translate, pg_ddl
from satchel.meta.schema import MIGRATIONS
from tests import pgcluster


def test_placeholders_become_psycopg_ones_outside_literals() -> None:
    sql = "SELECT '?', ? FROM t WHERE a LIKE 'x%' -- isn't ?\n AND b = ?"
    assert _translate(sql) == "SELECT '?', %s FROM t WHERE a LIKE 'x%%' -- isn't ?\n AND b = %s"
    assert _translate("SELECT 'it''s ?' WHERE c = ?") == "SELECT 'it''s ?' WHERE c = %s"


def test_ddl_is_spelt_for_postgresql() -> None:
    assert pg_ddl('CREATE TABLE t (n INTEGER, r REAL, b BLOB, s TEXT, k TEXT COLLATE "C" NOT NULL)') == (
        'CREATE TABLE t (n BIGINT, r DOUBLE PRECISION, b BYTEA, s TEXT COLLATE "C", k TEXT COLLATE "C" NOT NULL)')
    assert pg_ddl("ALTER TABLE t ADD COLUMN note TEXT") == 'ALTER TABLE t ADD COLUMN note TEXT COLLATE "C"'
    assert pg_ddl("UPDATE t SET s = 'TEXT INTEGER'") == "UPDATE t SET s = 'TEXT INTEGER'"


@pytest.fixture
def two(pg_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on one database: two nodes, as far as PostgreSQL can tell."""
    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    yield a, b
    a.close()
    b.close()


def test_values_come_back_as_sqlite_gives_them(two: tuple[PostgresStore, PostgresStore]) -> None:
    conn = two[0]._db.conn()
    assert conn.execute("SELECT SUM(x) FROM (VALUES (2::bigint), (3)) AS v (x)").fetchone() == (5,)
    assert type(conn.execute("SELECT SUM(x) FROM (VALUES (2::bigint)) AS v (x)").fetchone()[0]) is int
    assert conn.execute("SELECT 1.5::numeric, ?::bytea", (b"\x00\xff",)).fetchone() == (1.5, b"\x00\xff")


def test_check_then_write_is_exact_across_nodes(two: tuple[PostgresStore, PostgresStore]) -> None:
    """Eight writers on two nodes: one bucket made, seven Conflicts (a check that saw no bucket never meets
    a row inserted meanwhile), and a one-time link used once."""
    a, b = two
    account = a.create_account("acme")
    user = a.create_user(account.id, "alice", Role.MEMBER)
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def make(store: PostgresStore) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes.append(store.create_bucket(Bucket("dup", account.id, user.id, 1.0)))
        except Exception as exc:  # the test sorts what came out
            outcomes.append(exc)

    _run_all([lambda s=s: make(s) for s in (a, b) * 4])
    assert sum(isinstance(o, Bucket) for o in outcomes) == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 7, outcomes

    bucket = a.get_bucket("dup")
    assert bucket is not None
    a.create_links([Link("once", LinkKind.S3V4, user.id, "AK1", "dup", "k", "GET", 1.0, 1e12, max_uses=1,
                         bucket_id=bucket.id)])
    used: list[object] = []
    barrier = threading.Barrier(8)

    def use(store: PostgresStore) -> None:
        barrier.wait(timeout=10)
        used.append(store.consume_link("once", 10.0))

    _run_all([lambda s=s: use(s) for s in (a, b) * 4])
    assert sum(u is not None for u in used) == 1
    assert b.get_link("once").uses == 1  # type: ignore[union-attr]


def _run_all(calls: list[object]) -> None:
    threads = [threading.Thread(target=call) for call in calls]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


def test_nodes_starting_together_migrate_once(pg_cluster: pgcluster.PgCluster) -> None:
    url = pg_cluster.create_database(pgcluster.fresh_name())  # empty: no template
    stores: list[PostgresStore] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait(timeout=10)
        try:
            stores.append(PostgresStore(url))
        except BaseException as exc:
            failures.append(exc)

    _run_all([start] * 4)
    try:
        assert failures == []
        assert {s.schema_version() for s in stores} == {len(MIGRATIONS)}
        assert stores[0]._db.conn().execute("SELECT COUNT(*) FROM schema_version").fetchone() == (1,)
    finally:
        for s in stores:
            s.close()


class _Gate:
    def __init__(self) -> None:
        self.expired = threading.Event()
        self.ttl: float | None = None

    def expire(self) -> None:
        self.expired.set()

    def relax(self, ttl: float | None) -> None:
        self.ttl = ttl


def test_a_change_on_one_node_expires_the_others_gates(two: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = two
    gate = _Gate()
    a.watch(gate)
    listener = a.database._listener
    assert listener is not None and listener.connected.wait(5)
    assert gate.ttl == LISTENING_TTL  # notices instead of polling every few milliseconds
    gate.expired.clear()
    began = time.monotonic()
    account = b.create_account("elsewhere")
    b.create_user(account.id, "bob", Role.MEMBER)  # bumps the generation on "node" b
    assert gate.expired.wait(LISTENING_TTL)
    assert time.monotonic() - began < LISTENING_TTL


def test_a_listener_that_loses_postgresql_falls_back_to_polling(pg_url: str, pg_cluster: pgcluster.PgCluster
                                                                 ) -> None:
    store = PostgresStore(pg_url)
    try:
        gate = _Gate()
        store.watch(gate)
        listener = store.database._listener
        assert listener is not None and listener.connected.wait(5)
        pg_cluster.stop()
        try:
            deadline = time.monotonic() + 5
            while gate.ttl is not None:  # back to the default (GENERATION_TTL) polling
                assert time.monotonic() < deadline
                time.sleep(0.01)
        finally:
            pg_cluster.start()
        assert listener.connected.wait(10)  # and back to notices once PostgreSQL is
        assert gate.ttl == LISTENING_TTL
        assert store.generation() >= 0
    finally:
        store.close()


def test_admin_cli_says_postgresql_is_unreachable_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    for name in list(os.environ):
        if name.startswith("SATCHEL_"):
            monkeypatch.delenv(name)
    load_master_key(tmp_path)  # a node's data dir: only the metadata is elsewhere
    monkeypatch.setenv("SATCHEL_METADATA_URL", "postgresql://u:secret@127.0.0.1:1/satchel")
    monkeypatch.setenv("SATCHEL_POSTGRES_TIMEOUT", "1")
    result = CliRunner().invoke(cli, ["admin", "user", "list", "--data-dir", str(tmp_path)], prog_name="satchel")
    assert result.exit_code == 1
    assert "cannot open the metadata store in PostgreSQL: Cannot reach the metadata database" in result.stderr
    assert "secret" not in result.output + result.stderr and "Traceback" not in result.stderr


def test_admin_migrate_reports_the_versions_of_a_postgresql_database(
        pg_cluster: pgcluster.PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SATCHEL_"):
            monkeypatch.delenv(name)
    load_master_key(tmp_path)
    monkeypatch.setenv("SATCHEL_METADATA_URL", pg_cluster.create_database(pgcluster.fresh_name()))
    runs = [CliRunner().invoke(cli, ["admin", "migrate", "--json", "--data-dir", str(tmp_path)],
                               prog_name="satchel") for _ in range(2)]
    assert [r.exit_code for r in runs] == [0, 0], [r.output for r in runs]
    assert [json.loads(r.stdout)["applied"] for r in runs] == [len(MIGRATIONS), 0]


def test_a_nul_in_a_name_is_refused_as_bad_input(two: tuple[PostgresStore, PostgresStore]) -> None:
    """SQLite stores U+0000 in text, PostgreSQL cannot: the client hears InvalidArgument (400), not a 500."""
    a, _ = two
    account = a.create_account("acme")
    a.create_bucket(Bucket("b", account.id, None, 1.0))
    with pytest.raises(InvalidArgument, match="U\\+0000"):
        a.put_object(ObjectRecord("b", "a\x00b", 1, '"e"', 1.0, (Segment("f" * 32, 1),)))
    with pytest.raises(InvalidArgument):
        a.get_object("b", "a\x00b")
    assert a.list_objects("b") == [] and a.dead_blobs() == []
