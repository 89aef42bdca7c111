"""Bucket default encryption on SQLite (mixed into ``SqliteStore``): one row per bucket id."""

from __future__ import annotations

from satchel.meta.sqlite_db import SqliteDatabase

_UPSERT = ("INSERT INTO sse_bucket_defaults (bucket_id, algorithm, updated) VALUES (?, ?, ?)"
           " ON CONFLICT (bucket_id) DO UPDATE SET algorithm = excluded.algorithm, updated = excluded.updated")


class SqliteSse:
    _db: SqliteDatabase

    def get_bucket_encryption(self, bucket_id: str) -> str | None:
        row = self._db.conn().execute("SELECT algorithm FROM sse_bucket_defaults WHERE bucket_id = ?",
                                      (bucket_id,)).fetchone()
        return str(row[0]) if row is not None else None

    def set_bucket_encryption(self, bucket_id: str, algorithm: str | None, now: float) -> None:
        with self._db.transaction() as c:
            if algorithm is None:
                c.execute("DELETE FROM sse_bucket_defaults WHERE bucket_id = ?", (bucket_id,))
            else:
                c.execute(_UPSERT, (bucket_id, algorithm, now))
