"""What one client may cost the server, through raw sockets against a real ``satchel serve``: header
size, header, body and send timeouts (nginx's ``large_client_header_buffers``, ``client_header_timeout``,
``client_body_timeout``, ``send_timeout``), and a download abandoned half way.

The server runs with short limits from a config file, one worker (so its pid is the one process that
serves, whose memory and reads /proc shows) and the access log on.
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, eventually, venv_tool

MAX_HEADER = 16 * 1024
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
SEND_TIMEOUT = 1.0
MIB = 1024 * 1024
BUCKET = unique_bucket("limits")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    root = tmp_path_factory.mktemp("limits")
    config = root / "satchel.toml"
    config.write_text(f"max_header_bytes = {MAX_HEADER}\nheader_timeout = {HEADER_TIMEOUT}\n"
                      f"body_timeout = {BODY_TIMEOUT}\nsend_timeout = {SEND_TIMEOUT}\naccess_log = true\n")
    proc = SatchelProcess(root / "data", extra_args=("--config", str(config)))
    request.addfinalizer(proc.stop)
    proc.start()
    return proc


@pytest.fixture(scope="module")
def s3(server: SatchelProcess) -> Any:
    """A boto3 client of the root key, with the bucket of this module created."""
    client = make_client(server)
    client.create_bucket(Bucket=BUCKET)
    return client


def worker_pid(server: SatchelProcess) -> int:
    """One worker: ``satchel serve`` execs into it, so the process we started is the one serving."""
    assert server._proc is not None
    return server._proc.pid


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def bytes_read(pid: int) -> int:
    """Bytes the process read with read/pread so far (page cache included)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def connect(server: SatchelProcess, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    return sock


def read_all(sock: socket.socket, limit: int = 1 << 30) -> bytes:
    """Everything until the server closes (a reset counts as a close)."""
    data = bytearray()
    try:
        while len(data) < limit:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return bytes(data)


def read_head(sock: socket.socket) -> bytes:
    """One response's status line and headers."""
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, "closed inside the headers"
        data += byte
    return data


def health_seconds(server: SatchelProcess) -> float:
    """How long a health check takes on a fresh connection (it must stay quick whatever else goes on)."""
    started = time.monotonic()
    with connect(server) as sock:
        sock.sendall(b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")
    return time.monotonic() - started


def request_line(url: str, method: str = "GET") -> bytes:
    parts = urlsplit(url)
    return f"{method} {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()


# --- header size ----------------------------------------------------------------------------------------
def _send_huge_header(server: SatchelProcess, total: int, answers: list[bytes]) -> None:
    """A client that keeps sending one endless header line whatever the server says, up to ``total``."""
    piece = b"a" * (64 * 1024)
    with connect(server) as sock:
        sent = 0
        try:
            sock.sendall(b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\nX-Huge: ")
            while sent < total:
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answers.append(read_all(sock))


def test_a_huge_header_gets_431_before_the_server_buffers_it(server: SatchelProcess) -> None:
    pid = worker_pid(server)
    assert health_seconds(server) < 2
    before = rss_kib(pid)
    answers: list[bytes] = []
    clients = [threading.Thread(target=_send_huge_header, args=(server, 24 * MIB, answers)) for _ in range(4)]
    peak = before
    for client in clients:
        client.start()
    while any(client.is_alive() for client in clients):
        peak = max(peak, rss_kib(pid))
        time.sleep(0.01)
    for client in clients:
        client.join(timeout=20)
    assert len(answers) == 4
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert b"connection: close" in answer.lower()
    # 96 MiB of headers went in; what the worker kept is a few reads' worth, not the headers.
    assert peak - before < 16 * 1024, f"worker RSS grew by {(peak - before) // 1024} MiB"
    assert health_seconds(server) < 2


def test_header_block_limit_is_exact(server: SatchelProcess) -> None:
    """A block of exactly ``max_header_bytes`` on the wire is served; one byte more is refused."""
    def block(size: int) -> bytes:
        head = b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
        return head + b"p" * (size - len(head) - 4) + b"\r\n\r\n"

    for size, status in ((MAX_HEADER - 200, b"200"), (MAX_HEADER + 1, b"431")):
        with connect(server) as sock:
            sock.sendall(block(size))
            assert read_all(sock).startswith(b"HTTP/1.1 " + status), size
    # The same in several reads: the count carries over from read to read.
    for size, status in ((MAX_HEADER, b"200"), (MAX_HEADER + 1, b"431")):
        data = block(size)
        with connect(server) as sock:
            for start in range(0, len(data), 5000):
                sock.sendall(data[start : start + 5000])
                time.sleep(0.02)
            assert read_all(sock).startswith(b"HTTP/1.1 " + status), size
    # At exactly the limit the wire count admits it; the application's own count (names and values
    # only, which are shorter) admits it too.
    with connect(server) as sock:
        sock.sendall(block(MAX_HEADER))
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")


def test_a_pipelined_oversized_request_does_not_disturb_the_answers_before_it(server: SatchelProcess) -> None:
    small = b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\n\r\n"
    huge = b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"h" * (4 * MAX_HEADER) + b"\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(small + small + huge)
        answer = read_all(sock)
    assert answer.count(b"HTTP/1.1 200 ") == 2, answer
    assert b"HTTP/1.1 431" not in answer or answer.index(b"HTTP/1.1 431") > answer.rindex(b"HTTP/1.1 200")


def test_endless_trailers_of_a_chunked_upload_are_cut_off(server: SatchelProcess, s3: Any) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "trailers"}, ExpiresIn=300)
    pid = worker_pid(server)
    before = rss_kib(pid)
    with connect(server) as sock:
        sock.sendall(request_line(url, "PUT") + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: ")
        try:
            for _ in range(256):  # 16 MiB of one trailer value
                sock.sendall(b"t" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_all(sock)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert rss_kib(pid) - before < 8 * 1024
    assert "trailers" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


# --- pipelining -----------------------------------------------------------------------------------------
def missing(i: int) -> bytes:
    """A request whose answer names it (NoSuchBucket, with its path as the Resource): cheap, and in order."""
    return b"GET /no-such-bucket/k%d HTTP/1.1\r\nHost: x\r\n\r\n" % i


def resources(answers: bytes) -> list[bytes]:
    return re.findall(rb"<Resource>([^<]*)</Resource>", answers)


def test_a_pipelining_flood_is_parsed_no_faster_than_it_is_answered(server: SatchelProcess) -> None:
    # A client that sends requests and does not read the answers: each answer sent made the server read
    # and queue every request of its next read, ~2 KB apiece, without bound (20k requests: ~50 MB).
    pid = worker_pid(server)
    count = 20_000
    flood = b"".join(missing(i) for i in range(count))
    closing = b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    before = rss_kib(pid)
    with connect(server, rcvbuf=4096) as sock:
        sock.settimeout(30)
        sender = threading.Thread(target=sock.sendall, args=(flood + closing,), daemon=True)
        sender.start()
        grown = 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the client reads nothing meanwhile
            grown = max(grown, rss_kib(pid) - before)
            time.sleep(0.05)
        answers = read_all(sock)
        sender.join(5)
    assert grown < 30 * 1024, f"{grown} KiB"
    assert resources(answers) == [b"/no-such-bucket/k%d" % i for i in range(count)]
    assert answers.count(b"HTTP/1.1 404 ") == count
    assert answers.endswith(b'{"status": "ok"}')


def test_a_few_pipelined_requests_are_answered_in_order_and_the_connection_kept(
        server: SatchelProcess, s3: Any) -> None:
    put = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "piped"}, ExpiresIn=300)
    get = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "piped"}, ExpiresIn=300)
    body = b"piped\r\n\r\nbody"  # a header block's end inside a body is body
    with connect(server) as sock:
        sock.sendall(missing(1) + request_line(put, "PUT") + b"Content-Length: %d\r\n\r\n" % len(body) + body
                     + missing(2) + request_line(get) + b"\r\n" + missing(3))
        answers = b""
        while answers.count(b"HTTP/1.1 ") < 5 or not answers.endswith(b"</Error>"):
            chunk = sock.recv(65536)
            assert chunk, answers
            answers += chunk
        assert re.findall(rb"HTTP/1.1 (\d+)", answers) == [b"404", b"200", b"404", b"200", b"404"]
        assert resources(answers) == [b"/no-such-bucket/k1", b"/no-such-bucket/k2", b"/no-such-bucket/k3"]
        assert body in answers
        sock.sendall(missing(4))  # kept alive
        assert read_head(sock).startswith(b"HTTP/1.1 404 ")


