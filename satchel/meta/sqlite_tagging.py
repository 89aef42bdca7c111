"""Object, upload and bucket tags, and lifecycle configurations, on SQLite (mixed into ``SqliteStore``).

The module-level functions take the cursor of a transaction the object half already holds
(``sqlite_objects.py``): tags are written, moved and dropped in the very transaction that writes,
completes or deletes their object, so they can never outlive it or survive an overwrite.

Object tags are keyed (bucket, key, version_id, tag_key): each version keeps its own tags (``version_id``
:data:`NULL_VERSION` for the null version, and for every object of a bucket never versioned). An
overwrite that keeps the previous version (versioning Enabled) leaves that version's tags where they are;
removing a version for good removes its tags (``sqlite_versioning.py``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from satchel.core.errors import NoSuchBucket
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase

Tags = tuple[tuple[str, str], ...]

#: The version id of an object in an unversioned bucket, as S3 names it.
NULL_VERSION = "null"


def version_key(version_id: str | None) -> str:
    """The ``version_id`` column of a version's tags: its id, :data:`NULL_VERSION` for the null version
    (an object of a bucket never versioned included)."""
    return version_id if version_id is not None else NULL_VERSION


def write_object_tags(c: sqlite3.Cursor | sqlite3.Connection, bucket: str, key: str, tags: Sequence[tuple[str, str]],
                      version_id: str | None = None) -> None:
    """Replace the tags of one version of (bucket, key): a write of that version replaces them, whatever
    they were; the other versions keep theirs."""
    drop_object_tags(c, bucket, key, version_id)
    c.executemany(
        "INSERT INTO tagging_objects (bucket, key, version_id, tag_key, tag_value, position) VALUES (?, ?, ?, ?, ?, ?)",
        [(bucket, key, version_key(version_id), k, v, n) for n, (k, v) in enumerate(tags)])


def drop_object_tags(c: sqlite3.Cursor | sqlite3.Connection, bucket: str, key: str,
                     version_id: str | None = None) -> None:
    c.execute("DELETE FROM tagging_objects WHERE bucket = ? AND key = ? AND version_id = ?",
              (bucket, key, version_key(version_id)))


def write_upload_tags(c: sqlite3.Cursor | sqlite3.Connection, upload_id: str, tags: Sequence[tuple[str, str]]
                      ) -> None:
    c.executemany("INSERT INTO tagging_uploads (upload_id, tag_key, tag_value, position) VALUES (?, ?, ?, ?)",
                  [(upload_id, k, v, n) for n, (k, v) in enumerate(tags)])


def adopt_upload_tags(c: sqlite3.Cursor | sqlite3.Connection, upload_id: str, bucket: str, key: str,
                      version_id: str | None = None) -> None:
    """At completion: the upload's tags (from CreateMultipartUpload) become the new version's."""
    found = c.execute("SELECT tag_key, tag_value FROM tagging_uploads WHERE upload_id = ? ORDER BY position",
                      (upload_id,)).fetchall()
    write_object_tags(c, bucket, key, [(k, v) for k, v in found], version_id)
    drop_upload_tags(c, upload_id)


def drop_upload_tags(c: sqlite3.Cursor | sqlite3.Connection, upload_id: str) -> None:
    c.execute("DELETE FROM tagging_uploads WHERE upload_id = ?", (upload_id,))


def drop_bucket_settings(c: sqlite3.Cursor | sqlite3.Connection, bucket_id: str) -> None:
    """A deleted bucket's tags and lifecycle rules go with it."""
    c.execute("DELETE FROM tagging_buckets WHERE bucket_id = ?", (bucket_id,))
    c.execute("DELETE FROM lifecycle_configurations WHERE bucket_id = ?", (bucket_id,))


