"""The send step of the S3 front-end, and the one place response header values are made sendable.

A send that fails before the status line went out is answered with a 500 (logged with a traceback:
it is a bug); one that fails after it is logged in one line and reported with the bytes that went
out, so the caller's audit event is still written once. Real-server tests
(tests/clients/test_non_ascii_headers.py) cover the requests that used to fail this way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.asgi import Message, Request, Response
from satchel.core.errors import InternalError, InvalidArgument
from satchel.core.models import ANONYMOUS
from satchel.s3.auth import AuthMethod, AuthResult
from satchel.s3.endpoints import Op
from satchel.s3.frontend import S3Frontend, _SendTracker
from satchel.s3.handlers import HANDLERS
from satchel.s3.headervalues import metadata_text, rfc2047, wire_headers, wire_text


def _request() -> Request:
    scope = {"method": "GET", "raw_path": b"/b/k", "path": "/b/k", "query_string": b"", "headers": []}

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    return Request(scope, receive)


async def _chunks() -> AsyncIterator[bytes]:
    yield b"12345"
    yield b"67890"


def _send(response: Response, fail_on: int) -> tuple[tuple[int, int, Any], list[Message]]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        if len(sent) == fail_on:
            raise ConnectionResetError("peer gone")
        sent.append(message)

    frontend = object.__new__(S3Frontend)  # _send needs no node
    result = asyncio.run(frontend._send(response, _SendTracker(send), _request(), "RID", None))
    return result, sent


def test_send_failing_after_the_status_line_is_one_line_with_the_bytes_sent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="satchel.s3"):
        (status, sent, failure), _ = _send(Response(200, [], _chunks()), fail_on=2)
    assert (status, sent, failure) == (200, 5, None)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None and "after 5 body bytes" in record.message


def test_unsendable_headers_become_a_500_before_any_byte(caplog: pytest.LogCaptureFixture) -> None:
    (status, sent, failure), messages = _send(Response(200, [("X-Bad", "日本")], _chunks()), fail_on=99)
    assert (status, sent, isinstance(failure, InternalError)) == (500, 0, True)
    assert messages[0]["status"] == 500
    assert b"<Code>InternalError</Code>" in messages[1]["body"]


@pytest.mark.parametrize(
    ("name", "value", "wire"),
    [
        ("ETag", '"abc"', '"abc"'),
        ("x-amz-meta-name", "Zoë", rfc2047("Zoë")),
        ("x-amz-meta-name", "a\r\nSet-Cookie: x", rfc2047("a\r\nSet-Cookie: x")),
        ("Content-Disposition", 'inline; filename="日本"', 'inline; filename="日本"'.encode().decode("latin-1")),
        ("Content-Disposition", "a\nb", rfc2047("a\nb")),
        ("Location", "/b/%E6%97%A5", "/b/%E6%97%A5"),
    ],
)
def test_wire_headers(name: str, value: str, wire: str) -> None:
    [(_, sent)] = wire_headers([(name, value)])
    assert sent == wire
    sent.encode("latin-1")  # what the ASGI server does with it: never fails


def test_header_text_in() -> None:
    assert wire_text("Zo\xc3\xab") == "Zoë"  # UTF-8 bytes, as the ASGI server hands them over
    assert wire_text("Zo\xeb") == "Zo\xeb"  # not UTF-8: the Latin-1 reading stands
    assert metadata_text(rfc2047("日本 ✓")) == "日本 ✓"
    assert metadata_text("=?bogus?Q?x?=") == "=?bogus?Q?x?="
    assert metadata_text("=?utf-7?Q?+2AA-?=") == "=?utf-7?Q?+2AA-?="  # a codec, not a MIME charset: as sent
    assert metadata_text("=?ISO-8859-1?Q?caf=E9?=") == "café"
    for not_text in ("=?utf-8?Q?=ED=A0=80?=", "=?us-ascii?Q?=E9?=", "\ud800"):
        with pytest.raises(InvalidArgument):
            metadata_text(not_text, "x-amz-meta-a")
    assert metadata_text("plain =? text") == "plain =? text"


def test_a_handler_bug_is_audited_as_a_refused_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A link use whose handler fails unexpectedly answered 500 and was audited as allowed, with no reason."""
    async def broken(node: Any, ctx: Any) -> Response:
        raise RuntimeError("a bug")

    async def authenticate(request: Any, endpoint: Any) -> AuthResult:
        return AuthResult(ANONYMOUS, AuthMethod.ANONYMOUS)

    async def warm(bucket: str | None) -> None:  # Node.warm on SQLite: nothing to load ahead
        return None

    async def read(fn: Any, *args: Any) -> Any:  # Node.read on SQLite: inline
        return fn(*args)

    events: list[Any] = []
    monkeypatch.setitem(HANDLERS, Op.GetObject, broken)
    frontend = object.__new__(S3Frontend)
    frontend.node = SimpleNamespace(settings=SimpleNamespace(domain=None), clock=SimpleNamespace(now=lambda: 5.0),
                                    audit=SimpleNamespace(record=lambda event, **_: events.append(event)),
                                    warm=warm, read=read)  # type: ignore[assignment]
    frontend.auth = SimpleNamespace(authenticate=authenticate)  # type: ignore[assignment]
    scope = {"type": "http", "method": "GET", "raw_path": b"/bucket/k", "path": "/bucket/k",
             "query_string": b"X-Amz-Signature=00", "headers": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.MonkeyPatch.context() as quiet:
        quiet.setattr(logging.getLogger("satchel.s3"), "disabled", True)
        asyncio.run(frontend(scope, receive, send))
    assert sent[0]["status"] == 500
    [event] = events
    assert (event.outcome, event.status, event.reason) == (
        "refused", 500, "InternalError: We encountered an internal error. Please try again.")
