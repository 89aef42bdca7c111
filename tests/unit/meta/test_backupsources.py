"""``satchel/backupsources.py`` and ``backup.backup`` without a server: the PostgreSQL snapshot copied into
SQLite row for row (bytes, reals and all), a deployment of another schema version refused, an upstream
body cut mid-way resumed from where it stopped, a blob gone failing the backup with the reason, a blob whose
bytes are not its object's (ETag) failing it too, from either blob source, and ``verify`` of a backup tampered
with afterwards."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
import urllib3.exceptions
from botocore.exceptions import ClientError

from satchel import backup, backupsources
from satchel.blobs.s3upstream import Location
from satchel.core import sse
from satchel.core.models import Bucket, Role
from satchel.meta import SQLITE_FILE
from satchel.meta.postgres import PostgresStore
from satchel.migrateto import quote_name, table_columns, table_order
from tests.unit.meta.conftest import record

A, B = "a" * 32, "b" * 32


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_postgres_snapshot_copies_every_row_as_sqlite_holds_it(pg_url: str, tmp_path: Path) -> None:
    store = PostgresStore(pg_url, pool_size=1)
    try:
        account = store.create_account("acme")
        user = store.create_user(account.id, "alice", Role.MEMBER)
        store.create_access_key(user.id, "AKIAEXAMPLE", b"\x00\xffsealed\x80")
        store.create_bucket(Bucket("photos", account.id, user.id, 1000.25))
        store.put_object(record("k", A, B))
    finally:
        store.close()
    lines: list[str] = []
    backupsources.postgres_snapshot(pg_url, tmp_path / SQLITE_FILE, timeout=3, progress=lines.append)

    copy = sqlite3.connect(tmp_path / SQLITE_FILE)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal beside it
    with psycopg.connect(pg_url) as pg:
        for table in table_order(copy):
            names = ", ".join(quote_name(c) for c in table_columns(copy, table))
            want = sorted(map(tuple, pg.execute(f"SELECT {names} FROM {quote_name(table)}")), key=repr)  # noqa: S608
            got = sorted(copy.execute(f"SELECT {names} FROM {quote_name(table)}"), key=repr)  # noqa: S608
            assert got == want, table
    assert copy.execute("SELECT secret_ciphertext FROM access_keys").fetchone() == (b"\x00\xffsealed\x80",)
    assert sorted(r[0] for r in copy.execute("SELECT blob_id FROM blobs WHERE state = 'live'")) == [A, B]
    assert "metadata: objects: 1 rows" in lines
    referenced = backupsources.postgres_referenced(pg_url, timeout=3)
    assert referenced(A) and not referenced("c" * 32)


def test_postgres_snapshot_refuses_another_schema_version(pg_url: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        (version,) = conn.execute("SELECT version FROM schema_version").fetchone() or (0,)
        conn.execute("UPDATE schema_version SET version = 3")
        try:
            with pytest.raises(backup.BackupError, match="schema version 3, this Satchel"):
                backupsources.postgres_snapshot(pg_url, tmp_path / SQLITE_FILE, timeout=3, progress=print)
        finally:  # the module's database is reused by the next test
            conn.execute("UPDATE schema_version SET version = %s", (version,))


# --- the upstream ------------------------------------------------------------------------------------------
class Body:
    """A GET's body that breaks after ``cut_after`` bytes when told to."""

    def __init__(self, data: bytes, cut_after: int | None) -> None:
        self.data, self.cut_after = data, cut_after

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        sent = 0
        for start in range(0, len(self.data), 1000):
            if self.cut_after is not None and sent >= self.cut_after:
                raise urllib3.exceptions.ProtocolError("Connection broken")
            yield self.data[start:start + 1000]
            sent += 1000

    def close(self) -> None:
        pass


