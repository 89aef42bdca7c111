"""One store, two protocols: objects written through S3 (boto3, the aws cli) read through Swift
(swiftclient, the ``swift`` CLI) and the reverse, byte for byte, metadata included."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from tests.clients.boto import awscli_env, unique_bucket
from tests.clients.server import ServerHandle, venv_tool
from tests.clients.swift import SwiftUser, empty_container, root_user

MiB = 1024 * 1024


@pytest.fixture
def root(satchel_server: ServerHandle) -> SwiftUser:
    return root_user(satchel_server)


@pytest.fixture
def shared(s3: Any, root: SwiftUser) -> Iterator[str]:
    """A bucket made through S3, used as a container through Swift."""
    name = unique_bucket("cross")
    s3.create_bucket(Bucket=name)
    yield name
    empty_container(root.connection(), name)


def test_s3_put_swift_get(s3: Any, root: SwiftUser, shared: str) -> None:
    body = os.urandom(200_000)
    s3.put_object(Bucket=shared, Key="dir/from-s3.bin", Body=body, ContentType="application/x-thing",
                  ContentDisposition='attachment; filename="x.bin"', ContentEncoding="identity",
                  Metadata={"color": "blue", "owner": "ada"})
    headers, got = root.connection().get_object(shared, "dir/from-s3.bin")
    assert got == body
    assert headers["etag"] == hashlib.md5(body).hexdigest()  # noqa: S324 - Swift's ETag
    assert headers["content-type"] == "application/x-thing"
    assert headers["content-disposition"] == 'attachment; filename="x.bin"'
    assert headers["content-encoding"] == "identity"
    assert (headers["x-object-meta-color"], headers["x-object-meta-owner"]) == ("blue", "ada")
    _, listed = root.connection().get_container(shared)
    assert [(e["name"], e["bytes"], e["content_type"]) for e in listed] == [
        ("dir/from-s3.bin", len(body), "application/x-thing")]


def test_swift_put_s3_get(s3: Any, root: SwiftUser, shared: str) -> None:
    body = os.urandom(150_000)
    etag = root.connection().put_object(shared, "from-swift.bin", body, content_type="image/x-test",
                                        headers={"X-Object-Meta-Color": "green", "X-Object-Meta-Name": "grace",
                                                 "Content-Disposition": "inline"})
    got = s3.get_object(Bucket=shared, Key="from-swift.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == f'"{etag}"'
    assert got["ContentType"] == "image/x-test" and got["ContentDisposition"] == "inline"
    assert got["Metadata"] == {"color": "green", "name": "grace"}
    # Metadata changed through Swift is what S3 sees next.
    root.connection().post_object(shared, "from-swift.bin", headers={"X-Object-Meta-Color": "red"})
    assert s3.head_object(Bucket=shared, Key="from-swift.bin")["Metadata"] == {"color": "red"}


def test_s3_multipart_object_downloads_with_swift(s3: Any, root: SwiftUser, shared: str, tmp_path: Path,
                                                  random_file: Callable[[str, int], Path]) -> None:
    """An S3 multipart object (ETag ``<md5>-<parts>``) is served to Swift as a Static Large Object, so the
    swift CLI downloads it without a false MD5 mismatch, and deletes it."""
    src = random_file("parts.bin", 11 * MiB)
    s3.upload_file(str(src), shared, "parts.bin",
                   Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
    head = root.connection().head_object(shared, "parts.bin")
    assert head["etag"].startswith('"') and head["etag"].endswith('-3"')
    assert head["x-static-large-object"] == "True"
    # Its parts are no segment objects: the manifest lists none.
    assert root.connection().get_object(shared, "parts.bin", query_string="multipart-manifest=get")[1] == b"[]"
    down = tmp_path / "down.bin"
    root.cli("download", shared, "parts.bin", "-o", str(down))
    assert down.read_bytes() == src.read_bytes()
    root.cli("delete", shared, "parts.bin")
    assert s3.list_objects_v2(Bucket=shared)["KeyCount"] == 0


def test_awscli_and_swift_cli(root: SwiftUser, satchel_server: ServerHandle, shared: str, tmp_path: Path,
                              random_file: Callable[[str, int], Path]) -> None:
    env = awscli_env(satchel_server, tmp_path / "home", tmp_path / "aws.cfg")
    aws = [venv_tool("aws"), "--endpoint-url", satchel_server.endpoint, "s3"]

    def run(*args: str) -> None:
        proc = subprocess.run([*aws, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr

    up = random_file("up/aws.bin", 70_000)
    run("cp", str(up), f"s3://{shared}/aws.bin", "--metadata", "k=v")
    down = tmp_path / "swift-down.bin"
    root.cli("download", shared, "aws.bin", "-o", str(down))
    assert down.read_bytes() == up.read_bytes()
    assert "Meta K: v" in root.cli("stat", shared, "aws.bin").stdout

    (tmp_path / "sw").mkdir()
    sw = random_file("sw/swift.bin", 90_000)
    root.cli("upload", shared, "swift.bin", "-H", "X-Object-Meta-From:swift", cwd=tmp_path / "sw")
    back = tmp_path / "aws-down.bin"
    run("cp", f"s3://{shared}/swift.bin", str(back))
    assert back.read_bytes() == sw.read_bytes()


@pytest.mark.parametrize("key", ["dir/naïve file+%20&?#.txt", "s3 ünï+=;.txt", "trailing/"])
def test_odd_names_cross_both_ways(s3: Any, root: SwiftUser, shared: str, key: str) -> None:
    conn = root.connection()
    conn.put_object(shared, key, b"from swift", headers={"X-Object-Meta-Name": "naïve"})
    assert s3.get_object(Bucket=shared, Key=key)["Body"].read() == b"from swift"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=shared)["Contents"]] == [key]
    s3.put_object(Bucket=shared, Key=key, Body=b"from s3")
    assert conn.get_object(shared, key)[1] == b"from s3"
    assert [e["name"] for e in conn.get_container(shared)[1]] == [key]
    conn.delete_object(shared, key)
    assert s3.list_objects_v2(Bucket=shared)["KeyCount"] == 0
