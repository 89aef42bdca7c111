"""Swift TempURL keys on SQLite (mixed into ``SqliteStore``): sealed secrets, one row per slot."""

from __future__ import annotations

from collections.abc import Sequence

from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.store import StoredTempUrlKey

TEMPURL_KEY_COLUMNS = "account_id, bucket_id, slot, secret_ciphertext, set_by, set_at"
_SELECT = f"SELECT {TEMPURL_KEY_COLUMNS} FROM tempurl_keys"  # noqa: S608
_UPSERT = rows.insert("tempurl_keys", TEMPURL_KEY_COLUMNS) + (
    " ON CONFLICT (account_id, bucket_id, slot) DO UPDATE SET secret_ciphertext = excluded.secret_ciphertext,"
    " set_by = excluded.set_by, set_at = excluded.set_at"
)


class SqliteTempUrlKeys:
    _db: SqliteDatabase

    def put_tempurl_key(self, key: StoredTempUrlKey) -> None:
        with self._db.transaction() as c:
            c.execute(_UPSERT, (key.account_id, key.bucket_id, key.slot, bytes(key.secret_ciphertext), key.set_by,
                                key.set_at))
            c.execute(rows.BUMP_GENERATION)

    def delete_tempurl_key(self, account_id: str, bucket_id: str, slot: int) -> bool:
        with self._db.transaction() as c:
            gone = c.execute("DELETE FROM tempurl_keys WHERE account_id = ? AND bucket_id = ? AND slot = ?",
                             (account_id, bucket_id, slot)).rowcount
            c.execute(rows.BUMP_GENERATION)
        return bool(gone)

    def list_tempurl_keys(self, account_id: str, bucket_ids: Sequence[str]) -> list[StoredTempUrlKey]:
        ids = list(dict.fromkeys(bucket_ids))  # an account and a container: two
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        found = self._db.conn().execute(
            _SELECT + f" WHERE account_id = ? AND bucket_id IN ({marks}) ORDER BY bucket_id, slot",
            (account_id, *ids),
        ).fetchall()
        return [StoredTempUrlKey(r[0], r[1], int(r[2]), bytes(r[3]), r[4], float(r[5])) for r in found]