class Client:
    """``get_object`` over one blob, honouring ``Range: bytes=N-``; the first ``cuts`` bodies break."""

    def __init__(self, data: bytes | None, cuts: int) -> None:
        self.data, self.cuts = data, cuts
        self.ranges: list[str | None] = []

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.ranges.append(params.get("Range"))
        if self.data is None:
            raise ClientError({"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                              "GetObject")
        start = int(params["Range"][6:-1]) if "Range" in params else 0
        cut = 2500 if self.cuts > 0 else None
        self.cuts -= 1
        return {"ContentLength": len(self.data) - start, "Body": Body(self.data[start:], cut)}


def test_a_cut_body_resumes_from_where_it_stopped(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes
    client = Client(data, cuts=2)
    source = backupsources.UpstreamBlobs(Location.parse("s3://bkt/pre"), client)
    digests = source.copy(A, tmp_path / A)
    assert (tmp_path / A).read_bytes() == data
    assert digests == (hashlib.sha256(data).hexdigest(), md5(data))
    assert client.ranges == [None, "bytes=3000-", "bytes=6000-"]
    assert source.where(A) == f"s3://bkt/pre/{A}"


def test_a_body_cut_every_time_fails_and_a_missing_key_is_file_not_found(tmp_path: Path) -> None:
    always = backupsources.UpstreamBlobs(Location.parse("s3://bkt"), Client(b"x" * 100_000, cuts=99))
    with pytest.raises(backup.BackupError, match=f"s3://bkt/{A}: the upstream cut the download 4 times"):
        always.copy(A, tmp_path / A)
    with pytest.raises(FileNotFoundError):
        backupsources.UpstreamBlobs(Location.parse("s3://bkt"), Client(None, 0)).copy(A, tmp_path / B)


# --- backup.backup: blobs copied in parallel, a blob gone ------------------------------------------------
def snapshot_of(*blob_ids: str) -> backup.Snapshot:
    """A metadata snapshot referencing ``blob_ids``, 5 bytes each."""
    def snapshot(target: Path) -> None:
        from satchel.meta.sqlite import SqliteStore

        SqliteStore(target).close()
        conn = sqlite3.connect(target)
        with conn:
            conn.executemany("INSERT INTO blobs (blob_id, size, state, updated) VALUES (?, 5, 'live', 0)",
                             [(blob_id,) for blob_id in blob_ids])
        conn.close()

    return snapshot


class Source:
    """Blobs of 5 bytes each, but for the ``gone`` ones; counts the copies made."""

    def __init__(self, gone: set[str]) -> None:
        self.gone = gone
        self.copies = 0
        self.lock = threading.Lock()

    def where(self, blob_id: str) -> str:
        return f"s3://bkt/{blob_id}"

    def copy(self, blob_id: str, target: Path) -> tuple[str, str]:
        with self.lock:
            self.copies += 1
        if blob_id in self.gone:
            raise FileNotFoundError(blob_id)
        time.sleep(0.001)
        return self.write_hash(target, blob_id)

    @staticmethod
    def write_hash(target: Path, blob_id: str) -> tuple[str, str]:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob_id[:5].encode())
        return hashlib.sha256(blob_id[:5].encode()).hexdigest(), md5(blob_id[:5].encode())


IDS = [f"{n:032x}" for n in range(1, 101)]


def test_blobs_are_copied_in_parallel_into_the_manifest_in_order(tmp_path: Path) -> None:
    _write_key(tmp_path / "master.key")
    lines: list[str] = []
    report = backup.backup(snapshot_of(*IDS), Source(set()), tmp_path / "master.key", tmp_path / "out",
                           referenced_now=lambda _blob: True, parallel=4, progress=lines.append)
    assert (report.blobs, report.bytes) == (100, 500) and lines == ["blobs: 100/100 (500 bytes)"]
    assert backup.verify(tmp_path / "out").problems == []


@pytest.mark.parametrize(("referenced", "reason"), [
    (False, "overwritten or deleted while the backup ran.*raise blobs_delete_delay"),
    (True, "the metadata still references it: the blob store lost it"),
])
def test_a_blob_gone_fails_the_backup_with_its_reason(tmp_path: Path, referenced: bool, reason: str) -> None:
    _write_key(tmp_path / "master.key")
    source = Source({IDS[9]})
    with pytest.raises(backup.BackupError, match=f"blob {IDS[9]} is referenced by the snapshot but missing from "
                                                 f"s3://bkt/{IDS[9]}: .*{reason}"):
        backup.backup(snapshot_of(*IDS), source, tmp_path / "master.key", tmp_path / "out",
                      referenced_now=lambda _blob: referenced, parallel=4)
    assert not (tmp_path / "out" / "manifest.json").exists()
    assert source.copies <= 10 + 3 * 4  # a window of copies under way, not the whole list


# --- a blob whose bytes are not its object's -----------------------------------------------------------------
WRITTEN, TAMPERED = b"the object as written", b"other bytes, same len"
SSE_HEADERS = {sse.FIELD: json.dumps({"mode": "S3"})}


def snapshot_with_objects(target: Path) -> None:
    """``k`` (single part, ETag the MD5 of ``WRITTEN``, blob ``A``); ``enc`` (SSE, blob ``B``): the MD5 of
    an encrypted object is its plaintext's, never checked against its blob."""
    from satchel.meta.sqlite import SqliteStore

    store = SqliteStore(target)
    try:
        account = store.create_account("acme")
        user = store.create_user(account.id, "alice", Role.MEMBER)
        store.create_bucket(Bucket("photos", account.id, user.id, 1000.0))
        etag = f'"{md5(WRITTEN)}"'
        store.put_object(replace(record("k", A, size=len(WRITTEN)), etag=etag))
        store.put_object(replace(record("enc", B, size=len(WRITTEN)), etag=etag, headers=SSE_HEADERS))
    finally:
        store.close()


def tampered_source(kind: str, root: Path) -> backup.BlobSource:
    """Blob ``A`` overwritten with ``TAMPERED`` (same length), ``B`` some other bytes, in a data dir or upstream."""
    assert len(WRITTEN) == len(TAMPERED)
    if kind == "upstream":
        class Upstream(Client):
            def get_object(self, **params: Any) -> dict[str, Any]:
                self.data = TAMPERED if params["Key"].endswith(A) else TAMPERED[::-1]
                return super().get_object(**params)

        return backupsources.UpstreamBlobs(Location.parse("s3://bkt/pre"), Upstream(None, 0))
    for blob_id, data in ((A, TAMPERED), (B, TAMPERED[::-1])):
        backup.blob_path(root, blob_id).parent.mkdir(parents=True, exist_ok=True)
        backup.blob_path(root, blob_id).write_bytes(data)
    return backupsources.LocalBlobs(root)


@pytest.mark.parametrize("kind", ["data dir", "upstream"])
def test_a_blob_not_matching_its_objects_etag_fails_the_backup(tmp_path: Path, kind: str) -> None:
    _write_key(tmp_path / "master.key")
    source = tampered_source(kind, tmp_path / "blobs")
    with pytest.raises(backup.BackupError, match=f"blob {A} \\({source.where(A)}\\) of photos/k: its content "
                                                 "\\(MD5 .*\\) does not match the object's ETag"):
        backup.backup(snapshot_with_objects, source, tmp_path / "master.key", tmp_path / "out",
                      referenced_now=lambda _blob: True)
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize("kind", ["data dir", "upstream"])
def test_blobs_matching_their_etags_back_up_and_a_backup_tampered_afterwards_fails_verify(
        tmp_path: Path, kind: str) -> None:
    _write_key(tmp_path / "master.key")
    source = tampered_source(kind, tmp_path / "blobs")
    if kind == "upstream":
        source.client.get_object = lambda **params: {  # type: ignore[attr-defined]
            "ContentLength": len(WRITTEN), "Body": Body(WRITTEN if params["Key"].endswith(A) else TAMPERED, None)}
    else:
        backup.blob_path(tmp_path / "blobs", A).write_bytes(WRITTEN)
    report = backup.backup(snapshot_with_objects, source, tmp_path / "master.key", tmp_path / "out",
                           referenced_now=lambda _blob: True)
    assert report.blobs == 2 and backup.verify(tmp_path / "out").problems == []  # B is encrypted: no MD5 to check

    # Blob and manifest both rewritten, so that the SHA-256 agrees: the ETag does not.
    backup.blob_path(tmp_path / "out" / "blobs", A).write_bytes(TAMPERED)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    manifest["blobs"][A][1] = hashlib.sha256(TAMPERED).hexdigest()
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest))
    assert backup.verify(tmp_path / "out").problems == [f"blob {A}: its content does not match the MD5 its "
                                                        "object's ETag says"]


