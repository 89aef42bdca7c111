"""``satchel admin backup`` under load, ``verify``, ``restore`` into a fresh data dir, and a server on the
restored dir that gives every object back byte-exact; a damaged backup fails verification."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import threading
import time
from pathlib import Path

from boto3.s3.transfer import TransferConfig

from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, venv_tool

#: The load stops when the backup is done, or after this long whatever happens.
LOAD_LIMIT = 20.0
MiB = 1024 * 1024


def content(key: str, version: int, size: int = 3000) -> bytes:
    seed = hashlib.sha256(f"{key}#{version}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def satchel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_tool("satchel"), *args], capture_output=True, text=True, timeout=120, check=False)


def test_backup_under_load_restores_byte_exact(tmp_path: Path) -> None:
    server = SatchelProcess(tmp_path / "data", extra_args=("--workers", "2"))
    server.start()
    try:
        s3 = make_client(server)
        bucket = unique_bucket("backup")
        s3.create_bucket(Bucket=bucket)
        stable = {f"stable/{i}": content(f"stable/{i}", 0, 1000 + 7919 * i) for i in range(20)}
        for key, body in stable.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        big = content("big", 0, 6 * MiB)  # a multipart object: two part blobs
        s3.upload_fileobj(io.BytesIO(big), bucket, "big.bin",
                          Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
        stable["big.bin"] = big

        stop = threading.Event()
        written: list[int] = []

        def churn() -> None:  # overwrites and deletes while the backup runs
            client = make_client(server)
            deadline = time.monotonic() + LOAD_LIMIT
            version = 0
            while not stop.is_set() and time.monotonic() < deadline:
                version += 1
                key = f"churn/{version % 5}"
                client.put_object(Bucket=bucket, Key=key, Body=content(key, version))
                if version % 7 == 0:
                    client.delete_object(Bucket=bucket, Key=f"churn/{(version + 1) % 5}")
                written.append(version)

        loader = threading.Thread(target=churn)
        loader.start()
        try:
            time.sleep(0.3)
            out = satchel("admin", "backup", str(tmp_path / "backup"), "--data-dir", str(server.data_dir), "--json")
            assert out.returncode == 0, out.stderr
            time.sleep(0.3)
        finally:
            stop.set()
            loader.join(timeout=30)
        assert len(written) > 10  # the backup really ran under load
        assert json.loads(out.stdout)["blobs"] >= len(stable)
    finally:
        server.stop()

    verified = satchel("admin", "verify", str(tmp_path / "backup"))
    assert verified.returncode == 0, verified.stderr
    restored_dir = tmp_path / "restored"
    refused = satchel("admin", "restore", str(tmp_path / "backup"), "--data-dir", str(server.data_dir))
    assert refused.returncode == 1 and "already holds a node" in refused.stderr
    done = satchel("admin", "restore", str(tmp_path / "backup"), "--data-dir", str(restored_dir))
    assert done.returncode == 0, done.stderr

    restored = SatchelProcess(restored_dir)
    restored.root, restored.password = server.root, server.password
    restored.start()
    try:
        s3 = make_client(restored)
        for key, body in stable.items():
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="churn/").get("Contents", [])]
        for key in listed:  # whatever version the snapshot caught, whole
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert any(body == content(key, v) for v in written), key
    finally:
        restored.stop()


def test_verify_finds_a_damaged_blob(tmp_path: Path) -> None:
    server = SatchelProcess(tmp_path / "data")
    server.start()
    try:
        s3 = make_client(server)
        bucket = unique_bucket("damaged")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 5000)
        assert satchel("admin", "backup", str(tmp_path / "b"), "--data-dir", str(server.data_dir)).returncode == 0
    finally:
        server.stop()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    blob_id = next(iter(manifest["blobs"]))
    relative = Path("blobs", blob_id[:2], blob_id[2:4], blob_id)
    node = satchel("admin", "verify", "--data-dir", str(server.data_dir))  # the node itself
    assert node.returncode == 0, node.stderr
    flip_a_byte(server.data_dir / relative)
    node = satchel("admin", "verify", "--data-dir", str(server.data_dir))
    assert node.returncode == 1 and f"blob {blob_id}: its content does not match the MD5" in node.stderr

    flip_a_byte(tmp_path / "b" / relative)
    out = satchel("admin", "verify", str(tmp_path / "b"))
    assert out.returncode == 1 and f"blob {blob_id}: its content does not match the SHA-256" in out.stderr
    refused = satchel("admin", "restore", str(tmp_path / "b"), "--data-dir", str(tmp_path / "new"))
    assert refused.returncode == 1 and "damaged" in refused.stderr
    (tmp_path / "b" / relative).unlink()
    assert f"blob {blob_id}: missing" in satchel("admin", "verify", str(tmp_path / "b")).stderr


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
