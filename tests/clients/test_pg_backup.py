"""``satchel admin backup`` of a running deployment on PostgreSQL (the session's private cluster) and an
upstream bucket (SeaweedFS): objects of every kind (multipart, versioned, SSE-S3, tags, minted links, PARs,
TempURL keys), backed up while a client keeps writing; ``verify``; ``restore`` to a single node that serves
everything, presigned GETs and links included; ``migrate-to`` from that node to a fresh database and bucket,
which serves it again: the one round trip. And a blob gone from the upstream fails the backup, naming it, as
does one overwritten there with other bytes of the same length."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from tests import pgcluster
from tests.clients import mgmt
from tests.clients import par as pars
from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess, free_port, venv_tool
from tests.clients.test_migrate_to import BUCKET, PREFIX, Before, TargetNode, content, migrate_to, populate
from tests.seaweedfs import SeaweedFS

VERSIONED = "backup-versioned"
#: The writer stops when the backup is done, or after this long whatever happens.
LOAD_LIMIT = 30.0


@dataclass
class Deployment:
    node: TargetNode
    before: Before
    reusable: str  # a link good for several uses: one on the restored node, one on the migrated one
    versions: list[tuple[str, bytes]]  # (version id, body) of "doc", oldest first


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, pg_cluster: pgcluster.PgCluster,
               seaweedfs: SeaweedFS) -> Iterator[Deployment]:
    url = pg_cluster.create_database(pgcluster.fresh_name())
    node = TargetNode(tmp_path_factory.mktemp("deployment") / "data", url, seaweedfs, seaweedfs.new_bucket(),
                      free_port())
    with node.running():
        before = populate(node)
        reusable = mgmt.ok(mgmt.call(node, None, "POST", "/links", {"bucket": BUCKET, "keys": ["plain/0"],
                                                                     "max_uses": 5}))["links"][0]["url"]
        s3 = make_client(node)
        s3.create_bucket(Bucket=VERSIONED)
        s3.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})
        versions = []
        for n in range(3):
            body = content(f"doc#{n}", 5000 + n)
            versions.append((s3.put_object(Bucket=VERSIONED, Key="doc", Body=body)["VersionId"], body))
        yield Deployment(node, before, reusable, versions)


def admin(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_tool("satchel"), "admin", *args, "--data-dir", str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def single_node_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}


def serves_everything(node: SatchelProcess, deployment: Deployment, churned: dict[str, set[bytes]]) -> None:
    before = deployment.before
    s3 = make_client(node)
    for key, body in before.objects.items():
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key
    assert s3.head_object(Bucket=BUCKET, Key="secret/sse.bin")["ServerSideEncryption"] == "AES256"
    assert s3.get_object_tagging(Bucket=BUCKET, Key="plain/0")["TagSet"] == [{"Key": "team", "Value": "blue"}]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]] == ["pending/upload"]
    listed = s3.list_object_versions(Bucket=VERSIONED, Prefix="doc")["Versions"]
    assert [v["VersionId"] for v in listed] == [v for v, _ in reversed(deployment.versions)]
    for version, body in deployment.versions:
        assert s3.get_object(Bucket=VERSIONED, Key="doc", VersionId=version)["Body"].read() == body
    # What the writer changed during the backup: each key the snapshot has holds one whole body written.
    for key in (o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="churn/").get("Contents", [])):
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() in churned[key], key

    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "big/multi.bin"},
                                          ExpiresIn=300)
    assert requests.get(presigned, timeout=30).content == before.objects["big/multi.bin"]
    member = make_client(node, before.member)  # a sealed secret opens: the master key came along
    assert member.get_object(Bucket=BUCKET, Key="plain/2")["Body"].read() == before.objects["plain/2"]
    assert requests.get(before.spent, timeout=10).status_code == 403  # spent stays spent
    assert requests.get(deployment.reusable, timeout=10).content == before.objects["plain/0"]
    assert requests.get(pars.url(before.par), timeout=10).content == before.objects["plain/3"]
    assert requests.get(before.tempurl, timeout=10).content == before.objects["plain/4"]


def test_a_blob_missing_upstream_fails_the_backup_naming_it(deployment: Deployment, tmp_path: Path) -> None:
    """A blob the metadata references but the upstream lost is a failed backup that names it, never a
    backup that claims success without it. (The blob is put back afterwards, for the round trip.)"""
    node = deployment.node
    with psycopg.connect(node.url, autocommit=True) as conn:
        row = conn.execute("SELECT blob_id FROM blobs WHERE state = 'live' ORDER BY blob_id LIMIT 1").fetchone()
    assert row is not None
    blob_id = row[0]
    upstream = node.upstream.client()
    lost = f"{PREFIX}/{blob_id}"
    kept = upstream.get_object(Bucket=node.bucket, Key=lost)["Body"].read()
    upstream.delete_object(Bucket=node.bucket, Key=lost)
    try:
        failed = admin(node.env(), node.data_dir, "backup", str(tmp_path / "failed"))
    finally:
        upstream.put_object(Bucket=node.bucket, Key=lost, Body=kept)
    assert failed.returncode == 1
    assert f"blob {blob_id} is referenced by the snapshot but missing from s3://{node.bucket}/{lost}" in failed.stderr
    assert "the blob store lost it" in failed.stderr, failed.stderr
    assert not (tmp_path / "failed" / "manifest.json").exists()
    unverifiable = admin(single_node_env(), tmp_path / "unused", "verify", str(tmp_path / "failed"))
    assert unverifiable.returncode == 1 and "no readable backup manifest" in unverifiable.stderr


def test_a_blob_overwritten_upstream_fails_the_backup_naming_it(deployment: Deployment, tmp_path: Path) -> None:
    """A blob the upstream holds with other bytes of the same length (tampered with, or rotten) is a failed
    backup naming the object and the blob: its MD5 is not its object's ETag. Here a noncurrent version's
    (put back afterwards, for the round trip)."""
    node = deployment.node
    version = deployment.versions[0][0]
    with psycopg.connect(node.url, autocommit=True) as conn:
        row = conn.execute("SELECT segments FROM object_versions WHERE bucket = %s AND key = 'doc' "
                           "AND version_id = %s", (VERSIONED, version)).fetchone()
    assert row is not None
    [[blob_id, *_]] = json.loads(row[0])
    upstream = node.upstream.client()
    blob_key = f"{PREFIX}/{blob_id}"
    kept = upstream.get_object(Bucket=node.bucket, Key=blob_key)["Body"].read()
    upstream.put_object(Bucket=node.bucket, Key=blob_key, Body=bytes(255 - b for b in kept))  # same length
    try:
        failed = admin(node.env(), node.data_dir, "backup", str(tmp_path / "failed"))
    finally:
        upstream.put_object(Bucket=node.bucket, Key=blob_key, Body=kept)
    assert failed.returncode == 1
    assert (f"blob {blob_id} (s3://{node.bucket}/{blob_key}) of {VERSIONED}/doc (version {version}): its content "
            "(MD5 ") in failed.stderr, failed.stderr
    assert "does not match the object's ETag" in failed.stderr
    assert not (tmp_path / "failed" / "manifest.json").exists()


def test_backup_restore_migrate_round_trip(deployment: Deployment, pg_cluster: pgcluster.PgCluster,
                                           seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    node = deployment.node
    s3 = make_client(node)
    churned: dict[str, set[bytes]] = {}
    failures: list[str] = []
    done = threading.Event()
    written: list[float] = []  # when each write was acknowledged

    def write() -> None:
        """Overwrites and deletes while the backup runs: the deployment keeps serving, the backup holds."""
        deadline = time.monotonic() + LOAD_LIMIT
        n = 0
        while not done.is_set() and time.monotonic() < deadline:
            key = f"churn/{n % 7}"
            body = content(f"{key}#{n}", 2000 + n)
            churned.setdefault(key, set()).add(body)
            try:
                s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                if n % 5 == 4:
                    s3.delete_object(Bucket=BUCKET, Key=f"churn/{(n + 3) % 7}")
                written.append(time.monotonic())
            except Exception as exc:  # every failure is reported below
                failures.append(repr(exc))
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.3)  # some writes before the snapshot, the rest during it and the blob copy
        started = time.monotonic()
        backup = admin(node.env(), node.data_dir, "backup", str(tmp_path / "backup"), "--json")
        ended = time.monotonic()
    finally:
        done.set()
        writer.join(LOAD_LIMIT + 10)
    assert backup.returncode == 0, backup.stderr
    assert not failures, failures[:5]
    assert sum(started < t < ended for t in written) >= 3, "the writer did not overlap the backup"
    assert "metadata: objects" in backup.stderr  # progress, table by table
    report = json.loads(backup.stdout)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["source"] == {"metadata": "postgresql", "blobs": f"s3://{node.bucket}/{PREFIX}"}
    assert report["blobs"] == len(manifest["blobs"]) >= len(deployment.before.objects) + 3
    assert (tmp_path / "backup" / "master.key").read_bytes() == (node.data_dir / "master.key").read_bytes()

    verified = admin(single_node_env(), tmp_path / "unused", "verify", str(tmp_path / "backup"), "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["blobs"] == report["blobs"]

    # The links handed out name the deployment's address: each new node takes it over in turn, as
    # behind the deployment's one public name.
    # (The last test of the module: the deployment stays stopped.)
    node.stop()
    restored_and_migrated(deployment, churned, tmp_path / "backup", pg_cluster, seaweedfs, tmp_path)


def restored_and_migrated(deployment: Deployment, churned: dict[str, set[bytes]], backup: Path,
                          pg_cluster: pgcluster.PgCluster, seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    node = deployment.node
    restored = SatchelProcess(tmp_path / "restored", node.port)
    restored.root, restored.password = node.root, node.password
    done_restore = admin(single_node_env(), restored.data_dir, "restore", str(backup))
    assert done_restore.returncode == 0, done_restore.stderr
    with restored.running():
        serves_everything(restored, deployment, churned)

    url = pg_cluster.create_database(pgcluster.fresh_name())
    bucket = seaweedfs.new_bucket()
    migrated = migrate_to(restored, url, seaweedfs, bucket)
    assert migrated.returncode == 0, migrated.stderr
    again = TargetNode(tmp_path / "migrated", url, seaweedfs, bucket, node.port)
    again.root, again.password = node.root, node.password
    again.data_dir.mkdir(mode=0o700)
    (again.data_dir / "master.key").write_bytes((restored.data_dir / "master.key").read_bytes())
    (again.data_dir / "master.key").chmod(0o600)
    with again.running():
        serves_everything(again, deployment, churned)
        assert requests.get(deployment.before.fresh, timeout=10).content == deployment.before.objects["plain/2"]
        assert requests.get(deployment.before.fresh, timeout=10).status_code == 403  # one use
