"""The small ASGI vocabulary every front-end shares: a parsed request and a response to send.

Deliberately thin (no framework between the socket and the object bytes): parsing is done once,
lazily where it costs, and a response streams its body straight into ``send``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, unquote_plus

from satchel.core.errors import IncompleteBody
from satchel.core.streams import close_stream
from satchel.core.text import decimal

if TYPE_CHECKING:
    from satchel.core.conditions import ByteRange

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where ``satchel.protocol`` puts the connection's transport in each request's ``scope["state"]``, so
#: that a streamed response notices a client that left (uvicorn's ``send`` then returns silently).
TRANSPORT_STATE = "satchel.transport"
#: The status the server sent itself in a request's place (``protocol.py``: 408 when its body stopped coming).
ANSWERED_STATE = "satchel.answered"
#: How long an answer decided before the end of its request's body waits for the rest (keep-alive).
DRAIN_SECONDS = 0.5
#: Characters of a User-Agent recorded in audit events.
MAX_USER_AGENT = 512
#: A streamed body gives the event loop up after this many bytes (see ``Response.send``): one read
#: chunk of the blob stores. A turn costs a few µs, against ~100 µs to read and send 256 KiB; with 64
#: downloads of a local-disk object, one loop round (every download's turn, new requests, accepts)
#: then takes ~10 ms. 1 MiB turns made the median first byte of 64 downloads 2-3 x later.
YIELD_BYTES = 256 * 1024


def parse_query(raw: str) -> list[tuple[str, str]]:
    """``parse_qsl(raw, keep_blank_values=True)``, without its cost for the usual plain pairs."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        pairs.append((name, value))
    return pairs


class Closable(Protocol):
    def is_closing(self) -> bool: ...


