"""The Swift half of the store on SQLite: TempAuth tokens, account and container metadata, and the
aggregates Swift reports (mixed into ``SqliteStore``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from satchel.core.errors import MetadataTooLarge, NotFound
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.store import StoredToken

TOKEN_COLUMNS = "token_hash, user_id, access_key_id, account_id, created, expires"  # noqa: S105
_INSERT_TOKEN = rows.insert("swift_tokens", TOKEN_COLUMNS)
_TOKENS = f"SELECT {TOKEN_COLUMNS} FROM swift_tokens"  # noqa: S608
#: Keys per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
_IN_BATCH = 500


def _customer_encrypted(stored: dict[str, Any]) -> bool:
    """An SSE-C object's Content-Type is metadata S3 shows only with its key (HEAD): a listing row leaves
    it out, as S3's ListObjects does (its ``x-satchel-sse`` field is ``core/sse.py``'s)."""
    field = stored.get("x-satchel-sse")
    return isinstance(field, str) and orjson.loads(field).get("mode") == "C"


class SqliteSwift:
    _db: SqliteDatabase

    def create_swift_token(self, token: StoredToken, *, now: float, max_per_key: int) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM swift_tokens WHERE expires < ?", (now,))
            found = c.execute(
                "SELECT 1 FROM access_keys k JOIN users u ON u.id = k.user_id "
                "WHERE k.access_key_id = ? AND u.id = ? AND k.status = 'active' AND u.status = 'active'",
                (token.access_key_id, token.user_id),
            ).fetchone()
            if found is None:
                raise NotFound("The access key or its user is gone or disabled.")
            c.execute(_INSERT_TOKEN, (token.token_hash, token.user_id, token.access_key_id, token.account_id,
                                      token.created, token.expires))
            kept = c.execute(
                "SELECT token_hash FROM swift_tokens WHERE access_key_id = ? ORDER BY created DESC, token_hash",
                (token.access_key_id,),
            ).fetchall()
            c.executemany("DELETE FROM swift_tokens WHERE token_hash = ?", kept[max_per_key:])

    def get_swift_token(self, token_hash: str) -> StoredToken | None:
        row = self._db.conn().execute(_TOKENS + " WHERE token_hash = ?", (token_hash,)).fetchone()
        return StoredToken(*row) if row is not None else None

    def get_swift_metadata(self, scope: str, owner_id: str) -> dict[str, str]:
        found = self._db.conn().execute(
            "SELECT name, value FROM swift_metadata WHERE scope = ? AND owner_id = ? ORDER BY name",
            (scope, owner_id),
        ).fetchall()
        return {name: value for name, value in found}

    def update_swift_metadata(
        self, scope: str, owner_id: str, changes: Mapping[str, str | None], *, max_bytes: int,
        max_count: int | None = None,
    ) -> dict[str, str]:
        with self._db.transaction() as c:
            current = {name: value for name, value in c.execute(
                "SELECT name, value FROM swift_metadata WHERE scope = ? AND owner_id = ?", (scope, owner_id))}
            for name, value in changes.items():
                if value is None:
                    current.pop(name, None)
                else:
                    current[name] = value
            size = sum(len(name.encode()) + len(value.encode()) for name, value in current.items())
            if size > max_bytes:
                raise MetadataTooLarge(Size=str(size), MaxSizeAllowed=str(max_bytes))
            if max_count is not None and len(current) > max_count:
                raise MetadataTooLarge(f"Too many metadata items; max {max_count}", MaxCount=str(max_count))
            for name, value in changes.items():
                c.execute("DELETE FROM swift_metadata WHERE scope = ? AND owner_id = ? AND name = ?",
                          (scope, owner_id, name))
                if value is not None:
                    c.execute("INSERT INTO swift_metadata (scope, owner_id, name, value) VALUES (?, ?, ?, ?)",
                              (scope, owner_id, name, value))
        return dict(sorted(current.items()))

    def delete_swift_metadata(self, scope: str, owner_id: str) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM swift_metadata WHERE scope = ? AND owner_id = ?", (scope, owner_id))

    def bucket_usage(self, bucket: str) -> tuple[int, int]:
        row = self._db.conn().execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE bucket = ?", (bucket,)
        ).fetchone()
        return int(row[0]), int(row[1])

    def content_types(self, bucket: str, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        conn = self._db.conn()
        for start in range(0, len(keys), _IN_BATCH):
            chunk = keys[start:start + _IN_BATCH]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT key, headers FROM objects WHERE bucket = ? AND key IN ({marks})"  # noqa: S608
            for key, headers in conn.execute(sql, (bucket, *chunk)):
                stored = orjson.loads(headers)
                if _customer_encrypted(stored):
                    continue
                value: Any = stored.get("content-type")
                if isinstance(value, str):
                    found[key] = value
        return found
