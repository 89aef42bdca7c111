"""``X-Content-Type-Options: nosniff`` on every error answer of every front-end, as curl receives them: error
bodies echo what the client sent (a key, a name, a path), which no browser may sniff into HTML."""

from __future__ import annotations

import subprocess

import pytest

from tests.clients.server import ServerHandle
from tests.clients.swift import root_user


def _curl(url: str, *args: str) -> tuple[int, dict[str, str]]:
    """(status, headers in lower case) of one request made by curl."""
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", *args, url], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    lines = out.replace("\r", "").split("\n")
    fields = (line.partition(":") for line in lines[1:] if ":" in line)
    headers = {name.strip().lower(): value.strip() for name, _, value in fields}
    return int(lines[0].split()[1]), headers


@pytest.mark.parametrize(("front_end", "path", "args", "status", "kind"), [
    ("s3", "/no-such-bucket-nosniff/key", (), 404, "application/xml"),
    ("swift", "/v1/AUTH_root/container", ("-H", "X-Auth-Token: AUTH_tk" + "0" * 32), 401, "text/html"),
    ("oci", "/p/not-a-par/n/ns/b/bucket/o/key", (), 404, "application/json"),
    ("management", "/_satchel/api/buckets", (), 403, "application/json"),
    ("console", "/s/not-a-share-page", (), 404, "text/html"),
    ("satchel", "/_satchel/no-such-thing", (), 404, "application/json"),
])
def test_every_error_answer_says_nosniff(satchel_server: ServerHandle, front_end: str, path: str,
                                         args: tuple[str, ...], status: int, kind: str) -> None:
    got, headers = _curl(satchel_server.endpoint + path, *args)
    assert (got, headers.get("content-type", "").split(";")[0]) == (status, kind), headers
    assert headers.get("x-content-type-options") == "nosniff", (front_end, headers)


def test_a_swift_not_found_says_nosniff(satchel_server: ServerHandle) -> None:
    storage_url, token = root_user(satchel_server).token()
    got, headers = _curl(f"{storage_url}/no-such-container-nosniff", "-H", f"X-Auth-Token: {token}")
    assert (got, headers.get("content-type", "").split(";")[0]) == (404, "text/html"), headers  # as Swift answers
    assert headers.get("x-content-type-options") == "nosniff"


def test_success_answers_are_unchanged(satchel_server: ServerHandle) -> None:
    """Only errors gain it here: a listing's answer is as before (objects' bytes carry it already)."""
    got, headers = _curl(satchel_server.endpoint + "/_satchel/health")
    assert got == 200 and "x-content-type-options" not in headers
