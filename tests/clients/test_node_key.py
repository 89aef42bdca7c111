"""One master key per deployment, with real ``satchel serve`` processes (core/keycheck.py).

Two nodes on one PostgreSQL database: a second node with another key, or none, does not start (exit 1,
a message naming the file to copy) and creates nothing; with the deployment's key mounted through
``master_key_file`` (read-only, 0400, a symlink like a Kubernetes secret) it starts and serves a presigned
GET signed with an access key created on the first node. A SQLite node whose key was deleted, and an admin
command given the wrong key, refuse the same way. Backup and restore carry the key with its check.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

from tests.clients.server import SatchelProcess, free_port, venv_tool
from tests.clients.test_postgres_nodes import PgNode, client, status

MISMATCH = "does not match the one the metadata was sealed with; copy master.key from another node"


def serve_refused(node: SatchelProcess, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``satchel serve`` for ``node`` expecting a refusal: exit status 1 before serving; its stderr."""
    proc = subprocess.run([venv_tool("satchel"), "serve", "--host", "127.0.0.1", "--port", str(free_port()),
                           "--data-dir", str(node.data_dir), *args], env={**node.env(), **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Satchel is starting" not in proc.stdout  # no banner: refused before anything is printed
    return proc.stderr


def admin_refused(node: SatchelProcess, *args: str, env: dict[str, str]) -> str:
    proc = subprocess.run([venv_tool("satchel"), "admin", *args, "--data-dir", str(node.data_dir)],
                          env={**node.env(), **env}, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stderr


def write_key(path: Path, data: bytes | None = None, mode: int = 0o600) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(data if data is not None else secrets.token_bytes(32))
    path.chmod(mode)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory, pg_module_url: str) -> Iterator[PgNode]:
    node = PgNode(tmp_path_factory.mktemp("nodekey") / "a", pg_module_url)
    with node.running():
        yield node


def second(first: PgNode, tmp_path: Path) -> PgNode:
    """Another machine's node on the same database: its own data dir, the first's blobs (shared store)."""
    node = PgNode(tmp_path / "b", first.url)
    node.root, node.password = first.root, first.password
    node.data_dir.mkdir(mode=0o700)
    os.symlink(first.data_dir / "blobs", node.data_dir / "blobs")
    return node


def test_a_second_node_with_another_key_or_none_refuses_to_start(first: PgNode, tmp_path: Path) -> None:
    node = second(first, tmp_path)
    refused = serve_refused(node)
    assert "no master key" in refused and "copy master.key from another node" in refused
    assert not (node.data_dir / "master.key").exists()  # refused, not made

    write_key(node.data_dir / "master.key")
    assert MISMATCH in serve_refused(node)

    named = tmp_path / "secrets" / "satchel.key"
    refused = serve_refused(node, "--master-key-file", str(named))
    assert f"master_key_file {named} does not exist" in refused and not named.exists()
    # The first node is unharmed: its key still opens everything.
    assert client(first).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_deployment_key_mounted_read_only_serves_a_link_signed_on_the_first_node(
        first: PgNode, tmp_path: Path) -> None:
    s3 = client(first)
    s3.create_bucket(Bucket="keyed")
    s3.put_object(Bucket="keyed", Key="doc", Body=b"sealed on node 1")
    carol = first.create_user("carol")  # an access key created (and sealed) on node 1
    first.grant("carol", "keyed", "read", share=True)
    signer = boto3.client("s3", endpoint_url=first.endpoint, region_name="us-east-1",
                          aws_access_key_id=carol.access_key, aws_secret_access_key=carol.secret_key,
                          config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "keyed", "Key": "doc"}, ExpiresIn=300)

    # A secret volume: key -> ..data/key, the file read-only for its owner, outside the data dir.
    mount = tmp_path / "mount"
    write_key(mount / "..data" / "key", (first.data_dir / "master.key").read_bytes(), mode=0o400)
    os.symlink("..data/key", mount / "key")
    node = second(first, tmp_path)
    node.extra_args = (*node.extra_args, "--master-key-file", str(mount / "key"))
    node.start()
    try:
        assert status(url) == 200, requests.get(url, timeout=10).text
        assert status(url, via=node) == 200
        host = url.split("/")[2]
        got = requests.get(url.replace(host, node.host_port, 1), headers={"Host": host}, timeout=10)
        assert got.content == b"sealed on node 1"
        assert not (node.data_dir / "master.key").exists()  # the mount is the key: nothing copied or made
    finally:
        node.stop()


def test_an_admin_command_with_the_wrong_key_refuses(first: PgNode, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.key"
    write_key(wrong)
    node = second(first, tmp_path)
    refused = admin_refused(node, "user", "create", "mallory", "--account", "root",
                            env={"SATCHEL_MASTER_KEY_FILE": str(wrong)})
    assert "does not match the one the metadata was sealed with" in refused and str(wrong) in refused
    assert "mallory" not in first.admin("user", "list")
    # A backup with the wrong key would claim success and restore nothing: refused before anything is copied.
    refused = admin_refused(node, "backup", str(tmp_path / "backup"), env={"SATCHEL_MASTER_KEY_FILE": str(wrong)})
    assert "is not the master key this metadata was sealed with" in refused and "no backup was written" in refused
    assert not (tmp_path / "backup" / "manifest.json").exists()


def test_a_sqlite_node_whose_key_was_deleted_refuses_to_start(tmp_path: Path) -> None:
    node = SatchelProcess(tmp_path / "data")
    with node.running():
        client(node).create_bucket(Bucket="kept")
    (node.data_dir / "master.key").unlink()
    refused = serve_refused(node)
    assert "no master key" in refused and str(node.data_dir / "master.key") in refused
    assert not (node.data_dir / "master.key").exists()
    write_key(node.data_dir / "master.key")  # a key from elsewhere (another node's, a fresh one)
    assert MISMATCH in serve_refused(node)
    assert "does not match" in admin_refused(node, "user", "list", env={})


def test_a_missing_master_key_file_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    node = SatchelProcess(tmp_path / "data")
    named = tmp_path / "mount" / "key"
    assert f"master_key_file {named} does not exist" in serve_refused(node, "--master-key-file", str(named))
    assert not node.data_dir.exists() and not named.exists()


def test_backup_and_restore_keep_the_key_with_its_check(tmp_path: Path) -> None:
    node = SatchelProcess(tmp_path / "data")
    with node.running():
        client(node).create_bucket(Bucket="kept")
        node.admin("backup", str(tmp_path / "backup"))
    backup = tmp_path / "backup"

    # A key mounted elsewhere that is not the backup's: the restore refuses, nothing is restored.
    other = tmp_path / "other.key"
    write_key(other)
    restored = SatchelProcess(tmp_path / "restored")
    restored.root, restored.password = node.root, node.password
    refused = admin_refused(restored, "restore", str(backup), env={"SATCHEL_MASTER_KEY_FILE": str(other)})
    assert "is not the backup's master key" in refused and not (restored.data_dir / "meta.sqlite3").exists()

    # A backup whose key was swapped fails verification.
    swapped = tmp_path / "swapped"
    subprocess.run(["cp", "-a", str(backup), str(swapped)], check=True)
    write_key(swapped / "master.key")
    proc = subprocess.run([venv_tool("satchel"), "admin", "verify", str(swapped)], env=restored.env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1 and "not the master key this metadata was sealed with" in proc.stderr

    # The backup's own key, mounted: restored, and the node starts with it.
    mounted = tmp_path / "mount.key"
    write_key(mounted, (backup / "master.key").read_bytes(), mode=0o400)
    restored.admin("restore", str(backup), env={"SATCHEL_MASTER_KEY_FILE": str(mounted)})
    assert not (restored.data_dir / "master.key").exists()
    restored.extra_args = ("--master-key-file", str(mounted))
    with restored.running():
        assert [b["Name"] for b in client(restored).list_buckets()["Buckets"]] == ["kept"]
