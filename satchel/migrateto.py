"""``satchel admin migrate-to``: move a stopped single node onto PostgreSQL and an upstream S3 cluster.

The source is always the node's own data directory: ``meta.sqlite3`` and ``blobs/``. The target is a
PostgreSQL database (``metadata_url``) and, optionally, an upstream bucket (``blobs_url`` and the
``blobs_*`` settings, read as ``satchel serve`` reads them: the keys from the environment or the
configuration file, never from a command line ``ps`` shows).

Order, and why it makes the command safe to run again:

1. **Refusals first, nothing written.** The node must be stopped (a running server's worker holds the
   ``lifecycle.lock`` flock of its data dir: if this process cannot take it, a server runs there), the
   SQLite file must be at this Satchel's schema version (run ``satchel admin migrate`` first), and the
   database must be empty: no schema at all, or the schema at the same version with no row but the one
   its migrations seed (``generation``).
2. **Blobs, before any metadata.** Every blob the metadata knows as live is streamed to
   ``<prefix>/<id>`` (one ``PutObject`` below the part size, else a multipart upload of part-size parts:
   at most one part in memory), each request carrying its ``Content-MD5`` so that the upstream itself
   checks the bytes; the upstream's ETag is then compared with the MD5 computed while reading, and a
   single-part unencrypted object's blob with the MD5 its object's ETag says. A blob already upstream
   with the same size and ETag is skipped, so an interrupted run resumes where it stopped. Blobs are
   immutable and named by random ids: copying one twice is harmless, and a blob upstream that no
   metadata references is only an orphan (collected by the node's orphan pass).
3. **Metadata, in one transaction**: every table, parents before children (the foreign keys of the
   schema), row for row, under the cluster's write lock. Either all of it commits or none does, so an
   interrupted run leaves the database empty and the command starts over.
4. **The final check**: row counts per table on both sides, and every blob present upstream.

The master key is not copied anywhere: access-key secrets (and SSE-S3 data keys) are sealed with
``<data_dir>/master.key`` (or the ``master_key_file`` setting's), and every node of the new deployment must
hold the same file (mode 0600). The command says where it is. Its check (``core/keycheck.py``) travels
with the metadata: before copying, the key is proven against the node's check (recorded there first when
the node has none, after the key opened one of its access keys), so the new deployment's nodes verify
their key against the same row from their first start.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from satchel.backup import blob_path
from satchel.core import sse
from satchel.core.keycheck import verified_master_key
from satchel.core.lifecycle_worker import LOCK_NAME
from satchel.core.masterkey import MASTER_KEY_FILE, MasterKeyError
from satchel.meta import SQLITE_FILE
from satchel.meta.schema import MIGRATIONS

#: Tables every migrated database has rows in before anything is stored: the migrations seed them.
SEEDED = frozenset({"generation"})
#: Bookkeeping, not data: written by the migrations themselves.
SKIPPED = frozenset({"schema_version"})
#: Rows per INSERT batch (one pipelined round trip each).
BATCH = 500


class MigrationError(Exception):
    """Why the migration cannot be done (the CLI prints it and exits 1)."""


@dataclass
class MigrationReport:
    #: table -> (rows in the source, rows in the target after the copy)
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    blobs: int = 0
    blobs_copied: int = 0
    blobs_skipped: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)


Progress = Callable[[str], None]


# --- the source ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def stopped(data_dir: Path) -> Iterator[None]:
    """Hold the node's lifecycle lock while migrating: a running server's worker holds it (taken at
    its start), and a server started meanwhile cannot take it from us."""
    path = data_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise MigrationError(f"cannot open {path}: {exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise MigrationError(f"a Satchel server is running on {data_dir} (it holds {path}): stop it "
                                 "first; the node must not change while it is copied") from None
        yield
    finally:
        os.close(fd)


def _source(data_dir: Path, key_path: Path | None = None) -> sqlite3.Connection:
    path = data_dir / SQLITE_FILE
    if not path.is_file() or not (key_path or data_dir / MASTER_KEY_FILE).is_file():
        raise MigrationError(f"no Satchel node in {data_dir.resolve()} (no {SQLITE_FILE} and {MASTER_KEY_FILE})")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    version = int(row[0]) if row else 0
    if version != len(MIGRATIONS):
        conn.close()
        raise MigrationError(f"{path} has schema version {version}, this Satchel {len(MIGRATIONS)}: "
                             "run `satchel admin migrate` on the node with the Satchel you migrate to first")
    return conn


def _key_check(data_dir: Path, key_path: Path | None) -> None:
    """Prove the key against the node's check, recording it when the node has none (``core/keycheck.py``)."""
    from satchel.meta.sqlite import SqliteStore

    store = SqliteStore(data_dir / SQLITE_FILE)
    try:
        verified_master_key(store, key_path or data_dir / MASTER_KEY_FILE, explicit=key_path is not None,
                            create=False)
    except (MasterKeyError, OSError) as exc:
        raise MigrationError(str(exc)) from None
    finally:
        store.close()


