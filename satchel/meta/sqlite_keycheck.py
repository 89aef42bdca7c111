"""The master key check on SQLite and PostgreSQL (mixed into ``SqliteStore``): one row, ``id = 1``."""

from __future__ import annotations

from satchel.meta.sqlite_db import SqliteDatabase

#: Stored headers carry the encryption record under this name (``core/sse.py`` FIELD), mode S3 sealing a data key.
_SSE_S3 = "%x-satchel-sse%mode%S3%"

_INSERT = "INSERT INTO node_key_check (id, sealed, recorded) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING"


class SqliteKeyCheck:
    _db: SqliteDatabase

    def get_key_check(self) -> bytes | None:
        row = self._db.conn().execute("SELECT sealed FROM node_key_check WHERE id = 1").fetchone()
        return bytes(row[0]) if row is not None else None

    def record_key_check(self, sealed: bytes, now: float) -> bytes:
        with self._db.transaction() as c:
            c.execute(_INSERT, (sealed, now))
        recorded = self.get_key_check()
        assert recorded is not None
        return recorded

    def sample_sealed_secret(self) -> tuple[str, bytes] | None:
        row = self._db.conn().execute(
            "SELECT access_key_id, secret_ciphertext FROM access_keys ORDER BY access_key_id LIMIT 1").fetchone()
        return (str(row[0]), bytes(row[1])) if row is not None else None

    def sample_sse_headers(self) -> str | None:
        for table in ("objects", "object_versions"):
            row = self._db.conn().execute(
                f"SELECT headers FROM {table} WHERE headers LIKE ? LIMIT 1", (_SSE_S3,)).fetchone()  # noqa: S608
            if row is not None:
                return str(row[0])
        return None
