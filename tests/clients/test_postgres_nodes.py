"""Two ``satchel serve`` nodes on one PostgreSQL database (issue 14: PostgreSQL metadata, cross-node
coherence, failure behaviour), driven by real clients: boto3, the aws CLI, the ``satchel`` CLI, curl.

Each node has its own data directory, as separate machines would; they share what a deployment shares:
the database (``--metadata-url``), the master key (copied, as an operator would distribute it) and the
blobs (a symlinked directory standing in for a shared blob store). The PostgreSQL cluster is the test
session's private one (``tests/pgcluster.py``); the last test stops and restarts it under the nodes.
"""

from __future__ import annotations

import json
import os
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

from tests import pgcluster
from tests.clients import par as pars
from tests.clients.server import SatchelProcess, venv_tool
from tests.clients.test_cli_links import _clean_env, _run

#: What the nodes promise (meta/postgres_db.py): a change committed on one node reaches every worker of
#: every other node within the notification's delivery, at worst LISTENING_TTL (1 s) later.
COHERENCE_BOUND = 1.0
#: A request that needs PostgreSQL while it is down is answered 503 within postgres_timeout (here 2 s),
#: the next ones at once.
FAILURE_BOUND = 4.0


class PgNode(SatchelProcess):
    """A node whose metadata lives in PostgreSQL (the URL reaches ``satchel admin`` too)."""

    def __init__(self, data_dir: Path, url: str) -> None:
        super().__init__(data_dir, extra_args=("--postgres-timeout", "2"))
        self.url = url

    def env(self) -> dict[str, str]:
        return {**super().env(), "SATCHEL_METADATA_URL": self.url}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, pg_cluster: pgcluster.PgCluster,
          pg_template: Any) -> Iterator[tuple[PgNode, PgNode]]:
    url = pg_cluster.create_database(pgcluster.fresh_name(), pg_template.name)
    root = tmp_path_factory.mktemp("pgnodes")
    a, b = PgNode(root / "a", url), PgNode(root / "b", url)
    b.root, b.password = a.root, a.password
    a.start()
    try:
        b.data_dir.mkdir(mode=0o700)
        key = b.data_dir / "master.key"
        key.write_bytes((a.data_dir / "master.key").read_bytes())
        key.chmod(0o600)
        os.symlink(a.data_dir / "blobs", b.data_dir / "blobs")
        b.start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


def client(node: SatchelProcess) -> Any:
    return boto3.client("s3", endpoint_url=node.endpoint, region_name="us-east-1",
                        aws_access_key_id=node.root.access_key, aws_secret_access_key=node.root.secret_key,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                      connect_timeout=5, read_timeout=10))


def cli(node: SatchelProcess, *args: str) -> str:
    env = _clean_env(SATCHEL_ENDPOINT=node.endpoint, AWS_ACCESS_KEY_ID=node.root.access_key,
                     AWS_SECRET_ACCESS_KEY=node.root.secret_key)
    proc = _run(list(args), env)
    assert proc.returncode == 0, f"satchel {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def mint(node: SatchelProcess, target: str, *flags: str) -> tuple[str, str]:
    (entry,) = json.loads(cli(node, "presign", target, *flags, "--json"))["links"]
    return str(entry["url"]), str(entry["link"]["id"])


def status(url: str, via: SatchelProcess | None = None) -> int:
    """GET ``url``; with ``via``, through that node instead (the signed Host header stays the URL's: a
    load balancer in front of both nodes)."""
    if via is None:
        return requests.get(url, timeout=10).status_code
    host = url.split("/")[2]
    return requests.get(url.replace(host, via.host_port, 1), headers={"Host": host}, timeout=10).status_code


