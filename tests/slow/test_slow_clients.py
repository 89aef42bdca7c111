"""Slow and abusive clients, through raw sockets against a real ``satchel serve``, while a normal boto3
client keeps asking for an object: every abuse is cut off by the limit meant for it (header, body, send
and keep-alive timeouts; the connection limit), the server's memory stays bounded, and the normal client
keeps getting answers, 99 % of them within a second.

One worker (its pid is the process we started, whose memory /proc shows), short limits from a config
file so that each test takes a few seconds. ``tests/clients/test_transport_limits.py`` covers one
connection of each kind in detail; this module is about many at once and about who else gets served.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, configured_server, external_server
from tests.clients.test_transport_limits import connect, rss_kib, worker_pid

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
SEND_TIMEOUT = 1.5
KEEPALIVE_TIMEOUT = 1.5
MAX_CONNECTIONS = 120
MIB = 1024 * 1024
#: The normal client's bound: 99 % of its requests answered within this many seconds.
P99_BOUND = 1.0
BUCKET = unique_bucket("slow")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    if external_server() is not None:
        pytest.skip("runs a satchel process of its own (SATCHEL_TEST_ENDPOINT is set)")
    return configured_server(tmp_path_factory, request, "slow",
                             f"header_timeout = {HEADER_TIMEOUT}\nbody_timeout = {BODY_TIMEOUT}\n"
                             f"send_timeout = {SEND_TIMEOUT}\nkeepalive_timeout = {KEEPALIVE_TIMEOUT}\n"
                             f"max_connections = {MAX_CONNECTIONS}\n", "--workers", "1")


@pytest.fixture(scope="module")
def s3(server: SatchelProcess) -> Any:
    client = make_client(server)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="small", Body=b"s" * 1000)
    return client


def worker_rss_kib(server: SatchelProcess) -> int:
    """The worker's resident memory: with one worker, ``satchel serve`` execs into it."""
    return rss_kib(worker_pid(server))


def closed_by_server(sock: socket.socket) -> bytes | None:
    """What the server sent before closing, or None while the connection is still open."""
    if not select.select([sock], [], [], 0)[0]:
        return None
    data = b""
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def request_head(url: str, method: str = "GET") -> bytes:
    parts = urlsplit(url)
    return f"{method} {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()


def health(server: SatchelProcess) -> bytes:
    """A health check on a fresh connection: the status line."""
    with connect(server) as sock:
        sock.sendall(b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return sock.recv(4096).split(b"\r\n", 1)[0]


@dataclass
class Probe:
    """A normal boto3 client reading a small object in a loop, timing every answer."""

    s3: Any
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set() and len(self.latencies) < 5000:
            started = time.monotonic()
            try:
                assert self.s3.get_object(Bucket=BUCKET, Key="small")["Body"].read() == b"s" * 1000
            except (ClientError, BotoCoreError, AssertionError) as exc:
                self.errors.append(repr(exc)[:200])
            self.latencies.append(time.monotonic() - started)
            self.stop.wait(0.02)

    def check(self) -> None:
        assert not self.errors, self.errors[:3]
        assert len(self.latencies) >= 10, "the normal client was hardly served"
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"normal client: {len(ordered)} requests, p50 {ordered[len(ordered) // 2] * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")  # the figures of docs/reliability.md
        assert p99 < P99_BOUND, f"normal client p99 {p99:.3f} s over {len(ordered)} requests"


