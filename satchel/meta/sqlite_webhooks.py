"""Link notifications on SQLite (mixed into ``SqliteStore``): webhook endpoints and the durable, bounded
delivery queue. Plain SQL that PostgreSQL runs as well (no ``RETURNING``, no SQLite functions)."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any

from satchel.core.models import Status
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.webhooks import (
    BUCKET_SCOPE,
    DEAD,
    DELIVERED,
    LINKS_SCOPE,
    PENDING,
    ClaimedDelivery,
    DeliveryOutcome,
    DeliveryRecord,
    QueuedDelivery,
    StoredWebhook,
)

ENDPOINT_COLUMNS = "id, bucket_id, scope, url, secret_ciphertext, created, created_by"
DELIVERY_COLUMNS = ("id, endpoint_id, bucket_id, event_id, state, created, attempts, next_attempt, claimed_by, "
                    "claimed_until, last_status, last_error")
_ENDPOINTS = f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints"  # noqa: S608
_INSERT_ENDPOINT = rows.insert("webhook_endpoints", ENDPOINT_COLUMNS)
_INSERT_DELIVERY = rows.insert("webhook_deliveries", DELIVERY_COLUMNS)
#: Ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
_IN_BATCH = 500
#: A due delivery nobody holds: never claimed, or its holder's lease ended (the worker died mid-send).
_DUE = "state = 'pending' AND next_attempt <= ? AND (claimed_until IS NULL OR claimed_until < ?)"


def _endpoint(row: Sequence[Any]) -> StoredWebhook:
    return StoredWebhook(row[0], row[1], row[2], row[3], bytes(row[4]), float(row[5]), row[6])


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def queue_deliveries(c: sqlite3.Connection, deliveries: Sequence[QueuedDelivery], queue_max: int,
                     user_max: int, account_max: int | None = None) -> int:
    """Insert deliveries inside the caller's transaction while fewer than ``queue_max`` are pending, fewer
    than ``account_max`` (None: no bound) of the endpoints set by users of their creator's account, and fewer
    than ``user_max`` of the endpoints their creator set, of which refused uses may take only half of each
    share (the user's and the account's); how many did not fit (the newest). The share is the creator's, not
    the bucket's: buckets are cheap to make; the account's bounds what an account admin gets by making users;
    and the half kept for allowed uses means refusals, which anyone holding a signed URL can cause, never crowd
    out the notifications of real uses, one user's or the account's. A mint call's endpoint whose creator is
    gone or disabled (or an endpoint removed since the batch was planned) gets nothing. The events must have
    their ids already."""
    deliveries = _live(c, deliveries)
    if not deliveries:
        return 0
    pending = int(c.execute("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'").fetchone()[0])
    creators = list(dict.fromkeys(d.creator for d in deliveries))[:_IN_BATCH]
    marks = _marks(len(creators))
    per_user: dict[str, int] = {}
    refused_per_user: dict[str, int] = {}
    for creator, outcome, count in c.execute(
            "SELECT e.created_by, a.outcome, COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e "  # noqa: S608
            "ON e.id = d.endpoint_id LEFT JOIN audit_events a ON a.id = d.event_id "
            f"WHERE d.state = 'pending' AND e.created_by IN ({marks}) GROUP BY e.created_by, a.outcome",
            creators).fetchall():
        per_user[creator] = per_user.get(creator, 0) + int(count)
        if outcome == "refused":
            refused_per_user[creator] = refused_per_user.get(creator, 0) + int(count)
    accounts = _creator_accounts(c, deliveries, creators) if account_max is not None else {}
    per_account, refused_per_account = (_pending_per_account(c, set(accounts.values())) if account_max is not None
                                        else ({}, {}))
    refused_max = user_max // 2
    refused_account_max = account_max // 2 if account_max is not None else 0
    kept = []
    for delivery in deliveries:
        held = per_user.get(delivery.creator, 0)
        refused = delivery.event.outcome == "refused"
        account = accounts.get((delivery.creator, delivery.bucket_id))
        if pending >= queue_max or held >= user_max:
            continue
        if refused and refused_per_user.get(delivery.creator, 0) >= refused_max:
            continue
        if account_max is not None and (per_account.get(account, 0) >= account_max or (
                refused and refused_per_account.get(account, 0) >= refused_account_max)):
            continue
        kept.append(delivery)
        pending += 1
        per_user[delivery.creator] = held + 1
        if refused:
            refused_per_user[delivery.creator] = refused_per_user.get(delivery.creator, 0) + 1
            refused_per_account[account] = refused_per_account.get(account, 0) + 1
        per_account[account] = per_account.get(account, 0) + 1
    c.executemany(_INSERT_DELIVERY, [
        (secrets.token_hex(16), d.endpoint_id, d.bucket_id, d.event.id, PENDING, d.event.time, 0, d.event.time,
         None, None, None, None)
        for d in kept
    ])
    return len(deliveries) - len(kept)


#: The account whose share a pending delivery takes: its endpoint's creator's, or, once that user is deleted
#: (a bucket's webhook outlives whoever set it), the account of the endpoint's bucket. Same rule on both sides
#: (what is queued, what is pending), so deleting users does not take their deliveries out of the count.
_ACCOUNT_OF = "COALESCE(u.account_id, b.account_id)"
_ACCOUNT_JOINS = ("LEFT JOIN users u ON u.id = e.created_by LEFT JOIN buckets b ON b.id = e.bucket_id")


def _creator_accounts(c: sqlite3.Connection, deliveries: Sequence[QueuedDelivery],
                      creators: Sequence[str]) -> dict[tuple[str, str], str | None]:
    """(creator, bucket id) -> the account whose share that delivery takes (:data:`_ACCOUNT_OF`)."""
    users: dict[str, str] = dict(c.execute(
        f"SELECT id, account_id FROM users WHERE id IN ({_marks(len(creators))})", creators).fetchall())  # noqa: S608
    orphans = list(dict.fromkeys(d.bucket_id for d in deliveries if d.creator not in users))[:_IN_BATCH]
    buckets: dict[str, str] = dict(c.execute(
        f"SELECT id, account_id FROM buckets WHERE id IN ({_marks(len(orphans))})", orphans).fetchall()  # noqa: S608
    ) if orphans else {}
    return {(d.creator, d.bucket_id): users.get(d.creator) or buckets.get(d.bucket_id) for d in deliveries}


def _pending_per_account(c: sqlite3.Connection, accounts: set[str | None]
                         ) -> tuple[dict[str | None, int], dict[str | None, int]]:
    """(pending, of which refused) per account, counted as :func:`queue_deliveries` counts per user."""
    named = [a for a in accounts if a is not None][:_IN_BATCH]
    pending: dict[str | None, int] = {}
    refused: dict[str | None, int] = {}
    if not named:
        return pending, refused
    for account, outcome, count in c.execute(
            f"SELECT {_ACCOUNT_OF}, a.outcome, COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e "  # noqa: S608
            f"ON e.id = d.endpoint_id {_ACCOUNT_JOINS} LEFT JOIN audit_events a ON a.id = d.event_id "
            f"WHERE d.state = 'pending' AND {_ACCOUNT_OF} IN ({_marks(len(named))}) "
            f"GROUP BY {_ACCOUNT_OF}, a.outcome", named).fetchall():
        pending[account] = pending.get(account, 0) + int(count)
        if outcome == "refused":
            refused[account] = refused.get(account, 0) + int(count)
    return pending, refused


def _live(c: sqlite3.Connection, deliveries: Sequence[QueuedDelivery]) -> list[QueuedDelivery]:
    """The deliveries whose endpoint still exists and, for a mint call's, whose creator is still an active
    user: checked again in the writing transaction, since a user deleted or disabled after the batch was
    planned (:func:`satchel.core.webhookqueue.queued_for`) must not be notified, nor have a share counted."""
    endpoints = list(dict.fromkeys(d.endpoint_id for d in deliveries))
    live: set[str] = set()
    for start in range(0, len(endpoints), _IN_BATCH):
        chunk = endpoints[start:start + _IN_BATCH]
        live.update(r[0] for r in c.execute(
            "SELECT e.id FROM webhook_endpoints e LEFT JOIN users u ON u.id = e.created_by "  # noqa: S608
            f"WHERE e.id IN ({_marks(len(chunk))}) AND (e.scope = ? OR u.status = ?)",
            (*chunk, BUCKET_SCOPE, Status.ACTIVE.value)))
    return [d for d in deliveries if d.endpoint_id in live]


#: Due deliveries, at most ``?`` per endpoint (first tries first, then the longest waiting), with who set their
#: endpoint: ``ROW_NUMBER() OVER`` runs on SQLite (3.25+) and PostgreSQL alike.
_RANKED_DUE = (
    "SELECT r.id, r.endpoint_id, e.created_by FROM (SELECT id, endpoint_id, attempts, next_attempt, "  # noqa: S608
    "ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY CASE WHEN attempts = 0 THEN 0 ELSE 1 END, "
    f"next_attempt, id) AS endpoint_rank FROM webhook_deliveries WHERE {_DUE}) r "
    "JOIN webhook_endpoints e ON e.id = r.endpoint_id WHERE r.endpoint_rank <= ? "
    "ORDER BY r.endpoint_rank, CASE WHEN r.attempts = 0 THEN 0 ELSE 1 END, r.next_attempt, r.id"
)
#: Sends under way (held, lease not ended), per endpoint and its creator, whichever worker holds them.
_HELD = ("SELECT d.endpoint_id, e.created_by, COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e "
         "ON e.id = d.endpoint_id WHERE d.state = 'pending' AND d.claimed_until IS NOT NULL "
         "AND d.claimed_until >= ? GROUP BY d.endpoint_id, e.created_by")


def fair_pick(due: Sequence[tuple[str, str, str]], held: Sequence[tuple[str, str, int]], *, limit: int,
              per_endpoint: int, per_user: int) -> list[str]:
    """Which of ``due`` (id, endpoint, creator; in round-robin order) to claim: never more than ``per_endpoint``
    sends under way for one endpoint nor ``per_user`` for one creator's endpoints, and each next slot to the
    creator with the fewest under way, so a user with many slow receivers cannot take the slots another
    user's deliveries need."""
    by_endpoint: dict[str, int] = {}
    by_user: dict[str, int] = {}
    for endpoint_id, creator, count in held:
        by_endpoint[endpoint_id] = by_endpoint.get(endpoint_id, 0) + count
        by_user[creator] = by_user.get(creator, 0) + count
    waiting: dict[str, list[tuple[str, str]]] = {}
    for delivery_id, endpoint_id, creator in due:
        waiting.setdefault(creator, []).append((delivery_id, endpoint_id))
    picked: list[str] = []
    while len(picked) < limit:
        open_users = [u for u, rows in waiting.items() if rows and by_user.get(u, 0) < per_user]
        if not open_users:
            break
        user = min(open_users, key=lambda u: by_user.get(u, 0))  # ties: the first due (dicts keep order)
        delivery_id, endpoint_id = waiting[user].pop(0)
        if by_endpoint.get(endpoint_id, 0) >= per_endpoint:
            continue
        by_endpoint[endpoint_id] = by_endpoint.get(endpoint_id, 0) + 1
        by_user[user] = by_user.get(user, 0) + 1
        picked.append(delivery_id)
    return picked


