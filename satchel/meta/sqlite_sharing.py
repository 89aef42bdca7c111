"""The sharing half of the store on SQLite: minted links, revocations and the audit trail
(mixed into ``SqliteStore``)."""

from __future__ import annotations

import itertools
import math
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from satchel.core.errors import NotFound
from satchel.core.models import AuditEvent, AuditQuery, Link, LinkKind, Revocation, RevocationScope
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.sqlite_webhooks import queue_deliveries
from satchel.meta.webhooks import QueuedDelivery

LINK_COLUMNS = (
    "id, kind, user_id, access_key_id, bucket, key, method, created, expires, max_uses, uses, last_used, "
    "revoked, mode, filename, bucket_id, version_id"
)
REVOCATION_COLUMNS = "id, scope, target, bucket, before, created, created_by, bucket_id"
AUDIT_COLUMNS = (
    "id, time, action, outcome, kind, link_id, user_id, access_key_id, bucket, key, method, client_ip, "
    "user_agent, status, bytes, reason, request_id, bucket_id, version_id"
)
_LINKS = f"SELECT {LINK_COLUMNS} FROM links"  # noqa: S608
_INSERT_LINK = rows.insert("links", LINK_COLUMNS)
_INSERT_REVOCATION = rows.insert("revocations", REVOCATION_COLUMNS)
#: Idempotent: a batch tried again after a COMMIT whose answer was lost never fails on its own rows.
_INSERT_AUDIT = rows.insert("audit_events", AUDIT_COLUMNS) + " ON CONFLICT (id) DO NOTHING"
#: One use, only while the link is still usable: the condition and the count are one statement.
_CONSUME = (
    "UPDATE links SET uses = uses + 1, last_used = ? WHERE id = ? AND revoked IS NULL AND expires >= ? "
    "AND (max_uses IS NULL OR uses < max_uses)"
)

#: Audit ids sort by time: the nanosecond clock, then a per-process counter and the pid.
_SEQUENCE = itertools.count()


def _link(row: Sequence[Any]) -> Link:
    return Link(row[0], LinkKind(row[1]), row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
                row[10], row[11], row[12], row[13], row[14], row[15], row[16])


def _audit(row: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        time=row[1], action=row[2], outcome=row[3], kind=row[4], link_id=row[5], user_id=row[6],
        access_key_id=row[7], bucket=row[8], key=row[9], method=row[10], client_ip=row[11],
        user_agent=row[12], status=row[13], bytes=row[14], reason=row[15], request_id=row[16], id=row[0],
        bucket_id=row[17], version_id=row[18],
    )


#: An audit row as an event (the webhook queue reads events with its deliveries).
audit_event = _audit


def new_event_id(at: float) -> str:
    return f"{int(at * 1e9):020d}-{os.getpid():07d}-{next(_SEQUENCE):09d}"


def _insert_events(c: sqlite3.Connection, events: Sequence[AuditEvent]) -> None:
    """Append events inside the caller's transaction (ids are assigned here when empty)."""
    if not events:
        return
    now = time.time()
    for e in events:
        e.id = e.id or new_event_id(now)  # set on the event: a webhook delivery queued with it names it
    c.executemany(_INSERT_AUDIT, [
        (e.id, e.time, e.action, e.outcome, e.kind, e.link_id, e.user_id,
         e.access_key_id, e.bucket, e.key, e.method, e.client_ip, e.user_agent, e.status, e.bytes,
         e.reason, e.request_id, e.bucket_id, e.version_id)
        for e in events
    ])


def _count_uses(c: sqlite3.Connection, uses: Mapping[str, tuple[int, float]]) -> None:
    """Add batched use counts inside the caller's transaction (see ``Store.count_link_uses``)."""
    c.executemany(
        "UPDATE links SET uses = uses + ?, last_used = CASE WHEN last_used IS NULL OR last_used < ? "
        "THEN ? ELSE last_used END WHERE id = ?",
        [(count, last, last, link_id) for link_id, (count, last) in uses.items()],
    )
    # Pre-authenticated requests without a use limit are counted in the same batch (their ids never
    # collide with link ids: both are made by ``links.new_link_ids``).
    c.executemany(
        "UPDATE par_requests SET uses = uses + ?, last_used = CASE WHEN last_used IS NULL OR last_used < ? "
        "THEN ? ELSE last_used END WHERE id = ?",
        [(count, last, last, par_id) for par_id, (count, last) in uses.items()],
    )


