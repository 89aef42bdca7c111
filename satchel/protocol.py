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
keep-alive, pipelining, flow control, timeouts) is uvicorn's own, unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Writes at most this long are held for the end of the loop step; longer ones are sent at once.
HOLD_LIMIT = 16 * 1024


class CoalescingTransport:
    """A transport that sends the small writes of one loop step together.

    Only ``write`` and the calls that must see held data (``close``, ``abort``,
    ``get_write_buffer_size``, ``write_eof``) differ from the wrapped transport; everything else is
    passed through.
    """

    __slots__ = ("_held", "_loop", "_scheduled", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._scheduled = False

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
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` writing through a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