class SqliteWebhooks:
    _db: SqliteDatabase

    def put_webhook(self, webhook: StoredWebhook, link_ids: Sequence[str] = ()) -> None:
        with self._db.transaction() as c:
            if webhook.scope == BUCKET_SCOPE:
                _delete_endpoints(c, [r[0] for r in c.execute(
                    "SELECT id FROM webhook_endpoints WHERE bucket_id = ? AND scope = ?",
                    (webhook.bucket_id, BUCKET_SCOPE))])
            c.execute(_INSERT_ENDPOINT, (webhook.id, webhook.bucket_id, webhook.scope, webhook.url,
                                         bytes(webhook.secret_ciphertext), webhook.created, webhook.created_by))
            c.executemany("INSERT INTO webhook_links (link_id, endpoint_id) VALUES (?, ?)",
                          [(link_id, webhook.id) for link_id in link_ids])

    def get_bucket_webhook(self, bucket_id: str) -> StoredWebhook | None:
        row = self._db.conn().execute(_ENDPOINTS + " WHERE bucket_id = ? AND scope = ?",
                                      (bucket_id, BUCKET_SCOPE)).fetchone()
        return _endpoint(row) if row is not None else None

    def delete_bucket_webhook(self, bucket_id: str) -> StoredWebhook | None:
        with self._db.transaction() as c:
            row = c.execute(_ENDPOINTS + " WHERE bucket_id = ? AND scope = ?", (bucket_id, BUCKET_SCOPE)).fetchone()
            if row is None:
                return None
            _delete_endpoints(c, [row[0]])
        return _endpoint(row)

    def webhook_targets(self, bucket_ids: Sequence[str], link_ids: Sequence[str]
                        ) -> tuple[dict[str, StoredWebhook], dict[str, StoredWebhook]]:
        conn = self._db.conn()
        by_bucket: dict[str, StoredWebhook] = {}
        by_link: dict[str, StoredWebhook] = {}
        if conn.execute("SELECT 1 FROM webhook_endpoints LIMIT 1").fetchone() is None:
            return by_bucket, by_link  # the common case: no webhook anywhere, one indexed read
        buckets = list(dict.fromkeys(bucket_ids))
        for start in range(0, len(buckets), _IN_BATCH):
            chunk = buckets[start:start + _IN_BATCH]
            for row in conn.execute(_ENDPOINTS + f" WHERE scope = ? AND bucket_id IN ({_marks(len(chunk))})",
                                    (BUCKET_SCOPE, *chunk)):
                by_bucket[row[1]] = _endpoint(row)
        links = list(dict.fromkeys(link_ids))
        columns = ", ".join("e." + name.strip() for name in ENDPOINT_COLUMNS.split(","))
        for start in range(0, len(links), _IN_BATCH):
            chunk = links[start:start + _IN_BATCH]
            sql = (f"SELECT l.link_id, {columns} FROM webhook_links l "  # noqa: S608 - constant columns
                   f"JOIN webhook_endpoints e ON e.id = l.endpoint_id WHERE l.link_id IN ({_marks(len(chunk))})")
            for row in conn.execute(sql, chunk):
                by_link[row[0]] = _endpoint(row[1:])
        return by_bucket, by_link

    def webhook_due(self, now: float) -> bool:
        found = self._db.conn().execute(f"SELECT 1 FROM webhook_deliveries WHERE {_DUE} LIMIT 1",  # noqa: S608
                                        (now, now)).fetchone()
        return found is not None

    def claim_webhook_deliveries(self, claim: str, *, now: float, lease: float, limit: int,
                                 per_endpoint: int = 2**31, per_user: int = 2**31) -> list[ClaimedDelivery]:
        from satchel.meta.sqlite_sharing import AUDIT_COLUMNS, audit_event

        with self._db.transaction() as c:
            # A receiver that never answers holds at most per_endpoint of the node's sending slots, and one
            # user's receivers at most per_user, whichever workers hold them.
            held = c.execute(_HELD, (now,)).fetchall()
            due = c.execute(_RANKED_DUE, (now, now, per_endpoint)).fetchall()
            ids = fair_pick(due, held, limit=limit, per_endpoint=per_endpoint, per_user=per_user)
            if not ids:
                return []
            # The condition again: on PostgreSQL (read committed) a second worker that picked the same rows
            # waits for the first one's commit, then re-evaluates it and takes none of them.
            c.execute(f"UPDATE webhook_deliveries SET claimed_by = ?, claimed_until = ? "  # noqa: S608
                      f"WHERE id IN ({_marks(len(ids))}) AND {_DUE}", (claim, now + lease, *ids, now, now))
            endpoint_columns = ", ".join("e." + n.strip() for n in ENDPOINT_COLUMNS.split(","))
            audit_columns = ", ".join("a." + n.strip() for n in AUDIT_COLUMNS.split(","))
            found = c.execute(
                f"SELECT d.id, d.attempts, d.created, {endpoint_columns}, {audit_columns} "  # noqa: S608
                "FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                "LEFT JOIN audit_events a ON a.id = d.event_id WHERE d.claimed_by = ? ORDER BY d.next_attempt, d.id",
                (claim,)).fetchall()
        return [ClaimedDelivery(r[0], claim, int(r[1]), float(r[2]), audit_event(r[10:]) if r[10] else None,
                                _endpoint(r[3:10])) for r in found]

    def finish_webhook_deliveries(self, outcomes: Sequence[DeliveryOutcome], *, dead_max: int) -> None:
        if not outcomes:
            return
        with self._db.transaction() as c:
            for o in outcomes:
                if o.state == DELIVERED:
                    c.execute("DELETE FROM webhook_deliveries WHERE id = ? AND claimed_by = ?", (o.id, o.claim))
                    continue
                c.execute("UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt = ?, claimed_by = NULL, "
                          "claimed_until = NULL, last_status = ?, last_error = ? WHERE id = ? AND claimed_by = ?",
                          (o.state, o.attempts, o.next_attempt, o.status, o.error, o.id, o.claim))
            died = [o.id for o in outcomes if o.state == DEAD][:_IN_BATCH]
            if not died:
                return
            buckets = [r[0] for r in c.execute(
                f"SELECT DISTINCT bucket_id FROM webhook_deliveries WHERE id IN ({_marks(len(died))})",  # noqa: S608
                died)]
            for bucket_id in buckets:  # each bucket's own bound: another's failures never evict these
                dead = int(c.execute("SELECT COUNT(*) FROM webhook_deliveries WHERE bucket_id = ? AND state = 'dead'",
                                     (bucket_id,)).fetchone()[0])
                if dead > dead_max:
                    c.execute("DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries "
                              "WHERE bucket_id = ? AND state = 'dead' ORDER BY created, id LIMIT ?)",
                              (bucket_id, dead - dead_max))

    def cap_webhook_retries(self, latest: float) -> int:
        with self._db.transaction() as c:
            return int(c.execute("UPDATE webhook_deliveries SET next_attempt = ? WHERE state = 'pending' "
                                 "AND next_attempt > ?", (latest, latest)).rowcount)

    def count_link_webhooks(self, user_id: str) -> int:
        return int(self._db.conn().execute("SELECT COUNT(*) FROM webhook_endpoints WHERE scope = ? AND created_by = ?",
                                           (LINKS_SCOPE, user_id)).fetchone()[0])

    def webhook_queue_depth(self) -> tuple[int, int]:
        counts = dict(self._db.conn().execute(
            "SELECT state, COUNT(*) FROM webhook_deliveries GROUP BY state").fetchall())
        return int(counts.get(PENDING, 0)), int(counts.get(DEAD, 0))

    def list_webhook_deliveries(self, bucket_id: str, state: str, limit: int) -> list[DeliveryRecord]:
        found = self._db.conn().execute(
            "SELECT id, endpoint_id, event_id, state, created, attempts, next_attempt, last_status, last_error "
            "FROM webhook_deliveries WHERE bucket_id = ? AND state = ? ORDER BY created, id LIMIT ?",
            (bucket_id, state, limit)).fetchall()
        return [DeliveryRecord(r[0], r[1], r[2], r[3], float(r[4]), int(r[5]), float(r[6]), r[7], r[8])
                for r in found]

    def prune_webhooks(self, now: float, limit: int) -> int:
        with self._db.transaction() as c:
            ids = [r[0] for r in c.execute(_UNUSED_ENDPOINTS, (LINKS_SCOPE, now, limit))]
            for endpoint_id in ids:  # dead deliveries stay listed (and bounded): they name the endpoint by id only
                c.execute("DELETE FROM webhook_links WHERE endpoint_id = ?", (endpoint_id,))
                c.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        return len(ids)