def test_boto3_and_aws_cli_across_nodes(nodes: tuple[PgNode, PgNode], tmp_path: Path) -> None:
    a, b = nodes
    s3a, s3b = client(a), client(b)
    # A user made with `satchel admin` on node A's machine signs in on node B at once.
    bob = a.create_user("bob")
    s3a.create_bucket(Bucket="shared")
    a.grant("bob", "shared", "read")
    keys = ["z", "a/é", "a/b", "A", "a~", "a/ä"]
    for key in keys:
        s3a.put_object(Bucket="shared", Key=key, Body=key.encode())
    # Node B lists what node A wrote, in UTF-8 byte order (S3's, and SQLite's): COLLATE "C".
    listed = [o["Key"] for o in s3b.list_objects_v2(Bucket="shared")["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())
    assert s3b.get_object(Bucket="shared", Key="a/é")["Body"].read() == "a/é".encode()
    as_bob = boto3.client("s3", endpoint_url=b.endpoint, region_name="us-east-1", aws_access_key_id=bob.access_key,
                          aws_secret_access_key=bob.secret_key, config=Config(s3={"addressing_style": "path"}))
    assert as_bob.get_object(Bucket="shared", Key="z")["Body"].read() == b"z"
    with pytest.raises(ClientError) as denied:
        as_bob.put_object(Bucket="shared", Key="bob", Body=b"no")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    # A multipart upload begun on A, a part on B, completed on A.
    upload = s3a.create_multipart_upload(Bucket="shared", Key="big")["UploadId"]
    part1 = s3a.upload_part(Bucket="shared", Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 5 * 2**20)
    part2 = s3b.upload_part(Bucket="shared", Key="big", UploadId=upload, PartNumber=2, Body=b"tail")
    s3a.complete_multipart_upload(Bucket="shared", Key="big", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": part1["ETag"]}, {"PartNumber": 2, "ETag": part2["ETag"]}]})
    assert s3b.head_object(Bucket="shared", Key="big")["ContentLength"] == 5 * 2**20 + 4
    # The aws CLI on node B copies up and down and lists.
    source = tmp_path / "up.bin"
    source.write_bytes(os.urandom(70_000))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
           "AWS_ACCESS_KEY_ID": b.root.access_key, "AWS_SECRET_ACCESS_KEY": b.root.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    aws = [venv_tool("aws"), "--endpoint-url", b.endpoint, "s3"]
    subprocess.run([*aws, "cp", str(source), "s3://shared/cli/up.bin"], env=env, check=True, timeout=60,
                   capture_output=True)
    listing = subprocess.run([*aws, "ls", "s3://shared/cli/"], env=env, check=True, timeout=60,
                             capture_output=True, text=True).stdout
    assert "up.bin" in listing
    assert s3a.get_object(Bucket="shared", Key="cli/up.bin")["Body"].read() == source.read_bytes()
    subprocess.run([*aws, "rm", "s3://shared/cli/up.bin"], env=env, check=True, timeout=60, capture_output=True)
    with pytest.raises(ClientError) as gone:
        s3a.head_object(Bucket="shared", Key="cli/up.bin")
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_link_revoked_on_one_node_is_refused_by_the_other_within_the_bound(
        nodes: tuple[PgNode, PgNode]) -> None:
    a, b = nodes
    client(a).create_bucket(Bucket="revoke")
    client(a).put_object(Bucket="revoke", Key="doc", Body=b"secret")
    url, link_id = mint(a, "s3://revoke/doc", "--max-uses", "100")
    assert status(url, via=b) == 200  # node B admits it (and has its revocation list cached)
    cli(a, "links", "revoke", link_id)
    revoked = time.monotonic()
    while status(url, via=b) != 403:
        assert time.monotonic() - revoked < COHERENCE_BOUND, "node B still admits the revoked link"
        time.sleep(0.01)


def _fetch_together(url: str, node: SatchelProcess, start: threading.Barrier, codes: list[int]) -> None:
    start.wait(timeout=10)
    codes.append(status(url, via=node))


def test_a_one_time_link_raced_on_both_nodes_is_used_exactly_once(nodes: tuple[PgNode, PgNode]) -> None:
    a, b = nodes
    client(a).create_bucket(Bucket="race")
    client(a).put_object(Bucket="race", Key="once", Body=b"one")
    for _ in range(4):  # bounded: 4 links, 6 concurrent requests each
        url, link_id = mint(a, "s3://race/once", "--max-uses", "1")
        vias = [a, b] * 3
        codes: list[int] = []
        start = threading.Barrier(len(vias))
        threads = [threading.Thread(target=_fetch_together, args=(url, n, start, codes)) for n in vias]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(codes) == [200] + [403] * (len(vias) - 1), codes
        shown = json.loads(cli(b, "links", "show", link_id, "--json"))
        assert shown["uses"] == 1, shown


def test_postgres_down_is_503_and_recovers_without_restart(nodes: tuple[PgNode, PgNode],
                                                          pg_cluster: pgcluster.PgCluster) -> None:
    a, b = nodes
    s3a = client(a)
    s3a.create_bucket(Bucket="outage")
    s3a.put_object(Bucket="outage", Key="k", Body=b"before")
    par = pars.create(a, bucket="outage", accessType="ObjectRead", objectName="k")
    assert requests.get(pars.url(par), timeout=10).status_code == 200
    pg_cluster.stop()
    try:
        for node in (a, b):
            took = []
            for operation, params in (("put_object", {"Key": "k2", "Body": b"x"}), ("list_objects_v2", {}),
                                      ("get_object", {"Key": "k"})):
                began = time.monotonic()
                with pytest.raises(ClientError) as refused:
                    getattr(client(node), operation)(Bucket="outage", **params)
                took.append(time.monotonic() - began)
                error = refused.value.response
                assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
                    503, "ServiceUnavailable"), error
            # The first may wait postgres_timeout; the next ones are refused at once (the breaker), not
            # each after the timeout again.
            assert took[0] < FAILURE_BOUND and max(took[1:]) < 1.0, took
        # Swift says 503 too (the auth call needs the database).
        began = time.monotonic()
        reply = requests.get(f"{a.endpoint}/auth/v1.0", timeout=10,
                             headers={"X-Auth-User": "root:root", "X-Auth-Key": a.root.secret_key})
        assert reply.status_code == 503 and time.monotonic() - began < FAILURE_BOUND
        # And a pre-authenticated request (OCI): 503 in OCI's JSON shape.
        reply = requests.get(pars.url(par), timeout=10)
        assert (reply.status_code, reply.json()["code"]) == (503, "ServiceUnavailable"), reply.text
        assert reply.headers["Content-Type"] == "application/json"
    finally:
        pg_cluster.start()
    # Back without a restart of either node: the pools reconnect.
    for node in (a, b):
        deadline = time.monotonic() + 10
        while True:
            try:
                body = client(node).get_object(Bucket="outage", Key="k")["Body"].read()
                break
            except ClientError:
                assert time.monotonic() < deadline, node.log_tail()
                time.sleep(0.2)
        assert body == b"before"
    s3a.put_object(Bucket="outage", Key="k2", Body=b"after")
    assert client(b).get_object(Bucket="outage", Key="k2")["Body"].read() == b"after"
