"""Swift FormPost against a real server: multipart forms posted with curl, signed as Swift's docs show (and
as ``test_formpost.py`` in openstack/swift builds them), the files read back with S3; the refusals (size, count,
expired, bad signature, no files) with Swift's status and text, each form one audit event."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.clients import mgmt
from tests.clients.cluster import settle_audit
from tests.clients.server import SatchelProcess, eventually
from tests.clients.test_swift_tempurl import Swift


@dataclass
class Form:
    server: SatchelProcess
    container: str
    key: str

    @property
    def path(self) -> str:
        return f"/v1/AUTH_root/{self.container}/inbox/"

    def sign(self, *, redirect: str = "", size: int = 1000, count: int = 2, expires: int | None = None,
             algorithm: str = "sha256") -> dict[str, str]:
        expires = int(time.time() + 300) if expires is None else expires
        message = f"{self.path}\n{redirect}\n{size}\n{count}\n{expires}".encode()
        fields = {"max_file_size": str(size), "max_file_count": str(count), "expires": str(expires),
                  "signature": hmac.new(self.key.encode(), message, getattr(hashlib, algorithm)).hexdigest()}
        if redirect:
            fields = {"redirect": redirect, **fields}
        return fields

    def post(self, fields: dict[str, str], files: list[Path], *extra: str) -> tuple[int, dict[str, str], bytes]:
        """curl -F: the attributes first, then the files (as a browser sends them)."""
        cmd = ["curl", "-sS", "-D", "-", *extra]
        for name, value in fields.items():
            cmd += ["-F", f"{name}={value}"]
        for number, path in enumerate(files, 1):
            cmd += ["-F", f"file{number}=@{path}"]
        out = subprocess.run([*cmd, self.server.endpoint + self.path], capture_output=True, timeout=30,
                             check=True).stdout
        head, _, body = out.partition(b"\r\n\r\n")
        while head.split(b" ", 2)[1:2] == [b"100"]:
            head, _, body = body.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), headers, body


@pytest.fixture
def form(managed_server: SatchelProcess, s3: Any) -> Iterator[Form]:
    container = f"fp-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=container)
    key = secrets.token_urlsafe(24)
    Swift(managed_server, "root", managed_server.root.secret_key).run("post", "-m", f"Temp-URL-Key:{key}", container)
    yield Form(managed_server, container, key)
    for entry in s3.list_objects_v2(Bucket=container).get("Contents", []):
        s3.delete_object(Bucket=container, Key=entry["Key"])
    s3.delete_bucket(Bucket=container)


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_two_files_stored_byte_exact(form: Form, s3: Any, tmp_path: Path) -> None:
    one, two = os.urandom(900), b"second file\n"
    status, _, body = form.post(form.sign(), [_file(tmp_path, "one.bin", one), _file(tmp_path, "two.txt", two)])
    assert (status, body) == (201, b"201 Created")
    assert s3.get_object(Bucket=form.container, Key="inbox/one.bin")["Body"].read() == one
    assert s3.get_object(Bucket=form.container, Key="inbox/two.txt")["Body"].read() == two


def test_redirect_and_sha512(form: Form, tmp_path: Path) -> None:
    fields = form.sign(redirect="https://example.com/thanks?x=1", algorithm="sha512")
    status, headers, _ = form.post(fields, [_file(tmp_path, "a.txt", b"a")])
    assert status == 303 and headers["location"] == "https://example.com/thanks?x=1&status=201&message="


@pytest.mark.parametrize(("change", "files", "expected"), [
    ({}, ["big"], (400, b"FormPost: max_file_size exceeded")),
    ({}, ["a", "b", "c"], (400, b"400 Bad Request\r\nFormPost: Max File Count Exceeded")),
    ({"expires": "past"}, ["a"], (401, b"FormPost: Form Expired")),
    ({"signature": "bad"}, ["a"], (401, b"FormPost: Invalid Signature")),
    ({"max_file_size": "999999"}, ["a"], (401, b"FormPost: Invalid Signature")),
    ({}, [], (400, b"400 Bad Request\r\nFormPost: No Files To Process")),
    ({"max_file_count": None}, ["a"], (400, b"FormPost: max_file_count is missing")),
])
def test_refusals(form: Form, tmp_path: Path, change: dict[str, str | None], files: list[str],
                  expected: tuple[int, bytes]) -> None:
    fields = form.sign(expires=int(time.time()) - 5 if change.get("expires") == "past" else None)
    for name, value in change.items():
        if value is None:
            fields.pop(name)
        elif name == "signature":
            fields[name] = "0" * 64
        elif name != "expires":
            fields[name] = value
    paths = [_file(tmp_path, f"{name}.bin", os.urandom(1001) if name == "big" else b"x") for name in files]
    status, _, body = form.post(fields, paths)
    assert (status, body) == expected
    settle_audit()
    events = mgmt.ok(mgmt.call(form.server, None, "GET", f"/audit?kind=swift&bucket={form.container}&action=use"))
    assert events["events"][-1]["outcome"] == "refused" and events["events"][-1]["status"] == expected[0]


def test_key_rotated_out(form: Form, tmp_path: Path) -> None:
    fields = form.sign()
    Swift(form.server, "root", form.server.root.secret_key).run(
        "post", "-H", "X-Remove-Container-Meta-Temp-URL-Key: x", form.container)
    status, _, body = form.post(fields, [_file(tmp_path, "a.txt", b"a")])
    assert (status, body) == (401, b"FormPost: Invalid Signature")


def test_account_key_and_audit(form: Form, s3: Any, tmp_path: Path) -> None:
    account_key = secrets.token_urlsafe(24)
    swift = Swift(form.server, "root", form.server.root.secret_key)
    swift.run("post", "-m", f"Temp-URL-Key-2:{account_key}")
    try:
        signer = Form(form.server, form.container, account_key)
        status, _, _ = signer.post(signer.sign(), [_file(tmp_path, "acct.txt", b"via the account key")])
        assert status == 201
        assert s3.get_object(Bucket=form.container, Key="inbox/acct.txt")["Body"].read() == b"via the account key"
        settle_audit()
        events = mgmt.ok(mgmt.call(form.server, None, "GET",
                                   f"/audit?kind=swift&bucket={form.container}&action=use"))["events"]
        assert events[-1]["outcome"] == "allowed" and "inbox/acct.txt" in events[-1]["reason"]
        assert events[-1]["bytes"] == len(b"via the account key")
        assert events[-1]["user"] == "root"
    finally:
        swift.run("post", "-H", "X-Remove-Account-Meta-Temp-URL-Key-2: x")


def test_no_open_redirect(form: Form) -> None:
    """A form without files is never checked: its redirect is not followed (Swift would send a 303 to it)."""
    status, headers, body = form.post({"redirect": "https://evil.example/", **form.sign()}, [])
    assert status == 400 and "location" not in headers
    assert body == b"400 Bad Request\r\nFormPost: No Files To Process"


# File names a Swift PUT path or a browser could not use, and redirects no Location may hold (attack
# findings): refused before anything is stored, the connection answered (never dropped).

def _post(form: Form, fields: dict[str, str], filename: bytes) -> requests.Response:
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode(
            "latin-1")
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file1\"; filename=\"".encode()
             + filename + b"\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n" + f"--{boundary}--\r\n".encode())
    return requests.post(form.server.endpoint + form.path, data=body, timeout=10,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _keys(s3: Any, form: Form) -> list[str]:
    return [entry["Key"] for entry in s3.list_objects_v2(Bucket=form.container).get("Contents", [])]


@pytest.mark.parametrize(("filename", "status"), [
    (b"x\x00y", 412), (b"x\xffy", 412), (b"n" * 1020, 400),
    (b"../up", 400), (b"a/./b", 400), (b"a/..", 400), (b"/abs", 400), (b"a\\b", 400),
])
def test_unreachable_names_refused(form: Form, s3: Any, filename: bytes, status: int) -> None:
    response = _post(form, form.sign(), filename)
    assert response.status_code == status, response.text
    assert _keys(s3, form) == []
    settle_audit()
    events = mgmt.ok(mgmt.call(form.server, None, "GET", f"/audit?kind=swift&bucket={form.container}&action=use"))
    assert [(e["outcome"], e["status"]) for e in events["events"]] == [("refused", status)]


def test_plain_name_still_stored(form: Form, s3: Any) -> None:
    assert _post(form, form.sign(), "é.txt".encode()).status_code == 201
    assert _keys(s3, form) == ["inbox/é.txt"]


@pytest.mark.parametrize("redirect", [
    "https://example.com/a\r\nSet-Cookie: x=1", "https://example.com/\x7f", "https://example.com/\x01",
    "javascript:alert(1)", "data:text/html,hi", "//evil.example/", "/relative", "https:evil.example",
    "https:\\\\evil.example", "https://exa mple.com/",
])
def test_bad_redirect_refused_before_storing(form: Form, s3: Any, redirect: str) -> None:
    response = _post(form, form.sign(redirect=redirect), b"r.txt")
    assert response.status_code == 400 and "location" not in response.headers, response.text
    assert _keys(s3, form) == []


@pytest.mark.parametrize("cut", ["disconnect", "truncated"])
def test_form_cut_mid_upload_names_the_files_stored(form: Form, s3: Any, cut: str) -> None:
    """Two files arrive whole, the third is cut off: one event, refused, naming the two stored (README)."""
    boundary = uuid.uuid4().hex
    body = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                   for name, value in form.sign(count=3).items()).encode()
    for number in (1, 2, 3):
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f{number}\"; filename=\"f{number}.txt\""
                 f"\r\nContent-Type: text/plain\r\n\r\nfile {number}\r\n").encode()
    body = body[:-4]  # the third file's last bytes and the closing boundary never come
    length = len(body) + (100 if cut == "disconnect" else 0)
    host, port = form.server.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {form.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; "
                     f"boundary={boundary}\r\nContent-Length: {length}\r\n\r\n".encode() + body)
        if cut == "truncated":
            assert sock.recv(200).startswith(b"HTTP/1.1 400")
    url = f"/audit?kind=swift&bucket={form.container}&action=use"
    assert eventually(lambda: mgmt.ok(mgmt.call(form.server, None, "GET", url))["events"])
    events = mgmt.ok(mgmt.call(form.server, None, "GET", url))["events"]
    assert len(events) == 1 and events[0]["outcome"] == "refused"
    assert "2 file(s) stored: inbox/f1.txt, inbox/f2.txt" in events[0]["reason"], events[0]["reason"]
    assert sorted(_keys(s3, form)) == ["inbox/f1.txt", "inbox/f2.txt"]
