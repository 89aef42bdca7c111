"""``If-Range`` (RFC 9110 §13.1.5) on S3, Swift and PAR GETs, with curl and requests.

A client resuming a download sends ``Range`` with the validator (ETag or Last-Modified) of the copy it
holds. When that validator no longer names the object, the range must be ignored and the whole new
object sent with 200: serving the range would splice a newer version's tail onto an older head.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

import requests

from tests.clients.par import create as create_par
from tests.clients.server import ServerHandle
from tests.clients.swift import root_user

BODY = b"0123456789abcdefghij"

#: (status, body) of a GET with these extra headers.
Fetch = Callable[[Mapping[str, str]], tuple[int, bytes]]


def _check_if_range(fetch: Fetch, etag: str, last_modified: str) -> None:
    """The table under test: which validators keep the range (206) and which get the whole object (200)."""
    quoted = etag if etag.startswith('"') else f'"{etag}"'
    bare = quoted.strip('"')
    cases = [
        ({}, 206),  # no If-Range: the range
        ({"If-Range": quoted}, 206),
        ({"If-Range": last_modified}, 206),
        ({"If-Range": '"0123456789abcdef0123456789abcdef"'}, 200),  # the copy the client holds is older
        ({"If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"}, 200),
        ({"If-Range": f"W/{quoted}"}, 200),  # weak tags never validate a range
        ({"If-Range": "*"}, 200),
        ({"If-Range": "not a validator"}, 200),
    ]
    for extra, status in cases:
        got = fetch({"Range": "bytes=2-5", **extra})
        assert got == ((206, BODY[2:6]) if status == 206 else (200, BODY)), (extra, got)
    # A stale validator also overrides a range that selects nothing: 200, not 416.
    assert fetch({"Range": "bytes=1000-", "If-Range": '"0123456789abcdef0123456789abcdef"'}) == (200, BODY)
    # Swift sends its ETag unquoted and clients echo it so: a bare tag is the same tag.
    assert fetch({"Range": "bytes=2-5", "If-Range": bare}) == (206, BODY[2:6])


def _curl(url: str, headers: Mapping[str, str], *extra: str) -> tuple[int, bytes]:
    args = [a for name, value in headers.items() for a in ("-H", f"{name}: {value}")]
    done = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *extra, *args, url], capture_output=True,
                          timeout=30, check=True)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def test_s3_get_honours_if_range(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="resume.bin", Body=BODY)
    head = s3.head_object(Bucket=bucket, Key="resume.bin")
    url = f"{satchel_server.endpoint}/{bucket}/resume.bin"
    sign = ("--aws-sigv4", f"aws:amz:{satchel_server.region}:s3",
            "--user", f"{satchel_server.access_key}:{satchel_server.secret_key}",
            # curl 7.88 signs the empty body's hash but does not send the header S3 requires.
            "-H", f"x-amz-content-sha256: {hashlib.sha256(b'').hexdigest()}")
    _check_if_range(lambda headers: _curl(url, headers, *sign), put["ETag"],
                    head["ResponseMetadata"]["HTTPHeaders"]["last-modified"])


def test_swift_get_honours_if_range(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    conn = root_user(satchel_server).connection()
    etag = conn.put_object(bucket, "resume.bin", BODY)
    headers = conn.head_object(bucket, "resume.bin")
    assert headers["etag"] == etag  # bare, as Swift sends it: accepted unquoted too
    storage_url, token = root_user(satchel_server).token()

    def fetch(extra: Mapping[str, str]) -> tuple[int, bytes]:
        got = requests.get(f"{storage_url}/{bucket}/resume.bin", headers={"X-Auth-Token": token, **extra}, timeout=30)
        return got.status_code, got.content

    _check_if_range(fetch, etag, headers["last-modified"])


def test_par_get_honours_if_range(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="resume.bin", Body=BODY)
    par = create_par(satchel_server, bucket=bucket, accessType="ObjectRead", objectName="resume.bin")
    head = requests.head(par["fullPath"], timeout=30)

    def fetch(extra: Mapping[str, str]) -> tuple[int, bytes]:
        return _curl(par["fullPath"], extra)

    _check_if_range(fetch, head.headers["ETag"], head.headers["Last-Modified"])