@contextlib.contextmanager
def normal_client(server: SatchelProcess) -> Iterator[Probe]:
    """A normal client at work for the ``with`` block; its answers are checked when the block ends."""
    probe = Probe(make_client(server))
    thread = threading.Thread(target=probe.run, name="probe", daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        probe.stop.set()
        thread.join(timeout=30)
    probe.check()


def wait_all_closed(socks: list[socket.socket], within: float) -> list[bytes]:
    """What each connection got before the server closed it; fails if one is still open after ``within``."""
    answers: dict[int, bytes] = {}
    deadline = time.monotonic() + within
    while len(answers) < len(socks) and time.monotonic() < deadline:
        for number, sock in enumerate(socks):
            if number not in answers and (got := closed_by_server(sock)) is not None:
                answers[number] = got
        time.sleep(0.05)
    assert len(answers) == len(socks), f"{len(socks) - len(answers)} connections still open after {within} s"
    return [answers[n] for n in range(len(socks))]


# --- slowloris --------------------------------------------------------------------------------------------
def test_slowloris_on_headers_is_cut_off_at_the_header_timeout(server: SatchelProcess, s3: Any) -> None:
    """Fifty connections each sending a header byte every 100 ms: each one gets 408 at the header
    timeout, counted from its first byte, however steadily it sends."""
    with normal_client(server), contextlib.ExitStack() as stack:
        socks = [stack.enter_context(connect(server)) for _ in range(50)]
        started = time.monotonic()
        for sock in socks:
            sock.sendall(b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() - started < HEADER_TIMEOUT + 0.5:
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"X")
            time.sleep(0.1)
        answers = wait_all_closed(socks, within=2.0)
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), {a[:30] for a in answers}


def test_slowloris_on_bodies_is_cut_off_at_the_body_timeout(server: SatchelProcess, s3: Any) -> None:
    """Fifty presigned uploads that send their headers and a little of the body, then nothing: each
    gets 408 at the body timeout and no object is created."""
    keys = [f"stalled-{n}" for n in range(50)]
    urls = [s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
            for key in keys]
    with normal_client(server), contextlib.ExitStack() as stack:
        socks = [stack.enter_context(connect(server)) for _ in urls]
        for sock, url in zip(socks, urls, strict=True):
            sock.sendall(request_head(url, "PUT") + b"Content-Length: 1000000\r\n\r\n" + b"x" * 1000)
        started = time.monotonic()
        answers = wait_all_closed(socks, within=BODY_TIMEOUT + 2.5)
        assert time.monotonic() - started >= BODY_TIMEOUT - 0.2
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), {a[:30] for a in answers}
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="stalled-").get("Contents", [])}
    assert not listed


