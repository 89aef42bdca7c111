"""What ``satchel admin backup`` reads, for each kind of node: a metadata snapshot and a blob source.

Metadata:

- **SQLite**: the store's online backup API (``Store.backup_to``), one read transaction.
- **PostgreSQL**: one ``REPEATABLE READ READ ONLY`` transaction, so every table is read from the same
  snapshot while the nodes keep writing (MVCC: the copy blocks no writer, no writer disturbs it). Each
  table is streamed through a server-side cursor (``BATCH`` rows at a time) into a fresh SQLite file of
  this Satchel's schema, in one SQLite transaction. The deployment's schema version must be this
  Satchel's (a backup taken with another version would be a file of the wrong schema): the command
  refuses otherwise and never migrates the deployment. The transaction ends before any blob is copied,
  so it holds back PostgreSQL's vacuum only for as long as the metadata copy lasts.

Blobs:

- **The data dir**: files copied while a hold file keeps the blob store from deleting any
  (``LocalBlobStore.held``; refreshed as the copy goes, ignored once stale).
- **An upstream bucket**: each blob streamed with GETs (never buffered whole), resumed from the byte
  where a cut body stopped (``RESUMES`` times), hashed (SHA-256 and MD5) as it streams: ``backup.backup``
  checks the MD5 against the object's ETag, so bytes overwritten upstream are not backed up as the
  object's. Nothing can hold an upstream's blobs, but each is deleted only ``blobs_delete_delay`` after
  the metadata dropped it (``blobs/s3deletes.py``): a backup shorter than that finds every blob its
  snapshot references. One that is not is a failed backup, naming the blob (``backup.backup``).

``referenced_now`` asks the live metadata whether a blob the backup could not find is still referenced,
so that the failure says which of the two happened: deleted by live traffic, or lost by the store.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from satchel.backup import BackupError, Digests, blob_path, copy_hashing
from satchel.blobs.localfs import HOLD_FILE, HOLD_STALE
from satchel.blobs.s3upstream import MISSING, Location
from satchel.meta.schema import MIGRATIONS
from satchel.migrateto import BATCH, quote_name, table_columns, table_order

#: A body cut by the network is resumed this many times before the backup fails.
RESUMES = 3
_CHUNK = 1024 * 1024

Progress = Callable[[str], None]


# --- metadata -------------------------------------------------------------------------------------------
def postgres_snapshot(url: str, target: Path, *, timeout: float, progress: Progress) -> None:
    """Copy the database at ``url``, as one snapshot, into the new SQLite file ``target``."""
    import psycopg

    from satchel.meta.postgres_db import DEAD_PEER, NumericLoader
    from satchel.meta.sqlite_db import SqliteDatabase

    SqliteDatabase(target).close()  # this Satchel's schema, empty but for the rows migrations seed
    dest = sqlite3.connect(target, isolation_level=None)
    try:
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        dest.execute("BEGIN")
        with psycopg.connect(url, connect_timeout=max(1, int(timeout)), **DEAD_PEER) as pg:
            pg.adapters.register_loader("numeric", NumericLoader)
            pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            pg.read_only = True
            with pg.transaction():
                row = pg.execute("SELECT version FROM schema_version").fetchone()
                version = int(row[0]) if row else 0
                if version != len(MIGRATIONS):
                    raise BackupError(f"the database has schema version {version}, this Satchel {len(MIGRATIONS)}: "
                                      "back up with the Satchel version the nodes run")
                for table in table_order(dest):
                    _copy_table(pg, dest, table, progress)
        dest.execute("COMMIT")
    except psycopg.Error as exc:
        raise BackupError(f"PostgreSQL: {exc}".strip()) from None
    finally:
        dest.close()


def _copy_table(pg: Any, dest: sqlite3.Connection, table: str, progress: Progress) -> None:
    names = ", ".join(quote_name(column) for column in table_columns(dest, table))
    marks = ", ".join("?" for _ in table_columns(dest, table))
    dest.execute(f"DELETE FROM {quote_name(table)}")  # noqa: S608 - the rows the migrations seeded
    copied = 0
    with pg.cursor(name="satchel_backup") as cursor:  # server-side: BATCH rows in memory at a time
        cursor.itersize = BATCH
        cursor.execute(f"SELECT {names} FROM {quote_name(table)}")  # noqa: S608 - catalogue names
        while batch := cursor.fetchmany(BATCH):
            dest.executemany(f"INSERT INTO {quote_name(table)} ({names}) VALUES ({marks})", batch)  # noqa: S608
            copied += len(batch)
    progress(f"metadata: {table}: {copied} rows")


def postgres_referenced(url: str, *, timeout: float) -> Callable[[str], bool]:
    def referenced(blob_id: str) -> bool:
        import psycopg

        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
                row = conn.execute("SELECT state FROM blobs WHERE blob_id = %s", (blob_id,)).fetchone()
        except psycopg.Error as exc:
            raise BackupError(f"blob {blob_id} is missing, and PostgreSQL cannot say why: {exc}") from None
        return row is not None and row[0] == "live"

    return referenced


def sqlite_referenced(path: Path) -> Callable[[str], bool]:
    def referenced(blob_id: str) -> bool:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT state FROM blobs WHERE blob_id = ?", (blob_id,)).fetchone()
        finally:
            conn.close()
        return row is not None and row[0] == "live"

    return referenced


# --- blobs ----------------------------------------------------------------------------------------------
class LocalBlobs:
    """Blob files in a data dir, copied under the hold (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._last = time.monotonic()

    @classmethod
    @contextlib.contextmanager
    def held(cls, root: Path) -> Iterator[LocalBlobs]:
        """Keep the blob store from deleting files until the block ends: take the metadata snapshot
        inside it, so that nothing it references can go."""
        if not root.is_dir():
            raise BackupError(f"{root} is not a directory: no blobs to back up there (is --data-dir a node's?)")
        hold = root / HOLD_FILE
        hold.write_text(f"{os.getpid()}\n")
        try:
            yield cls(root)
        finally:
            with contextlib.suppress(FileNotFoundError):
                hold.unlink()

    def where(self, blob_id: str) -> str:
        return str(blob_path(self.root, blob_id))

    def copy(self, blob_id: str, target: Path) -> tuple[str, str]:
        if time.monotonic() - self._last > HOLD_STALE / 4:
            os.utime(self.root / HOLD_FILE)
            self._last = time.monotonic()
        return copy_hashing(blob_path(self.root, blob_id), target)


class UpstreamBlobs:
    """Blobs as objects of an upstream bucket (``blobs_url``), read with a botocore S3 client."""

    def __init__(self, location: Location, client: Any) -> None:
        self.location = location
        self.client = client

    def where(self, blob_id: str) -> str:
        return f"s3://{self.location.bucket}/{self.location.key(blob_id)}"

    def copy(self, blob_id: str, target: Path) -> tuple[str, str]:
        digests = Digests()
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            self._stream(blob_id, out, digests)
            out.flush()
            os.fsync(out.fileno())
        return digests.hexdigests()

    def _stream(self, blob_id: str, out: Any, digest: Digests) -> None:
        """GET the blob into ``out``; a body cut short is asked for again from where it stopped."""
        import urllib3.exceptions
        from botocore.exceptions import BotoCoreError, ClientError

        written, total = 0, None
        cut: Exception | None = None
        for _attempt in range(RESUMES + 1):
            params = {"Bucket": self.location.bucket, "Key": self.location.key(blob_id)}
            if written:
                params["Range"] = f"bytes={written}-"
            try:
                answer = self.client.get_object(**params)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
                if code in MISSING or (status == 404 and code != "NoSuchBucket"):
                    raise FileNotFoundError(self.where(blob_id)) from None
                raise BackupError(f"the upstream answered {status} {code} for {self.where(blob_id)}") from None
            except BotoCoreError as exc:
                raise BackupError(f"the upstream blob store: {exc}") from None
            if total is None:
                total = int(answer["ContentLength"])
            body = answer["Body"]
            try:
                for chunk in body.iter_chunks(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
            except (BotoCoreError, urllib3.exceptions.HTTPError, OSError) as exc:
                cut = exc
            finally:
                body.close()
            if written == total:
                return
        raise BackupError(f"{self.where(blob_id)}: the upstream cut the download {RESUMES + 1} times "
                          f"({written} of {total} bytes; last: {cut})")