class Request:
    """One HTTP request, parsed from the ASGI scope on first use."""

    __slots__ = ("_query", "_query_dict", "body_done", "body_started", "bytes_received", "client", "headers",
                 "method", "path", "raw_path", "raw_query", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        raw = scope.get("raw_path")
        self.raw_path: str = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
        self.path: str = unquote(self.raw_path, errors="surrogateescape")
        self.raw_query: str = scope.get("query_string", b"").decode("latin-1")
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]},{text}" if key in headers else text
        self.headers = headers
        client = scope.get("client")
        self.client: str = client[0] if client else ""
        self._query: list[tuple[str, str]] | None = None
        self._query_dict: dict[str, str] | None = None
        #: True once the last body message was received (a request without a body is done at once).
        self.body_done = not ("transfer-encoding" in headers or headers.get("content-length", "0") != "0")
        #: True once the body was asked for: with ``Expect: 100-continue`` that is when the server
        #: tells the client to send it, so an early refusal must not ask.
        self.body_started = False
        self.bytes_received = 0

    @property
    def answered_by_server(self) -> int | None:
        """The status the server itself sent in this request's place (the body timeout's 408), or None: what
        the client was told, whatever the front-end decides afterwards (its audit event says that)."""
        state = self.scope.get("state")
        value = state.get(ANSWERED_STATE) if state else None
        return value if isinstance(value, int) else None

    @property
    def transport(self) -> Closable | None:
        """The connection under this request, when the server says (see ``TRANSPORT_STATE``)."""
        state = self.scope.get("state")
        return state.get(TRANSPORT_STATE) if state else None

    @property
    def user_agent(self) -> str:
        """The User-Agent header, cut to what the audit trail keeps."""
        return self.headers.get("user-agent", "")[:MAX_USER_AGENT]

    @property
    def query(self) -> list[tuple[str, str]]:
        """Decoded (name, value) pairs in wire order; what signature code canonicalises."""
        if self._query is None:
            self._query = parse_query(self.raw_query) if self.raw_query else []
        return self._query

    @property
    def query_dict(self) -> dict[str, str]:
        """First value per name, for handlers reading their parameters."""
        if self._query_dict is None:
            result: dict[str, str] = {}
            for name, value in self.query:
                result.setdefault(name, value)
            self._query_dict = result
        return self._query_dict

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """The raw request body as it arrives (HTTP chunking already removed by the server)."""
        self.body_started = True
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                # The client left, or was cut off for sending too slowly: its failure, answered and
                # audited like any refusal, never an internal error (a traceback per slow client).
                raise IncompleteBody("The connection closed before the request body was complete.")
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            if not more:
                # Set before yielding: a consumer that fails on the last chunk never resumes us, and
                # another receive() after the final message would wait forever.
                self.body_done = True
            if chunk:
                self.bytes_received += len(chunk)
                yield chunk
            if not more:
                return

    async def discard_body(self, limit: int, seconds: float | None = None) -> bool:
        """Read and drop up to ``limit`` unread body bytes so the connection can be reused; False when
        more remains (the caller then closes the connection instead of reading a large upload), or when it
        does not come within ``seconds`` (:data:`DRAIN_SECONDS`): a client that announced more than it sends
        would otherwise have the answer decided for it replaced by the body timeout's 408 (a FormPost
        refused, or its files stored, answered as a timeout: the hostile catalogue's finding)."""
        try:
            return await asyncio.wait_for(self._discard(limit), DRAIN_SECONDS if seconds is None else seconds)
        except TimeoutError:
            return False

    async def _discard(self, limit: int) -> bool:
        if self.body_done:
            return True
        if not self.body_started and "100-continue" in self.headers.get("expect", "").lower():
            return False  # the client is still waiting for our go-ahead: never ask for the body
        declared = decimal(self.headers.get("content-length", ""))
        if declared is not None and declared - self.bytes_received > limit:
            # More is announced than we would read: close now rather than wait for bytes we would drop
            # (a client that announces 5 GiB and sends nothing would get a 408 instead of its answer).
            return False
        size = 0
        try:
            async for chunk in self.body_chunks():
                size += len(chunk)
                if size > limit:
                    return False
        except IncompleteBody:
            return False
        return True

    async def read_body(self, limit: int) -> bytes:
        """The whole body, for small XML/JSON documents only; over ``limit`` raises ValueError."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.body_chunks():
            size += len(chunk)
            if size > limit:
                raise ValueError("body too large")
            parts.append(chunk)
        return b"".join(parts)


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""

    async def send(self, send: Send, *, head: bool = False, transport: Closable | None = None) -> int:
        """Send the response; returns the number of body bytes handed to the connection.

        A streamed body stops as soon as ``transport`` (the request's) is closing: the client left, or
        a send timeout aborted it. uvicorn drops sends to a closed connection silently, so without this
        check the rest of the object would still be read from disk, and counted as sent. The chunk
        whose send found the connection gone is not counted. (Bytes still in the socket buffers when
        a client leaves are counted: the figure is what left the server, an upper bound on what
        arrived.)
        """
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        body = self.body
        if isinstance(body, bytes) and not any(k == b"content-length" for k, _ in raw_headers):
            raw_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": raw_headers})
        if head or self.status in (204, 304):
            if not isinstance(body, bytes):
                await close_stream(body)
            await send({"type": "http.response.body", "body": b""})
            return 0
        if isinstance(body, bytes):
            await send({"type": "http.response.body", "body": body})
            return len(body)
        sent = 0
        turn = 0
        try:
            async for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if transport is not None and transport.is_closing():
                    # One loop step lets the server run its connection_lost (already scheduled), so
                    # it sees a disconnect, not an application that quit mid-response (an error line).
                    await asyncio.sleep(0)
                    return sent
                sent += len(chunk)
                turn += len(chunk)
                if turn >= YIELD_BYTES:
                    # ``send`` waits only when the socket's buffer is full: a client that reads as
                    # fast as a local disk is read never fills it, and a 1 GiB download then ran as
                    # one callback for seconds, with no other request, accept or download served
                    # meanwhile. Taking turns bounds what one download holds the loop for.
                    turn = 0
                    await asyncio.sleep(0)
        finally:
            await close_stream(body)
        await send({"type": "http.response.body", "body": b""})
        return sent


def object_response(headers: list[tuple[str, str]], size: int, byte_range: ByteRange | None,
                    body: bytes | AsyncIterator[bytes]) -> Response:
    """An object read's answer: ``200`` with the whole length, or ``206`` with the range's length and
    ``Content-Range`` (``headers`` gets the length headers appended)."""
    if byte_range is None:
        headers.append(("Content-Length", str(size)))
        return Response(200, headers, body)
    headers.append(("Content-Length", str(byte_range.length)))
    headers.append(("Content-Range", byte_range.content_range(size)))
    return Response(206, headers, body)
