"""``satchel admin migrate-to``: a real single node with data of every kind is stopped, migrated with the CLI
to PostgreSQL (the session's private cluster) and SeaweedFS, and a fresh node on the new engines — its own
data dir holding only the copied master key, as another machine would — serves everything the same:
objects byte for byte (multipart, SSE-S3, tags), users and their keys, grants, bucket policy and
lifecycle, minted links (a one-time link spent before stays spent), PARs, TempURL keys, webhooks.
Then the refusals: a running node, a non-empty database, a schema version that differs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from boto3.s3.transfer import TransferConfig

from tests import pgcluster
from tests.clients import mgmt
from tests.clients import par as pars
from tests.clients.boto import make_client
from tests.clients.server import Credentials, SatchelProcess, venv_tool
from tests.seaweedfs import SeaweedFS

MiB = 1024 * 1024
PREFIX = "migrated/blobs"
BUCKET = "migrated"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "PublicPics", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/pics/*"}]}
LIFECYCLE = {"Rules": [{"ID": "old-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Days": 30}}]}


def content(name: str, size: int) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


class TargetNode(SatchelProcess):
    """A node on PostgreSQL and the upstream, configured by environment as an operator's would be."""

    def __init__(self, data_dir: Path, url: str, upstream: SeaweedFS, bucket: str, port: int) -> None:
        super().__init__(data_dir, port)
        self.url, self.upstream, self.bucket = url, upstream, bucket

    def env(self) -> dict[str, str]:
        return {**super().env(), **blob_env(self.upstream), "SATCHEL_METADATA_URL": self.url,
                "SATCHEL_BLOBS_URL": f"s3://{self.bucket}/{PREFIX}"}


def blob_env(upstream: SeaweedFS) -> dict[str, str]:
    """The upstream's keys as the environment gives them (never on a command line)."""
    return {"SATCHEL_BLOBS_ENDPOINT_URL": upstream.url, "SATCHEL_BLOBS_ACCESS_KEY_ID": upstream.weed.access_key,
            "SATCHEL_BLOBS_SECRET_ACCESS_KEY": upstream.weed.secret_key, "SATCHEL_BLOBS_PART_SIZE": str(5 * MiB)}


