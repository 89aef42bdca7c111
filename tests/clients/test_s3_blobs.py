"""A real ``satchel serve`` whose blobs live in an upstream S3 cluster (a real SeaweedFS), driven by boto3
and checked on the upstream: what a client stores lands there, copies stay server-side, deletes reach it;
and when the upstream dies under load, clients get 503 SlowDown (never a 500, never a partial object),
every acknowledged write survives, and service resumes without a restart once it is back."""

from __future__ import annotations

import concurrent.futures
import json
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, make_client, unique_bucket
from tests.clients.server import SatchelProcess, venv_tool
from tests.seaweedfs import SeaweedFS, running

MiB = 1024 * 1024
PREFIX = "satchel/blobs"


class UpstreamSatchel(SatchelProcess):
    """Satchel with ``blobs_url`` on the upstream, configured by environment as an operator's would be
    (the keys never on a command line that ``ps`` shows), so ``satchel admin`` sees the same store."""

    def __init__(self, data_dir: Path, upstream: SeaweedFS, bucket: str) -> None:
        super().__init__(data_dir)
        self.upstream = upstream
        self.bucket = bucket

    def env(self) -> dict[str, str]:
        settings = {
            "blobs_url": f"s3://{self.bucket}/{PREFIX}", "blobs_endpoint_url": self.upstream.url,
            "blobs_access_key_id": self.upstream.weed.access_key,
            "blobs_secret_access_key": self.upstream.weed.secret_key,
            "blobs_part_size": str(5 * MiB), "blobs_delete_delay": "0", "orphan_grace": "0",
            # Small bounds, so that an upstream outage shows in well under a second.
            "blobs_connect_timeout": "0.5", "blobs_read_timeout": "3", "blobs_attempts": "1",
        }
        return {**super().env(), **{f"SATCHEL_{name.upper()}": value for name, value in settings.items()}}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """This module's own SeaweedFS: the outage test stops and starts it."""
    with running(tmp_path_factory.mktemp("upstream")) as server:
        yield server


@pytest.fixture(scope="module")
def satchel(tmp_path_factory: pytest.TempPathFactory, upstream: SeaweedFS) -> Iterator[UpstreamSatchel]:
    server = UpstreamSatchel(tmp_path_factory.mktemp("s3blobs") / "data", upstream, upstream.new_bucket())
    with server.running():
        yield server


def upstream_keys(server: UpstreamSatchel) -> set[str]:
    pages = server.upstream.client().get_paginator("list_objects_v2").paginate(Bucket=server.bucket, Prefix=PREFIX)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_objects_live_upstream_and_every_operation_reaches_it(satchel: UpstreamSatchel) -> None:
    s3 = make_client(satchel)
    bucket = unique_bucket("up")
    s3.create_bucket(Bucket=bucket)
    before = upstream_keys(satchel)
    assert not (satchel.data_dir / "blobs").exists() or not any((satchel.data_dir / "blobs").rglob("??/??/*"))

    small = b"hello upstream"
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    added = upstream_keys(satchel) - before
    assert len(added) == 1 and next(iter(added)).startswith(PREFIX + "/")
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == small

    # A multipart upload of three parts: each part is one blob (a multipart upload upstream itself).
    data = random.Random(1).randbytes(11 * MiB)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), 5 * MiB), start=1):
        etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=number,
                              Body=data[start : start + 5 * MiB])["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    assert len(upstream_keys(satchel) - before) == 4
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == data
    ranged = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={5 * MiB - 3}-{5 * MiB + 2}")
    assert ranged["Body"].read() == data[5 * MiB - 3 : 5 * MiB + 3]
    assert s3.get_object(Bucket=bucket, Key="big", PartNumber=3)["Body"].read() == data[10 * MiB :]

    # A copy is a new upstream object per segment, made upstream.
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "big"})
    assert len(upstream_keys(satchel) - before) == 7
    assert s3.get_object(Bucket=bucket, Key="copy", Range="bytes=0-9")["Body"].read() == data[:10]

    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"}, ExpiresIn=60)
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == small

    # Deletes reach the upstream (blobs_delete_delay 0 here): back to where the test started.
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("small", "big", "copy")]})
    assert upstream_keys(satchel) - before == set()
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="big")
    assert error_code(caught.value) == "NoSuchKey"
    s3.delete_bucket(Bucket=bucket)


def test_admin_gc_collects_upstream_orphans(satchel: UpstreamSatchel) -> None:
    orphan = f"{PREFIX}/{'0' * 32}"
    satchel.upstream.client().put_object(Bucket=satchel.bucket, Key=orphan, Body=b"left by a crash")
    time.sleep(1.1)  # LastModified has one-second resolution; orphan_grace is 0 here
    satchel.admin("gc")
    assert orphan not in upstream_keys(satchel)