def test_a_malformed_request_behind_a_valid_one_leaves_the_valid_ones_answer(server: SatchelProcess,
                                                                              s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="doomed", Body=b"x")
    url = s3.generate_presigned_url("delete_object", Params={"Bucket": BUCKET, "Key": "doomed"}, ExpiresIn=300)
    with connect(server) as sock:
        sock.sendall(request_line(url, "DELETE") + b"\r\n" + missing(1) + b"BOGUS\0\r\n\r\n")
        answers = read_all(sock)
    assert re.findall(rb"HTTP/1.1 (\d+)", answers) == [b"204", b"404", b"400"], answers
    assert "doomed" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    # A queued request whose chunked body is malformed gets the 400 in its turn, after the answers before it.
    put = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "never"}, ExpiresIn=300)
    with connect(server) as sock:
        sock.sendall(missing(1) + missing(2) + request_line(put, "PUT") + b"Transfer-Encoding: chunked\r\n\r\n"
                     + b"zz\r\n")
        answers = read_all(sock)
    assert re.findall(rb"HTTP/1.1 (\d+)", answers) == [b"404", b"404", b"400"], answers
    assert "never" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_chunk_larger_than_any_body_gets_400_at_once(server: SatchelProcess, s3: Any) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "huge-chunk"}, ExpiresIn=300)
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(request_line(url, "PUT") + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 "), answer  # not a 408 once the body timeout is over
    assert time.monotonic() - started < BODY_TIMEOUT
    # Chunk data that looks like a chunk size, sizes split across reads, extensions: all accepted.
    data = b"\r\nffffffffffffffff\r\n" * 3
    with connect(server) as sock:
        size = b"%x" % (len(data) - 16)
        sock.sendall(request_line(url, "PUT") + b"Transfer-Encoding: chunked\r\n\r\n" + size[:1])
        time.sleep(0.05)
        sock.sendall(size[1:] + b";name=value\r\n" + data[:-16] + b"\r\n")
        time.sleep(0.05)
        sock.sendall(b"%x\r\n" % 16 + data[-16:] + b"\r\n0\r\n\r\n")
        assert read_head(sock).startswith(b"HTTP/1.1 200 ")
    assert s3.get_object(Bucket=BUCKET, Key="huge-chunk")["Body"].read() == data
    # A header block whose end is split across reads, and chunk data with a line that reads as a size.
    with connect(server) as sock:
        sock.sendall(request_line(url, "PUT") + b"Transfer-Encoding: chunked\r\n\r")
        time.sleep(0.05)
        sock.sendall(b"\n%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n")
        assert read_head(sock).startswith(b"HTTP/1.1 200 ")


# --- time -----------------------------------------------------------------------------------------------
def test_a_trickled_header_block_is_cut_off_while_others_are_served(server: SatchelProcess) -> None:
    with connect(server) as slow, connect(server) as idle:
        started = time.monotonic()
        slow.sendall(b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        while time.monotonic() - started < HEADER_TIMEOUT + 3:
            assert health_seconds(server) < 2  # everyone else is served meanwhile
            try:
                slow.sendall(b"X-Drip: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            if select.select([slow], [], [], 0.2)[0]:
                answer = read_all(slow)
                break
        elapsed = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert HEADER_TIMEOUT - 0.1 <= elapsed < HEADER_TIMEOUT + 2
        # A connection that never sent a byte is closed as quietly as it came.
        idle.settimeout(HEADER_TIMEOUT + 2)
        assert read_all(idle) == b""


def test_a_kept_alive_connection_times_each_request_from_its_first_byte(server: SatchelProcess) -> None:
    health = b"GET /_satchel/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(health)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        time.sleep(HEADER_TIMEOUT + 0.3)  # idle between requests: the keep-alive timeout's business
        sock.sendall(health[:10])
        time.sleep(HEADER_TIMEOUT * 0.5)
        sock.sendall(health[10:])
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")


def test_the_body_clock_starts_at_100_continue(server: SatchelProcess, s3: Any) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "expect"}, ExpiresIn=300)
    with connect(server) as sock:
        sock.sendall(request_line(url, "PUT") + b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 ")
        time.sleep(BODY_TIMEOUT * 0.6)
        sock.sendall(b"ab")
        time.sleep(BODY_TIMEOUT * 0.6)  # 1.2 timeouts in all, never one between two reads
        sock.sendall(b"cd")
        assert read_head(sock).startswith(b"HTTP/1.1 200 ")  # an empty body: nothing more to read
        sock.sendall(request_line(url, "PUT") + b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 ")
        sock.settimeout(BODY_TIMEOUT + 3)
        assert read_all(sock).startswith(b"HTTP/1.1 408 ")  # ... and a body that never comes is cut off
    assert s3.get_object(Bucket=BUCKET, Key="expect")["Body"].read() == b"abcd"


def test_a_stalled_body_is_cut_off(server: SatchelProcess, s3: Any) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "stalled"}, ExpiresIn=300)
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(request_line(url, "PUT") + b"Content-Length: 100000\r\n\r\n" + b"x" * 1000)
        sock.settimeout(BODY_TIMEOUT + 3)
        answer = read_all(sock)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert BODY_TIMEOUT - 0.1 <= elapsed < BODY_TIMEOUT + 2
    assert "stalled" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert "Traceback" not in server.log_tail(200)


def test_a_body_that_keeps_coming_slowly_is_not_cut_off(server: SatchelProcess, s3: Any) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "slow"}, ExpiresIn=300)
    pieces = 5
    with connect(server) as sock:
        sock.sendall(request_line(url, "PUT") + b"Content-Length: 5\r\n\r\n")
        for _ in range(pieces):  # 5 x 0.4 s: longer than the timeout in all, never between two reads
            time.sleep(BODY_TIMEOUT * 0.4)
            sock.sendall(b"s")
        assert read_all(sock, limit=12).startswith(b"HTTP/1.1 200")
    assert s3.get_object(Bucket=BUCKET, Key="slow")["Body"].read() == b"s" * pieces