class SqliteSharing:
    _db: SqliteDatabase

    def create_links(self, links: Sequence[Link], events: Sequence[AuditEvent] = ()) -> None:
        with self._db.transaction() as c:
            c.executemany(_INSERT_LINK, [
                (link.id, link.kind.value, link.user_id, link.access_key_id, link.bucket, link.key, link.method,
                 link.created, link.expires, link.max_uses, link.uses, link.last_used, link.revoked, link.mode,
                 link.filename, link.bucket_id, link.version_id)
                for link in links
            ])
            _insert_events(c, events)

    def get_link(self, link_id: str) -> Link | None:
        row = self._db.conn().execute(_LINKS + " WHERE id = ?", (link_id,)).fetchone()
        return _link(row) if row else None

    def list_links(
        self,
        *,
        user_ids: Sequence[str] | None = None,
        bucket_id: str | None = None,
        key_prefix: str | None = None,
        active_at: float | None = None,
        limit: int = 1000,
    ) -> list[Link]:
        filters = rows.owner_filters(user_ids, bucket_id, key_prefix)
        if filters is None:
            return []
        where, params = filters
        if active_at is not None:
            where.append("revoked IS NULL AND expires >= ? AND (max_uses IS NULL OR uses < max_uses)")
            params.append(active_at)
        sql = _LINKS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created DESC, id LIMIT ?"
        params.append(limit)
        return [_link(r) for r in self._db.conn().execute(sql, params).fetchall()]

    def revoke_link(self, link_id: str, at: float) -> Link:
        with self._db.transaction() as c:
            changed = c.execute("UPDATE links SET revoked = COALESCE(revoked, ?) WHERE id = ?", (at, link_id))
            if changed.rowcount == 0:
                raise NotFound(f"No link with id {link_id!r}.")
            row = c.execute(_LINKS + " WHERE id = ?", (link_id,)).fetchone()
        return _link(row)

    def consume_link(self, link_id: str, now: float) -> Link | None:
        with self._db.transaction() as c:
            if c.execute(_CONSUME, (now, link_id, now)).rowcount == 0:
                return None
            row = c.execute(_LINKS + " WHERE id = ?", (link_id,)).fetchone()
        return _link(row)

    def give_back_link_use(self, link_id: str) -> None:
        with self._db.transaction() as c:
            c.execute("UPDATE links SET uses = uses - 1 WHERE id = ? AND uses > 0", (link_id,))

    def sight_link(self, fingerprint: str, now: float, expires: float) -> float:
        with self._db.transaction() as c:
            c.execute("DELETE FROM link_sightings WHERE expires < ?", (now,))
            c.execute(
                "INSERT INTO link_sightings (fingerprint, first_seen, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (fingerprint) DO NOTHING",
                (fingerprint, now, expires),
            )
            row = c.execute("SELECT first_seen FROM link_sightings WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return float(row[0])

    def count_link_uses(self, uses: Mapping[str, tuple[int, float]]) -> None:
        if not uses:
            return
        with self._db.transaction() as c:
            _count_uses(c, uses)

    def add_revocation(self, revocation: Revocation) -> Revocation:
        with self._db.transaction() as c:
            c.execute(_INSERT_REVOCATION, (revocation.id, revocation.scope.value, revocation.target,
                                           revocation.bucket, revocation.before, revocation.created,
                                           revocation.created_by, revocation.bucket_id))
            c.execute(rows.BUMP_GENERATION)
        return revocation

    def list_revocations(self) -> list[Revocation]:
        found = self._db.conn().execute(
            f"SELECT {REVOCATION_COLUMNS} FROM revocations ORDER BY created"  # noqa: S608
        ).fetchall()
        return [Revocation(r[0], RevocationScope(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in found]

    def add_audit_events(self, events: Sequence[AuditEvent], deliveries: Sequence[QueuedDelivery] = (), *,
                         queue_max: int = 0, user_max: int = 0, account_max: int | None = None,
                         uses: Mapping[str, tuple[int, float]] | None = None, once: bool = False) -> int:
        if not events and not uses:
            return 0
        with self._db.transaction() as c:
            if once and events and events[0].id and c.execute(
                    "SELECT 1 FROM audit_events WHERE id = ?", (events[0].id,)).fetchone() is not None:
                return 0  # written by the try whose COMMIT's answer was lost: nothing twice
            _insert_events(c, events)
            if uses:
                _count_uses(c, uses)
            return queue_deliveries(c, deliveries, queue_max, user_max, account_max)

    def prune_audit(self, before: float, limit: int = 10000) -> int:
        with self._db.transaction() as c:
            cursor = c.execute("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE time < ? "
                               "ORDER BY time, id LIMIT ?)", (before, limit))
            return int(cursor.rowcount)

    def export_audit(self, since: float | None, until: float | None, after: tuple[float, str] | None = None,
                     limit: int = 1000) -> list[AuditEvent]:
        start, stop = -math.inf if since is None else since, math.inf if until is None else until
        after_time, after_id = after if after is not None else (-math.inf, "")
        sql = (f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE time >= ? AND time < ? "  # noqa: S608
               "AND (time > ? OR (time = ? AND id > ?)) ORDER BY time, id LIMIT ?")
        params = (start, stop, after_time, after_time, after_id, limit)
        return [_audit(r) for r in self._db.conn().execute(sql, params).fetchall()]

    def query_audit(self, query: AuditQuery) -> list[AuditEvent]:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("bucket_id", query.bucket_id), ("user_id", query.user_id), ("kind", query.kind),
                              ("outcome", query.outcome), ("action", query.action), ("link_id", query.link_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.visible_users is not None or query.visible_bucket_ids is not None:
            users, buckets = query.visible_users or (), query.visible_bucket_ids or ()
            visible = [f"user_id IN ({', '.join('?' * len(users))})"] if users else []
            visible += [f"bucket_id IN ({', '.join('?' * len(buckets))})"] if buckets else []
            where.append("(" + " OR ".join(visible) + ")" if visible else "0 = 1")
            params.extend([*users, *buckets])
        if query.since is not None:
            where.append("time >= ?")
            params.append(query.since)
        if query.until is not None:
            where.append("time < ?")
            params.append(query.until)
        if query.key_prefix:
            clause, values = rows.key_prefix_clause(query.key_prefix)
            where.append(clause)
            params.extend(values)
        # The newest ``limit`` events (like tail), handed back in time order.
        newest = (f"SELECT {AUDIT_COLUMNS} FROM audit_events"  # noqa: S608 - column list is a constant
                  + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY time DESC, id DESC LIMIT ?")
        sql = f"SELECT * FROM ({newest}) AS newest ORDER BY time, id"  # noqa: S608 - built from constants above
        params.append(query.limit)
        conn: sqlite3.Connection = self._db.conn()
        return [_audit(r) for r in conn.execute(sql, params).fetchall()]
