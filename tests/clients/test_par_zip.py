"""``?format=zip``: a read PAR's prefix as one streamed zip archive, checked with Python's zipfile."""

from __future__ import annotations

import concurrent.futures
import io
import zipfile
from typing import Any

import requests

from tests.clients.par import assert_refused, create, events, url


def test_zip_of_a_prefix_of_1000_objects(satchel_server: Any, s3: Any, bucket: str) -> None:
    contents = {f"set/{n:04d}.txt": f"object {n}\n".encode() * (n % 7 + 1) for n in range(1000)}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=bucket, Key=item[0], Body=item[1]), contents.items()))
    s3.put_object(Bucket=bucket, Key="other/x.txt", Body=b"outside")
    par = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="set/",
                 bucketListingAction="ListObjects", maxUses=2)
    reply = requests.get(url(par), params={"format": "zip"}, timeout=120)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"] == "application/zip"
    assert reply.headers["Content-Disposition"] == "attachment; filename=\"set.zip\"; filename*=UTF-8''set.zip"
    assert "Content-Length" not in reply.headers  # streamed, never buffered whole
    assert reply.headers["Content-Security-Policy"] == "sandbox"  # object bytes: inert, whatever the type
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted(contents)
    for name, data in contents.items():
        assert archive.read(name) == data
    # narrowed inside the scope; outside it refused; one use each
    small = requests.get(url(par), params={"format": "zip", "prefix": "set/000"}, timeout=60)
    assert sorted(zipfile.ZipFile(io.BytesIO(small.content)).namelist()) == [f"set/{n:04d}.txt" for n in range(10)]
    assert_refused(requests.get(url(par), params={"format": "zip"}, timeout=60))  # maxUses 2: spent
    trail = [e for e in events(satchel_server, par["id"]) if e["action"] == "use"]
    assert [e["outcome"] for e in trail] == ["allowed", "allowed", "refused"]
    assert trail[0]["bytes"] == len(reply.content) and trail[0]["reason"] == "zip of 1000 object(s)"


def test_zip_needs_read_and_listing(satchel_server: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a/1.txt", Body=b"1")
    no_listing = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="a/")
    assert_refused(requests.get(url(no_listing), params={"format": "zip"}, timeout=30))
    listing = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="a/",
                     bucketListingAction="ListObjects")
    for bad in ({"format": "tar"}, {"format": "zip", "limit": "3"}, {"format": "zip", "prefix": "b/"}):
        reply = requests.get(url(listing), params=bad, timeout=30)
        assert reply.status_code == 400 and reply.json()["code"] == "InvalidParameter", bad
    whole = create(satchel_server, bucket=bucket, accessType="AnyObjectReadWrite",
                   bucketListingAction="ListObjects")
    names = zipfile.ZipFile(io.BytesIO(requests.get(url(whole), params={"format": "zip"}, timeout=30).content))
    assert names.namelist() == ["a/1.txt"]


#: Names from the hostile review: each could land outside the extraction directory on some unzipper.
UNSAFE_NAMES = ("/etc/evil", "a\\..\\..\\win.txt", "..\\..\\win2.txt", "C:/x.txt", "C:\\y.txt", "a/..", "..",
                "a/./b", "x\r\ny", "ctrl\x01", "a/b/../../../c", "d/c:/z.txt")
SAFE_NAMES = ("ok.txt", "~/.bashrc", "%2e%2e/z", "\u2025/x", "2024-01-01T10:00:00.log")


def test_zip_leaves_out_names_unsafe_to_extract(satchel_server: Any, s3: Any, bucket: str) -> None:
    for name in (*UNSAFE_NAMES, *SAFE_NAMES):
        s3.put_object(Bucket=bucket, Key=name, Body=b"z")
    par = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", bucketListingAction="ListObjects")
    archive = zipfile.ZipFile(io.BytesIO(requests.get(url(par), params={"format": "zip"}, timeout=30).content))
    assert sorted(archive.namelist()) == sorted(SAFE_NAMES)
    assert archive.comment.startswith(f"{len(UNSAFE_NAMES)} object(s) left out: unsafe names,".encode())