def migrate_to(node: SatchelProcess, url: str, upstream: SeaweedFS, bucket: str, *extra: str,
               ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    keys = {k: v for k, v in blob_env(upstream).items() if k != "SATCHEL_BLOBS_ENDPOINT_URL"}  # a flag instead
    cmd = [venv_tool("satchel"), "admin", "migrate-to", "--data-dir", str(node.data_dir), "--metadata-url", url,
           "--blobs-url", f"s3://{bucket}/{PREFIX}", "--blobs-endpoint-url", upstream.url, *extra]
    return subprocess.run(cmd, env={**env, **keys}, capture_output=True, text=True, timeout=120, check=False)


@dataclass
class Before:
    """What the single node held, and the links handed out from it."""

    objects: dict[str, bytes]
    member: Credentials
    spent: str  # a one-time link, used once before the migration
    fresh: str  # a one-time link not used yet
    par: dict[str, Any]
    tempurl: str
    users: list[str]


def populate(node: SatchelProcess) -> Before:
    s3 = make_client(node)
    s3.create_bucket(Bucket=BUCKET)
    objects = {f"plain/{i}": content(f"plain/{i}", 1000 + 7919 * i) for i in range(5)}
    objects["pics/cat.jpg"] = content("cat", 20_000)
    objects["big/single.bin"] = content("single", 7 * MiB)  # one blob above the part size: a multipart copy
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    objects["big/multi.bin"] = content("multi", 6 * MiB)
    s3.upload_fileobj(io.BytesIO(objects["big/multi.bin"]), BUCKET, "big/multi.bin",
                      Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
    objects["secret/sse.bin"] = content("sse", 300_000)
    s3.put_object(Bucket=BUCKET, Key="secret/sse.bin", Body=objects["secret/sse.bin"], ServerSideEncryption="AES256")
    s3.put_object_tagging(Bucket=BUCKET, Key="plain/0", Tagging={"TagSet": [{"Key": "team", "Value": "blue"}]})
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "cost", "Value": "42"}]})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(POLICY))
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=LIFECYCLE)
    s3.create_multipart_upload(Bucket=BUCKET, Key="pending/upload")  # an upload still open

    member = node.create_user("mig-member")
    node.grant("mig-member", BUCKET, "read", "plain/")
    links = mgmt.ok(mgmt.call(node, None, "POST", "/links", {"bucket": BUCKET, "keys": ["plain/1", "plain/2"],
                                                              "max_uses": 1}))["links"]
    spent, fresh = links[0]["url"], links[1]["url"]
    assert requests.get(spent, timeout=10).content == objects["plain/1"]
    assert requests.get(spent, timeout=10).status_code == 403
    par = pars.create(node, bucket=BUCKET, accessType="ObjectRead", objectName="plain/3")
    assert requests.get(pars.url(par), timeout=10).content == objects["plain/3"]
    mgmt.ok(mgmt.call(node, None, "PUT", f"/buckets/{BUCKET}/tempurl-key", {}))
    tempurl = mgmt.ok(mgmt.call(node, None, "POST", "/links", {"bucket": BUCKET, "keys": ["plain/4"],
                                                                "kind": "swift"}))["links"][0]["url"]
    assert requests.get(tempurl, timeout=10).content == objects["plain/4"]
    mgmt.ok(mgmt.call(node, None, "PUT", f"/buckets/{BUCKET}/webhook", {"url": "https://hooks.example.invalid/in"}))
    users = sorted(u["name"] for u in json.loads(node.admin("user", "list", "--json")))
    return Before(objects, member, spent, fresh, par, tempurl, users)


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS) -> Iterator[tuple[SatchelProcess, Before]]:
    node = SatchelProcess(tmp_path_factory.mktemp("single") / "data")
    with node.running():
        before = populate(node)
        # Refused before any connection: the database named does not even exist.
        refused = migrate_to(node, "postgresql://nobody@127.0.0.1:1/none", seaweedfs, seaweedfs.new_bucket())
        assert refused.returncode == 1 and "a Satchel server is running" in refused.stderr, refused.stderr
    yield node, before


