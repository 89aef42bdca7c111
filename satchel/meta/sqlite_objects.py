"""Objects, multipart uploads and blob bookkeeping on SQLite (mixed into ``SqliteStore``).

Every method that stops referencing a blob marks it dead in the same transaction and returns its id;
every method that starts referencing one marks it live (``_swap_blobs``). Listing is one range scan
of the (bucket, key) primary key: ``key >= prefix AND key < successor(prefix)``, further narrowed by
the marker, so a page costs O(page) however large the bucket.
"""

from __future__ import annotations

import itertools
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from satchel.core.completions import Completion
from satchel.core.errors import NoSuchBucket, NoSuchUpload
from satchel.core.models import ObjectRecord, ObjectSummary, Part, Segment, Upload
from satchel.meta import rows
from satchel.meta.sqlite_completions import SqliteCompletions
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.sqlite_tagging import (
    adopt_upload_tags,
    drop_object_tags,
    drop_upload_tags,
    write_object_tags,
    write_upload_tags,
)
from satchel.meta.sqlite_versioning import add_marker, check_mode, retire_current
from satchel.meta.store import Precondition

#: SQLite's historical default limit on bound parameters is 999; stay well under it.
_IN_BATCH = 500

# Statement heads, built once. Only the column lists of ``meta/rows.py`` (code constants, never input)
# are interpolated; every value travels as a bound parameter.
_OBJECTS = f"SELECT {rows.OBJECT_COLUMNS} FROM objects"  # noqa: S608
_UPLOADS = f"SELECT {rows.UPLOAD_COLUMNS} FROM uploads"  # noqa: S608
_PARTS = f"SELECT {rows.PART_COLUMNS} FROM parts"  # noqa: S608
_INSERT_OBJECT = rows.insert("objects", rows.OBJECT_COLUMNS)
_INSERT_UPLOAD = rows.insert("uploads", rows.UPLOAD_COLUMNS)
_INSERT_PART = rows.insert("parts", rows.PART_COLUMNS)

_GET_OBJECT = _OBJECTS + " WHERE bucket = ? AND key = ?"
_UPSERT_OBJECT = _INSERT_OBJECT + (
    " ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,"
    " last_modified = excluded.last_modified, segments = excluded.segments, headers = excluded.headers,"
    " user_meta = excluded.user_meta, checksums = excluded.checksums, parts_count = excluded.parts_count,"
    " owner_user_id = excluded.owner_user_id, acl = excluded.acl, version_id = excluded.version_id"
)
_UPSERT_PART = _INSERT_PART + (
    " ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,"
    " blob_id = excluded.blob_id, last_modified = excluded.last_modified, checksums = excluded.checksums"
)
#: Listing variants, keyed by (lower bound operator, has an upper bound): each is one range scan of
#: the (bucket, key) primary-key index, already in key order.
_LIST_OBJECTS = {
    (op, bounded): "SELECT key, size, etag, last_modified, owner_user_id FROM objects"  # noqa: S608 - constants
    + f" WHERE bucket = ? AND key {op} ?"
    + (" AND key < ?" if bounded else "")
    + " ORDER BY key LIMIT ?"
    for op in (">", ">=")
    for bounded in (False, True)
}
_MARK_BLOB = (
    "INSERT INTO blobs (blob_id, state, size, updated) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (blob_id) DO UPDATE SET state = excluded.state, updated = excluded.updated"
)


def _lower_bound(prefix: str, after: str | None) -> tuple[str, str]:
    """The tighter of ``key >= prefix`` and ``key > after``, as (operator, value).

    Python compares strings by code point, which is the order of their UTF-8 bytes.
    """
    if after is not None and after >= prefix:
        return ">", after
    return ">=", prefix


def _require_bucket(c: sqlite3.Connection, name: str, bucket_id: str | None) -> None:
    """``NoSuchBucket`` unless a bucket holds ``name`` — the one of id ``bucket_id`` when given.

    A write is authorised against a bucket (an identity), but objects are keyed by its name: a body
    can take minutes to arrive, during which the bucket may be deleted and its name taken by another
    account. Checking the id inside the transaction that publishes keeps such an upload out of the
    newcomer's bucket (and the newcomer's out of ours).
    """
    row = c.execute("SELECT id FROM buckets WHERE name = ?", (name,)).fetchone()
    if row is None or (bucket_id is not None and row[0] != bucket_id):
        raise NoSuchBucket(BucketName=name)


