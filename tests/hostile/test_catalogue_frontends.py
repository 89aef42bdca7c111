"""The runner of the PAR, Swift and console catalogues (``catalogue_par.py``, ``catalogue_swift.py``,
``catalogue_console.py``): each row's exact answer, no state change, its audit events, a live server
(:func:`tests.hostile.frontends.check`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from typing import Any

import pytest

from tests.hostile import catalogue_console, catalogue_par, catalogue_swift, wire
from tests.hostile.frontends import PASSPHRASE, TEMPURL_KEY, Row, World, build, check, code_of


@pytest.fixture(scope="module")
def baseline(fe_world: World) -> dict[str, Any]:
    return fe_world.snapshot()


@pytest.fixture(scope="module")
def state(fe_world: World, baseline: dict[str, Any]) -> dict[str, Any]:
    return {"snapshot": baseline, "events": fe_world.audit_count()}


@pytest.mark.parametrize("row", catalogue_par.ROWS, ids=[r.id for r in catalogue_par.ROWS])
def test_par(fe_world: World, baseline: dict[str, Any], state: dict[str, Any], row: Row) -> None:
    check(fe_world, state, baseline, row)


@pytest.mark.parametrize("row", catalogue_swift.ROWS, ids=[r.id for r in catalogue_swift.ROWS])
def test_swift(fe_world: World, baseline: dict[str, Any], state: dict[str, Any], row: Row) -> None:
    check(fe_world, state, baseline, row)


@pytest.mark.parametrize("row", catalogue_console.ROWS, ids=[r.id for r in catalogue_console.ROWS])
def test_console(fe_world: World, baseline: dict[str, Any], state: dict[str, Any], row: Row) -> None:
    check(fe_world, state, baseline, row)


def test_no_secret_in_the_log_or_the_audit_trail(fe_world: World) -> None:
    """After the rows: neither the server's access log nor any audit event holds a PAR token, the Swift
    token, a TempURL signature or key, a session cookie or CSRF token, a share page id, a passphrase or a
    password (each a working credential); the log did see the requests (``satchel/logs.py`` redacts).
    The CSRF token and the root password are left out: two rows put them in a query string themselves
    (``*-csrf-in-query``, ``console-sign-in-query-password``, both refused), and a request target is logged."""
    values = fe_world.values
    credentials = {name: values[name] for name in ("TR", "TL", "TW", "TW2", "TU", "TOKEN", "COOKIE", "SHARE", "SHAREP",
                                                "SHARELOCKED", "SECRET")}
    credentials.update(tempurl_key=TEMPURL_KEY, passphrase=PASSPHRASE, tempurl_sig=catalogue_swift.GOOD)
    fe_world.flush()
    log = fe_world.server.log_path.read_text(errors="replace")
    assert "/p/REDACTED" in log and "temp_url_sig=REDACTED" in log and "/s/REDACTED" in log
    events = fe_world.audit_dump()
    leaked = [name for name, value in credentials.items() if value in log or value in events]
    assert not leaked, f"found in the log or the audit trail: {leaked}"


def test_an_expired_session_changes_nothing_and_is_forgotten(fe_world: World) -> None:
    """A session past its lifetime, with its right CSRF token, on a state change: ``401 NotSignedIn`` saying
    it expired, nothing changed but the expired session's own row, which is deleted. The catalogue's rows
    cannot hold this one (the row's removal is the one change expected): the session is written into the
    store as expired, rather than waited for."""
    token = "expired-" + secrets.token_urlsafe(16)
    now = time.time()
    connection = sqlite3.connect(fe_world.db, timeout=10)
    try:
        with connection:
            user_id = connection.execute("SELECT id FROM users WHERE name = 'root'").fetchone()[0]
            connection.execute("INSERT INTO console_sessions (token_hash, user_id, created, last_seen, expires) "
                               "VALUES (?, ?, ?, ?, ?)", (hashlib.sha256(token.encode()).hexdigest(), user_id,
                                                          now - 100, now - 10, now - 1))
    finally:
        connection.close()
    before, events = fe_world.snapshot(), fe_world.audit_count()
    csrf = hmac.new(token.encode(), b"satchel console csrf", hashlib.sha256).hexdigest()
    expired = Row("expired-session", "DELETE", "/_satchel/api/buckets/{B}/object?key=obj.txt", 401, "NotSignedIn",
                  headers=(("Cookie", f"satchel_session={token}"), ("X-CSRF-Token", csrf)))
    reply = wire.exchange("127.0.0.1", fe_world.server.port, build(fe_world, expired))
    assert (reply.status, code_of(reply)) == (401, "NotSignedIn"), reply.body
    assert b"expired" in reply.body
    fe_world.flush()
    after = fe_world.snapshot()
    gone = [r for r in before["console_sessions"] if r not in after["console_sessions"]]
    assert [r[0] for r in gone] == [hashlib.sha256(token.encode()).hexdigest()]
    assert {k: v for k, v in after.items() if k != "console_sessions"} == \
        {k: v for k, v in before.items() if k != "console_sessions"}
    assert fe_world.audit_count() == events
