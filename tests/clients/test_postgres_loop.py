"""No metadata-store call runs on the event loop of a PostgreSQL-backed node (issue 14's thread hop).

One real ``satchel serve`` on the test session's PostgreSQL, with ``SATCHEL_STORE_LOOP_GUARD=raise``
(``meta/loopguard.py``): a store call made on an event-loop thread is refused (the request fails) and
logged. Each test drives a real flow with a real client and asserts it succeeded and that the node's
log, for that flow, names no store call made on the loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import swiftclient.client as swift_api
from botocore.config import Config

from tests.clients import mgmt
from tests.clients import par as pars
from tests.clients.server import SatchelProcess
from tests.clients.swift import root_user
from tests.clients.test_cli_links import _clean_env, _run

MARKER = "store call on the event loop"


class GuardedNode(SatchelProcess):
    def __init__(self, data_dir: Path, url: str) -> None:
        super().__init__(data_dir)
        self.url = url

    def env(self) -> dict[str, str]:
        return {**super().env(), "SATCHEL_METADATA_URL": self.url, "SATCHEL_STORE_LOOP_GUARD": "raise"}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, pg_module_url: str) -> Iterator[GuardedNode]:
    server = GuardedNode(tmp_path_factory.mktemp("pgloop") / "node", pg_module_url)
    with server.running():
        s3(server).create_bucket(Bucket="loop")
        yield server


@pytest.fixture
def on_loop(node: GuardedNode) -> Iterator[None]:
    """After the test: the store calls its flow made on the loop, from the node's log (none)."""
    start = node.log_path.stat().st_size
    yield
    with node.log_path.open("rb") as log:
        log.seek(start)
        lines = [line for line in log.read().decode(errors="replace").splitlines() if MARKER in line]
    assert lines == [], "\n".join(lines)