def test_migrated_node_serves_everything(single: tuple[SatchelProcess, Before], pg_cluster: pgcluster.PgCluster,
                                         seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    node, before = single
    url = pg_cluster.create_database(pgcluster.fresh_name())
    bucket = seaweedfs.new_bucket()
    # An earlier run that stopped part way: one blob landed whole, another cut short.
    landed, cut = sorted(p for p in (node.data_dir / "blobs").rglob("??/??/*") if p.is_file())[:2]
    upstream = seaweedfs.client()
    upstream.put_object(Bucket=bucket, Key=f"{PREFIX}/{landed.name}", Body=landed.read_bytes())
    upstream.put_object(Bucket=bucket, Key=f"{PREFIX}/{cut.name}", Body=cut.read_bytes()[:-1])
    done = migrate_to(node, url, seaweedfs, bucket, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["master_key"] == str((node.data_dir / "master.key").resolve())
    assert report["blobs"] >= len(before.objects) + 1  # multipart: two part blobs
    assert (report["blobs_skipped"], report["blobs_copied"]) == (1, report["blobs"] - 1)
    assert upstream.get_object(Bucket=bucket, Key=f"{PREFIX}/{cut.name}")["Body"].read() == cut.read_bytes()
    assert report["tables"]["objects"] == len(before.objects)
    assert report["tables"]["node_key_check"] == 1  # the key check goes with the metadata (core/keycheck.py)
    assert "blobs: " in done.stderr and "metadata: objects" in done.stderr  # progress

    again = migrate_to(node, url, seaweedfs, bucket)  # the database holds the node now
    assert again.returncode == 1 and "the target database is not empty" in again.stderr

    # The links handed out name the node's address: the new node takes it over, as behind one public URL.
    target = TargetNode(tmp_path / "new-node", url, seaweedfs, bucket, node.port)
    target.root, target.password = node.root, node.password
    target.data_dir.mkdir(mode=0o700)
    (target.data_dir / "master.key").write_bytes((node.data_dir / "master.key").read_bytes())
    (target.data_dir / "master.key").chmod(0o600)
    with target.running():
        s3 = make_client(target)
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert listed == sorted(before.objects)
        for key, body in before.objects.items():
            assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key
        head = s3.head_object(Bucket=BUCKET, Key="secret/sse.bin")
        assert head["ServerSideEncryption"] == "AES256"
        assert s3.get_object_tagging(Bucket=BUCKET, Key="plain/0")["TagSet"] == [{"Key": "team", "Value": "blue"}]
        assert s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] == [{"Key": "cost", "Value": "42"}]
        assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == POLICY
        assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]["ID"] == "old-tmp"
        assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]] == ["pending/upload"]
        anonymous = requests.get(f"{target.endpoint}/{BUCKET}/pics/cat.jpg", timeout=10)  # the policy
        assert anonymous.content == before.objects["pics/cat.jpg"]

        member = make_client(target, before.member)  # a sealed secret still opens: same master key
        assert member.get_object(Bucket=BUCKET, Key="plain/2")["Body"].read() == before.objects["plain/2"]
        with pytest.raises(Exception, match="AccessDenied"):
            member.get_object(Bucket=BUCKET, Key="secret/sse.bin")  # outside its grant

        assert requests.get(before.spent, timeout=10).status_code == 403  # spent before: stays spent
        assert requests.get(before.fresh, timeout=10).content == before.objects["plain/2"]
        assert requests.get(before.fresh, timeout=10).status_code == 403  # and one use only
        assert requests.get(pars.url(before.par), timeout=10).content == before.objects["plain/3"]
        assert requests.get(before.tempurl, timeout=10).content == before.objects["plain/4"]
        hook = mgmt.ok(mgmt.call(target, None, "GET", f"/buckets/{BUCKET}/webhook"))
        assert hook["url"] == "https://hooks.example.invalid/in"
        users = sorted(u["name"] for u in json.loads(target.admin("user", "list", "--json")))
        assert users == before.users
        s3.put_object(Bucket=BUCKET, Key="after", Body=b"written on the new engines")
        assert s3.get_object(Bucket=BUCKET, Key="after")["Body"].read() == b"written on the new engines"


def test_refusals(single: tuple[SatchelProcess, Before], pg_cluster: pgcluster.PgCluster, seaweedfs: SeaweedFS,
                  pg_url: str) -> None:
    node, _before = single
    bucket = seaweedfs.new_bucket()
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a database already used by a deployment
        conn.execute("INSERT INTO accounts (id, name, created) VALUES ('x', 'someone', 0)")
    full = migrate_to(node, pg_url, seaweedfs, bucket)
    assert full.returncode == 1 and "not empty (rows in accounts)" in full.stderr, full.stderr

    older = pg_cluster.create_database(pgcluster.fresh_name())
    with psycopg.connect(older, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (3)")
    wrong = migrate_to(node, older, seaweedfs, bucket)
    assert wrong.returncode == 1 and "schema version 3" in wrong.stderr, wrong.stderr

    fresh = pg_cluster.create_database(pgcluster.fresh_name())
    meta = node.data_dir / "meta.sqlite3"
    saved = meta.read_bytes()
    try:
        import sqlite3

        with sqlite3.connect(meta) as conn:
            conn.execute("UPDATE schema_version SET version = version - 1")
        stale = migrate_to(node, fresh, seaweedfs, bucket)
        assert stale.returncode == 1 and "run `satchel admin migrate`" in stale.stderr, stale.stderr
    finally:
        meta.write_bytes(saved)
    # Nothing was written anywhere by the refusals.
    assert "Contents" not in seaweedfs.client().list_objects_v2(Bucket=bucket)