def _load(s3: Any, bucket: str, stop: threading.Event, acknowledged: dict[str, bytes],
          statuses: list[int | str], lock: threading.Lock) -> None:
    """PUTs and GETs until told to stop, recording every acknowledged write and every failure."""
    rng = random.Random(threading.get_ident())
    n = 0
    while not stop.is_set() and n < 2000:
        n += 1
        key, body = f"k{threading.get_ident()}-{n}", rng.randbytes(rng.choice((100, 70_000, 300_000)))
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            with lock:
                acknowledged[key] = body
            got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert got == body, "a GET returned other bytes than the PUT stored"
            with lock:
                statuses.append(200)
        except ClientError as exc:
            with lock:
                statuses.append(http_status(exc) if error_code(exc) == "SlowDown" else error_code(exc))
        time.sleep(0.01)


def _wait_for(statuses: list[int | str], status: int, since: int, seconds: float = 10.0) -> list[int | str]:
    """The statuses recorded from index ``since`` once ``status`` is among them (or ``seconds`` passed)."""
    deadline = time.monotonic() + seconds
    while status not in statuses[since:] and time.monotonic() < deadline:
        time.sleep(0.05)
    return statuses[since:]


def test_upstream_outage_is_503_and_service_resumes_without_restart(satchel: UpstreamSatchel) -> None:
    # No retries: each 503 is seen as it is answered.
    s3 = boto3.client("s3", endpoint_url=satchel.endpoint, region_name="us-east-1",
                      aws_access_key_id=satchel.root.access_key, aws_secret_access_key=satchel.root.secret_key,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"},
                                    connect_timeout=5, read_timeout=20))
    bucket = unique_bucket("outage")
    s3.create_bucket(Bucket=bucket)
    stop, lock = threading.Event(), threading.Lock()
    acknowledged: dict[str, bytes] = {}
    statuses: list[int | str] = []
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        running = [pool.submit(_load, s3, bucket, stop, acknowledged, statuses, lock) for _ in range(3)]
        _wait_for(statuses, 200, 0)
        satchel.upstream.kill()  # the cluster is gone mid-load
        down_at = len(statuses)
        outage = _wait_for(statuses, 503, down_at)
        satchel.upstream.start()  # back, on the same ports, with its data
        up_at = len(statuses)
        _wait_for(statuses, 200, up_at)
        stop.set()
        for future in running:
            future.result(timeout=60)
    assert 503 in outage, f"no 503 while the upstream was down: {outage[:20]}"
    assert set(statuses) <= {200, 503}, f"other answers than 200 and 503 SlowDown: {set(statuses)}"
    assert statuses[-1] == 200, "service did not resume once the upstream was back"
    # No acknowledged write lost, none half-visible.
    for key, body in acknowledged.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert listed == set(acknowledged)
    assert "Traceback" not in satchel.log_tail(400)


def test_backup_streams_upstream_blobs_and_node_verify_refuses(satchel: UpstreamSatchel, tmp_path: Path) -> None:
    """``backup`` reads the blobs from the upstream into the backup (``verify DIR`` then checks them);
    ``verify`` of the node itself checks blob files in the data dir, which this node has none of, and
    says so rather than calling an empty directory whole."""
    s3 = make_client(satchel)
    bucket = unique_bucket("backup")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="kept", Body=b"upstream bytes" * 1000)

    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([venv_tool("satchel"), "admin", *args, "--data-dir", str(satchel.data_dir)],
                              env=satchel.env(), capture_output=True, text=True, timeout=60, check=False)

    done = admin("backup", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    checked = admin("verify", str(tmp_path / "b"), "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["blobs"] >= 1, checked.stderr
    refused = admin("verify")
    assert refused.returncode == 1 and "blobs_url" in refused.stderr, refused.stderr


def test_upstream_lost_mid_download_cuts_the_body_short_never_wrong(satchel: UpstreamSatchel) -> None:
    """A download already streaming when the upstream dies cannot change its status any more: the client
    gets a true prefix and then a connection closed before Content-Length (which every client reports as
    an error), and the server logs one line, no traceback."""
    s3 = make_client(satchel)
    bucket = unique_bucket("cut")
    s3.create_bucket(Bucket=bucket)
    data = random.Random(9).randbytes(48 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big"}, ExpiresIn=60)
    got = b""
    with requests.get(url, stream=True, timeout=30) as answer:
        assert answer.status_code == 200 and answer.headers["Content-Length"] == str(len(data))
        got = answer.raw.read(MiB)
        satchel.upstream.kill()
        try:
            for chunk in answer.raw.stream(MiB):
                got += chunk
        except Exception:  # noqa: S110 - the cut is the expected outcome; what arrived is checked below
            pass
    satchel.upstream.start()
    assert MiB <= len(got) < len(data) and data.startswith(got)
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == data  # whole again, no restart
    log = satchel.log_tail(200)
    assert "ended after" in log and "Traceback" not in log
