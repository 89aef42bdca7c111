"""One webhook POST, guarded against server-side request forgery.

A webhook URL is chosen by a bucket owner or a link's minter, not by the operator, so the server must not
become their probe into its own network:

* only http and https (checked when the URL is set, ``core/webhooks.check_url``);
* the host name is resolved here, at every delivery, and *every* address it resolves to must be public
  (``core/webhooks.is_public``) unless ``webhook_allow_private``; the connection then goes to that vetted
  address, never to a second resolution (no DNS-rebinding window), with the URL's host in ``Host`` and, for
  https, in SNI and certificate verification;
* redirects are never followed (a 3xx is a failed try), the answer is read up to its status line and at most
  :data:`MAX_RESPONSE_BYTES`, and the whole exchange, resolution included, is bounded by one timeout.

HTTP/1.1 framing is h11 (already installed: uvicorn's own HTTP/1.1 implementation), over asyncio streams: no
thread per delivery and no second HTTP client library to keep up to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from satchel.core.webhooks import is_public

#: Bytes of a receiver's answer read at most (status line, headers and the start of the body).
MAX_RESPONSE_BYTES = 64 * 1024
_READ = 8192
USER_AGENT = "Satchel-Webhook/1"
#: A delivery's error when its host name resolves to a non-public address *or does not exist*: the same words,
#: so whoever set the URL cannot tell an internal name from a missing one (probing the server's own DNS).
UNREACHABLE = "the destination is not a reachable public address (setting webhook_allow_private)"
#: Resolver answers that say the name does not exist (as final as a private address); others may pass.
_NO_SUCH_NAME = frozenset(getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")
                          if hasattr(socket, name))


@dataclass(frozen=True, slots=True)
class Sent:
    """A try's result: the receiver's status (None when none came), an error for the dead-letter listing,
    and whether trying again cannot help (a refused destination)."""

    status: int | None
    error: str | None = None
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class RefusedDestination(Exception):
    """The URL resolves to an address this server does not call."""


async def post(url: str, headers: list[tuple[str, str]], body: bytes, *, timeout: float,
               allow_private: bool) -> Sent:
    """POST ``body`` to ``url``; never raises for what the network or the receiver do."""
    try:
        async with asyncio.timeout(timeout):
            return await _post(url, headers, body, allow_private)
    except RefusedDestination as exc:
        return Sent(None, str(exc), permanent=True)
    except TimeoutError:
        return Sent(None, f"no answer within {timeout:g} s")
    except (OSError, ssl.SSLError, h11.ProtocolError, ValueError) as exc:
        return Sent(None, f"{type(exc).__name__}: {exc}"[:300])


async def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to: the first one ``host`` resolves to, once all of them are allowed."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            raise RefusedDestination(UNREACHABLE) from None
        raise OSError("the destination's name could not be resolved for now") from None
    if not found:
        raise RefusedDestination(UNREACHABLE)
    addresses = [str(info[4][0]) for info in found]
    for address in addresses:
        if not allow_private and not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
            # Never the address itself: it would tell whoever set the URL what the server's own DNS knows.
            raise RefusedDestination(UNREACHABLE)
    return addresses[0]


async def _post(url: str, headers: list[tuple[str, str]], body: bytes, allow_private: bool) -> Sent:
    parts = urlsplit(url)
    host = parts.hostname
    if host is None or parts.scheme.lower() not in ("http", "https"):
        raise RefusedDestination("only http and https URLs are called")
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    address = await resolve(host, port, allow_private=allow_private)
    context = ssl.create_default_context() if https else None
    reader, writer = await asyncio.open_connection(address, port, ssl=context,
                                                   server_hostname=host if https else None)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = parts.netloc.rsplit("@", 1)[-1]
        connection = h11.Connection(our_role=h11.CLIENT)
        request = h11.Request(method="POST", target=target, headers=[
            ("Host", authority), ("User-Agent", USER_AGENT), ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))), ("Connection", "close"), *headers])
        writer.write(connection.send(request) + connection.send(h11.Data(data=body))
                     + connection.send(h11.EndOfMessage()))
        await writer.drain()
        return Sent(await _status(connection, reader))
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def _status(connection: h11.Connection, reader: asyncio.StreamReader) -> int:
    """The receiver's final status code, reading no more than :data:`MAX_RESPONSE_BYTES`."""
    received = 0
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            if received >= MAX_RESPONSE_BYTES:
                raise ValueError("the receiver's answer is too long before its status")
            data = await reader.read(_READ)
            received += len(data)
            connection.receive_data(data)
            continue
        if isinstance(event, h11.Response):
            return int(event.status_code)
        if isinstance(event, h11.ConnectionClosed):
            raise OSError("the receiver closed the connection without answering")
        # h11.InformationalResponse (100 Continue): keep reading for the final one
