"""Webhook signatures: a fixed vector, the README's receiver snippet, and every way verification fails."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from satchel.signing import webhook
from tests.clients.webhook_receiver import readme_verify

SECRET = "whsec_test"
BODY = b'{"id":"1","type":"link.use"}'


def test_vector() -> None:
    # Computed independently: HMAC-SHA256(key="whsec_test", msg="1700000000." + body)
    expected = hmac.new(b"whsec_test", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert webhook.sign(SECRET, 1700000000, BODY) == "sha256=" + expected
    assert webhook.signed_bytes(1700000000, BODY) == b"1700000000." + BODY


@pytest.mark.parametrize(("timestamp", "signature", "body", "now", "ok"), [
    ("1700000000", None, BODY, 1700000000.0, True),
    ("1700000000", None, BODY, 1700000299.0, True),
    ("1700000000", None, BODY, 1700000301.0, False),  # too old: a replay
    ("1700000000", None, BODY, 1699999699.0, False),  # too far ahead
    ("1700000000", None, BODY + b" ", 1700000000.0, False),  # body changed
    ("1700000001", None, BODY, 1700000000.0, False),  # timestamp changed
    ("1700000000", "sha256=" + "0" * 64, BODY, 1700000000.0, False),
    ("", None, BODY, 1700000000.0, False),
    ("-1", None, BODY, 1700000000.0, False),
    ("\uff11\uff17", None, BODY, 1700000000.0, False),  # fullwidth digits: str.isdigit says yes
])
def test_verify(timestamp: str, signature: str | None, body: bytes, now: float, ok: bool) -> None:
    given = signature or webhook.sign(SECRET, 1700000000, BODY)
    assert webhook.verify(SECRET, timestamp, given, body, now=now) is ok


def test_readme_snippet_verifies_and_refuses() -> None:
    verify = readme_verify()
    now = int(time.time())
    headers = {"X-Satchel-Timestamp": str(now), "X-Satchel-Signature": webhook.sign(SECRET, now, BODY)}
    assert verify(SECRET, headers, BODY)
    assert not verify(SECRET, headers, BODY + b"x")
    assert not verify("whsec_other", headers, BODY)
    stale = {"X-Satchel-Timestamp": str(now - 600), "X-Satchel-Signature": webhook.sign(SECRET, now - 600, BODY)}
    assert not verify(SECRET, stale, BODY)