def s3(node: SatchelProcess) -> Any:
    return boto3.client("s3", endpoint_url=node.endpoint, region_name="us-east-1",
                        aws_access_key_id=node.root.access_key, aws_secret_access_key=node.root.secret_key,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def test_the_guard_refuses_a_store_call_on_the_loop() -> None:
    """The proof has teeth: on an event-loop thread the guard refuses; off it, it lets the call through."""
    import asyncio

    from satchel.meta import loopguard

    class Fake:
        def generation(self) -> int:
            return 7

    fake = Fake()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(loopguard.ENV, "raise")
        guard = loopguard.install(fake, default="off")  # type: ignore[arg-type]
    assert guard is not None and fake.generation() == 7

    async def on_the_loop() -> int:
        return fake.generation()

    with pytest.raises(loopguard.StoreCalledOnLoop):
        asyncio.run(on_the_loop())
    assert guard.calls["generation"] == 1


def test_boto3_object_flows(node: GuardedNode, on_loop: None) -> None:
    client = s3(node)
    for i in range(3):
        client.put_object(Bucket="loop", Key=f"k{i}", Body=b"x" * 100)
    assert client.get_object(Bucket="loop", Key="k1")["Body"].read() == b"x" * 100
    assert client.head_object(Bucket="loop", Key="k1")["ContentLength"] == 100
    listed = client.list_objects_v2(Bucket="loop")
    assert [o["Key"] for o in listed["Contents"]] == ["k0", "k1", "k2"]
    client.copy_object(Bucket="loop", Key="copy", CopySource={"Bucket": "loop", "Key": "k0"})
    assert client.get_object(Bucket="loop", Key="copy")["Body"].read() == b"x" * 100
    client.delete_object(Bucket="loop", Key="copy")
    upload = client.create_multipart_upload(Bucket="loop", Key="big")["UploadId"]
    part = client.upload_part(Bucket="loop", Key="big", UploadId=upload, PartNumber=1, Body=b"p" * 1000)
    client.list_parts(Bucket="loop", Key="big", UploadId=upload)
    client.complete_multipart_upload(Bucket="loop", Key="big", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert client.get_object(Bucket="loop", Key="big")["Body"].read() == b"p" * 1000
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["loop"]


def test_presigned_get(node: GuardedNode, on_loop: None) -> None:
    client = s3(node)
    client.put_object(Bucket="loop", Key="shared", Body=b"hello")
    url = client.generate_presigned_url("get_object", Params={"Bucket": "loop", "Key": "shared"}, ExpiresIn=60)
    reply = requests.get(url, timeout=10)
    assert reply.status_code == 200 and reply.content == b"hello"


def test_minted_link_and_the_list_of_links(node: GuardedNode, on_loop: None) -> None:
    s3(node).put_object(Bucket="loop", Key="minted", Body=b"once")
    env = _clean_env(SATCHEL_ENDPOINT=node.endpoint, AWS_ACCESS_KEY_ID=node.root.access_key,
                     AWS_SECRET_ACCESS_KEY=node.root.secret_key)
    proc = _run(["presign", "s3://loop/minted", "--max-uses", "1", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["links"]
    assert requests.get(entry["url"], timeout=10).status_code == 200
    assert requests.get(entry["url"], timeout=10).status_code == 403  # its one use is spent
    links = mgmt.ok(mgmt.call(node, None, "GET", "/links"))
    assert entry["link"]["id"] in json.dumps(links)


def test_par_use(node: GuardedNode, on_loop: None) -> None:
    s3(node).put_object(Bucket="loop", Key="par", Body=b"par")
    par = pars.create(node, bucket="loop", accessType="ObjectRead", objectName="par")
    reply = requests.get(pars.url(par), timeout=10)
    assert reply.status_code == 200 and reply.content == b"par"


def test_swift_get(node: GuardedNode, on_loop: None) -> None:
    s3(node).put_object(Bucket="loop", Key="swift", Body=b"swift")
    conn: swift_api.Connection = root_user(node).connection()
    _, body = conn.get_object("loop", "swift")
    assert body == b"swift"
    conn.close()


def test_more_reads_stay_off_the_loop(node: GuardedNode, on_loop: None) -> None:
    """Tagging, ACLs, a PAR listing, Swift listings, TempURL keys and management reads, all off the loop."""
    client = s3(node)
    client.put_object(Bucket="loop", Key="more", Body=b"more", Tagging="a=1")
    assert client.get_object_tagging(Bucket="loop", Key="more")["TagSet"] == [{"Key": "a", "Value": "1"}]
    assert client.get_object_acl(Bucket="loop", Key="more")["Owner"]
    client.list_objects(Bucket="loop", Prefix="m")
    listing = pars.create(node, bucket="loop", accessType="AnyObjectRead", bucketListingAction="ListObjects")
    reply = requests.get(pars.url(listing), timeout=10)
    assert reply.status_code == 200 and "more" in reply.text
    assert mgmt.ok(mgmt.call(node, None, "GET", "/pars?bucket=loop"))["pars"]
    conn: swift_api.Connection = root_user(node).connection()
    _, objects = conn.get_container("loop")
    assert "more" in [o["name"] for o in objects]
    _, containers = conn.get_account()
    assert [c["name"] for c in containers] == ["loop"]
    conn.post_account({"X-Account-Meta-Temp-URL-Key": "secret-key-1"})
    assert conn.head_account()["x-account-meta-temp-url-key"] == "secret-key-1"
    conn.close()
    assert mgmt.ok(mgmt.call(node, None, "GET", "/audit?bucket=loop"))["events"]


def test_versioned_writes_and_reads(node: GuardedNode, on_loop: None) -> None:
    client = s3(node)
    client.create_bucket(Bucket="loop-versions")
    client.put_bucket_versioning(Bucket="loop-versions", VersioningConfiguration={"Status": "Enabled"})
    first = client.put_object(Bucket="loop-versions", Key="v", Body=b"one")["VersionId"]
    client.put_object(Bucket="loop-versions", Key="v", Body=b"two")
    assert client.get_object(Bucket="loop-versions", Key="v", VersionId=first)["Body"].read() == b"one"
    versions = client.list_object_versions(Bucket="loop-versions")["Versions"]
    assert len(versions) == 2
    client.delete_object(Bucket="loop-versions", Key="v")
    assert client.get_bucket_versioning(Bucket="loop-versions")["Status"] == "Enabled"
