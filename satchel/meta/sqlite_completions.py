"""Completed multipart uploads on SQLite (mixed into ``SqliteStore``): see ``core/completions.py``."""

from __future__ import annotations

import sqlite3

from satchel.core.completions import COMPLETION_MEMORY, Completion
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase

COMPLETION_COLUMNS = ("upload_id, bucket_id, key, parts_digest, etag, size, parts_count, checksums, completed, "
                      "version_id")
_SELECT = f"SELECT {COMPLETION_COLUMNS} FROM mpu_completions"  # noqa: S608 - a constant column list
_INSERT = rows.insert("mpu_completions", COMPLETION_COLUMNS) + " ON CONFLICT (upload_id) DO NOTHING"


class SqliteCompletions:
    _db: SqliteDatabase

    @staticmethod
    def remember_completion(c: sqlite3.Connection, done: Completion) -> None:
        """In the transaction that completes the upload; prunes what is past remembering, so the table holds
        at most an hour of completions."""
        c.execute("DELETE FROM mpu_completions WHERE completed < ?", (done.completed - COMPLETION_MEMORY,))
        c.execute(_INSERT, (done.upload_id, done.bucket_id, done.key, done.parts_digest, done.etag, done.size,
                            done.parts_count, rows.dump_map(done.checksums), done.completed, done.version_id))

    def completed_upload(self, upload_id: str) -> Completion | None:
        row = self._db.conn().execute(_SELECT + " WHERE upload_id = ?", (upload_id,)).fetchone()
        if row is None:
            return None
        return Completion(upload_id=row[0], bucket_id=row[1], key=row[2], parts_digest=row[3], etag=row[4],
                          size=int(row[5]), parts_count=int(row[6]), checksums=rows.load_map(row[7]),
                          completed=float(row[8]), version_id=row[9])
