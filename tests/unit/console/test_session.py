"""The console session's pure parts: the CSRF token, the cookie's attributes, the same-origin rule, and
the share page's unlock cookie."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from satchel.config import Settings
from satchel.console import routes, session, shares
from satchel.meta.store import StoredShare


@dataclass
class FakeRequest:
    headers: dict[str, str]
    scope: dict[str, Any] = field(default_factory=lambda: {"scheme": "http"})


@dataclass
class FakeNode:
    settings: Settings


def test_the_csrf_token_is_derived_from_the_cookie_and_differs_per_session() -> None:
    first, second = session.csrf_token("cookie-one"), session.csrf_token("cookie-two")
    assert first == session.csrf_token("cookie-one") and first != second
    assert len(first) == 64 and "cookie-one" not in first


@pytest.mark.parametrize(("public_url", "scheme", "secure"), [
    (None, "http", False), ("https://files.example.com", "http", True), (None, "https", True)])
def test_the_cookie_is_http_only_strict_and_secure_under_tls(public_url: str | None, scheme: str,
                                                             secure: bool) -> None:
    node = FakeNode(Settings(public_url=public_url))
    cookie = session.set_cookie(node, FakeRequest({}, {"scheme": scheme}), "tok", 60)  # type: ignore[arg-type]
    assert cookie.startswith("satchel_session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Strict")
    assert cookie.endswith("; Secure") is secure


@pytest.mark.parametrize(("headers", "same"), [
    ({}, True),  # a script or curl: no ambient cookie to abuse
    ({"host": "h:1", "origin": "http://h:1"}, True),
    ({"host": "h:1", "origin": "http://evil:1"}, False),
    ({"host": "h:1", "origin": "null"}, False),
    ({"host": "h:1", "sec-fetch-site": "cross-site"}, False),
    ({"host": "h:1", "sec-fetch-site": "same-site"}, False),
    ({"host": "h:1", "sec-fetch-site": "same-origin", "origin": "http://h:1"}, True),
])
def test_same_origin(headers: dict[str, str], same: bool) -> None:
    assert session.same_origin(FakeRequest(headers)) is same  # type: ignore[arg-type]


def test_the_session_cookie_is_read_by_name() -> None:
    request = FakeRequest({"cookie": "other=1; satchel_session=abc; x=y"})
    assert session.session_cookie(request) == "abc"  # type: ignore[arg-type]
    assert session.session_cookie(FakeRequest({"cookie": "satchel_session="})) is None  # type: ignore[arg-type]


def test_an_unlock_cookie_opens_only_its_page_until_it_expires() -> None:
    page = StoredShare("hash-a", "link", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", 0.0, None)
    other = StoredShare("hash-b", "link", page.passphrase_hash, 0.0, None)
    cookie = shares.unlock_value(page, 2000)
    assert shares.unlocked(page, cookie, 1000)
    assert not shares.unlocked(page, cookie, 2001)
    assert not shares.unlocked(other, cookie, 1000)
    assert not shares.unlocked(page, "3000." + cookie.split(".")[1], 1000)  # the expiry is signed
    assert not shares.unlocked(page, None, 1000) and not shares.unlocked(page, "x", 1000)
    assert shares.unlocked(StoredShare("h", "l", None, 0.0, None), None, 1000)  # no passphrase: open


@pytest.mark.parametrize(("path", "host", "domain", "taken"), [
    ("/_satchel/console/", "127.0.0.1:9000", None, True),
    ("/_satchel/console", "127.0.0.1:9000", None, True),
    ("/s/abc", "127.0.0.1:9000", None, True),
    ("/s/abc", "files.example.com", "files.example.com", True),
    ("/s/report.pdf", "photos.files.example.com", "files.example.com", False),  # a key of bucket photos
    ("/_satchel/console/", "photos.files.example.com", "files.example.com", False),
    ("/photos/s/x", "127.0.0.1:9000", None, False),
    ("/sx/y", "127.0.0.1:9000", None, False),
])
def test_the_console_takes_its_paths_only_on_the_endpoint_itself(path: str, host: str, domain: str | None,
                                                                  taken: bool) -> None:
    assert routes.takes(path, host, domain) is taken


def test_only_a_browser_without_credentials_at_the_root_is_sent_to_the_console() -> None:
    def request(headers: dict[str, str], path: str = "/", query: str = "") -> Any:
        return type("R", (), {"method": "GET", "path": path, "raw_query": query, "headers": headers})()

    html = {"accept": "text/html,application/xhtml+xml", "host": "127.0.0.1:9000"}
    assert routes.wants_console(request(html), None)
    assert not routes.wants_console(request({**html, "authorization": "AWS4-HMAC-SHA256 ..."}), None)
    assert not routes.wants_console(request({"accept": "*/*"}), None)
    assert not routes.wants_console(request(html, query="list-type=2"), None)
    assert not routes.wants_console(request({**html, "host": "b.files.example.com"}), "files.example.com")
