"""Object versions on SQLite (mixed into ``SqliteStore``; the write hooks are called by ``sqlite_objects``).

``objects`` keeps exactly one row per key whose latest version is data, so every existing read and
listing path is unchanged; a key whose latest version is a delete marker has no row there. Noncurrent
versions and every delete marker live in ``object_versions``, ordered per key by ``seq`` (higher is
newer; the row in ``objects``, when there is one, is newer than all of them).

Blob bookkeeping keeps the store's rule: an overwrite or a delete of a versioned key *moves* the
current row instead of marking its blobs dead; only removing a version for good (deleting it by id,
or replacing the one ``null`` version while versioning is suspended) marks its blobs dead. A blob
belongs to exactly one version (copies link or copy their blobs), so no other row can still need it.

The version id a write gets is chosen by the caller (``core/versioning.py``) from the bucket's state,
and checked against that state here, inside the write's transaction: a bucket whose versioning was
changed in between makes the write raise :class:`VersioningChanged` (nothing written), and the caller
chooses again. Choosing in the store would leave the caller unable to tell the client the id.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from satchel.core.errors import NoSuchBucket, PreconditionFailed, VersioningChanged
from satchel.core.models import ObjectRecord, ObjectVersion, Segment, VersionRecord
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.sqlite_tagging import NULL_VERSION, drop_object_tags
from satchel.meta.store import Precondition

ENABLED = "Enabled"
SUSPENDED = "Suspended"

_VERSION_DATA = ("size, etag, last_modified, segments, headers, user_meta, checksums, parts_count, "
                 "owner_user_id, acl")
_GET_CURRENT = f"SELECT {rows.OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?"  # noqa: S608
#: ``object_versions`` rows read back as ``objects`` rows (same column order) plus seq and delete_marker.
_VERSIONS = (f"SELECT bucket, key, {_VERSION_DATA}, version_id, seq, delete_marker "  # noqa: S608
             "FROM object_versions")
_MOVE_CURRENT = (
    f"INSERT INTO object_versions (bucket, key, version_id, seq, delete_marker, {_VERSION_DATA}) "  # noqa: S608
    f"SELECT bucket, key, COALESCE(version_id, 'null'), ?, 0, {_VERSION_DATA} FROM objects "
    "WHERE bucket = ? AND key = ?"
)
_PROMOTE = (
    f"INSERT INTO objects (bucket, key, version_id, {_VERSION_DATA}) "  # noqa: S608
    f"SELECT bucket, key, version_id, {_VERSION_DATA} FROM object_versions "
    "WHERE bucket = ? AND key = ? AND version_id = ?"
)
_INSERT_MARKER = (
    f"INSERT INTO object_versions (bucket, key, version_id, seq, delete_marker, {_VERSION_DATA}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, 1, 0, '', ?, '[]', '{}', '{}', '{}', NULL, ?, NULL)"
)
#: The ``seq`` a current (``objects``) version sorts by: newer than any noncurrent one.
CURRENT_SEQ = 1 << 62
_STATE = ("SELECT b.id, v.state FROM buckets b LEFT JOIN versioning_buckets v ON v.bucket_id = b.id "
          "WHERE b.name = ?")


def _version(row: Sequence[Any]) -> tuple[ObjectRecord, int, bool]:
    """(record, seq, delete marker) of an ``object_versions`` row read with :data:`_VERSIONS`."""
    return rows.object_record(row[:13]), int(row[13]), bool(row[14])


def _state(c: sqlite3.Connection, bucket: str) -> str:
    row = c.execute(_STATE, (bucket,)).fetchone()
    return (row[1] or "") if row else ""


def check_mode(c: sqlite3.Connection, bucket: str, version_id: str | None) -> None:
    """``VersioningChanged`` unless ``version_id`` is the kind of id the bucket's state gives a new version."""
    state = _state(c, bucket)
    fits = {ENABLED: version_id not in (None, "null"), SUSPENDED: version_id == "null"}.get(state, version_id is None)
    if not fits:
        raise VersioningChanged(BucketName=bucket)


