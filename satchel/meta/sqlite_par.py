"""Pre-authenticated requests on SQLite (mixed into ``SqliteStore``); the table is ``schema._V7``'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from satchel.core.errors import NotFound
from satchel.core.models import AuditEvent
from satchel.core.par.model import AccessType, ListingAction, Par
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.sqlite_sharing import _insert_events

PAR_COLUMNS = (
    "id, token_hash, name, user_id, namespace, bucket, bucket_id, object_name, access_type, listing, created, "
    "expires, max_uses, uses, last_used, deleted, mode, filename, ip_range, access_key_id"
)
_PARS = f"SELECT {PAR_COLUMNS} FROM par_requests"  # noqa: S608
#: Inserted only while the bucket (by id) exists: a PAR never outlives a bucket deleted while it was made.
_USABLE = "deleted IS NULL AND expires >= ? AND (max_uses IS NULL OR uses < max_uses)"
#: ... and only while its creator has fewer than the cap of usable PARs (one statement: exact under concurrency).
_INSERT_PAR = (
    f"INSERT INTO par_requests ({PAR_COLUMNS}) SELECT {rows.placeholders(PAR_COLUMNS)} "  # noqa: S608
    "WHERE EXISTS (SELECT 1 FROM buckets WHERE id = ?) "
    f"AND (SELECT COUNT(*) FROM par_requests WHERE user_id = ? AND {_USABLE}) < ?"
)
#: Multipart uploads started through a PAR that are still open (neither committed nor aborted).
_OPEN_UPLOADS = ("SELECT p.upload_id FROM par_uploads p JOIN uploads u ON u.upload_id = p.upload_id "
                 "WHERE p.par_id = ?")
_RECORD_UPLOAD = (
    "INSERT INTO par_uploads (upload_id, par_id, created) SELECT ?, ?, ? "  # noqa: S608
    f"WHERE (SELECT COUNT(*) FROM ({_OPEN_UPLOADS}) open_uploads) < ?"
)
#: One use, only while the PAR is usable: the condition and the count are one statement.
#: How many PARs of a bucket (by id) are still usable at a moment: those block the bucket's deletion.
LIVE_PARS = f"SELECT COUNT(*) FROM par_requests WHERE bucket_id = ? AND {_USABLE}"  # noqa: S608
_CONSUME = f"UPDATE par_requests SET uses = uses + 1, last_used = ? WHERE id = ? AND {_USABLE}"  # noqa: S608


def _par(row: Sequence[Any]) -> Par:
    return Par(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], AccessType(row[8]),
               ListingAction(row[9]), row[10], row[11], row[12], row[13], row[14], row[15], row[16], row[17],
               row[18], row[19])


class SqlitePars:
    _db: SqliteDatabase

    def create_par(self, par: Par, event: AuditEvent, *, max_live_per_user: int = 1 << 62) -> str | None:
        with self._db.transaction() as c:
            params = (par.id, par.token_hash, par.name, par.user_id, par.namespace, par.bucket, par.bucket_id,
                      par.object_name, par.access_type.value, par.listing.value, par.created, par.expires,
                      par.max_uses, par.uses, par.last_used, par.deleted, par.mode, par.filename, par.ip_range,
                      par.access_key_id, par.bucket_id, par.user_id, par.created, max_live_per_user)
            if c.execute(_INSERT_PAR, params).rowcount == 0:
                if c.execute("SELECT 1 FROM buckets WHERE id = ?", (par.bucket_id,)).fetchone() is None:
                    return "bucket"
                return "cap"
            _insert_events(c, [event])
        return None

    def par_by_token_hash(self, token_hash: str) -> Par | None:
        row = self._db.conn().execute(_PARS + " WHERE token_hash = ?", (token_hash,)).fetchone()
        return _par(row) if row else None

    def get_par(self, par_id: str) -> Par | None:
        row = self._db.conn().execute(_PARS + " WHERE id = ?", (par_id,)).fetchone()
        return _par(row) if row else None

    def list_pars(self, *, bucket_id: str | None = None, user_ids: Sequence[str] | None = None,
                  object_prefix: str | None = None, active_at: float | None = None, limit: int = 1000) -> list[Par]:
        filters = rows.owner_filters(user_ids, bucket_id, object_prefix, "object_name")
        if filters is None:
            return []
        where, params = filters
        if active_at is not None:
            where.append(_USABLE)
            params.append(active_at)
        sql = _PARS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created DESC, id LIMIT ?"
        params.append(limit)
        return [_par(r) for r in self._db.conn().execute(sql, params).fetchall()]

    def delete_par(self, par_id: str, at: float) -> Par:
        with self._db.transaction() as c:
            changed = c.execute("UPDATE par_requests SET deleted = COALESCE(deleted, ?) WHERE id = ?", (at, par_id))
            if changed.rowcount == 0:
                raise NotFound(f"No pre-authenticated request with id {par_id!r}.")
            row = c.execute(_PARS + " WHERE id = ?", (par_id,)).fetchone()
        return _par(row)

    def consume_par(self, par_id: str, now: float) -> Par | None:
        with self._db.transaction() as c:
            if c.execute(_CONSUME, (now, par_id, now)).rowcount == 0:
                return None
            row = c.execute(_PARS + " WHERE id = ?", (par_id,)).fetchone()
        return _par(row)

    def live_par_count(self, bucket_id: str, now: float) -> int:
        row = self._db.conn().execute(LIVE_PARS, (bucket_id, now)).fetchone()
        return int(row[0])

    def par_inline_active(self, bucket_id: str) -> bool:
        row = self._db.conn().execute("SELECT inline_active FROM par_bucket_policies WHERE bucket_id = ?",
                                      (bucket_id,)).fetchone()
        return bool(row[0]) if row else False

    def set_par_inline_active(self, bucket_id: str, allowed: bool) -> None:
        with self._db.transaction() as c:
            c.execute("INSERT INTO par_bucket_policies (bucket_id, inline_active) VALUES (?, ?) "
                      "ON CONFLICT (bucket_id) DO UPDATE SET inline_active = excluded.inline_active",
                      (bucket_id, int(allowed)))

    def give_back_par_use(self, par_id: str) -> None:
        with self._db.transaction() as c:
            c.execute("UPDATE par_requests SET uses = uses - 1 WHERE id = ? AND uses > 0", (par_id,))

    def record_par_upload(self, upload_id: str, par_id: str, now: float, max_open: int) -> bool:
        with self._db.transaction() as c:
            return bool(c.execute(_RECORD_UPLOAD, (upload_id, par_id, now, par_id, max_open)).rowcount)

    def par_upload_owner(self, upload_id: str) -> str | None:
        row = self._db.conn().execute("SELECT par_id FROM par_uploads WHERE upload_id = ?", (upload_id,)).fetchone()
        return str(row[0]) if row else None

    def par_open_uploads(self, par_id: str) -> list[str]:
        return [str(r[0]) for r in self._db.conn().execute(_OPEN_UPLOADS, (par_id,)).fetchall()]
