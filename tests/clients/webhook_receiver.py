"""A webhook receiver on loopback for the link-notification tests: an ``http.server`` in a thread that records
every POST and answers from a script of status codes; and the README's verification snippet, loaded as text so
the tests verify signatures with exactly what a receiver is told to run."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
MAX_BODY = 1 << 20


def readme_verify() -> Callable[..., bool]:
    """``verify(secret, headers, body)`` as the README's "Link notifications" section prints it."""
    found = re.search(r"<!-- webhook-verify -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert found, "README lost its webhook verification snippet"
    namespace: dict[str, Any] = {}
    exec(found.group(1), namespace)  # noqa: S102 - the documented snippet, run as a receiver would
    verify = namespace["verify"]
    assert callable(verify)
    return verify  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Records POSTs; answers ``statuses`` in order, then ``default``."""

    def __init__(self, statuses: tuple[int, ...] = (), default: int = 200) -> None:
        self.received: list[Received] = []
        self._statuses = list(statuses)
        self._default = default
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length", "0")), MAX_BODY)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status = receiver._statuses.pop(0) if receiver._statuses else receiver._default
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default 5 refuses a burst of deliveries from several workers

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)


def receiver(statuses: tuple[int, ...] = (), default: int = 200) -> Iterator[Receiver]:
    made = Receiver(statuses, default)
    try:
        yield made
    finally:
        made.close()
