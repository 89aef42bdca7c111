"""The open-loop generator of the paced mix (bench/pacer.py) and how its "not held" steps are judged."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from bench import pacer
from bench.results import NOT_HELD, Results, table


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections, as Satchel's

    def _answer(self, body: bytes, chunked: bool = False) -> None:
        self.send_response(200)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(b"x" * 1024, chunked=self.path == "/chunked")

    def do_HEAD(self) -> None:
        self._answer(b"x" * 1024)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        ok = self.headers["Host"] == "signed.example:1"
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def test_the_generator_holds_a_rate_over_every_kind_of_request(server: int) -> None:
    mix = [pacer.Request("get", "GET", "/k"), pacer.Request("head", "HEAD", "/k"),
           pacer.Request("chunked", "GET", "/chunked"),
           pacer.Request("put", "PUT", "/k", body=b"p" * 1024, host="signed.example:1")]
    got = pacer.run("127.0.0.1", server, mix, rate=80, seconds=1.0)
    assert got.processes == 2
    assert got.failures == 0, got.statuses
    assert {kind: sum(per.values()) for kind, per in got.statuses.items()} == {
        "get": 20, "head": 20, "chunked": 20, "put": 20}
    assert got.held and got.achieved >= 76
    assert got.summary()["latency_p99_ms"] is not None


def test_a_rate_not_answered_is_not_held() -> None:
    short = pacer.Outcome(rate=1000, seconds=5, processes=3, answered=4000)
    assert short.achieved == 800 and not short.held
    assert pacer.Outcome(rate=100, seconds=5, processes=2, answered=490).held


def test_lag_under_a_rate_not_held_is_shown_but_not_judged() -> None:
    results = Results()
    results.add_server("satchel-1w", "satchel")
    results.set("satchel-1w", "loop_lag_paced1000_p99_ms", 40.0, NOT_HELD)
    results.set("satchel-1w", "loop_lag_paced100_p99_ms", 9.0)
    lines = table(results).splitlines()
    held = next(line for line in lines if "mixed requests at 100/s (open loop)" in line)
    not_held = next(line for line in lines if "mixed requests at 1000/s (open loop)" in line)
    assert "FAIL" in held
    assert "40.0 (not held)" in not_held and "n/a" in not_held and "FAIL" not in not_held