# --- abandoned and stalled downloads --------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_object(s3: Any) -> tuple[str, int]:
    size = 64 * MIB
    s3.put_object(Bucket=BUCKET, Key="big", Body=os.urandom(MIB) * 64)
    return "big", size


def cli(server: SatchelProcess, *args: str) -> Any:
    """``satchel ARGS --json`` as the root key against the server: its decoded answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SATCHEL_"))}
    env.update(SATCHEL_ENDPOINT=server.endpoint, AWS_ACCESS_KEY_ID=server.access_key,
               AWS_SECRET_ACCESS_KEY=server.secret_key, AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    proc = subprocess.run([venv_tool("satchel"), *args, "--json"], env=env, capture_output=True, text=True,
                          timeout=30, check=True)
    return json.loads(proc.stdout)


def audited_bytes(server: SatchelProcess, key: str, count: int) -> list[int]:
    found: list[int] = []

    def check() -> bool:
        events = cli(server, "audit", "--bucket", BUCKET, "--action", "use")["events"]
        found[:] = [e["bytes"] for e in events if e["key"] == key]
        return len(found) >= count

    assert eventually(check, timeout=5)
    return found


def test_an_abandoned_download_stops_reading_and_is_audited_with_what_was_sent(
        server: SatchelProcess, s3: Any, big_object: tuple[str, int]) -> None:
    key, size = big_object
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    pid = worker_pid(server)
    read_before = bytes_read(pid)
    with connect(server) as sock:
        sock.sendall(request_line(url) + b"\r\n")
        got = 0
        while got < 256 * 1024:
            got += len(sock.recv(65536))
    time.sleep(0.3)  # let the server notice
    assert bytes_read(pid) - read_before < size // 2, "the server read on after the client left"
    sent = audited_bytes(server, key, 1)
    assert 256 * 1024 <= sent[0] < size // 2
    assert s3.get_object(Bucket=BUCKET, Key=key)["ContentLength"] == size  # and all is well afterwards
    assert "ERROR" not in server.log_tail(400)  # a client leaving is no error of ours


def test_a_reader_that_stops_reading_is_cut_off(
        server: SatchelProcess, s3: Any, big_object: tuple[str, int]) -> None:
    key, size = big_object
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    with connect(server, rcvbuf=64 * 1024) as sock:
        sock.sendall(request_line(url) + b"\r\n")
        time.sleep(SEND_TIMEOUT + 1.5)
        received = len(read_all(sock))
    assert 0 < received < size // 2
    assert health_seconds(server) < 1


# --- the access log -------------------------------------------------------------------------------------
def test_the_access_log_never_shows_a_link_secret(server: SatchelProcess, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="logged/report.txt", Body=b"report")
    v4, v2 = (make_client(server, signature_version=version).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "logged/report.txt"}, ExpiresIn=300)
        for version in ("s3v4", "s3"))
    minted = cli(server, "presign", f"s3://{BUCKET}/logged/report.txt")["links"][0]
    secrets = [parse_qs(urlsplit(v4).query)["X-Amz-Signature"][0], parse_qs(urlsplit(v2).query)["Signature"][0],
               parse_qs(urlsplit(minted["url"]).query)["X-Amz-Signature"][0], minted["link"]["id"]]
    # Whatever the answer, a secret under another spelling of its name must not show either.
    respelled = [v4.replace("X-Amz-Signature=", "x-amz-signature="),
                 v4.replace("X-Amz-Signature=", "X%2DAmz%2DSignature="), v4.replace("report", "missing")]
    for url, status in [(v4, b"200"), (v2, b"200"), (minted["url"], b"200"), *((u, b"") for u in respelled)]:
        with connect(server) as sock:
            sock.sendall(request_line(url) + b"Connection: close\r\n\r\n")
            assert read_all(sock).startswith(b"HTTP/1.1 " + status), url
    time.sleep(0.2)
    log = server.log_path.read_text(errors="replace")
    assert log.count(f"/{BUCKET}/logged/report.txt?") >= 4  # the requests are logged ...
    for secret in secrets:
        assert secret not in log  # ... their secrets never
        assert quote(secret, safe="") not in log
    assert "X-Amz-Signature=REDACTED" in log and "x-amz-signature=REDACTED" in log
    assert "X%2DAmz%2DSignature=REDACTED" in log and "x-amz-satchel-link-id=REDACTED" in log