# --- the CLI on PostgreSQL with blobs in the data dir ------------------------------------------------------
def test_cli_backs_up_postgres_metadata_with_data_dir_blobs(pg_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from satchel.cli.main import cli

    monkeypatch.delenv("SATCHEL_SETTINGS_JSON", raising=False)
    store = PostgresStore(pg_url, pool_size=1)
    try:
        account = store.create_account("acme")
        user = store.create_user(account.id, "alice", Role.MEMBER)
        store.create_bucket(Bucket("photos", account.id, user.id, 1000.0))
        store.put_object(replace(record("k", A, size=3), etag=f'"{md5(b"abc")}"'))
    finally:
        store.close()
    data_dir = tmp_path / "node"
    backup.blob_path(data_dir / "blobs", A).parent.mkdir(parents=True)
    backup.blob_path(data_dir / "blobs", A).write_bytes(b"abc")
    _write_key(data_dir / "master.key")
    env = {"SATCHEL_METADATA_URL": pg_url}

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["admin", *args, "--data-dir", str(data_dir)], env=env, prog_name="satchel")

    done = run("backup", str(tmp_path / "out"), "--json")
    assert done.exit_code == 0, done.output
    assert not (data_dir / "blobs" / "backup-hold").exists()  # the hold is released
    assert backup.verify(tmp_path / "out").blobs == 1
    assert (tmp_path / "out" / "blobs" / A[:2] / A[2:4] / A).read_bytes() == b"abc"
    refused = run("verify")
    assert refused.exit_code == 1 and "verify without DIRECTORY checks a single node" in refused.output
    refused = run("restore", str(tmp_path / "out"))
    assert refused.exit_code == 1 and "restore makes a single node" in refused.output


def _write_key(path: Path) -> None:
    """A master key file as a node keeps it (0600: group- or world-readable keys are refused)."""
    path.write_bytes(b"k" * 32)
    path.chmod(0o600)
