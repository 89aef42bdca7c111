"""The whole ASGI application in-process, for the ``s3-app`` fuzz harness: one node per process (SQLite and
blobs in a temporary directory, a known root key, one bucket with one object), and a way to send it one
request and get the status back without a socket. Built on the in-process tier's driver (tests/app)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

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


#: The Swift account of root and the TempURL key the ``links-app`` harness sets on it.
SWIFT_ACCOUNT = "AUTH_root"
TEMPURL_KEY = b"fuzz-tempurl-key"

_INSTANCE_LINKS: dict[str, dict[str, str]] = {}


def link_world() -> dict[str, str]:
    """On the process's app, once: a read-write PAR on the bucket (listing allowed) and a TempURL key on
    root's Swift account. Returns ``token`` and ``namespace`` of the PAR."""
    made = instance()
    if "links" not in _INSTANCE_LINKS:
        reply = made.api("POST", "/pars", {
            "name": "fuzz", "bucket": BUCKET, "accessType": "AnyObjectReadWrite", "bucketListingAction": "ListObjects",
            "timeExpires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))})
        assert reply.status == 200, reply.body
        parts = urlsplit(reply.json()["fullPath"]).path.split("/")
        auth = made.request("GET", "/auth/v1.0", [("X-Auth-User", "root:root"), ("X-Auth-Key", made.root.secret)])
        assert auth.status == 200, auth.status
        token = auth.header("x-auth-token") or ""
        key = made.request("POST", f"/v1/{SWIFT_ACCOUNT}", [("X-Auth-Token", token),
                                                             ("X-Account-Meta-Temp-URL-Key", TEMPURL_KEY.decode())])
        assert key.status == 204, key.status
        _INSTANCE_LINKS["links"] = {"token": parts[2], "namespace": parts[4]}
    return _INSTANCE_LINKS["links"]