# --- idle connections and the connection limit -----------------------------------------------------------
def test_idle_kept_alive_connections_beyond_the_limit_make_room_and_time_out(server: SatchelProcess,
                                                                                 s3: Any) -> None:
    """More idle kept-alive connections than the worker keeps (a client pool left open, or an attack):
    each new connection beyond the limit closes the one idle longest, so new clients are always served,
    never refused; each idle one costs little memory; and all of them close at the keep-alive timeout."""
    count = MAX_CONNECTIONS + 60
    before = worker_rss_kib(server)
    with normal_client(server), contextlib.ExitStack() as stack:
        socks = []
        for _ in range(count):
            sock = stack.enter_context(connect(server))
            sock.sendall(b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")  # served, then left idle, kept alive
            socks.append(sock)
        grown = worker_rss_kib(server) - before
        closed = [closed_by_server(sock) is not None for sock in socks]
        assert health(server) == b"HTTP/1.1 200 OK"
        # The oldest idle connections made room for the newer ones, oldest first (the probe's connection,
        # idle for 20 ms at a time, is never the oldest): all of the first 55 of the 60 beyond the limit.
        reclaimed = sum(closed)
        assert reclaimed >= count - MAX_CONNECTIONS and all(closed[:55]), closed
        assert all(closed_by_server(sock) is None for sock in socks[-20:])
        print(f"{count} idle connections: {reclaimed} reclaimed, worker RSS +{grown} KiB")
        assert grown < 16 * 1024, f"{count} idle connections cost {grown} KiB"
        wait_all_closed(socks, within=KEEPALIVE_TIMEOUT + 2)  # and every idle one times out


def test_connections_beyond_the_limit_get_slowdown_when_none_is_idle(server: SatchelProcess) -> None:
    """As many connections as the limit, all busy (inside their header timeout): one more is answered
    S3's 503 SlowDown and closed, a client SDK backs off and retries; once the busy ones time out,
    new connections are served again."""
    with contextlib.ExitStack() as stack:
        # 10 more than the limit: an idle connection left by an earlier test (a pooled one) is closed
        # to make room first; the rest are refused.
        socks = [stack.enter_context(connect(server)) for _ in range(MAX_CONNECTIONS + 10)]
        for sock in socks:
            sock.sendall(b"GET /_satchel/health HTTP/1.1\r\n")
        time.sleep(0.2)
        refused = [got for sock in socks if (got := closed_by_server(sock)) is not None]
        assert refused, "no connection beyond the limit was refused"
        assert len(refused) <= 10
        for answer in refused:
            assert answer.startswith(b"HTTP/1.1 503 ") and b"<Code>SlowDown</Code>" in answer, answer
            assert b"retry-after: 1\r\n" in answer.lower()
        wait_all_closed(socks, within=HEADER_TIMEOUT + 2)
    assert health(server) == b"HTTP/1.1 200 OK"


# --- slow readers -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def large_object(s3: Any) -> tuple[str, int]:
    size = 200 * MIB
    s3.put_object(Bucket=BUCKET, Key="large", Body=os.urandom(MIB) * 200)
    return "large", size


def test_a_reader_taking_one_byte_at_a_time_costs_no_memory_and_is_cut_off_once_it_stops(
        server: SatchelProcess, s3: Any, large_object: tuple[str, int]) -> None:
    """A 200 MiB download read one byte per call: the server sends as the client reads, holding a
    bounded buffer, not the object; when the reader stops reading it is cut off at the send timeout."""
    key, size = large_object
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    before = worker_rss_kib(server)
    peak = before
    got = 0
    with normal_client(server), connect(server, rcvbuf=16 * 1024) as sock:
        sock.sendall(request_head(url) + b"\r\n")
        started = time.monotonic()
        while time.monotonic() - started < 2.0:
            got += len(sock.recv(1))
            if got % 200 == 0:
                peak = max(peak, worker_rss_kib(server))
                time.sleep(0.001)
        assert got > 1000
        time.sleep(SEND_TIMEOUT + 1.0)  # ... and now it stops reading
        peak = max(peak, worker_rss_kib(server))
        sock.settimeout(5)
        rest = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(1 << 20):
                rest += chunk
        assert got + len(rest) < size // 4, "the server kept sending to a reader that stopped"
    print(f"slow reader: {got} bytes one at a time, {len(rest)} more after it stopped; worker RSS "
          f"+{peak - before} KiB at most")
    assert peak - before < 32 * 1024, f"memory grew {peak - before} KiB while a 200 MiB object was read slowly"
    assert health(server) == b"HTTP/1.1 200 OK"


def test_many_readers_that_do_not_read_cost_a_bounded_buffer_each(
        server: SatchelProcess, s3: Any, large_object: tuple[str, int]) -> None:
    """Forty downloads of the 200 MiB object that read nothing: each holds what fills its socket buffers
    and one read chunk, never the object; all are cut off at the send timeout; others are served."""
    key, _ = large_object
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    before = worker_rss_kib(server)
    with normal_client(server), contextlib.ExitStack() as stack:
        socks = [stack.enter_context(connect(server, rcvbuf=16 * 1024)) for _ in range(40)]
        for sock in socks:
            sock.sendall(request_head(url) + b"\r\n")
        time.sleep(1.0)
        grown = worker_rss_kib(server) - before
        print(f"40 stalled readers of 200 MiB: worker RSS +{grown} KiB")
        # Each holds up to a read chunk in its write buffer and one read ahead (~0.5-0.75 MiB measured);
        # holding the object would be 200 MiB each.
        assert grown < 64 * 1024, f"40 stalled readers cost {grown} KiB"
        time.sleep(SEND_TIMEOUT + 0.5)  # still not reading: every one of them is cut off by now
        for sock in socks:
            sock.settimeout(5)
        received = [_drained(sock) for sock in socks]
    assert max(received) < 16 * MIB, max(received)


def _drained(sock: socket.socket) -> int:
    """Bytes read until the connection ends (a reset included)."""
    total = 0
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    return total
