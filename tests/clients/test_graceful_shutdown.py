"""SIGTERM while a slow client downloads a large object through a presigned URL: the server stops
accepting connections at once, lets the download finish byte-exact, writes its audit event (the buffer is
flushed on the way out) and exits 0 — with one worker and under the supervisor."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess

SIZE = 48 * 1024 * 1024  # well beyond what socket buffers hold: the server is mid-send when told to stop


def read_headers(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed before its headers"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_lets_a_slow_download_finish(tmp_path_factory: pytest.TempPathFactory, workers: str) -> None:
    server = SatchelProcess(tmp_path_factory.mktemp("graceful") / "data", extra_args=("--workers", workers))
    server.start()
    try:
        s3 = make_client(server, signature_version="s3v4")
        bucket = unique_bucket("graceful")
        body = os.urandom(SIZE)
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="big.bin", Body=body)
        url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big.bin"},
                                                 ExpiresIn=300))
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
        head, received = read_headers(sock)
        assert head.startswith(b"HTTP/1.1 200"), head
        request_id = next(line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                          if line.lower().startswith(b"x-amz-request-id"))

        assert server._proc is not None
        os.kill(server._proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        assert server._proc.poll() is None  # still sending
        with pytest.raises(requests.exceptions.ConnectionError):  # but no longer accepting
            requests.get(f"{server.endpoint}/_satchel/health/live", timeout=2)

        digest = hashlib.sha256(received)
        size = len(received)
        while size < SIZE:
            chunk = sock.recv(1024 * 1024)
            assert chunk, f"the download was cut after {size} bytes"
            digest.update(chunk)
            size += len(chunk)
        sock.close()
        assert digest.digest() == hashlib.sha256(body).digest()
        assert server._proc.wait(timeout=20) == 0
    finally:
        server.stop()
    audit = sqlite3.connect(server.data_dir / "meta.sqlite3")
    try:
        found = audit.execute("SELECT outcome, bytes FROM audit_events WHERE request_id = ?", (request_id,)).fetchall()
    finally:
        audit.close()
    assert found == [("allowed", SIZE)]