class SqliteObjects:
    """The object half of ``SqliteStore``; it only needs the store's database."""

    _db: SqliteDatabase

    def _fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._db.conn().execute(sql, params).fetchall()

    # --- objects ---------------------------------------------------------------------------------
    def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        row = self._db.conn().execute(_GET_OBJECT, (bucket, key)).fetchone()
        return rows.object_record(row) if row else None

    def existing_keys(self, bucket: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        conn = self._db.conn()
        for start in range(0, len(keys), _IN_BATCH):
            chunk = keys[start:start + _IN_BATCH]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT key FROM objects WHERE bucket = ? AND key IN ({marks})"  # noqa: S608 - placeholders only
            found.update(row[0] for row in conn.execute(sql, (bucket, *chunk)))
        return found

    def put_object(self, record: ObjectRecord, precondition: Precondition | None = None, *,
                   bucket_id: str | None = None, tags: Sequence[tuple[str, str]] = ()) -> list[str]:
        now = time.time()
        with self._db.transaction() as c:
            _require_bucket(c, record.bucket, bucket_id)
            replaced = retire_current(c, record.bucket, record.key, precondition, record.version_id)
            c.execute(_UPSERT_OBJECT, rows.object_params(record))
            write_object_tags(c, record.bucket, record.key, tags, record.version_id)
            return self._swap_blobs(c, record.segments, replaced, now)

    def delete_object(self, bucket: str, key: str, precondition: Precondition | None = None, *,
                      bucket_id: str | None = None, marker: str | None = None,
                      owner_user_id: str | None = None) -> list[str]:
        now = time.time()
        with self._db.transaction() as c:
            if bucket_id is not None:
                _require_bucket(c, bucket, bucket_id)
            if marker is not None:  # a versioned bucket: the current version stays, under a delete marker
                dying = retire_current(c, bucket, key, precondition, marker)
                add_marker(c, bucket, key, marker, now, owner_user_id)
                return self._swap_blobs(c, (), dying, now)
            check_mode(c, bucket, None)
            replaced = self._replaced(c, bucket, key, precondition)
            if not replaced:
                return []
            c.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            drop_object_tags(c, bucket, key)
            return self._swap_blobs(c, (), replaced, now)

    def list_objects(
        self, bucket: str, *, prefix: str = "", after: str | None = None, limit: int = 1000
    ) -> list[ObjectSummary]:
        if limit <= 0:
            return []
        op, low = _lower_bound(prefix, after)
        high = rows.prefix_upper_bound(prefix)
        if high is None:
            params: tuple[Any, ...] = (bucket, low, limit)
        else:
            params = (bucket, low, high, limit)
        found = self._db.conn().execute(_LIST_OBJECTS[op, high is not None], params).fetchall()
        return list(map(ObjectSummary._make, found))

    def bulk_insert_objects(self, records: Iterable[ObjectRecord], *, batch: int = 10000) -> int:
        """Insert many new objects in one transaction (test fixtures, the benchmark's 10^6 rows).

        Keys must not exist yet. Their blobs are registered live like ``put_object`` does, so the
        garbage collector never mistakes their files for orphans. Returns how many were inserted.
        """
        now = time.time()
        count = 0
        it = iter(records)
        with self._db.transaction() as c:
            while chunk := list(itertools.islice(it, batch)):
                c.executemany(_INSERT_OBJECT, [rows.object_params(r) for r in chunk])
                blobs = [(s.blob_id, "live", s.size, now) for r in chunk for s in r.segments]
                c.executemany(_MARK_BLOB, blobs)
                count += len(chunk)
        return count

    @classmethod
    def _replaced(
        cls, c: sqlite3.Connection, bucket: str, key: str, precondition: Precondition | None
    ) -> tuple[Segment, ...]:
        """Segments of the current version, after ``precondition`` accepted it (inside ``c``'s
        transaction, so no other writer changes the key in between)."""
        if precondition is None:
            return cls._segments_of(c, bucket, key)
        row = c.execute(_GET_OBJECT, (bucket, key)).fetchone()
        current = rows.object_record(row) if row else None
        precondition(current)
        return current.segments if current is not None else ()

    @staticmethod
    def _segments_of(c: sqlite3.Connection, bucket: str, key: str) -> tuple[Segment, ...]:
        row = c.execute("SELECT segments FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        return rows.load_segments(row[0]) if row else ()

    @staticmethod
    def _swap_blobs(
        c: sqlite3.Connection, live: Iterable[Segment], dying: Iterable[Segment], now: float
    ) -> list[str]:
        """Mark ``live`` blobs live and the ``dying`` ones not among them dead; return the dead ids.

        A blob id on both sides stays live: killing it would let the collector delete bytes that the
        new version points at.
        """
        live_ids = set()
        for s in live:
            live_ids.add(s.blob_id)
            c.execute(_MARK_BLOB, (s.blob_id, "live", s.size, now))
        dead: dict[str, None] = {}
        for s in dying:
            if s.blob_id not in live_ids and s.blob_id not in dead:
                dead[s.blob_id] = None
                c.execute(_MARK_BLOB, (s.blob_id, "dead", s.size, now))
        return list(dead)

    # --- multipart uploads -----------------------------------------------------------------------
    def create_upload(self, upload: Upload, *, bucket_id: str | None = None,
                      tags: Sequence[tuple[str, str]] = ()) -> Upload:
        """An empty ``upload_id`` is replaced by a fresh random one."""
        if not upload.upload_id:
            upload = replace(upload, upload_id=secrets.token_hex(16))
        with self._db.transaction() as c:
            _require_bucket(c, upload.bucket, bucket_id)
            c.execute(_INSERT_UPLOAD, rows.upload_params(upload))
            write_upload_tags(c, upload.upload_id, tags)
        return upload

    def get_upload(self, bucket: str, upload_id: str) -> Upload | None:
        row = self._db.conn().execute(
            _UPLOADS + " WHERE upload_id = ? AND bucket = ?", (upload_id, bucket)
        ).fetchone()
        return rows.upload(row) if row else None

    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        limit: int = 1000,
    ) -> list[Upload]:
        """With both markers, uploads of ``key_marker`` initiated after the marker upload come first;
        if that upload no longer exists, listing resumes at the next key."""
        if limit <= 0:
            return []
        conn = self._db.conn()
        where = ["bucket = ?"]
        params: list[Any] = [bucket]
        marker = None
        if key_marker is not None and upload_id_marker is not None:
            marker = conn.execute(
                "SELECT initiated FROM uploads WHERE bucket = ? AND key = ? AND upload_id = ?",
                (bucket, key_marker, upload_id_marker),
            ).fetchone()
        if marker is not None and key_marker is not None and key_marker >= prefix:
            where.append("key >= ? AND (key > ? OR initiated > ? OR (initiated = ? AND upload_id > ?))")
            params += [key_marker, key_marker, marker[0], marker[0], upload_id_marker]
        else:
            op, low = _lower_bound(prefix, key_marker)
            where.append(f"key {op} ?")
            params.append(low)
        high = rows.prefix_upper_bound(prefix)
        if high is not None:
            where.append("key < ?")
            params.append(high)
        params.append(limit)
        sql = _UPLOADS + " WHERE " + " AND ".join(where) + " ORDER BY key, initiated, upload_id LIMIT ?"
        return [rows.upload(r) for r in conn.execute(sql, params).fetchall()]

    def put_part(self, part: Part) -> list[str]:
        now = time.time()
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (part.upload_id,)).fetchone():
                raise NoSuchUpload(UploadId=part.upload_id)
            old = c.execute(
                "SELECT blob_id, size FROM parts WHERE upload_id = ? AND part_number = ?",
                (part.upload_id, part.part_number),
            ).fetchone()
            c.execute(
                _UPSERT_PART,
                rows.part_params(part),
            )
            replaced = (Segment(old[0], old[1]),) if old else ()
            return self._swap_blobs(c, (Segment(part.blob_id, part.size),), replaced, now)

    def list_parts(self, upload_id: str, *, after: int = 0, limit: int = 10000) -> list[Part]:
        found = self._fetch_all(
            _PARTS + " WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
            (upload_id, after, limit),
        )
        return [rows.part(r) for r in found]

    def complete_upload(
        self, upload_id: str, record: ObjectRecord, precondition: Precondition | None = None, *,
        bucket_id: str | None = None, remember: Completion | None = None,
    ) -> list[str]:
        now = time.time()
        with self._db.transaction() as c:
            row = c.execute("SELECT bucket, key FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone()
            if row is None:
                raise NoSuchUpload(UploadId=upload_id)
            if (row[0], row[1]) != (record.bucket, record.key):
                raise ValueError("the completed record names another bucket or key than its upload")
            # An open upload keeps its bucket from being deleted, so this holds unless the request was
            # authorised against a bucket that was already gone (a stale cache): checked all the same.
            _require_bucket(c, record.bucket, bucket_id)
            parts = [Segment(b, s) for b, s in c.execute(
                "SELECT blob_id, size FROM parts WHERE upload_id = ?", (upload_id,)).fetchall()]
            replaced = retire_current(c, record.bucket, record.key, precondition, record.version_id)
            c.execute(_UPSERT_OBJECT, rows.object_params(record))
            adopt_upload_tags(c, upload_id, record.bucket, record.key, record.version_id)
            c.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            c.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
            if remember is not None:
                SqliteCompletions.remember_completion(c, remember)
            return self._swap_blobs(c, record.segments, (*parts, *replaced), now)

    def abort_upload(self, upload_id: str) -> list[str]:
        now = time.time()
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone():
                raise NoSuchUpload(UploadId=upload_id)
            parts = [Segment(b, s) for b, s in c.execute(
                "SELECT blob_id, size FROM parts WHERE upload_id = ?", (upload_id,)).fetchall()]
            c.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            c.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
            drop_upload_tags(c, upload_id)
            return self._swap_blobs(c, (), parts, now)

    def _drop_uploads(self, c: sqlite3.Connection, bucket: str, now: float) -> list[str]:
        """Every unfinished upload of ``bucket`` and its parts gone, in the caller's transaction (deleting the
        bucket); the parts' blobs marked dead and returned, for the collector."""
        parts = [Segment(b, s) for b, s in c.execute(
            "SELECT p.blob_id, p.size FROM parts p JOIN uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?",
            (bucket,)).fetchall()]
        c.execute("DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket = ?)", (bucket,))
        c.execute("DELETE FROM uploads WHERE bucket = ?", (bucket,))
        return self._swap_blobs(c, (), parts, now)

    def abandoned_uploads(self, initiated_before: float, limit: int = 1000) -> list[str]:
        return [r[0] for r in self._fetch_all(
            "SELECT upload_id FROM uploads WHERE initiated < ? ORDER BY initiated LIMIT ?",
            (initiated_before, limit))]

    # --- blob bookkeeping ------------------------------------------------------------------------
    def live_blobs(self) -> Iterator[tuple[str, int]]:
        for blob_id, size in self._db.conn().execute("SELECT blob_id, size FROM blobs WHERE state = 'live'"):
            yield str(blob_id), int(size)

    def backup_to(self, target: Path) -> None:
        # SQLite's online backup API in one step: one read transaction, so a consistent snapshot that
        # writers (WAL) neither block nor restart; copying in several steps would restart on every write.
        destination = sqlite3.connect(target)
        try:
            self._db.conn().backup(destination)
        finally:
            destination.close()

    def dead_blobs(self, limit: int = 1000) -> list[str]:
        return [r[0] for r in self._fetch_all(
            "SELECT blob_id FROM blobs WHERE state = 'dead' ORDER BY updated LIMIT ?", (limit,))]

    def forget_blobs(self, blob_ids: Iterable[str]) -> None:
        # Only dead rows: forgetting a live blob would make its file look like a crash orphan.
        with self._db.transaction() as c:
            c.executemany("DELETE FROM blobs WHERE blob_id = ? AND state = 'dead'", ((b,) for b in blob_ids))

    def known_blobs(self, blob_ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        conn = self._db.conn()
        for start in range(0, len(blob_ids), _IN_BATCH):
            batch = blob_ids[start:start + _IN_BATCH]
            marks = ", ".join("?" for _ in batch)
            sql = f"SELECT blob_id FROM blobs WHERE blob_id IN ({marks})"  # noqa: S608
            known.update(r[0] for r in conn.execute(sql, tuple(batch)).fetchall())
        return known
