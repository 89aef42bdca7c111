"""The wire side shared by the ``test_presign_*`` modules: fetching a link the way a person would (requests
or a curl subprocess), reading S3 error documents, and signing links at another moment with botocore.

This module holds no tests; it sits in the ``test_presign_*`` family so the presign tier stays one set of
files. A presigned URL is only useful if any HTTP client can use it verbatim, so every helper here takes
the URL exactly as the signer printed it and never re-encodes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import defusedxml.ElementTree as ET
import requests

TIMEOUT = 30

#: A function that performs one request on a presigned URL: ``fetch(method, url, data=None, headers=None)``.
Fetch = Callable[..., "Reply"]


@dataclass(frozen=True)
class S3ErrorDoc:
    """The ``<Error>`` document: code, message and every other element (X-Amz-Expires, StringToSign...)."""

    code: str
    message: str
    elements: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def error(self) -> S3ErrorDoc:
        return parse_error(self.body)

    def describe(self) -> str:
        return f"{self.status} {self.headers} {self.body[:2000]!r}"


def parse_error(body: bytes) -> S3ErrorDoc:
    root = ET.fromstring(body)
    assert root.tag.rpartition("}")[2] == "Error", body
    elements = {child.tag.rpartition("}")[2]: child.text or "" for child in root}
    return S3ErrorDoc(elements.pop("Code", ""), elements.pop("Message", ""), elements)


def assert_error(reply: Reply, status: int, code: str, message: str | None = None) -> S3ErrorDoc:
    """The reply is the S3 error ``code`` with ``status`` (and, when given, exactly ``message``)."""
    assert reply.status == status, reply.describe()
    doc = reply.error()
    assert doc.code == code, reply.describe()
    if message is not None:
        assert doc.message == message, reply.describe()
    return doc


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# --- fetching ---------------------------------------------------------------------------------------------
def fetch_requests(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    resp = requests.request(method, url, data=data, headers=headers or {}, timeout=TIMEOUT, allow_redirects=False)
    return Reply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content)


def _parse_header_dump(text: str) -> tuple[int, dict[str, str]]:
    # curl writes one block per response (a 100 Continue comes first); the last block is the answer.
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    lines = blocks[-1].split("\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def fetch_curl(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    """curl as a user pastes a link into a shell: ``-g`` so ``[]{}`` are not globbed, no URL rewriting."""
    with tempfile.TemporaryDirectory(prefix="curl-") as tmp:
        out, dump = Path(tmp) / "body", Path(tmp) / "headers"
        cmd = ["curl", "-sS", "-g", "--max-time", str(TIMEOUT), "-D", str(dump), "-o", str(out)]
        if method == "HEAD":
            cmd.append("--head")
        elif data is not None:
            upload = Path(tmp) / "upload"
            upload.write_bytes(data)
            # -T sends the file as-is with no Content-Type, as `curl -T file URL` does for a presigned PUT.
            cmd += ["-T", str(upload), "-X", method]
        else:
            cmd += ["-X", method]
        for name, value in (headers or {}).items():
            cmd += ["-H", f"{name}: {value}"]
        cmd.append(url)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT + 10, check=False)
        assert proc.returncode == 0, f"curl failed ({proc.returncode}): {proc.stderr}"
        status, got = _parse_header_dump(dump.read_text(errors="replace"))
        # With --head curl writes the headers to -o as well; a HEAD answer has no body by definition.
        body = out.read_bytes() if out.exists() and method != "HEAD" else b""
        return Reply(status, got, body)


FETCHERS: dict[str, Fetch] = {"requests": fetch_requests, "curl": fetch_curl}


# --- signing at another moment ----------------------------------------------------------------------------
@contextlib.contextmanager
def botocore_clock(moment: dt.datetime) -> Iterator[None]:
    """Make botocore sign as if it were ``moment``: SigV4 reads ``botocore.auth.get_current_datetime``, a POST
    policy's expiration ``botocore.signers.get_current_datetime``, and SigV2 query auth
    ``botocore.auth.time.time`` (Expires = time() + ExpiresIn)."""
    import botocore.auth
    import botocore.signers

    naive = moment.astimezone(dt.UTC).replace(tzinfo=None)
    fake_time = mock.Mock(wraps=botocore.auth.time)
    fake_time.time.return_value = moment.timestamp()
    with (
        mock.patch.object(botocore.auth, "get_current_datetime", return_value=naive),
        mock.patch.object(botocore.signers, "get_current_datetime", return_value=naive),
        mock.patch.object(botocore.auth, "time", fake_time),
    ):
        yield


def presign_at(client: Any, moment: dt.datetime, operation: str, params: dict[str, Any], expires: int) -> str:
    with botocore_clock(moment):
        return str(client.generate_presigned_url(operation, Params=params, ExpiresIn=expires))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
