"""Slow uploads against a garbage collector that sweeps every half second with a one-second orphan grace,
on a real ``satchel serve`` with its blobs upstream (a real SeaweedFS) and on local disk.

The collector once removed unfinished writes (an upstream multipart upload, a temporary file) as soon as
they were ``orphan_grace`` old, live or not: a PUT still receiving its body then failed with 500 (the
attack report: 12 MiB over 35 s with ``orphan_grace`` 15; with the defaults, anything over an hour). Now
an unfinished write is removed only once older than any upload can last (``core/gc.write_grace``:
``max_upload_seconds + body_timeout + orphan_grace``), so slow uploads — a PUT, a client's multipart
upload, its parts — succeed byte-exact across many sweeps, and what a node killed mid-upload left is still
collected, just after that bound."""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import http.client
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import http_status, make_client, unique_bucket
from tests.clients.cluster import Cluster
from tests.clients.server import SatchelProcess
from tests.clients.test_s3_blobs import PREFIX, UpstreamSatchel
from tests.seaweedfs import SeaweedFS

MiB = 1024 * 1024
#: The collector's settings here, and the write grace they give (core/gc.write_grace).
ORPHAN_GRACE, GC_INTERVAL, MAX_UPLOAD, BODY_TIMEOUT = 1, 0.5, 5.0, 2.0
WRITE_GRACE = MAX_UPLOAD + BODY_TIMEOUT + ORPHAN_GRACE
#: Room for a loaded two-core machine (a sweep's own time, a restart, the upstream's one-second clock).
SLACK = 6.0
GC_ENV = {"SATCHEL_ORPHAN_GRACE": str(ORPHAN_GRACE), "SATCHEL_GC_INTERVAL": str(GC_INTERVAL),
          "SATCHEL_MAX_UPLOAD_SECONDS": str(MAX_UPLOAD), "SATCHEL_BODY_TIMEOUT": str(BODY_TIMEOUT)}
#: This helper's ports (the brief's range).
PORT_LOCAL, PORT_UPSTREAM = 25110, 25111


class LocalGcSatchel(SatchelProcess):
    def env(self) -> dict[str, str]:
        return {**super().env(), **GC_ENV}


class UpstreamGcSatchel(UpstreamSatchel):
    def env(self) -> dict[str, str]:
        return {**super().env(), **GC_ENV, "SATCHEL_BLOBS_DELETE_DELAY": "0"}


