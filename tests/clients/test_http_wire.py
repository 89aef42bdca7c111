"""HTTP/1.1 on the wire, through a raw socket: keep-alive, pipelining and framing of small and large
responses from the real server, whose transport holds small writes to send them together (that it
does so is tested in tests/unit/server; its speed is measured in bench/)."""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlsplit

from tests.clients.server import ServerHandle

SMALL = os.urandom(1024)
LARGE = os.urandom(3 * 1024 * 1024 + 17)


def _request(url: str, method: str = "GET") -> bytes:
    parts = urlsplit(url)
    return f"{method} {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()


def _read_response(sock: socket.socket, buffered: bytearray, *, head: bool = False) -> tuple[int, bytes]:
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the headers"
        buffered += chunk
    end = buffered.index(b"\r\n\r\n") + 4
    lines = bytes(buffered[:end]).decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:] if line)}
    del buffered[:end]
    length = 0 if head else int(headers["content-length"])
    while len(buffered) < length:
        chunk = sock.recv(1 << 20)
        assert chunk, "connection closed inside the body"
        buffered += chunk
    body = bytes(buffered[:length])
    del buffered[:length]
    return status, body


def _connect(server: ServerHandle) -> socket.socket:
    host, port = server.host_port.split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_pipelined_requests_get_their_own_answers_in_order(s3: Any, bucket: str, satchel_server: ServerHandle) -> None:
    s3.put_object(Bucket=bucket, Key="small", Body=SMALL)
    s3.put_object(Bucket=bucket, Key="large", Body=LARGE)
    url = {key: s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
           for key in ("small", "large")}
    head = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "large"}, ExpiresIn=300)
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"}, ExpiresIn=300)
    with _connect(satchel_server) as sock:
        sock.sendall(_request(url["small"]) + _request(url["large"]) + _request(head, "HEAD")
                     + _request(missing) + _request(url["small"]))
        buffered = bytearray()
        assert _read_response(sock, buffered) == (200, SMALL)
        assert _read_response(sock, buffered) == (200, LARGE)
        assert _read_response(sock, buffered, head=True) == (200, b"")
        status, body = _read_response(sock, buffered)
        assert status == 404 and b"<Code>NoSuchKey</Code>" in body
        assert _read_response(sock, buffered) == (200, SMALL)
        assert buffered == b""


def test_a_transfer_coding_besides_chunked_is_not_implemented(s3: Any, bucket: str,
                                                               satchel_server: ServerHandle) -> None:
    """``Transfer-Encoding: gzip, chunked`` is 501 (RFC 9112 section 6.1), not a PUT storing the gzip bytes
    as they came: a proxy that decodes the gzip would see another body than Satchel."""
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "te-gzip"}, ExpiresIn=300)
    parts = urlsplit(url)
    body = b"5\r\nhello\r\n0\r\n\r\n"
    for coding in ("gzip, chunked", "GZIP,chunked"):
        with _connect(satchel_server) as sock:
            sock.sendall(f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                         f"Transfer-Encoding: {coding}\r\n\r\n".encode() + body)
            status, answer = _read_response(sock, bytearray())
            assert status == 501 and b"not implemented" in answer
    assert s3.list_objects_v2(Bucket=bucket, Prefix="te-gzip").get("KeyCount") == 0  # nothing stored
    with _connect(satchel_server) as sock:  # plain chunked still stores
        sock.sendall(f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     f"Transfer-Encoding: chunked\r\n\r\n".encode() + body)
        assert _read_response(sock, bytearray())[0] == 200
    assert s3.get_object(Bucket=bucket, Key="te-gzip")["Body"].read() == b"hello"