def table_order(conn: sqlite3.Connection) -> list[str]:
    """The schema's tables, every table after those its foreign keys reference."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    graph = {name: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({quote_name(name)})")} - {name}
             for name in names if name not in SKIPPED}
    return list(TopologicalSorter(graph).static_order())


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({quote_name(table)})")]


# --- the target database ------------------------------------------------------------------------------
def _target_state(url: str, timeout: float) -> int:
    """The target's schema version (0: no schema yet); refuses a database holding any data."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
            if conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone() != (True,):
                return 0
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = int(row[0]) if row else 0
            if version != len(MIGRATIONS):
                raise MigrationError(f"the target database has schema version {version}, this Satchel "
                                     f"{len(MIGRATIONS)}: migrate into an empty database")
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
            full = [t for t in tables if t not in SEEDED | SKIPPED
                    and conn.execute(f"SELECT 1 FROM {quote_name(t)} LIMIT 1").fetchone() is not None]  # noqa: S608
    except psycopg.Error as exc:
        raise MigrationError(f"cannot read the target database: {exc}") from None
    if full:
        raise MigrationError(f"the target database is not empty (rows in {', '.join(sorted(full))}): "
                             "migrate into an empty database; nothing was changed")
    return version


def _copy_metadata(source: sqlite3.Connection, url: str, timeout: float, report: MigrationReport,
                   progress: Progress) -> None:
    """Every table in one transaction under the write lock (see the module docstring)."""
    from satchel.meta.postgres_db import PostgresDatabase

    database = PostgresDatabase(url, pool_size=1, timeout=timeout)  # creates the schema when absent
    try:
        with database.transaction() as c:
            for table in table_order(source):
                columns = table_columns(source, table)
                names = ", ".join(quote_name(col) for col in columns)
                marks = ", ".join("?" for _ in columns)
                c.execute(f"DELETE FROM {quote_name(table)}")  # noqa: S608 - only the seeded rows are there
                rows = source.execute(f"SELECT {names} FROM {quote_name(table)}")  # noqa: S608 - catalogue names
                copied = 0
                while batch := rows.fetchmany(BATCH):
                    c.executemany(f"INSERT INTO {quote_name(table)} ({names}) VALUES ({marks})", batch)  # noqa: S608
                    copied += len(batch)
                progress(f"metadata: {table}: {copied} rows")
    finally:
        database.close()


def _count_target(url: str, tables: list[str], timeout: float) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {quote_name(t)}").fetchone()[0])  # type: ignore[index] # noqa: S608
                for t in tables}


# --- blobs --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where blobs go: the bucket, the key prefix, a botocore client and the part size."""

    bucket: str
    prefix: str
    client: Any
    part_size: int

    def key(self, blob_id: str) -> str:
        return self.prefix + blob_id


def _md5(data: bytes) -> hashlib._Hash:
    return hashlib.md5(data, usedforsecurity=False)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def local_etag(path: Path, part_size: int) -> tuple[str, str]:
    """(MD5 of the whole file, the ETag an upload in ``part_size`` parts gets from S3)."""
    whole = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []
    with open(path, "rb") as fh:
        while chunk := fh.read(part_size):
            whole.update(chunk)
            parts.append(_md5(chunk).digest())
    if len(parts) <= 1:
        return whole.hexdigest(), whole.hexdigest()
    return whole.hexdigest(), f"{_md5(b''.join(parts)).hexdigest()}-{len(parts)}"


def _head(target: Target, blob_id: str) -> tuple[int, str] | None:
    from botocore.exceptions import ClientError

    try:
        answer = target.client.head_object(Bucket=target.bucket, Key=target.key(blob_id))
    except ClientError as exc:
        if int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) == 404:
            return None
        raise
    return int(answer["ContentLength"]), str(answer["ETag"]).strip('"')


