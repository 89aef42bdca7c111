"""``log_format = "json"``: one JSON object per line, access fields at the top level, every string
field redacted (the message, a field such as the request target, and a traceback)."""

from __future__ import annotations

import json
import logging
import sys

from satchel.logs import JsonFormatter, access_line
from satchel.requestinfo import RequestInfo

SIGNATURE = "3f2a9c0d1e2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f"


def record(message: str, *, fields: dict[str, object] | None = None, error: bool = False) -> logging.LogRecord:
    exc_info = None
    if error:
        try:
            raise ValueError(f"bad /b/k?X-Amz-Signature={SIGNATURE}")
        except ValueError:
            exc_info = sys.exc_info()
    entry = logging.LogRecord("satchel.access", logging.INFO, __file__, 1, message, None, exc_info)
    if fields is not None:
        entry.fields = fields
    return entry


def test_access_line_as_json() -> None:
    scope = {"client": ("198.51.100.4", 5000), "raw_path": b"/photos/cat.jpg", "method": "GET",
             "query_string": f"X-Amz-Credential=AK%2Fx&X-Amz-Signature={SIGNATURE}".encode(), "http_version": "1.1"}
    info = RequestInfo("REQ1", frontend="s3", operation="GetObject", bucket="photos", principal="alice",
                       access_key_id="AKALICE", status=200, bytes_in=0, bytes_out=1234)
    message, fields = access_line(scope, info, 0.0125)
    line = JsonFormatter().format(record(message, fields=fields))
    entry = json.loads(line)
    assert SIGNATURE not in line
    assert entry["target"] == "/photos/cat.jpg?X-Amz-Credential=AK%2Fx&X-Amz-Signature=REDACTED"
    assert {k: entry[k] for k in ("request_id", "operation", "bucket", "principal", "status", "bytes_out")} == {
        "request_id": "REQ1", "operation": "GetObject", "bucket": "photos", "principal": "alice", "status": 200,
        "bytes_out": 1234}
    assert entry["duration_ms"] == 12.5 and entry["level"] == "info" and entry["time"].endswith("Z")
    assert '"GET /photos/cat.jpg?X-Amz-Credential=AK%2Fx&X-Amz-Signature=REDACTED HTTP/1.1" 200' in entry["message"]


def test_tracebacks_are_redacted_too() -> None:
    line = JsonFormatter().format(record("failed", error=True))
    assert SIGNATURE not in line and "X-Amz-Signature=REDACTED" in json.loads(line)["exception"]
