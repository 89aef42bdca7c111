"""An upload refused before its body: the server answers, then closes with a lingering close (half-close,
drop the rest of the body for a moment) instead of closing with unread input, which makes the kernel reset
the connection — and a reset can destroy the answer before the client, or a load balancer in front, has
read it (found by the two-node run: HAProxy lost a presigned part's 403 that way, and the client saw the
connection dropped without an answer)."""

from __future__ import annotations

import socket
import uuid

import pytest

from tests.clients.server import ServerHandle

MiB = 1024 * 1024

pytestmark = pytest.mark.single_node  # the server's own socket is the point; a proxy in front hides it


def test_a_refused_upload_still_sending_its_body_gets_a_close_not_a_reset(satchel_server: ServerHandle) -> None:
    host, port = satchel_server.host_port.rsplit(":", 1)
    head = (f"PUT /missing-{uuid.uuid4().hex[:12]}/k HTTP/1.1\r\nHost: {satchel_server.host_port}\r\n"
            f"Content-Length: {64 * MiB}\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head + b"x" * 65536)
        answer = b""
        while b"</Error>" not in answer:
            got = conn.recv(65536)
            assert got, answer
            answer += got
        assert answer.startswith(b"HTTP/1.1 404 ") and b"connection: close" in answer.lower(), answer[:300]
        # The client goes on sending the body it announced (as a proxy forwarding it would), then reads on:
        # the end of the stream, not a reset.
        conn.sendall(b"x" * MiB)
        conn.settimeout(5)
        assert conn.recv(65536) == b""
