"""Virtual-host style addressing (``bucket.<domain>``) when the server runs with ``--domain``.

The clients are real (boto3 with virtual addressing, SigV4 and SigV2; curl with --aws-sigv4); only the
name lookup of ``*.s3.satchel.test`` is pointed at loopback, since no DNS serves that name here.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.clients.boto import unique_bucket
from tests.clients.server import SatchelProcess

DOMAIN = "s3.satchel.test"


@pytest.fixture(scope="module")
def vhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    server = SatchelProcess(tmp_path_factory.mktemp("vhost") / "data", extra_args=("--domain", DOMAIN))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def loopback_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and (host == DOMAIN or host.endswith("." + DOMAIN)):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def client(server: SatchelProcess, signature: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=f"http://{DOMAIN}:{server.port}",
        region_name="us-east-1",
        aws_access_key_id=server.root.access_key,
        aws_secret_access_key=server.root.secret_key,
        config=Config(signature_version=signature, s3={"addressing_style": "virtual"}),
    )


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_boto3_virtual_host_round_trip(vhost_server: SatchelProcess, loopback_dns: None, signature: str) -> None:
    s3 = client(vhost_server, signature)
    name = unique_bucket("vh")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/hello world.txt", Body=b"virtual")
    assert s3.get_object(Bucket=name, Key="dir/hello world.txt")["Body"].read() == b"virtual"
    listed = s3.list_objects_v2(Bucket=name, Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/hello world.txt"]
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "dir/hello world.txt"})
    assert url.startswith(f"http://{name}.{DOMAIN}:")
    fetched = subprocess.run(
        ["curl", "-sS", "-g", "--connect-to", f"::127.0.0.1:{vhost_server.port}", url],
        capture_output=True, check=True, timeout=30,
    )
    assert fetched.stdout == b"virtual"
    s3.delete_object(Bucket=name, Key="dir/hello world.txt")
    s3.delete_bucket(Bucket=name)


def test_path_style_still_works_with_a_domain(vhost_server: SatchelProcess) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=vhost_server.endpoint, region_name="us-east-1",
        aws_access_key_id=vhost_server.root.access_key, aws_secret_access_key=vhost_server.root.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    )
    name = unique_bucket("ps")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"path")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"path"


def test_curl_sigv4_virtual_host(vhost_server: SatchelProcess, tmp_path: Path) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=vhost_server.endpoint, region_name="us-east-1",
        aws_access_key_id=vhost_server.root.access_key, aws_secret_access_key=vhost_server.root.secret_key,
    )
    name = unique_bucket("cv")
    s3.create_bucket(Bucket=name)
    source = tmp_path / "up.bin"
    source.write_bytes(b"curl-virtual" * 1000)
    auth = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
            f"{vhost_server.root.access_key}:{vhost_server.root.secret_key}",
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "--connect-to", f"::127.0.0.1:{vhost_server.port}"]
    url = f"http://{name}.{DOMAIN}:{vhost_server.port}/from-curl.bin"
    put = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", *auth, "-T", str(source), url],
                         capture_output=True, text=True, timeout=30)
    assert put.stdout == "200", put.stderr
    assert s3.get_object(Bucket=name, Key="from-curl.bin")["Body"].read() == source.read_bytes()