#: Endpoints nothing can notify any more, with nothing left to send: a mint call's once every link it minted
#: expired or was revoked (or deleted), a bucket's once the bucket is gone.
_UNUSED_ENDPOINTS = (
    "SELECT e.id FROM webhook_endpoints e WHERE ("
    "(e.scope = ? AND NOT EXISTS (SELECT 1 FROM webhook_links wl JOIN links l ON l.id = wl.link_id "
    "WHERE wl.endpoint_id = e.id AND l.revoked IS NULL AND l.expires >= ?)) "
    "OR NOT EXISTS (SELECT 1 FROM buckets b WHERE b.id = e.bucket_id)) "
    "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') "
    "ORDER BY e.created, e.id LIMIT ?"
)


def delete_user_link_webhooks(c: sqlite3.Connection, user_id: str) -> None:
    """In the caller's transaction (deleting the user): its mint calls' webhooks, with their queued and dead
    deliveries, die with it, so none is sent and none moves onto another account's share; a bucket's webhook
    it set stays (a bucket setting, counted for the bucket's account)."""
    _delete_endpoints(c, [r[0] for r in c.execute(
        "SELECT id FROM webhook_endpoints WHERE scope = ? AND created_by = ?", (LINKS_SCOPE, user_id))])


def drop_user_link_deliveries(c: sqlite3.Connection, user_id: str) -> None:
    """In the caller's transaction (disabling the user): what its mint calls' webhooks still had to send is not
    sent (sends under way finish); the endpoints stay, to hear of uses again if the user is enabled again."""
    c.execute("DELETE FROM webhook_deliveries WHERE state = ? AND endpoint_id IN "
              "(SELECT id FROM webhook_endpoints WHERE scope = ? AND created_by = ?)", (PENDING, LINKS_SCOPE, user_id))


def _delete_endpoints(c: sqlite3.Connection, ids: Sequence[str]) -> None:
    for endpoint_id in ids:
        c.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", (endpoint_id,))
        c.execute("DELETE FROM webhook_links WHERE endpoint_id = ?", (endpoint_id,))
        c.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
