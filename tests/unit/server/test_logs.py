"""Redaction of link secrets from log lines: one row per spelling a client could use."""

from __future__ import annotations

import logging
import sys

import pytest

from satchel.logs import LINK_SECRETS, RedactingFormatter, redact


@pytest.mark.parametrize(("line", "expected"), [
    ('1.2.3.4:5 - "GET /b/k?X-Amz-Date=1&X-Amz-Signature=abc HTTP/1.1" 200',
     '1.2.3.4:5 - "GET /b/k?X-Amz-Date=1&X-Amz-Signature=REDACTED HTTP/1.1" 200'),
    ("/b/k?AWSAccessKeyId=AK&Signature=s%2Fig%3D&Expires=9", "/b/k?AWSAccessKeyId=AK&Signature=REDACTED&Expires=9"),
    ("/b/k?x-amz-satchel-link-id=L1&X-AMZ-SATCHEL-LINK-ID=L2",
     "/b/k?x-amz-satchel-link-id=REDACTED&X-AMZ-SATCHEL-LINK-ID=REDACTED"),
    ("/b/k?X%2DAmz%2DSignature=abc", "/b/k?X%2DAmz%2DSignature=REDACTED"),
    ("/b/k?signature=abc#frag", "/b/k?signature=REDACTED#frag"),
    ("/b/k?Policy=eyJ&x-amz-security-token=T&temp_url_sig=S&temp_url_expires=1",
     "/b/k?Policy=REDACTED&x-amz-security-token=REDACTED&temp_url_sig=REDACTED&temp_url_expires=1"),
    ("/b/k?X-Amz-Signature=", "/b/k?X-Amz-Signature=REDACTED"),
    ('"GET /p/tok3n/photos/cat.jpg HTTP/1.1"', '"GET /p/REDACTED/photos/cat.jpg HTTP/1.1"'),
    ("serving GET /p/tok3n (request 1)", "serving GET /p/REDACTED (request 1)"),
    ('"GET /s/Sh4reId HTTP/1.1"', '"GET /s/REDACTED HTTP/1.1"'),
    ('"POST /s/Sh4reId/unlock HTTP/1.1"', '"POST /s/REDACTED/unlock HTTP/1.1"'),
    ("GET /%70/tok3n/x", "GET /p/REDACTED/x"),
    # Mangled PAR paths a lenient client, proxy or router could still read as /p/<token>/...
    ("GET //p/tok3n/n/ns/b/bkt/o/x HTTP/1.1", "GET //p/REDACTED/n/ns/b/bkt/o/x HTTP/1.1"),
    ("GET /./p/tok3n/n/ns/b/bkt/o/x HTTP/1.1", "GET /./p/REDACTED/n/ns/b/bkt/o/x HTTP/1.1"),
    ("GET /P/tok3n/n/ns/b/bkt/o/x HTTP/1.1", "GET /P/REDACTED/n/ns/b/bkt/o/x HTTP/1.1"),
    ("GET /p//tok3n/n/ns/b/bkt/o/x HTTP/1.1", "GET /p//REDACTED/n/ns/b/bkt/o/x HTTP/1.1"),
    ("GET /../p/tok3n/x", "GET /../p/REDACTED/x"),
    ("GET /s/..%2Fshare1d HTTP/1.1", "GET /s/../REDACTED HTTP/1.1"),
    ("GET /p/%2e%2e/./tok3n/n HTTP/1.1", "GET /p/.././REDACTED/n HTTP/1.1"),
    ("GET /%2E/%50/tok3n/x", "GET /./P/REDACTED/x"),
    ("DELETE //_satchel//API/links/0193ab", "DELETE //_satchel//API/links/REDACTED"),
    # The management API naming a minted link: in its path, or the audit query's link_id.
    ('"DELETE /_satchel/api/links/0193ab HTTP/1.1" 200', '"DELETE /_satchel/api/links/REDACTED HTTP/1.1" 200'),
    ("GET /_satchel/api/audit?since=1&link_id=0193ab&limit=5",
     "GET /_satchel/api/audit?since=1&link_id=REDACTED&limit=5"),
    ("GET /_satchel/api/audit?link%5Fid=0193ab", "GET /_satchel/api/audit?link%5Fid=REDACTED"),
    ("GET /_satchel/api/links?bucket=b", "GET /_satchel/api/links?bucket=b"),
    # Not secrets: a key under p/, a parameter that merely contains a secret's name, plain text.
    ("GET /bucket/p/cat.jpg", "GET /bucket/p/cat.jpg"),
    ("/b/k?X-Amz-SignedHeaders=host&mysignature=1", "/b/k?X-Amz-SignedHeaders=host&mysignature=1"),
    ("no url here", "no url here"),
    # Outside a query: a form field quoted in a message, a key=value log format.
    ("bad field Signature=abc, policy=eyJ; ok=1", "bad field Signature=REDACTED, policy=REDACTED; ok=1"),
    ("signature=abc", "signature=REDACTED"),
])
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_every_secret_is_a_lower_case_name_or_a_path_prefix() -> None:
    assert all(name == name.lower() for name in LINK_SECRETS)
    assert all(name.endswith("/") for name in LINK_SECRETS if name.startswith("/"))


def test_the_formatter_redacts_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("bad /b/k?X-Amz-Signature=inexception")
    except ValueError:
        record = logging.LogRecord("satchel", logging.ERROR, __file__, 1, "serving %s", ("/b/k?Signature=inargs",),
                                   exc_info=sys.exc_info())
    text = RedactingFormatter("%(message)s").format(record)
    assert "inargs" not in text and "inexception" not in text and "Signature=REDACTED" in text


@pytest.mark.parametrize("level", ["trace", "debug", "info", "warning", "error", "critical"])
def test_every_log_level_configures(level: str) -> None:
    import logging.config

    from uvicorn.config import LOG_LEVELS

    from satchel.logs import log_config

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        logging.config.dictConfig(log_config(level))
        assert root.level == LOG_LEVELS[level]
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_a_secret_name_with_blanks_around_it_is_redacted() -> None:
    line = 'GET /b/k?X-Amz-Credential=AK&X-Amz-Signature%20=3f2a9c&Signature%09=abc HTTP/1.1'
    redacted = redact(line)
    assert "3f2a9c" not in redacted and "abc" not in redacted and "X-Amz-Credential=AK" in redacted