def _next_seq(c: sqlite3.Connection, bucket: str, key: str) -> int:
    row = c.execute("SELECT MAX(seq) FROM object_versions WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
    return int(row[0] or 0) + 1


def _drop_null_version(c: sqlite3.Connection, bucket: str, key: str) -> list[Segment]:
    """Remove the noncurrent ``null`` version (data or marker) of a key; its segments die."""
    row = c.execute("SELECT segments FROM object_versions WHERE bucket = ? AND key = ? AND version_id = 'null'",
                    (bucket, key)).fetchone()
    if row is None:
        return []
    c.execute("DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = 'null'", (bucket, key))
    return list(rows.load_segments(row[0]))


def retire_current(c: sqlite3.Connection, bucket: str, key: str, precondition: Precondition | None,
                   version_id: str | None) -> list[Segment]:
    """Make room for a new latest version ``version_id`` of ``key`` (data or delete marker).

    ``precondition`` is checked on the current version first. Returns the segments that die: in a bucket
    never versioned (``version_id`` None) the current version's; otherwise only a ``null`` version's
    that the new ``null`` one replaces. Any other current version moves to ``object_versions``; the
    ``objects`` row is left for the caller to overwrite or delete.
    """
    check_mode(c, bucket, version_id)
    if version_id is None and precondition is None:  # the common unversioned overwrite: segments only
        found = c.execute("SELECT segments FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        return list(rows.load_segments(found[0])) if found else []
    row = c.execute(_GET_CURRENT, (bucket, key)).fetchone()
    current = rows.object_record(row) if row else None
    if precondition is not None:
        precondition(current)
    if version_id is None:
        return list(current.segments) if current is not None else []
    dying: list[Segment] = []
    if version_id == "null":  # the null version (current or not) goes for good, and its tags with it
        dying += _drop_null_version(c, bucket, key)
        drop_object_tags(c, bucket, key, NULL_VERSION)
    if current is not None:
        if version_id == "null" and current.version_id in (None, "null"):
            dying += current.segments
        else:
            c.execute(_MOVE_CURRENT, (_next_seq(c, bucket, key), bucket, key))
    return dying


def add_marker(c: sqlite3.Connection, bucket: str, key: str, version_id: str, now: float,
               owner_user_id: str | None) -> None:
    """The delete marker ``version_id`` becomes the key's latest version (its ``objects`` row, if any,
    already moved by :func:`retire_current`)."""
    c.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
    c.execute(_INSERT_MARKER, (bucket, key, version_id, _next_seq(c, bucket, key), now, owner_user_id))


class SqliteVersioning:
    """The versioning half of ``SqliteStore``: bucket state, reading, deleting and listing versions."""

    _db: SqliteDatabase

    def bucket_versioning(self, bucket: str) -> str:
        return _state(self._db.conn(), bucket)

    def set_bucket_versioning(self, bucket: str, state: str, *, bucket_id: str | None = None) -> None:
        with self._db.transaction() as c:
            row = c.execute("SELECT id FROM buckets WHERE name = ?", (bucket,)).fetchone()
            if row is None or (bucket_id is not None and row[0] != bucket_id):
                raise NoSuchBucket(BucketName=bucket)
            c.execute("INSERT INTO versioning_buckets (bucket_id, state) VALUES (?, ?) "
                      "ON CONFLICT (bucket_id) DO UPDATE SET state = excluded.state", (row[0], state))

    def get_object_version(self, bucket: str, key: str, version_id: str | None) -> VersionRecord | None:
        return _find(self._db.conn(), bucket, key, version_id)

    def delete_object_version(self, bucket: str, key: str, version_id: str, *, bucket_id: str | None = None,
                              expect: Callable[[VersionRecord, int], bool] | None = None,
                              ) -> tuple[VersionRecord | None, list[str]]:
        from satchel.meta.sqlite_objects import SqliteObjects  # the one blob bookkeeper

        now = time.time()
        with self._db.transaction() as c:
            if bucket_id is not None:
                row = c.execute("SELECT id FROM buckets WHERE name = ?", (bucket,)).fetchone()
                if row is None or row[0] != bucket_id:
                    raise NoSuchBucket(BucketName=bucket)
            found = _find(c, bucket, key, version_id)
            if found is None:
                return None, []
            if expect is not None and not expect(found, _newer_noncurrent(c, bucket, key, found)):
                raise PreconditionFailed()
            if found.latest and not found.delete_marker:
                c.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            else:
                c.execute("DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                          (bucket, key, version_id))
            drop_object_tags(c, bucket, key, version_id)
            if found.latest:
                _promote(c, bucket, key)
            return found, SqliteObjects._swap_blobs(c, (), found.record.segments, now)

    def list_object_versions(self, bucket: str, *, prefix: str = "", key_marker: str | None = None,
                             version_id_marker: str | None = None, limit: int = 1000) -> list[ObjectVersion]:
        """Versions in S3's order (key, then newest first), after the marker position."""
        if limit <= 0:
            return []
        conn = self._db.conn()
        high = rows.prefix_upper_bound(prefix)
        after_seq: int | None = None  # versions of key_marker older than this still follow the marker
        if key_marker is not None and version_id_marker is not None:
            marked = _find(conn, bucket, key_marker, version_id_marker)
            if marked is not None:
                after_seq = marked.seq
        low_key = key_marker if key_marker is not None and key_marker >= prefix else None
        current = _scan(conn, "objects", bucket, prefix, high, low_key, None, limit)
        noncurrent = _scan(conn, "object_versions", bucket, prefix, high, low_key, after_seq, limit)
        merged = sorted(
            [(r[1], 0, r) for r in current] + [(r[1], 1, r) for r in noncurrent],
            key=lambda item: (item[0].encode("utf-8", "surrogatepass"), item[1], -int(item[2][13]) if item[1] else 0),
        )[:limit]
        out: list[ObjectVersion] = []
        have_current = {r[1] for r in current}
        previous_key: str | None = None
        for key, kind, r in merged:
            first = key != previous_key
            previous_key = key
            if kind == 0:
                out.append(ObjectVersion(key, r[12] or "null", True, False, r[2], r[3], r[4], r[10]))
                continue
            latest = (first and key not in have_current and not (key == key_marker and after_seq is not None)
                      and not _has_current(conn, bucket, key))
            out.append(ObjectVersion(key, r[12], latest, bool(r[14]), r[2], r[3], r[4], r[10]))
        return out


def _newer_noncurrent(c: sqlite3.Connection, bucket: str, key: str, found: VersionRecord) -> int:
    """How many noncurrent versions of the key are newer than ``found`` (0 for the latest version)."""
    if found.latest:
        return 0
    row = c.execute("SELECT COUNT(*) FROM object_versions WHERE bucket = ? AND key = ? AND seq > ?",
                    (bucket, key, found.seq)).fetchone()
    newer = int(row[0])
    return newer if _has_current(c, bucket, key) else newer - 1  # the newest of them is the latest marker


def _has_current(c: sqlite3.Connection, bucket: str, key: str) -> bool:
    return c.execute("SELECT 1 FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone() is not None


def _scan(c: sqlite3.Connection, table: str, bucket: str, prefix: str, high: str | None, after_key: str | None,
          after_seq: int | None, limit: int) -> list[Any]:
    """One ordered range scan of ``table``: keys under ``prefix`` after ``after_key``; with ``after_seq``,
    ``after_key``'s own versions older than it too (never its current row)."""
    noncurrent = table == "object_versions"
    where = ["bucket = ?", "key >= ?"]
    params: list[Any] = [bucket, prefix]
    if after_key is not None:
        if after_seq is not None and noncurrent:
            where.append("(key > ? OR (key = ? AND seq < ?))")
            params += [after_key, after_key, after_seq]
        else:
            where.append("key > ?")
            params.append(after_key)
    if high is not None:
        where.append("key < ?")
        params.append(high)
    params.append(limit)
    head = _VERSIONS if noncurrent else f"SELECT {rows.OBJECT_COLUMNS}, 0, 0 FROM objects"  # noqa: S608
    order = " ORDER BY key, seq DESC" if noncurrent else " ORDER BY key"
    return c.execute(head + " WHERE " + " AND ".join(where) + order + " LIMIT ?", params).fetchall()


def _find(c: sqlite3.Connection, bucket: str, key: str, version_id: str | None) -> VersionRecord | None:
    """A key's version ``version_id`` (``None``: its latest, data or delete marker)."""
    row = c.execute(_GET_CURRENT, (bucket, key)).fetchone()
    if row is not None:
        record = rows.object_record(row)
        if version_id is None or (record.version_id or "null") == version_id:
            return VersionRecord(record, False, True, CURRENT_SEQ)
    newest = c.execute(_VERSIONS + " WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
                       (bucket, key)).fetchone()
    if version_id is None:
        if newest is None:
            return None
        record, seq, marker = _version(newest)
        return VersionRecord(record, marker, True, seq)
    found = c.execute(_VERSIONS + " WHERE bucket = ? AND key = ? AND version_id = ?",
                      (bucket, key, version_id)).fetchone()
    if found is None:
        return None
    record, seq, marker = _version(found)
    return VersionRecord(record, marker, row is None and newest is not None and int(newest[13]) == seq, seq)


def _promote(c: sqlite3.Connection, bucket: str, key: str) -> None:
    """After the latest version went: the newest remaining one becomes current, unless it is a delete
    marker (which stays in ``object_versions`` and makes the key read as deleted)."""
    newest = c.execute("SELECT version_id, delete_marker FROM object_versions WHERE bucket = ? AND key = ? "
                       "ORDER BY seq DESC LIMIT 1", (bucket, key)).fetchone()
    if newest is None or newest[1]:
        return
    c.execute(_PROMOTE, (bucket, key, newest[0]))
    c.execute("DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, key, newest[0]))
