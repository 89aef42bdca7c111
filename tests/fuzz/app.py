"""The whole ASGI application in-process, for the ``s3-app`` fuzz harness: one node per process (SQLite and
blobs in a temporary directory, a known root key, one bucket with one object), and a way to send it one
request and get the status back without a socket. Built on the in-process tier's driver (tests/app)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from tests.app.driver import InProcessApp
from tests.app.driver import sign as sign_as

BUCKET = "fuzz"

_INSTANCE: dict[str, InProcessApp] = {}


def instance() -> InProcessApp:
    """The process's app, made on first use."""
    if "app" not in _INSTANCE:
        data_dir = Path(tempfile.mkdtemp(prefix="satchel-fuzz-"))
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
        made = InProcessApp(data_dir)
        for method, target, body in (("PUT", f"/{BUCKET}", b""), ("PUT", f"/{BUCKET}/obj.txt", b"fuzz object")):
            status = made.s3(method, target, body=body).status
            assert status == 200, (method, target, status)
        _INSTANCE["app"] = made
    return _INSTANCE["app"]


def sign(auth: str, method: str, target: str, headers: list[tuple[str, str]],
         body: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(target, headers) of the request signed by root: ``v4`` header, ``v4q`` presigned, else as given."""
    if auth not in ("v4", "v4q"):
        return target, headers
    return sign_as(instance().root, method, target, headers, body, presign=auth == "v4q")
