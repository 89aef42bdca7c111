"""A GET of a multipart object racing a DELETE or an overwrite: the reader gets the whole old object
(or an error before the first byte), never a body cut short. Raw sockets against a real server; the
client reads slowly with a small receive buffer, so the server is still in the first part when the
object goes away."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.clients.server import ServerHandle

PART = 5 * 1024 * 1024
PARTS = 4


def upload_multipart(s3: Any, bucket: str, key: str) -> bytes:
    parts = [os.urandom(PART) for _ in range(PARTS)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n + 1, Body=body)["ETag"]
             for n, body in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": etag} for n, etag in enumerate(etags)]})
    return b"".join(parts)


def read_response(sock: socket.socket) -> tuple[int, int, bytes]:
    """(status, Content-Length, body as far as the server sent it before closing or completing)."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed before the headers"
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    rest = bytearray(body)
    while len(rest) < length:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), length, bytes(rest)


@pytest.mark.parametrize("change", ["delete", "overwrite"])
def test_a_slow_reader_gets_the_whole_old_object(s3: Any, bucket: str, satchel_server: ServerHandle,
                                                 change: str) -> None:
    old = upload_multipart(s3, bucket, "big")
    url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big"}, ExpiresIn=300))
    host, port = satchel_server.host_port.split(":")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        sock.settimeout(10)
        sock.connect((host, int(port)))
        sock.sendall(f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
        first = sock.recv(4096)  # the answer has started; the server is held back by the small buffer
        assert first.startswith(b"HTTP/1.1 200 ")
        if change == "delete":
            s3.delete_object(Bucket=bucket, Key="big")
        else:
            s3.put_object(Bucket=bucket, Key="big", Body=b"new and short")
        time.sleep(0.2)  # let the server's release of the old blobs happen
        status, length, body = read_response(_Replay(first, sock))  # type: ignore[arg-type]
    assert (status, length) == (200, len(old))
    assert len(body) == len(old) and hashlib.md5(body).digest() == hashlib.md5(old).digest()  # noqa: S324
    if change == "overwrite":
        assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"new and short"


class _Replay:
    """A socket whose first ``recv`` returns bytes already read."""

    def __init__(self, first: bytes, sock: socket.socket) -> None:
        self._first: bytes | None = first
        self._sock = sock

    def recv(self, size: int) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return self._sock.recv(size)
