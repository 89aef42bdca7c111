"""The MinIO Python SDK: its own signer, its own multipart logic and its own XML parsing."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from tests.clients.boto import unique_bucket
from tests.clients.content import file_sha256, sha256
from tests.clients.server import ServerHandle

MiB = 1024 * 1024


@pytest.fixture
def mc(satchel_server: ServerHandle) -> Minio:
    return Minio(satchel_server.host_port, access_key=satchel_server.access_key,
                 secret_key=satchel_server.secret_key, secure=False, region="us-east-1")


@pytest.fixture
def mbucket(mc: Minio) -> Any:
    name = unique_bucket("minio")
    assert not mc.bucket_exists(name)
    mc.make_bucket(name)
    yield name
    errors = list(mc.remove_objects(name, (DeleteObject(o.object_name) for o in
                                           mc.list_objects(name, recursive=True))))
    assert errors == []
    mc.remove_bucket(name)


def test_bucket_exists_and_put_get(mc: Minio, mbucket: str) -> None:
    assert mc.bucket_exists(mbucket)
    data = os.urandom(250_000)
    result = mc.put_object(mbucket, "known/len.bin", io.BytesIO(data), len(data),
                           content_type="application/x-minio", metadata={"x-amz-meta-who": "minio"})
    assert result.etag
    stat = mc.stat_object(mbucket, "known/len.bin")
    assert stat.size == len(data)
    assert stat.content_type == "application/x-minio"
    assert stat.metadata is not None
    assert stat.metadata["x-amz-meta-who"] == "minio"
    resp = mc.get_object(mbucket, "known/len.bin")
    try:
        assert sha256(resp.read()) == sha256(data)
    finally:
        resp.close()
        resp.release_conn()
    part = mc.get_object(mbucket, "known/len.bin", offset=1000, length=24)
    try:
        assert part.read() == data[1000:1024]
    finally:
        part.close()
        part.release_conn()


def test_unknown_length_stream_is_multipart(mc: Minio, mbucket: str) -> None:
    data = os.urandom(12 * MiB + 321)
    mc.put_object(mbucket, "stream.bin", io.BytesIO(data), length=-1, part_size=5 * MiB)
    stat = mc.stat_object(mbucket, "stream.bin")
    assert stat.size == len(data)
    assert stat.etag is not None and stat.etag.endswith("-3")
    resp = mc.get_object(mbucket, "stream.bin")
    try:
        assert sha256(resp.read()) == sha256(data)
    finally:
        resp.close()
        resp.release_conn()


def test_fput_fget_copy_list_remove(mc: Minio, mbucket: str, tmp_path: Path,
                                    random_file: Callable[[str, int], Path]) -> None:
    src = random_file("up.bin", 3 * MiB + 1)
    mc.fput_object(mbucket, "dir/up.bin", str(src))
    mc.fget_object(mbucket, "dir/up.bin", str(tmp_path / "down.bin"))
    assert file_sha256(tmp_path / "down.bin") == file_sha256(src)

    mc.copy_object(mbucket, "dir/sub/copy.bin", CopySource(mbucket, "dir/up.bin"))
    mc.fget_object(mbucket, "dir/sub/copy.bin", str(tmp_path / "copy.bin"))
    assert file_sha256(tmp_path / "copy.bin") == file_sha256(src)
    mc.put_object(mbucket, "top.txt", io.BytesIO(b"top"), 3)

    shallow = sorted((o.object_name, o.is_dir) for o in mc.list_objects(mbucket))
    assert shallow == [("dir/", True), ("top.txt", False)]
    inside = sorted(str(o.object_name) for o in mc.list_objects(mbucket, prefix="dir/"))
    assert inside == ["dir/sub/", "dir/up.bin"]
    deep = sorted(str(o.object_name) for o in mc.list_objects(mbucket, recursive=True))
    assert deep == ["dir/sub/copy.bin", "dir/up.bin", "top.txt"]

    mc.remove_object(mbucket, "top.txt")
    with pytest.raises(S3Error) as exc:
        mc.stat_object(mbucket, "top.txt")
    assert exc.value.code in ("NoSuchKey", "ResourceNotFound")
    errors = list(mc.remove_objects(mbucket, [DeleteObject("dir/up.bin"), DeleteObject("dir/sub/copy.bin"),
                                              DeleteObject("never-there")]))
    assert errors == []
    assert list(mc.list_objects(mbucket, recursive=True)) == []


def test_missing_bucket(mc: Minio) -> None:
    name = unique_bucket("nobucket")
    assert not mc.bucket_exists(name)
    with pytest.raises(S3Error) as exc:
        mc.stat_object(name, "x")
    assert exc.value.code in ("NoSuchBucket", "ResourceNotFound", "NoSuchKey")
