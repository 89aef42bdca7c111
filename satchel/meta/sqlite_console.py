"""The web console's half of the store on SQLite: sessions, share pages and failed-try throttling
(mixed into ``SqliteStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.store import StoredSession, StoredShare

_SESSION_COLUMNS = "token_hash, user_id, created, last_seen, expires"
#: Sessions one user may hold at once; signing in again beyond that ends the oldest.
MAX_SESSIONS_PER_USER = 20
_SHARE_COLUMNS = "id_hash, link_id, passphrase_hash, created, created_by"


class SqliteConsole:
    _db: SqliteDatabase

    def create_session(self, session: StoredSession) -> None:
        with self._db.transaction() as c:
            c.execute(f"INSERT INTO console_sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?)",  # noqa: S608
                      (session.token_hash, session.user_id, session.created, session.last_seen, session.expires))
            c.execute("DELETE FROM console_sessions WHERE user_id = ? AND token_hash NOT IN (SELECT token_hash FROM "
                      "console_sessions WHERE user_id = ? ORDER BY created DESC, token_hash LIMIT ?)",
                      (session.user_id, session.user_id, MAX_SESSIONS_PER_USER))

    def get_session(self, token_hash: str) -> StoredSession | None:
        row = self._db.conn().execute(
            f"SELECT {_SESSION_COLUMNS} FROM console_sessions WHERE token_hash = ?", (token_hash,)  # noqa: S608
        ).fetchone()
        return StoredSession(*row) if row else None

    def touch_session(self, token_hash: str, last_seen: float) -> None:
        with self._db.transaction() as c:
            c.execute("UPDATE console_sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?",
                      (last_seen, token_hash, last_seen))

    def delete_sessions(self, token_hash: str | None = None, *, expired_at: float | None = None,
                        user_id: str | None = None) -> None:
        with self._db.transaction() as c:
            if user_id is not None:
                c.execute("DELETE FROM console_sessions WHERE user_id = ?", (user_id,))
            if token_hash is not None:
                c.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))
            if expired_at is not None:
                c.execute("DELETE FROM console_sessions WHERE expires < ?", (expired_at,))

    def create_share(self, share: StoredShare, limit: int) -> bool:
        with self._db.transaction() as c:
            count = c.execute("SELECT COUNT(*) FROM console_shares WHERE link_id = ?", (share.link_id,)).fetchone()
            if int(count[0]) >= limit:
                return False
            c.execute(f"INSERT INTO console_shares ({_SHARE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",  # noqa: S608
                      (share.id_hash, share.link_id, share.passphrase_hash, share.created, share.created_by))
        return True

    def get_share(self, id_hash: str) -> StoredShare | None:
        row = self._db.conn().execute(
            f"SELECT {_SHARE_COLUMNS} FROM console_shares WHERE id_hash = ?", (id_hash,)  # noqa: S608
        ).fetchone()
        return StoredShare(*row) if row else None

    def throttled_until(self, subject: str) -> float | None:
        row = self._db.conn().execute("SELECT locked_until FROM console_throttle WHERE subject = ?",
                                      (subject,)).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def reserve_attempt(self, subjects: Sequence[tuple[str, int]], now: float, window: float,
                        lockout: float) -> float | None:
        with self._db.transaction() as c:
            # Subjects are chosen by clients (any user name, any address): rows whose window and lockout are
            # over go, so the table holds only what is being counted now.
            c.execute("DELETE FROM console_throttle WHERE window_start < ? AND (locked_until IS NULL OR "
                      "locked_until < ?)", (now - window, now))
            rows = {}
            for subject, _ in subjects:
                row = c.execute("SELECT failures, window_start, locked_until FROM console_throttle WHERE subject = ?",
                                (subject,)).fetchone()
                if row is not None and row[2] is not None and float(row[2]) > now:
                    return float(row[2])  # locked: nothing reserved, for any subject
                rows[subject] = row
            for subject, limit in subjects:
                row = rows[subject]
                failures, start = (int(row[0]), float(row[1])) if row else (0, now)
                if now - start > window or (row is not None and row[2] is not None):
                    failures, start = 0, now  # a new window, or the first try after a lockout
                failures += 1
                # The limit-th try is still checked; it locks every later one until it is cleared or lapses.
                locked = now + lockout if failures >= limit else None
                c.execute("INSERT INTO console_throttle (subject, failures, window_start, locked_until) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, "
                          "window_start = excluded.window_start, locked_until = excluded.locked_until",
                          (subject, failures, start, locked))
        return None

    def release_attempt(self, subject: str) -> None:
        with self._db.transaction() as c:
            c.execute("UPDATE console_throttle SET failures = failures - 1, locked_until = NULL "
                      "WHERE subject = ? AND failures > 0", (subject,))

    def clear_failures(self, subject: str) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM console_throttle WHERE subject = ?", (subject,))
