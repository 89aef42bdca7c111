"""``Request.discard_body``: the rest of a small unread body is drained for keep-alive, but only for a
while: a client that announced more than it sends must get the answer decided for it (with the connection
closed), not the body timeout's 408 (the hostile catalogue's ``swift-formpost-length-lie``)."""

from __future__ import annotations

import asyncio
import time

from satchel.asgi import Message, Request


def _request(pieces: list[bytes], *, stall: bool) -> Request:
    scope = {"method": "PUT", "raw_path": b"/b/k", "path": "/b/k", "query_string": b"",
             "headers": [(b"content-length", b"100")]}
    queue = list(pieces)

    async def receive() -> Message:
        if queue:
            return {"type": "http.request", "body": queue.pop(0), "more_body": bool(queue) or stall}
        await asyncio.sleep(3600)  # a client that announced more than it sends
        raise AssertionError("unreachable")

    return Request(scope, receive)


def test_a_body_that_comes_is_drained() -> None:
    assert asyncio.run(_request([b"a" * 60, b"b" * 40], stall=False).discard_body(1024)) is True


def test_a_body_that_stalls_is_given_up_quickly() -> None:
    started = time.monotonic()
    assert asyncio.run(_request([b"a" * 10], stall=True).discard_body(1024, seconds=0.05)) is False
    assert time.monotonic() - started < 1


def test_more_than_the_limit_is_not_waited_for() -> None:
    assert asyncio.run(_request([], stall=True).discard_body(10)) is False
