"""One webhook POST against tiny asyncio servers on loopback: status codes, redirects not followed, a bounded
answer, the timeout, and destinations refused after name resolution."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from satchel.webhooks import outbound

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _with_server(serve: Serve, call: Callable[[str], Awaitable[outbound.Sent]]) -> outbound.Sent:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await call(f"http://127.0.0.1:{port}/hook?x=1")
    finally:
        server.close()


def _answer(raw: bytes, seen: list[bytes] | None = None) -> Serve:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length")))
        body = await reader.readexactly(length)
        if seen is not None:
            seen.append(head + body)
        writer.write(raw)
        await writer.drain()
        writer.close()
    return serve


def _post(url: str, timeout: float = 2.0, allow_private: bool = True) -> Coroutine[Any, Any, outbound.Sent]:
    return outbound.post(url, [("X-Test", "1")], b'{"a":1}', timeout=timeout, allow_private=allow_private)


def test_delivered_with_host_and_body() -> None:
    seen: list[bytes] = []
    sent = asyncio.run(_with_server(_answer(b"HTTP/1.1 204 No Content\r\n\r\n", seen), _post))
    assert sent.ok and sent.status == 204
    request = seen[0]
    assert request.startswith(b"POST /hook?x=1 HTTP/1.1\r\n") and b"\r\nX-Test: 1\r\n" in request
    assert b"\r\nHost: 127.0.0.1:" in request and request.endswith(b'\r\n\r\n{"a":1}')


@pytest.mark.parametrize("status", [301, 302, 307, 400, 500])
def test_redirects_and_errors_fail_and_are_not_followed(status: int) -> None:
    seen: list[bytes] = []
    answer = f"HTTP/1.1 {status} X\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n"
    sent = asyncio.run(_with_server(_answer(answer.encode(), seen), _post))
    assert not sent.ok and sent.status == status and not sent.permanent and len(seen) == 1


def test_endless_answer_is_cut() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):  # headers that never end: 200 x 1 KiB, past the 64 KiB read bound
            writer.write(b"X-Junk: " + b"j" * 1024 + b"\r\n")
        await writer.drain()
        await asyncio.sleep(1)
        writer.close()

    sent = asyncio.run(_with_server(serve, _post))
    assert not sent.ok and sent.status is None and sent.error


def test_no_answer_times_out() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    sent = asyncio.run(_with_server(serve, lambda url: _post(url, timeout=0.3)))
    assert sent.status is None and sent.error == "no answer within 0.3 s" and not sent.permanent


@pytest.mark.parametrize("url", ["http://localhost:9/", "http://127.0.0.1:9/", "http://[::1]:9/"])
def test_private_destinations_refused_after_resolution(url: str) -> None:
    sent = asyncio.run(_post(url, allow_private=False))
    assert sent.permanent and sent.status is None and sent.error == outbound.UNREACHABLE
    # what the name resolved to stays unsaid: the URL's setter must not learn the server's internal DNS
    assert "127.0.0.1" not in (sent.error or "") and "::1" not in (sent.error or "")


@pytest.mark.parametrize(("errno", "permanent"), [(socket.EAI_NONAME, True), (socket.EAI_AGAIN, False)])
def test_missing_name_says_what_a_private_one_says(monkeypatch: pytest.MonkeyPatch, errno: int,
                                                  permanent: bool) -> None:
    """A name that does not exist gives the very error of one that resolves to a private address (dead at
    once): the URL's setter cannot tell an internal name from a missing one. A resolver that fails for now is
    retried, with words that say nothing of the name either."""
    async def no_such_name(*args: object, **kwargs: object) -> list[Any]:
        raise socket.gaierror(errno, "Name or service not known")

    async def run() -> outbound.Sent:
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_name)
        return await _post("http://internal.example.com/hook", allow_private=False)

    sent = asyncio.run(run())
    private = asyncio.run(_post("http://127.0.0.1:9/", allow_private=False))
    assert sent.status is None and sent.permanent is permanent
    assert (sent.error == private.error) is permanent
    assert "internal" not in (sent.error or "") and "known" not in (sent.error or "")


def test_other_schemes_refused() -> None:
    sent = asyncio.run(_post("ftp://example.com/", allow_private=True))
    assert sent.permanent and sent.status is None
