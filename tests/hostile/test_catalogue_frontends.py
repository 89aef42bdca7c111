"""The runner of the PAR, Swift and console catalogues (``catalogue_par.py``, ``catalogue_swift.py``,
``catalogue_console.py``): each row's exact answer, no state change, its audit events, a live server
(:func:`tests.hostile.frontends.check`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hostile import catalogue_console, catalogue_par, catalogue_swift
from tests.hostile.frontends import PASSPHRASE, TEMPURL_KEY, Row, World, check


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
    secrets = {name: values[name] for name in ("TR", "TL", "TW", "TW2", "TU", "TOKEN", "COOKIE", "SHARE", "SHAREP",
                                                "SHARELOCKED", "SECRET")}
    secrets.update(tempurl_key=TEMPURL_KEY, passphrase=PASSPHRASE, tempurl_sig=catalogue_swift.GOOD)
    fe_world.flush()
    log = fe_world.server.log_path.read_text(errors="replace")
    assert "/p/REDACTED" in log and "temp_url_sig=REDACTED" in log and "/s/REDACTED" in log
    events = fe_world.audit_dump()
    leaked = [name for name, value in secrets.items() if value in log or value in events]
    assert not leaked, f"found in the log or the audit trail: {leaked}"
