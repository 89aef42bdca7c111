"""Who may read ``/_satchel/metrics``: loopback always, others only with the configured bearer token."""

from __future__ import annotations

import pytest

from satchel.metrics import allowed


@pytest.mark.parametrize("client", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_needs_no_token(client: str) -> None:
    assert allowed(client, "", None) and allowed(client, "", "t0ken")


@pytest.mark.parametrize(("client", "authorization", "token", "expected"), [
    ("203.0.113.7", "", None, False),  # no token configured: loopback only
    ("203.0.113.7", "Bearer t0ken", None, False),
    ("203.0.113.7", "", "t0ken", False),
    ("203.0.113.7", "Bearer wrong", "t0ken", False),
    ("203.0.113.7", "Basic t0ken", "t0ken", False),
    ("203.0.113.7", "Bearer t0ken", "t0ken", True),
    ("203.0.113.7", "bearer  t0ken ", "t0ken", True),
    ("::ffff:203.0.113.7", "", "t0ken", False),
    ("", "", "t0ken", False),  # no client address (a Unix socket): not loopback by assumption
    ("localhost", "", None, False),  # a name is not an address
])
def test_others_need_the_token(client: str, authorization: str, token: str | None, expected: bool) -> None:
    assert allowed(client, authorization, token) is expected
