"""Lifecycle of a real server: liveness and readiness, background abort of multipart uploads abandoned
longer than ``abandoned_upload_age``, audit retention pruned in the background, and ``satchel audit
export`` of the trail as JSON lines."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, make_client, presigned_object, unique_bucket
from tests.clients.server import SatchelProcess, ServerHandle, configured_server, eventually, venv_tool

RETENTION_SECONDS = 2.0


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    """Collects every half second, aborts uploads after 1 s, keeps audit events 2 s."""
    config = (f"gc_interval = 0.5\nabandoned_upload_age = 1\n"
              f"audit_retention_days = {RETENTION_SECONDS / 86400!r}\n")
    return configured_server(tmp_path_factory, request, "lifecycle", config)


def test_live_and_ready(satchel_server: ServerHandle) -> None:
    for path in ("/_satchel/health/live", "/_satchel/health/ready", "/_satchel/health"):
        reply = requests.get(satchel_server.endpoint + path, timeout=10)
        assert (reply.status_code, reply.json()) == (200, {"status": "ok"}), path
        assert reply.headers["x-amz-request-id"]
        assert requests.head(satchel_server.endpoint + path, timeout=10).status_code == 200
        for method in ("POST", "PUT", "DELETE"):  # probes read; a write to them is a mistake, not an "ok"
            refused = requests.request(method, satchel_server.endpoint + path, timeout=10)
            assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, HEAD"), (method, path)
    assert requests.get(satchel_server.endpoint + "/_satchel/health/other", timeout=10).status_code == 404
    assert requests.delete(satchel_server.endpoint + "/_satchel/metrics", timeout=10).status_code == 405


def test_abandoned_uploads_are_aborted(short_lived: SatchelProcess) -> None:
    s3 = make_client(short_lived)
    bucket = unique_bucket("abandon")
    s3.create_bucket(Bucket=bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="never-finished")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="never-finished", UploadId=upload, PartNumber=1, Body=b"p" * 1000)
    assert eventually(lambda: not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), timeout=6)
    with pytest.raises(ClientError) as caught:
        s3.list_parts(Bucket=bucket, Key="never-finished", UploadId=upload)
    assert error_code(caught.value) == "NoSuchUpload"
    blobs = sqlite3.connect(short_lived.data_dir / "meta.sqlite3")
    try:  # the part's blob went with it
        assert eventually(lambda: blobs.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0, timeout=6)
    finally:
        blobs.close()


def test_audit_retention_prunes_old_events(short_lived: SatchelProcess) -> None:
    _, url = presigned_object(short_lived, "retain", b"x", 60)
    request_id = requests.get(url, timeout=10).headers["x-amz-request-id"]

    def events() -> int:
        conn = sqlite3.connect(short_lived.data_dir / "meta.sqlite3")
        try:
            return int(conn.execute("SELECT count(*) FROM audit_events WHERE request_id = ?",
                                    (request_id,)).fetchone()[0])
        finally:
            conn.close()

    assert eventually(lambda: events() == 1, timeout=3)
    seen = time.monotonic()
    assert eventually(lambda: events() == 0, timeout=RETENTION_SECONDS + 5)
    assert time.monotonic() - seen >= RETENTION_SECONDS - 1.0  # kept for its retention, not less


def test_audit_export_jsonl(managed_server: SatchelProcess) -> None:
    bucket, url = presigned_object(managed_server, "export", b"x", 60)
    ids = [requests.get(url, timeout=10).headers["x-amz-request-id"] for _ in range(3)]
    between = time.time()
    time.sleep(0.05)
    ids.append(requests.get(url + "x", timeout=10).headers["x-amz-request-id"])  # a refusal

    def export(*args: str) -> list[dict[str, object]]:
        out = subprocess.run([venv_tool("satchel"), "audit", "export", "--data-dir", str(managed_server.data_dir),
                              *args], capture_output=True, text=True, timeout=60, check=True)
        return [json.loads(line) for line in out.stdout.splitlines()]

    assert eventually(lambda: ids[-1] in {e["request_id"] for e in export("--since", "1h")})
    rows = [e for e in export("--since", "1h", "--format", "jsonl") if e["bucket"] == bucket]
    assert [e["request_id"] for e in rows if e["action"] == "use"] == ids
    assert [e["outcome"] for e in rows][-1] == "refused" and rows[0]["user"] == "root"
    times = [str(e["time"]) for e in rows]
    assert times == sorted(times)
    early = [e for e in export("--since", "1h", "--until", str(between)) if e["bucket"] == bucket]
    assert [e["request_id"] for e in early] == ids[:3]
