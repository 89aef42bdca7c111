"""Bad input to the Swift front-end gets Swift's 4xx, never a 500, and changes nothing."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from tests.clients.server import ServerHandle
from tests.clients.swift import SwiftUser, empty_container, root_user, unique_container


@pytest.fixture
def root(satchel_server: ServerHandle) -> SwiftUser:
    return root_user(satchel_server)


@pytest.fixture
def container(root: SwiftUser) -> Iterator[str]:
    name = unique_container()
    conn = root.connection()
    conn.put_container(name)
    conn.put_object(name, "o", b"original")
    yield name
    empty_container(conn, name)


def _send(server: ServerHandle, method: str, target: bytes, headers: dict[str, bytes], body: bytes = b"") -> int:
    """One raw request (the target and header bytes exactly as given); its status."""
    host, port = server.host_port.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, target.decode("latin-1"), skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body or method in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        return conn.getresponse().status
    finally:
        conn.close()


CASES: list[tuple[str, str, dict[str, bytes], bytes]] = [
    ("PUT", "/{c}/o", {"ETag": b"zz"}, b"new"),
    ("PUT", "/{c}/o", {"ETag": b'"' + b"0" * 32 + b'"'}, b"new"),
    ("PUT", "/{c}/o", {"X-Object-Meta-A": b"\xff\xfe"}, b"new"),
    ("PUT", "/{c}/o", {"X-Object-Meta-": b"v"}, b"new"),
    ("PUT", "/{c}/o", {"X-Object-Meta-" + "a" * 300: b"v"}, b"new"),
    ("PUT", "/{c}/o", {"X-Object-Meta-Big": b"v" * 2100}, b"new"),
    ("PUT", "/{c}/o", {"Content-Type": b"text/\x01plain"}, b"new"),
    ("PUT", "/{c}/o", {"X-Copy-From": b"%ff%fe/x"}, b""),
    ("PUT", "/{c}/o", {"X-Copy-From": b"{c}/o"}, b"not empty"),
    ("PUT", "/{c}/o", {"If-None-Match": b"abc"}, b"new"),
    ("PUT", "/{c}/o", {"X-Delete-At": b"1"}, b"new"),
    ("POST", "/{c}/o", {"X-Delete-After": b"x"}, b""),
    ("COPY", "/{c}/o", {}, b""),
    ("COPY", "/{c}/o", {"Destination": b"nocontainer"}, b""),
    ("COPY", "/{c}/o", {"Destination": b"{c}/o2", "Destination-Account": b"AUTH_other"}, b""),
    ("GET", "/{c}?limit=99999999999999999999999", {}, b""),
    ("GET", "/{c}?delimiter=%2F%2F", {}, b""),
    ("GET", "/{c}/o", {"Range": b"bytes=5-1"}, b""),
    ("GET", "/{c}/o", {"If-Modified-Since": b"not a date"}, b""),
    ("POST", "/{c}", {"X-Container-Read": b".r:*,.rlistings,bob"}, b""),
    ("POST", "/{c}", {"X-Container-Meta-Temp-URL-Key": b"s"}, b""),
    ("PUT", "/{c}", {"X-Storage-Policy": b"gold"}, b""),
    ("POST", "", {"X-Account-Meta-Quota-Bytes": b"1"}, b""),
    ("DELETE", "/{c}/o?multipart-manifest=put", {}, b""),
    ("GET", "/{c}/%00", {}, b""),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), CASES,
                         ids=[f"{i}-{m}" for i, (m, _, _, _) in enumerate(CASES)])
def test_bad_input_is_4xx_and_changes_nothing(root: SwiftUser, container: str, method: str, path: str,
                                              headers: dict[str, bytes], body: bytes) -> None:
    url, token = root.token()
    base = url.split("://", 1)[1].split("/", 1)[1]
    target = ("/" + base + path.replace("{c}", container)).encode("latin-1")
    sent = {name: value.replace(b"{c}", container.encode()) for name, value in headers.items()}
    status = _send(root.server, method, target, {"X-Auth-Token": token.encode(), **sent}, body)
    assert 400 <= status < 500 or status in (200, 206), status  # reads that may still serve the object
    conn = root.connection()
    assert conn.get_object(container, "o")[1] == b"original"
    shown = conn.head_container(container)
    assert shown.get("x-container-read") is None and not any("temp-url" in h for h in shown)