def _data_version(c: sqlite3.Cursor | sqlite3.Connection, bucket: str, key: str, version_id: str | None
                  ) -> str | None:
    """The tag key (:func:`version_key`) of the current version (``version_id`` None) or of the data
    version ``version_id``; None when there is none (a delete marker included)."""
    if version_id is None:
        row = c.execute("SELECT version_id FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        return version_key(row[0]) if row is not None else None
    if c.execute("SELECT 1 FROM objects WHERE bucket = ? AND key = ? AND COALESCE(version_id, 'null') = ?",
                 (bucket, key, version_id)).fetchone() is not None:
        return version_id
    row = c.execute("SELECT delete_marker FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                    (bucket, key, version_id)).fetchone()
    return version_id if row is not None and not row[0] else None


class SqliteTagging:
    """The tagging and lifecycle half of ``SqliteStore``."""

    _db: SqliteDatabase

    # --- object tags -----------------------------------------------------------------------------
    def get_object_tags(self, bucket: str, key: str, version_id: str | None = None) -> Tags | None:
        """The tags of the object's current version, or of its version ``version_id``; None when there is no
        such object or version (a delete marker has no tags: None too)."""
        conn = self._db.conn()
        found = _data_version(conn, bucket, key, version_id)
        if found is None:
            return None
        rows_found = conn.execute(
            "SELECT tag_key, tag_value FROM tagging_objects WHERE bucket = ? AND key = ? AND version_id = ? "
            "ORDER BY position", (bucket, key, found)).fetchall()
        return tuple((k, v) for k, v in rows_found)

    def count_object_tags(self, bucket: str, key: str, version_id: str | None = None) -> int:
        """How many tags the version ``version_id`` has (None: the null version, as ``objects`` names it)."""
        row = self._db.conn().execute(
            "SELECT count(*) FROM tagging_objects WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, version_key(version_id))).fetchone()
        return int(row[0])

    def set_object_tags(self, bucket: str, key: str, tags: Tags, *, bucket_id: str | None = None,
                        version_id: str | None = None) -> bool:
        """Replace the tags of an existing object's current version, or of its version ``version_id``; False
        when there is no such object or version (nothing written)."""
        with self._db.transaction() as c:
            row = c.execute("SELECT id FROM buckets WHERE name = ?", (bucket,)).fetchone()
            if row is None or (bucket_id is not None and row[0] != bucket_id):
                raise NoSuchBucket(BucketName=bucket)
            found = _data_version(c, bucket, key, version_id)
            if found is None:
                return False
            write_object_tags(c, bucket, key, tags, found)
            return True

    # --- bucket tags -----------------------------------------------------------------------------
    def get_bucket_tags(self, bucket_id: str) -> Tags:
        found = self._db.conn().execute(
            "SELECT tag_key, tag_value FROM tagging_buckets WHERE bucket_id = ? ORDER BY position",
            (bucket_id,)).fetchall()
        return tuple((k, v) for k, v in found)

    def set_bucket_tags(self, bucket_id: str, tags: Tags) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM tagging_buckets WHERE bucket_id = ?", (bucket_id,))
            c.executemany("INSERT INTO tagging_buckets (bucket_id, tag_key, tag_value, position) VALUES (?, ?, ?, ?)",
                          [(bucket_id, k, v, n) for n, (k, v) in enumerate(tags)])

    # --- lifecycle -------------------------------------------------------------------------------
    def get_lifecycle(self, bucket_id: str) -> str | None:
        row = self._db.conn().execute("SELECT rules FROM lifecycle_configurations WHERE bucket_id = ?",
                                      (bucket_id,)).fetchone()
        return str(row[0]) if row else None

    def set_lifecycle(self, bucket_id: str, rules: str | None) -> None:
        """Store (or, with None, delete) a bucket's lifecycle rules, as JSON. A bucket setting: bumps the
        generation, so every worker's cache of them (``Node.lifecycles``) reloads."""
        with self._db.transaction() as c:
            c.execute(rows.BUMP_GENERATION)
            if rules is None:
                c.execute("DELETE FROM lifecycle_configurations WHERE bucket_id = ?", (bucket_id,))
                return
            c.execute("INSERT INTO lifecycle_configurations (bucket_id, rules, updated) VALUES (?, ?, ?) "
                      "ON CONFLICT (bucket_id) DO UPDATE SET rules = excluded.rules, updated = excluded.updated",
                      (bucket_id, rules, time.time()))

    def lifecycle_buckets(self) -> list[tuple[str, str, str]]:
        """(bucket name, bucket id, rules) of every existing bucket with a lifecycle configuration."""
        found = self._db.conn().execute(
            "SELECT b.name, b.id, l.rules FROM lifecycle_configurations l JOIN buckets b ON b.id = l.bucket_id "
            "ORDER BY b.name").fetchall()
        return [(str(n), str(i), str(r)) for n, i, r in found]
