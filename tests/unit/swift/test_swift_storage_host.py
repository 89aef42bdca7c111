"""Which Host headers may go into X-Storage-Url (without public_url): host[:port] only."""

from __future__ import annotations

import pytest

from satchel.swift.auth import _HOST


@pytest.mark.parametrize("host", ["127.0.0.1:9000", "localhost", "files.example.com", "files.example.com.",
                                  "[::1]:8080", "[2001:db8::1]", "my_host:80", "a"])
def test_hosts(host: str) -> None:
    assert _HOST.fullmatch(host)


@pytest.mark.parametrize("host", ["a/b?c#d@e", "evil.example, 127.0.0.1", "a b", "x:port", "user@host", "",
                                  "host:123456", "-lead.example", "[::1", "a..b", "h/", "h?", "h#"])
def test_not_hosts(host: str) -> None:
    assert not _HOST.fullmatch(host)
