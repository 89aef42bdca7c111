"""``satchel/migrateto.py`` without a server or an upstream: table order, the ETag a copy must get, and
the metadata copy being all or nothing (an interrupted run leaves the database empty, the next one
completes)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from satchel import migrateto
from satchel.cli.main import cli
from satchel.meta.sqlite import SqliteStore


def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A single node with a user besides root (the CLI, as an operator would make it)."""
    monkeypatch.delenv("SATCHEL_SETTINGS_JSON", raising=False)
    data_dir = tmp_path / "node"
    for args in (["admin", "init"], ["admin", "user", "create", "alice", "--account", "root"]):
        result = CliRunner().invoke(cli, [*args, "--data-dir", str(data_dir)], prog_name="satchel")
        assert result.exit_code == 0, result.output
    return data_dir


def test_tables_come_after_those_they_reference(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "meta.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    order = migrateto.table_order(conn)
    assert "schema_version" not in order and len(order) == len(set(order))
    for table in order:
        for (parent,) in conn.execute('SELECT "table" FROM pragma_foreign_key_list(?)', (table,)):
            if parent != table:
                assert order.index(parent) < order.index(table), (parent, table)
    assert order.index("accounts") < order.index("users") < order.index("access_keys")


@pytest.mark.parametrize(("size", "parts"), [(0, 0), (10, 0), (5 * 1024 * 1024, 0), (5 * 1024 * 1024 + 1, 2),
                                             (11 * 1024 * 1024, 3)])
def test_the_etag_an_upload_in_parts_gets(tmp_path: Path, size: int, parts: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "blob"
    path.write_bytes(data)
    part = 5 * 1024 * 1024
    whole, etag = migrateto.local_etag(path, part)
    assert whole == hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag
    if parts == 0:
        assert etag == whole
    else:  # S3's multipart ETag: the MD5 of the parts' MD5s, then "-" and their number
        digests = b"".join(hashlib.md5(data[i:i + part]).digest() for i in range(0, size, part))  # noqa: S324
        assert etag == f"{hashlib.md5(digests).hexdigest()}-{parts}"  # noqa: S324


def test_an_interrupted_metadata_copy_leaves_nothing_and_runs_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    data_dir = node(tmp_path, monkeypatch)

    def interrupted(line: str) -> None:  # Ctrl-C, a lost connection: after most tables were inserted
        if line.startswith("metadata: users"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrateto.migrate_to(data_dir, pg_url, None, timeout=3, progress=interrupted)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (0,)

    lines: list[str] = []
    report = migrateto.migrate_to(data_dir, pg_url, None, timeout=3, progress=lines.append)
    assert report.problems == []
    assert report.tables["users"] == (2, 2) and report.tables["access_keys"] == (1, 1)
    assert "metadata: users: 2 rows" in lines
    with psycopg.connect(pg_url) as conn:
        (secret,) = conn.execute("SELECT secret_ciphertext FROM access_keys").fetchall()[0]
    with sqlite3.connect(data_dir / "meta.sqlite3") as source:
        assert bytes(secret) == source.execute("SELECT secret_ciphertext FROM access_keys").fetchone()[0]
    with pytest.raises(migrateto.MigrationError, match="not empty"):  # and never twice
        migrateto.migrate_to(data_dir, pg_url, None, timeout=3, progress=lines.append)


def test_the_key_check_goes_with_the_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    """A node from before the check gets it recorded (its key opened an access key) and copied; the nodes
    of the new deployment then prove their key against it."""
    from satchel.core.keycheck import KeyMismatch, opens_check, verified_master_key
    from satchel.core.masterkey import load_master_key
    from satchel.meta.postgres import PostgresStore

    data_dir = node(tmp_path, monkeypatch)
    with sqlite3.connect(data_dir / "meta.sqlite3") as source:
        source.execute("DELETE FROM node_key_check")  # as before the upgrade
    report = migrateto.migrate_to(data_dir, pg_url, None, timeout=3, progress=lambda line: None)
    assert report.problems == [] and report.tables["node_key_check"] == (1, 1)
    target = PostgresStore(pg_url)
    try:
        recorded = target.get_key_check()
        assert recorded is not None and opens_check(load_master_key(data_dir), recorded)
        other = tmp_path / "other.key"
        other.write_bytes(bytes(32))
        other.chmod(0o600)
        with pytest.raises(KeyMismatch):
            verified_master_key(target, other, explicit=True)
    finally:
        target.close()


def test_a_node_with_the_wrong_key_is_not_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  pg_url: str) -> None:
    data_dir = node(tmp_path, monkeypatch)
    (data_dir / "master.key").write_bytes(bytes(32))  # not the key its secrets were sealed with
    with pytest.raises(migrateto.MigrationError, match="does not match the one the metadata was sealed with"):
        migrateto.migrate_to(data_dir, pg_url, None, timeout=3, progress=lambda line: None)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM access_keys").fetchone() == (0,)