@pytest.fixture(scope="module", params=["localfs", "s3"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    """One server per blob store for the module (the kill test restarts it)."""
    made: SatchelProcess
    data = tmp_path_factory.mktemp(f"slowgc-{request.param}") / "data"
    if request.param == "localfs":
        made = LocalGcSatchel(data, port=PORT_LOCAL)
    else:
        upstream: SeaweedFS = request.getfixturevalue("seaweedfs")
        made = UpstreamGcSatchel(data, upstream, upstream.new_bucket())
        made.port, made.endpoint = PORT_UPSTREAM, f"http://127.0.0.1:{PORT_UPSTREAM}"
    with made.running():
        yield made


def unfinished(server: SatchelProcess) -> dict[str, float]:
    """Blob id -> start (epoch seconds) of every unfinished write: a temporary file (its last write), an
    upstream multipart upload (its initiation)."""
    if isinstance(server, UpstreamSatchel):
        return upstream_unfinished(server.upstream, server.bucket, PREFIX)
    tmp = server.data_dir / "blobs" / "tmp"
    found = {}
    for entry in tmp.iterdir():
        with contextlib.suppress(FileNotFoundError):
            found[entry.name] = entry.stat().st_mtime
    return found


def upstream_unfinished(upstream: SeaweedFS, bucket: str, prefix: str) -> dict[str, float]:
    answer = upstream.client().list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return {u["Key"].rpartition("/")[2]: u["Initiated"].timestamp() for u in answer.get("Uploads", [])}


def plant_orphan(server: SatchelProcess) -> Callable[[], bool]:
    """A committed blob no metadata knows, as a crash leaves one; returns whether it is still there.
    Its collection proves the collector swept meanwhile."""
    blob_id = secrets.token_hex(16)
    if isinstance(server, UpstreamSatchel):
        client = server.upstream.client()
        client.put_object(Bucket=server.bucket, Key=f"{PREFIX}/{blob_id}", Body=b"orphan")

        def upstream_there() -> bool:
            answer = client.list_objects_v2(Bucket=server.bucket, Prefix=f"{PREFIX}/{blob_id}")
            return bool(answer.get("Contents"))
        return upstream_there
    path = server.data_dir / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"orphan")
    return path.exists


def slow_send(url: str, body: bytes, *, first: int, piece: int, pause: float,
              stop: threading.Event | None = None) -> tuple[int, bytes]:
    """PUT ``body`` to a presigned URL: ``first`` bytes at once, then ``piece`` bytes every ``pause``
    seconds (or, with ``stop``, nothing more until it is set: a client whose server dies)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.putrequest("PUT", f"{parts.path}?{parts.query}")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:first])
        if stop is not None:
            stop.wait(60)
            return 0, b""
        for start in range(first, len(body), piece):
            time.sleep(pause)
            conn.send(body[start : start + piece])
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_slow_uploads_outlive_many_sweeps_byte_exact(server: SatchelProcess) -> None:
    s3 = make_client(server)
    bucket = unique_bucket("slowgc")
    s3.create_bucket(Bucket=bucket)
    rng = random.Random(14)
    # A client's multipart upload, open across the sweeps, its first part stored before they begin.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    part1, part2 = rng.randbytes(5 * MiB), rng.randbytes(6 * MiB + 3)
    etag1 = s3.upload_part(Bucket=bucket, Key="mpu", UploadId=upload, PartNumber=1, Body=part1)["ETag"]
    orphan_there = plant_orphan(server)
    began = time.monotonic()

    # A 12 MiB PUT: on the upstream, a multipart upload (5 MiB parts) created with its first 6 MiB, the
    # rest trickling in for ~3 s.
    body = rng.randbytes(12 * MiB + 5)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "slow"}, ExpiresIn=300)
    status, answer = slow_send(url, body, first=6 * MiB, piece=MiB, pause=0.45)
    assert status == 200, answer
    took = time.monotonic() - began
    assert took > 2 * ORPHAN_GRACE + GC_INTERVAL  # the sweeps had their chances
    assert not orphan_there()  # the collector did sweep meanwhile, with its one-second grace

    # An UploadPart as slow, into the same open upload; on disk, its temporary file is last written with
    # its sixth MiB, then waits over three seconds (three orphan graces) for its last bytes.
    url = s3.generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": "mpu", "UploadId": upload,
                                                           "PartNumber": 2}, ExpiresIn=300)
    status, answer = slow_send(url, part2, first=6 * MiB, piece=1, pause=1.6)
    assert status == 200, answer
    etag2 = s3.list_parts(Bucket=bucket, Key="mpu", UploadId=upload)["Parts"][1]["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]})

    got = s3.get_object(Bucket=bucket, Key="slow")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
    got = s3.get_object(Bucket=bucket, Key="mpu")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(part1 + part2).digest()
    assert unfinished(server) == {}  # nothing left behind either


def test_a_killed_nodes_half_upload_is_collected_after_the_write_grace(server: SatchelProcess) -> None:
    bucket = unique_bucket("killgc")
    make_client(server).create_bucket(Bucket=bucket)
    blob_id, started = half_upload_then_kill(server, bucket, lambda: unfinished(server))
    server.start()
    kept_then_collected(lambda: unfinished(server), blob_id, started)
    with pytest.raises(ClientError) as caught:
        make_client(server).head_object(Bucket=bucket, Key="half")
    assert http_status(caught.value) == 404  # and no object came of it


def half_upload_then_kill(node: SatchelProcess, bucket: str,
                          observe: Callable[[], dict[str, float]]) -> tuple[str, float]:
    """Start a PUT on ``node``, kill -9 it once the upload left something (no abort, no clean-up: only
    the collector can remove it); that blob id and when its write started."""
    before = set(observe())
    body = random.Random(9).randbytes(8 * MiB)
    url = make_client(node).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "half"},
                                                   ExpiresIn=300)
    stop = threading.Event()
    client = threading.Thread(target=_quietly, args=(
        lambda: slow_send(url, body, first=6 * MiB, piece=MiB, pause=0, stop=stop),))
    client.start()
    try:
        deadline = time.monotonic() + 20
        while not (left := set(observe()) - before) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(left) == 1, "the upload never started"
        time.sleep(0.5)  # on disk: the first MiB written, so the file's age is that of real data
        node.kill9()
    finally:
        stop.set()
        client.join(10)
    (blob_id,) = left
    return blob_id, observe()[blob_id]


def kept_then_collected(observe: Callable[[], dict[str, float]], blob_id: str, started: float) -> None:
    # Kept while it might still be a live upload (on any node) ...
    while time.time() < started + WRITE_GRACE - 1.5:
        assert blob_id in observe(), f"collected {time.time() - started:.1f} s after it started"
        time.sleep(0.25)
    # ... and collected soon after that bound.
    deadline = started + WRITE_GRACE + GC_INTERVAL + SLACK
    while blob_id in observe() and time.time() < deadline:
        time.sleep(0.25)
    assert blob_id not in observe(), "a dead node's half-upload was never collected"


def test_two_nodes_slow_uploads_survive_and_a_dead_nodes_leftovers_go(
    tmp_path: Path, pg_module_url: str, seaweedfs: SeaweedFS
) -> None:
    """PostgreSQL and an upstream shared by two nodes, one process of the deployment sweeping: slow PUTs
    on both nodes finish byte-exact; node A killed mid-upload, node B (the sweeper now, whoever was
    before) aborts A's multipart upload after the write grace, not before."""
    cluster = Cluster(tmp_path, pg_module_url, seaweedfs, seaweedfs.new_bucket())
    cluster.shared.update(GC_ENV)  # the nodes' environment (one dict)
    cluster.shared["SATCHEL_BLOBS_DELETE_DELAY"] = "0"
    with cluster.running():
        a, b = cluster.nodes
        bucket = unique_bucket("nodesgc")
        make_client(a).create_bucket(Bucket=bucket)
        bodies = {node.endpoint: random.Random(node.port).randbytes(11 * MiB) for node in (a, b)}

        def put(node: SatchelProcess) -> tuple[int, bytes]:
            url = make_client(node).generate_presigned_url(
                "put_object", Params={"Bucket": bucket, "Key": node.endpoint}, ExpiresIn=300)
            return slow_send(url, bodies[node.endpoint], first=6 * MiB, piece=MiB, pause=0.6)

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(put, (a, b)))
        assert [status for status, _ in answers] == [200, 200], answers
        for key, body in bodies.items():
            got = make_client(b).get_object(Bucket=bucket, Key=key)["Body"].read()
            assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()

        def observe() -> dict[str, float]:
            return upstream_unfinished(seaweedfs, cluster.bucket, "satchel/")

        blob_id, started = half_upload_then_kill(a, bucket, observe)
        kept_then_collected(observe, blob_id, started)


def _quietly(call: Callable[[], Any]) -> Any:
    """The client of a killed server: its connection breaks, which is not what is tested."""
    try:
        return call()
    except OSError as exc:
        return exc
