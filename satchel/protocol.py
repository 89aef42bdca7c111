"""uvicorn's httptools protocol, with the writes of one response sent as one ``send``.

uvicorn writes a response's status line and headers, then each body chunk, with one
``transport.write`` apiece, and uvloop turns each into its own ``send`` syscall and often its own
TCP segment. For the 1 KiB GETs that presigned links mostly serve, that second syscall (and the
client's second wake-up) cost a sixth of the throughput: two workers served ~10.3k requests/s
before this transport and ~12.2k after, with wrk on the same machine. The transport below holds small
writes until the end of the current event-loop step, then sends everything held with one write,
so headers and a small body leave together. Large writes go out at once (after anything held,
so order is kept): holding them would only add a copy.

``satchel.worker`` gives this class to uvicorn as its ``http`` protocol; everything else (parsing,
keep-alive, pipelining, flow control, timeouts) is uvicorn's own, within the bounds that
:class:`SatchelHttpProtocol` sets on what one connection may cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from satchel import metrics
from satchel.asgi import ANSWERED_STATE, TRANSPORT_STATE

if TYPE_CHECKING:
    from satchel.config import Settings

# Writes at most this long are held for the end of the loop step; longer ones are sent at once.
HOLD_LIMIT = 16 * 1024


class CoalescingTransport:
    """A transport that sends the small writes of one loop step together.

    Only ``write`` and the calls that must see held data (``close``, ``abort``,
    ``get_write_buffer_size``, ``write_eof``) differ from the wrapped transport; everything else is
    passed through.
    """

    __slots__ = ("_held", "_loop", "_scheduled", "_transport", "closer")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._scheduled = False
        #: Asked first by ``close``: True when it closes the connection its own way (a lingering close).
        self.closer: Callable[[], bool] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) > HOLD_LIMIT:
            self.flush()
            self._transport.write(data)
            return
        if not data:
            return
        self._held.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send whatever is held, as one write."""
        self._scheduled = False
        held = self._held
        if not held:
            return
        self._held = []
        if self._transport.is_closing():
            return
        self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def close(self) -> None:
        if self.closer is not None and self.closer():
            return
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one client connection may cost: the settings of the same names (satchel/config.py)."""

    max_header_bytes: int = 64 * 1024
    header_timeout: float = 60.0
    body_timeout: float = 60.0
    send_timeout: float = 60.0
    #: No request body is longer (``max_put_size``): a chunk that declares more is refused at once.
    max_body_bytes: int = 5 * 1024**3
    #: Connections one worker keeps open (``max_connections``).
    max_connections: int = 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.max_header_bytes, settings.header_timeout, settings.body_timeout, settings.send_timeout,
                   settings.max_put_size, settings.max_connections)


#: Requests parsed and queued behind the one being answered (HTTP pipelining) before the connection's input
#: is left unparsed and unread until the queue drains: each queued request costs ~2 KB, and a client
#: sending requests without reading the answers must not make the server queue them without bound.
PIPELINE_DEPTH = 8

#: The end of a header block (and of a chunked body): every request has at least one.
_BLOCK_END = b"\r\n\r\n"

#: How much of a chunk-size line is kept across reads (its hex digits come first), and what follows
#: the last chunk, which is not followed.
_SIZE_LINE = 32
_UNTRACKED = 1 << 66
_HEX_PREFIX = re.compile(rb"[0-9a-fA-F]*")


class ChunkSizes:
    """A chunked body's framing, followed as far as chunk sizes, over the body's bytes in order.

    httptools keeps chunk sizes to itself, and would wait for a chunk of 2**64 - 1 bytes until the body
    timeout; no body over ``limit`` can be accepted, so such a chunk is refused at once. Malformed
    framing is httptools' to refuse: here it only ends the following (nothing is refused on a guess).
    """

    __slots__ = ("_left", "_limit", "_line")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._left = 0  # bytes of chunk data and CRLF before the next size line
        self._line = b""  # the start of a size line split across reads

    def fit(self, data: bytes, pos: int, end: int) -> bool:
        """Follow ``data[pos:end]``: False once a chunk declares more than the limit."""
        left = self._left
        while pos < end:
            if left > 0:
                step = min(left, end - pos)
                pos += step
                left -= step
                continue
            newline = data.find(b"\n", pos, end)
            line = self._line + data[pos:end if newline < 0 else newline]
            if newline < 0:
                self._line = line[:_SIZE_LINE]  # the size's digits come first
                break
            self._line = b""
            digits = _HEX_PREFIX.match(line)
            size = int(digits.group(), 16) if digits and digits.group() else 0
            if size > self._limit:
                return False
            # The last chunk (or framing httptools refuses): trailers follow, nothing more to follow.
            left = size + 2 if size else _UNTRACKED
            pos = newline + 1
        self._left = left
        return True

#: After refusing an oversized header block, input is read and dropped for this long (or until the
#: client closes) so that a client still sending sees the 431 rather than a reset (nginx: lingering close).
LINGER = 2.0
#: On server shutdown, a connection whose close the client has not completed this long after it began
#: is aborted (see ``SatchelHttpProtocol.shutdown``).
SHUTDOWN_CLOSE_WAIT = 1.0
#: How often a connection still answering at shutdown checks whether its close has begun.
_SHUTDOWN_POLL = 0.25


def _plain_response(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"x-content-type-options: nosniff\r\nconnection: close\r\n\r\n%s"
            % (status, reason.encode(), len(body), body))


_TOO_LARGE = _plain_response(431, "Request Header Fields Too Large", "Request header fields too large\n")
_TIMEOUT = _plain_response(408, "Request Timeout", "Request timeout\n")
_BUSY_BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
              b"<Message>Please reduce your request rate.</Message></Error>")
#: The answer of a connection beyond ``max_connections`` when none can be reclaimed: S3's SlowDown, which
#: every S3 SDK retries with back-off.
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/xml\r\ncontent-length: %d\r\n"
         b"x-content-type-options: nosniff\r\nretry-after: 1\r\nconnection: close\r\n\r\n%s"
         % (len(_BUSY_BODY), _BUSY_BODY))
#: How long a connection refused as surplus keeps dropping input before it closes (shorter than ``LINGER``:
#: under a flood of connections each refused one holds a descriptor that long).
BUSY_LINGER = 0.5


class _Flow(FlowControl):
    """uvicorn's flow control, telling the protocol each time the application asks for body bytes
    (``receive()``), which is when the client may send again: after a pause, or after ``100 Continue``.
    Reading stays paused while ``must_wait()`` (a full pipeline, or input kept unparsed): uvicorn resumes
    reading after every answer, which would otherwise let a pipelining client queue requests without end."""

    def __init__(self, transport: asyncio.Transport, read_wanted: Callable[[bool], None],
                 must_wait: Callable[[], bool]) -> None:
        super().__init__(transport)
        self._read_wanted = read_wanted
        self._must_wait = must_wait

    def resume_reading(self) -> None:
        was_paused = self.read_paused
        if was_paused and self._must_wait():
            return
        super().resume_reading()
        self._read_wanted(was_paused)


class SatchelHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` writing through a :class:`CoalescingTransport`, with every client's
    resources bounded (nginx's names in brackets):

    - a request line and header block longer than ``max_header_bytes`` gets 431 once that many bytes
      have arrived, never buffered further (``large_client_header_buffers``): bytes are counted here,
      before httptools and uvicorn keep them; so are HTTP trailers and chunk framing, which httptools
      also keeps (reads inside a body that carry no body byte);
    - a header block must arrive whole within ``header_timeout`` of the connection's start or of the
      request's first byte (``client_header_timeout``): 408, or a silent close when nothing came;
    - a request body must keep coming: at most ``body_timeout`` between two reads while we are ready to
      read (not while reading is paused because the application is behind, nor before ``100 Continue``)
      (``client_body_timeout``): 408 when no answer started yet, else the connection is closed;
    - a response must keep being read: at most ``send_timeout`` without the write buffer shrinking while
      it is full (``send_timeout``): the connection is aborted, which the application sees as a
      disconnect;
    - at most ``max_connections`` connections per worker (``worker_connections``): one more closes the
      connection idle longest between requests (kept alive, waiting for its next request, which a client
      must expect: HTTP lets a server close an idle connection at any moment), or, when none is idle, is
      answered 503 SlowDown and closed. Hundreds of idle pooled connections never lock a new client out;
      only as many connections all busy (sending, being answered, or inside the header timeout) do.

    All of it costs one timer per connection, armed lazily and moved only when it fires: a request that
    arrives in one read, as small requests do, arms nothing and pays a few attribute writes (an
    in-process loop of presigned-GET-sized requests measured 25.0 against 26.6 µs per request before
    these limits: within noise).
    Pipelining: uvicorn queues every request parsed behind the one being answered (~2 KB each), and
    resumes reading after each answer, parsing every request of that read: a client sending requests
    without reading answers made it queue them without bound. Here at most ``PIPELINE_DEPTH`` (a
    request or two more) are queued; the rest of the input stays unparsed, reading paused, until
    answers drain the queue. A read is parsed whole when it cannot end more than two requests (it
    holds at most one header block's end, or only body bytes short of the declared length): nearly
    every read, for the cost of one ``bytes.find`` (the same in-process loop: 24.7-24.8 against
    25.2-25.6 µs per request, best of 60 rounds, on a shared 2-core machine); else one request end at
    a time.
    A malformed request behind answers still to be sent gets its 400 after them (uvicorn's 400
    closed the connection at once, losing them). Nothing is ever written into an earlier answer still
    in progress on the connection: an oversized request behind it gets no 431, the connection closes
    once the answers before it are sent; a timeout then closes the connection at once. As a read that
    ends one request and holds more is parsed a request at a time, a request pipelined behind others
    is counted against the header limit from its first byte, like any other.
    """

    limits: ClassVar[Limits] = Limits()

    @classmethod
    def configured(cls, limits: Limits) -> type[SatchelHttpProtocol]:
        """This protocol with ``limits``: what ``satchel.worker`` gives uvicorn."""
        return type(cls.__name__, (cls,), {"limits": limits})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_room = self.limits.max_header_bytes
        self._in_body = False
        #: When the header block being received began (None between requests).
        self._block_started: float | None = None
        self._last_read = 0.0
        #: When the write buffer last filled up without shrinking since (None while it drains).
        self._write_stalled: float | None = None
        self._write_backlog = 0
        self._refused = False
        #: Whether the read being parsed carried no body byte, and how many bytes such reads of this
        #: body carried in a row.
        self._framing_only = False
        self._framing_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._linger: asyncio.TimerHandle | None = None
        self._shutdown_timer: asyncio.TimerHandle | None = None
        #: Body bytes of the current request parsed so far, and its declared length (None: not looked
        #: up yet; -1: chunked).
        self._body_seen = 0
        self._body_length: int | None = None
        self._chunks = ChunkSizes(self.limits.max_body_bytes)
        #: Input read but not parsed while the pipeline is full: the bytes from ``_unparsed_at`` on.
        self._unparsed = b""
        self._unparsed_at = 0
        self._drain_scheduled = False
        self._slicing = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        metrics.CONNECTIONS.inc()
        coalescing = CoalescingTransport(transport, self.loop)
        coalescing.closer = self._close_after_answer
        super().connection_made(coalescing)  # type: ignore[arg-type]
        self.flow = _Flow(self.transport, self._read_wanted, self._must_wait)
        # Each request's scope["state"] is a copy of this: it lets a response notice a client that left.
        self.app_state = {**self.app_state, TRANSPORT_STATE: self.transport}
        now = self.loop.time()
        self._block_started = now
        self._arm(now + self.limits.header_timeout)
        if len(self.connections) > self.limits.max_connections and not self._reclaim_idle():
            self._refuse_surplus()

    def _reclaim_idle(self) -> bool:
        """Close the connection idle longest between requests to make room for this one: False when
        every connection is busy. Runs only beyond the limit, so its scan costs nothing below it."""
        idle = [(other.timeout_keep_alive_task.when(), id(other), other) for other in self.connections
                if isinstance(other, HttpToolsProtocol) and other.timeout_keep_alive_task is not None
                and not other.transport.is_closing()]
        if not idle:
            return False
        _, _, oldest = min(idle, key=lambda entry: entry[:2])
        metrics.REFUSED_CONNECTIONS.labels("idle_reclaimed").inc()
        oldest.transport.close()
        return True

    def _refuse_surplus(self) -> None:
        metrics.REFUSED_CONNECTIONS.labels("too_many_connections").inc()
        self.logger.info("%s - over %d connections, none idle: 503", _peer(self.client),
                         self.limits.max_connections)
        self._refused = True
        self._answer_and_linger(_BUSY, BUSY_LINGER)

    def connection_lost(self, exc: Exception | None) -> None:
        metrics.CONNECTIONS.dec()
        for timer in (self._timer, self._linger, self._shutdown_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._linger = self._shutdown_timer = None
        self._unparsed = b""
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """Server shutdown: as uvicorn (an idle connection closes now, a busy one once its response is
        out), but a close the client does not complete within :data:`SHUTDOWN_CLOSE_WAIT` is cut short.
        A TLS close waits for the client's close_notify, which a client idling in a connection pool
        never sends, and the whole shutdown would wait for it (uvloop gives it 30 s)."""
        super().shutdown()
        self._close_or_abort()

    def _close_or_abort(self) -> None:
        if self.transport.is_closing():
            self._shutdown_timer = self.loop.call_later(SHUTDOWN_CLOSE_WAIT, self.transport.abort)
        else:  # still answering: look again until uvicorn closes it after the response
            self._shutdown_timer = self.loop.call_later(_SHUTDOWN_POLL, self._close_or_abort)

    # --- reading --------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        """Parse a read whole when it cannot hold more than two requests' ends, as nearly every read
        is (one request; or body bytes short of the declared length); else one request at a time, so
        that the pipeline never holds much more than ``PIPELINE_DEPTH`` requests."""
        if self._refused:
            return  # a refused connection's input is dropped until it closes
        if not self._slicing:
            if self._unparsed:  # a read under way when reading was paused: it goes behind the rest
                self._unparsed = self._unparsed[self._unparsed_at:] + data
                self._unparsed_at = 0
                return
            if self._in_body:
                if len(data) > self._body_left():
                    self._feed(data, 0)
                    return
            else:
                end = data.find(_BLOCK_END)
                # (A read starting with CR or LF may end a header block begun in the read before.)
                if (end >= 0 and end != len(data) - 4) or data[0] <= 13:
                    self._feed(data, 0)
                    return
        # Parse the read (or the part of it ``_feed`` gives), counting header and framing bytes.
        now = self.loop.time()
        while data and not self._in_body:
            if self._block_started is None:
                self._block_started = now
            room = self._header_room
            if len(data) <= room:
                super().data_received(data)
                if self._block_started is not None and not self._in_body:  # still in the same block
                    self._header_room = room - len(data)
                data = b""
                break
            # Feed exactly what the block may still use: if it is not complete then, it is too long.
            if room:
                super().data_received(data[:room])
            if self._refused or self.transport.is_closing():  # a malformed request: 400
                return
            if self._block_started is not None and not self._in_body:
                self._refuse_headers()
                return
            data = data[room:]
        if data:
            self._framing_only = True  # until on_body says otherwise
            super().data_received(data)
            if self._in_body and self._framing_only:
                # A read inside a body that carried no body byte: chunk framing, or HTTP trailers,
                # which httptools keeps in memory like headers. Bounded like headers.
                self._framing_bytes += len(data)
                if self._framing_bytes > self.limits.max_header_bytes:
                    self._refuse_framing()
                    return
            else:
                self._framing_bytes = 0
        if self._in_body:
            self._last_read = now
            self._arm(now + self.limits.body_timeout)
        elif self._block_started is not None:
            self._arm(self._block_started + self.limits.header_timeout)
        elif self.cycle is not None and self.scope is not self.cycle.scope:
            # The read ended inside a request pipelined behind a complete one.
            self._block_started = now
            self._arm(now + self.limits.header_timeout)

    def _feed(self, data: bytes, pos: int) -> None:
        """Parse ``data`` from ``pos`` up to one request end (a header block's end, or a body's) at a
        time, keeping what follows unparsed, and reading paused, once the pipeline is full."""
        view = memoryview(data)
        size = len(data)
        while pos < size:
            if len(self.pipeline) >= PIPELINE_DEPTH:
                self._unparsed, self._unparsed_at = data, pos
                self.flow.pause_reading()
                return
            cut = -1
            left = self._body_left() if self._in_body else 0
            if left > 0:
                cut = min(pos + left, size)
            else:
                end = data.find(_BLOCK_END, pos)
                cut = size if end < 0 else end + 4
                if not left and data[pos] <= 13:  # where a header block begun in the read before may end
                    cut = pos + (1 if data[pos] == 10 else 2 if data.startswith(b"\r\n", pos) else cut - pos)
                if left < 0 and not self._chunks.fit(data, pos, cut):
                    self.send_400_response("Chunk larger than the largest request body accepted.")
                    return
            self._slicing = True
            try:
                self.data_received(cast(bytes, view[pos:cut]))  # httptools parses any buffer, uncopied
            finally:
                self._slicing = False
            if self._refused or self.transport.is_closing():
                return
            pos = cut

    def _must_wait(self) -> bool:
        """Whether reading must stay paused although uvicorn would resume it (it does after each
        answer, before it takes the next request off the queue): then, once that is done, parse what
        was kept and read again if the queue has room."""
        if not self._unparsed and len(self.pipeline) < PIPELINE_DEPTH:
            return False
        if not self._drain_scheduled:  # not inside the application's send()
            self._drain_scheduled = True
            self.loop.call_soon(self._drain)
        return True

    def _drain(self) -> None:
        self._drain_scheduled = False
        if self.transport.is_closing():
            return
        data, pos = self._unparsed, self._unparsed_at
        if data and not self._refused:
            self._unparsed = b""
            self._feed(data, pos)
        if not self._unparsed and len(self.pipeline) < PIPELINE_DEPTH:
            self.flow.resume_reading()

    def _body_left(self) -> int:
        """Body bytes of the current request still to come, or -1 when its length is not declared."""
        length = self._body_length
        if length is None:
            length = -1
            for name, value in self.headers:
                if name == b"transfer-encoding":
                    length = -1
                    break
                if name == b"content-length":
                    length = int(value)  # llhttp checked it: digits only
            self._body_length = length
            if length < 0:
                self._chunks = ChunkSizes(self.limits.max_body_bytes)
        return -1 if length < 0 else length - self._body_seen

    def on_headers_complete(self) -> None:
        self._in_body = True
        self._body_seen = 0
        self._body_length = None
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._framing_only = False
        self._body_seen += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._block_started = None
        self._header_room = self.limits.max_header_bytes
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a malformed request, which closes the connection at once: a request
        pipelined behind answers still to be sent gets it after them, so that none of them is lost."""
        metrics.REFUSED_CONNECTIONS.labels("malformed").inc()
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            super().send_400_response(msg)
            return
        queued = bool(self.pipeline) and self.pipeline[0][0] is cycle
        if cycle.more_body and not queued:  # the body of the request being answered is malformed
            if cycle.response_started:
                self.transport.close()  # a 400 now would land inside its answer
            else:
                super().send_400_response(msg)
            return
        if cycle.more_body:  # a queued request whose body is malformed: it is answered 400 in its turn
            self.pipeline[0] = (cycle, _bad_request(msg))
        else:  # the request after the last one parsed is malformed: 400 once that one is answered
            answered = cycle.on_response

            def then_400() -> None:
                answered()
                if not self.transport.is_closing():
                    HttpToolsProtocol.send_400_response(self, msg)
            cycle.on_response = then_400
        self._refused = True  # input is dropped from now on
        self._unparsed = b""
        self.logger.info("%s - malformed request pipelined behind answers still being sent",
                         _peer(self.client))

    def _read_wanted(self, was_paused: bool) -> None:
        """The application asked for body bytes: the client's body clock starts again; a header block
        we stopped reading (pipelining) gets its time again once we read again."""
        if self._in_body:
            now = self.loop.time()
            self._last_read = now
            self._arm(now + self.limits.body_timeout)
        elif was_paused and self._block_started is not None:
            now = self.loop.time()
            self._block_started = now
            self._arm(now + self.limits.header_timeout)

    def _refuse_headers(self) -> None:
        metrics.REFUSED_CONNECTIONS.labels("headers_too_large").inc()
        self._refused = True
        self.logger.info("%s - request headers over %d bytes: 431", _peer(self.client),
                         self.limits.max_header_bytes)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # Answers to earlier requests are under way: finish them, then close instead of reading on.
            cycle.keep_alive = False
            return
        self._answer_and_linger(_TOO_LARGE, LINGER)

    def _answer_and_linger(self, answer: bytes, seconds: float) -> None:
        """Lingering close: send ``answer``, stop sending, keep dropping input for ``seconds`` (or until
        the client closes), so that a client still sending its request reads the answer before the
        connection closes (a close with unread input would reset the connection and lose the answer).
        write_eof raises NotImplementedError on transports that cannot half-close (TLS): then the close
        is all there is."""
        self.transport.write(answer)
        with contextlib.suppress(OSError, NotImplementedError, RuntimeError):
            self.transport.write_eof()
        self._linger = self.loop.call_later(seconds, self.transport.close)

    def _close_after_answer(self) -> bool:
        """uvicorn closes the connection as soon as a ``Connection: close`` answer is sent. With request
        body bytes still unread (an upload refused before its body: Satchel drains at most 1 MiB), that
        close resets the connection, and the reset can destroy the answer before the client or a proxy
        in front (HAProxy: an empty 502 in place of a 403) reads it. Instead: a lingering close, as for
        the 431."""
        cycle = self.cycle
        if (not self._in_body or self._refused or self._linger is not None or cycle is None
                or not cycle.response_complete or cycle.keep_alive):
            return False
        self._refused = True  # input dropped from now on
        self._answer_and_linger(b"", LINGER)
        with contextlib.suppress(AttributeError, RuntimeError):
            self.transport.resume_reading()  # keep taking the body in (and dropping it) while lingering
        return True

    def _refuse_framing(self) -> None:
        metrics.REFUSED_CONNECTIONS.labels("framing_too_large").inc()
        self._refused = True
        self.logger.info("%s - over %d bytes of chunk framing or trailers: closing the connection",
                         _peer(self.client), self.limits.max_header_bytes)
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self.transport.write(_TOO_LARGE)
        self.transport.close()

    # --- writing --------------------------------------------------------------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        now = self.loop.time()
        self._write_stalled = now
        self._write_backlog = self.transport.get_write_buffer_size()
        self._arm(now + self.limits.send_timeout)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._write_stalled = None

    # --- the one timer --------------------------------------------------------------------------------
    def _arm(self, when: float) -> None:
        """Make sure the timer fires by ``when``. A timer due earlier stays: it re-checks when it fires."""
        timer = self._timer
        if timer is not None:
            if self._timer_at <= when:
                return
            timer.cancel()
        self._timer = self.loop.call_at(when, self._on_timer)
        self._timer_at = when

    def _on_timer(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        limits = self.limits
        due: list[tuple[float, str]] = []
        if self._refused:
            pass  # input is dropped now: only the answers still being sent are timed
        elif self._in_body:
            cycle = self.cycle
            if not self.flow.read_paused and not (cycle is not None and cycle.waiting_for_100_continue):
                due.append((self._last_read + limits.body_timeout, "body"))
        elif self._block_started is not None and not self.flow.read_paused:
            due.append((self._block_started + limits.header_timeout, "header"))
        if self._write_stalled is not None:
            backlog = self.transport.get_write_buffer_size()
            if backlog < self._write_backlog:  # the client read something: a new stall starts now
                self._write_stalled, self._write_backlog = now, backlog
            due.append((self._write_stalled + limits.send_timeout, "send"))
        if not due:
            return
        when, kind = min(due)
        if when > now:
            self._arm(when)
            return
        self._time_out(kind)

    def _time_out(self, kind: str) -> None:
        metrics.REFUSED_CONNECTIONS.labels(f"{kind}_timeout").inc()
        self.logger.info("%s - %s timeout: closing the connection", _peer(self.client), kind)
        cycle = self.cycle
        if kind == "send":
            self.transport.abort()
            return
        if kind == "body":
            answerable = cycle is not None and not cycle.response_started
        else:
            began = self.scope is not None and (cycle is None or cycle.scope is not self.scope)
            answerable = began and (cycle is None or cycle.response_complete)
        if answerable:
            state = cycle.scope.get("state") if cycle is not None and kind == "body" else None
            if isinstance(state, dict):
                state[ANSWERED_STATE] = 408  # the request's audit event says what the client got
            self.transport.write(_TIMEOUT)
        self.transport.close()


def _bad_request(msg: str) -> ASGI3Application:
    """The answer of a queued request whose body turned out malformed: uvicorn's 400, in its turn."""
    body = msg.encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 400, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body)),
            (b"x-content-type-options", b"nosniff"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
    return app


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "-"