def _upload(target: Target, blob_id: str, path: Path, size: int) -> None:
    """Stream one file: one PutObject, or a multipart upload holding one part in memory at a time."""
    key = target.key(blob_id)
    with open(path, "rb") as fh:
        if size <= target.part_size:
            data = fh.read()
            target.client.put_object(Bucket=target.bucket, Key=key, Body=data, ContentMD5=_b64(_md5(data).digest()))
            return
        upload = target.client.create_multipart_upload(Bucket=target.bucket, Key=key)["UploadId"]
        try:
            parts = []
            number = 1
            while chunk := fh.read(target.part_size):
                answer = target.client.upload_part(Bucket=target.bucket, Key=key, UploadId=upload, PartNumber=number,
                                                   Body=chunk, ContentMD5=_b64(_md5(chunk).digest()))
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                number += 1
            target.client.complete_multipart_upload(Bucket=target.bucket, Key=key, UploadId=upload,
                                                    MultipartUpload={"Parts": parts})
        except BaseException:
            with contextlib.suppress(Exception):
                target.client.abort_multipart_upload(Bucket=target.bucket, Key=key, UploadId=upload)
            raise


def _object_md5s(source: sqlite3.Connection) -> dict[str, str]:
    """The MD5 the metadata knows for a blob: a single-part, unencrypted object's ETag."""
    known: dict[str, str] = {}
    for segments, etag, headers in source.execute("SELECT segments, etag, headers FROM objects"):
        blobs = json.loads(segments)
        plain = str(etag).strip('"')
        if len(blobs) == 1 and "-" not in plain and not sse.is_encrypted(json.loads(headers)):
            known[blobs[0][0]] = plain
    return known


def _copy_blobs(source: sqlite3.Connection, blob_root: Path, target: Target, report: MigrationReport,
                progress: Progress) -> None:
    live = source.execute("SELECT blob_id, size FROM blobs WHERE state = 'live' ORDER BY blob_id").fetchall()
    known = _object_md5s(source)
    for number, (blob_id, size) in enumerate(live, 1):
        path = blob_path(blob_root, blob_id)
        if not path.is_file():
            raise MigrationError(f"blob {blob_id} is referenced but missing from {blob_root}: "
                                 "run `satchel admin verify` on the node")
        stored = path.stat().st_size
        if not sse.stored_size_fits(path, size):
            raise MigrationError(f"blob {blob_id}: {stored} bytes, the metadata says {size}")
        whole, etag = local_etag(path, target.part_size)
        if blob_id in known and stored == size and known[blob_id] != whole:
            raise MigrationError(f"blob {blob_id}: its content does not match its object's ETag (MD5)")
        if _head(target, blob_id) in ((stored, etag), (stored, whole)):  # however an earlier run sent it
            report.blobs_skipped += 1
        else:
            _upload(target, blob_id, path, stored)
            landed = _head(target, blob_id)
            if landed != (stored, etag):
                raise MigrationError(f"blob {blob_id}: the upstream holds {landed}, expected {(stored, etag)}")
            report.blobs_copied += 1
        report.blobs += 1
        report.bytes += stored
        if number % 100 == 0 or number == len(live):
            progress(f"blobs: {number}/{len(live)} ({report.blobs_copied} copied, "
                     f"{report.blobs_skipped} already there)")


def _check_blobs(source: sqlite3.Connection, target: Target, report: MigrationReport) -> None:
    for (blob_id,) in source.execute("SELECT blob_id FROM blobs WHERE state = 'live'"):
        if _head(target, blob_id) is None:
            report.problems.append(f"blob {blob_id}: missing upstream")


# --- the whole --------------------------------------------------------------------------------------
def migrate_to(data_dir: Path, metadata_url: str, target: Target | None, *, timeout: float,
               progress: Progress, key_path: Path | None = None) -> MigrationReport:
    """Copy the stopped node of ``data_dir`` (master key ``key_path``, by default ``data_dir/master.key``)
    to ``metadata_url`` (and its blobs to ``target``)."""
    report = MigrationReport()
    _source(data_dir, key_path).close()  # a node is there (before the lock file is made in a wrong directory)
    with stopped(data_dir):
        _key_check(data_dir, key_path)
        source = _source(data_dir, key_path)
        try:
            _target_state(metadata_url, timeout)
            tables = table_order(source)
            if target is not None:
                _copy_blobs(source, data_dir / "blobs", target, report, progress)
            _copy_metadata(source, metadata_url, timeout, report, progress)
            counts = _count_target(metadata_url, tables, timeout)
            for table in tables:
                (expected,) = source.execute(f"SELECT count(*) FROM {quote_name(table)}").fetchone()  # noqa: S608
                report.tables[table] = (int(expected), counts[table])
                if counts[table] != expected:
                    report.problems.append(f"table {table}: {expected} rows in the node, {counts[table]} copied")
            if target is not None:
                _check_blobs(source, target, report)
        finally:
            source.close()
    return report
