"""deploy/haproxy-nodes.cfg and deploy/nginx-nodes.conf (docs/deployment.md): checked by their own tools,
then each in front of two real Satchel nodes sharing one PostgreSQL database and one SeaweedFS upstream,
over TLS: what one node stored the other serves, and when a node stops the front sends every request to
the one left (no error reaches the client)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests import pgcluster
from tests.clients.server import SatchelProcess, free_port
from tests.docs.guide import require
from tests.docs.test_deploy import DEPLOY, adapt, haproxy_example, nginx_main_config, self_signed, wait_for_front
from tests.seaweedfs import SeaweedFS


class Node(SatchelProcess):
    """One node of the deployment: deploy/satchel-node.toml's engine settings, by environment."""

    def __init__(self, data_dir: Path, url: str, upstream: SeaweedFS, bucket: str) -> None:
        super().__init__(data_dir)
        self.url, self.upstream, self.bucket = url, upstream, bucket

    def env(self) -> dict[str, str]:
        return {**super().env(), "SATCHEL_METADATA_URL": self.url, "SATCHEL_BLOBS_URL": f"s3://{self.bucket}/nodes",
                "SATCHEL_BLOBS_ENDPOINT_URL": self.upstream.url,
                "SATCHEL_BLOBS_ACCESS_KEY_ID": self.upstream.weed.access_key,
                "SATCHEL_BLOBS_SECRET_ACCESS_KEY": self.upstream.weed.secret_key,
                "SATCHEL_TRUSTED_PROXIES": "127.0.0.1"}


def nginx(directory: Path, nodes: tuple[int, int], https_port: int) -> list[str]:
    site = directory / "satchel.conf"
    site.write_text(adapt((DEPLOY / "nginx-nodes.conf").read_text(), {
        "listen 80;": f"listen 127.0.0.1:{free_port()};", "listen [::]:80;\n": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;", "listen [::]:443 ssl;\n": "",
        "server 10.0.0.11:9000": f"server 127.0.0.1:{nodes[0]}",
        "server 10.0.0.12:9000": f"server 127.0.0.1:{nodes[1]}",
        "    server 10.0.0.13:9000 max_fails=2 fail_timeout=10s;\n": "",
        "/etc/ssl/certs/files.example.com.pem": str(directory / "cert.pem"),
        "/etc/ssl/private/files.example.com.key": str(directory / "key.pem"),
    }))
    main = directory / "nginx.conf"
    main.write_text(nginx_main_config(directory, site))
    return [require("nginx"), "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(main)]


def haproxy(directory: Path, nodes: tuple[int, int], https_port: int) -> list[str]:
    return haproxy_example(directory, "haproxy-nodes.cfg", (free_port(), https_port), {
        "server node1 10.0.0.11:9000": f"server node1 127.0.0.1:{nodes[0]}",
        "server node2 10.0.0.12:9000": f"server node2 127.0.0.1:{nodes[1]}",
        "    server node3 10.0.0.13:9000\n": ""})


FRONTS = {"nginx": (nginx, "-t"), "haproxy": (haproxy, "-c")}


@dataclass(frozen=True)
class Deployment:
    endpoint: str
    cert: Path
    nodes: tuple[Node, Node]

    def client(self) -> Any:
        """boto3 through the front, as root, without retries (a retried failure would hide)."""
        root = self.nodes[0].root
        return boto3.client("s3", endpoint_url=self.endpoint, verify=str(self.cert), region_name="us-east-1",
                            aws_access_key_id=root.access_key, aws_secret_access_key=root.secret_key,
                            config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module", params=sorted(FRONTS))
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               pg_cluster: pgcluster.PgCluster, seaweedfs: SeaweedFS) -> Iterator[Deployment]:
    """One per front for the module: a test that stops a node leaves the other serving, one that stops
    the database starts it again."""
    make_command, check_flag = FRONTS[request.param]
    tmp_path = tmp_path_factory.mktemp(f"deploy-{request.param}")
    url, bucket = pg_cluster.create_database(pgcluster.fresh_name()), seaweedfs.new_bucket()
    a = Node(tmp_path / "a", url, seaweedfs, bucket)
    b = Node(tmp_path / "b", url, seaweedfs, bucket)
    b.root, b.password = a.root, a.password
    directory = tmp_path / request.param
    directory.mkdir()
    cert, _ = self_signed(directory)
    with a.running():
        b.data_dir.mkdir(mode=0o700)  # the second node: the first one's master key, nothing else
        (b.data_dir / "master.key").write_bytes((a.data_dir / "master.key").read_bytes())
        (b.data_dir / "master.key").chmod(0o600)
        with b.running():
            proxy, endpoint = _start_front(make_command, check_flag, directory, (a.port, b.port), cert)
            try:
                yield Deployment(endpoint, cert, (a, b))
            finally:
                proxy.terminate()
                proxy.wait(timeout=10)


def _start_front(make_command: Any, check_flag: str, directory: Path, nodes: tuple[int, int],
                 cert: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The proxy on fresh loopback ports, once its config passed its own check. A port chosen free can be
    taken before the proxy binds it (another test's server, or an outgoing connection's ephemeral port on
    a busy machine): a proxy that could not bind is started again on other ports, three times at most."""
    for attempt in range(3):
        https_port = free_port()
        command = make_command(directory, nodes, https_port)
        checked = subprocess.run([*command, check_flag], capture_output=True, text=True, timeout=60, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        log_path = directory / f"proxy-{attempt}.log"
        with log_path.open("wb") as log:
            proxy = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        endpoint = f"https://localhost:{https_port}"
        try:
            wait_for_front(endpoint, cert, proxy, log_path)
            return proxy, endpoint
        except AssertionError:
            proxy.terminate()
            proxy.wait(timeout=10)
            text = log_path.read_text(errors="replace")
            if attempt == 2 or not ("failed to start their listeners" in text or "Address already in use" in text):
                raise
    raise AssertionError("unreachable")


def test_two_nodes_behind_the_front_and_one_stops(deployment: Deployment) -> None:
    a, b = deployment.nodes
    s3 = deployment.client()
    bucket = f"nodes-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    bodies = {f"k{i}": os.urandom(100_000 + i) for i in range(6)}
    for key, body in bodies.items():  # spread over both nodes by the front
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    direct = boto3.client("s3", endpoint_url=b.endpoint, region_name="us-east-1",
                          aws_access_key_id=a.root.access_key, aws_secret_access_key=a.root.secret_key)
    for key, body in bodies.items():  # every object from node b directly: one store behind both
        assert direct.get_object(Bucket=bucket, Key=key)["Body"].read() == body

    a.stop()  # node a goes away: no request through the front may fail
    for key, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
        s3.put_object(Bucket=bucket, Key=f"after/{key}", Body=body)
    link = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k0"}, ExpiresIn=300)
    assert requests.get(link, verify=str(deployment.cert), timeout=10).content == bodies["k0"]


@pytest.mark.slow  # the outage lasts past HAProxy's checks: ~20 s
# HAProxy only: nginx passes Satchel's 503 on as it is.
@pytest.mark.parametrize("deployment", ["haproxy"], indirect=True, scope="module")
def test_postgres_down_is_503_through_the_front_and_it_recovers(deployment: Deployment,
                                                                 pg_cluster: pgcluster.PgCluster) -> None:
    """Every answer is a 503 while the database is away (Satchel's at first; HAProxy's own once its checks
    took every node out), and service comes back by itself once it returns (docs/deployment.md)."""
    s3 = deployment.client()
    bucket = f"outage-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    pg_cluster.stop()
    try:
        answers: list[requests.Response] = []
        # HAProxy takes a node out after 2 failed checks 2 s apart; a check fails at once, or after its 2 s
        # timeout while the node's first reads still wait for the pool (up to postgres_timeout): 6-10 s.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "No server is available" not in (answers[-1].text if answers else ""):
            answers.append(requests.get(url, verify=str(deployment.cert), timeout=10))
            time.sleep(0.3)
        assert {answer.status_code for answer in answers} == {503}
        assert "ServiceUnavailable" in answers[0].text  # Satchel's S3 error
        assert "No server is available" in answers[-1].text  # HAProxy's own, every node out
    finally:
        pg_cluster.start()
    deadline = time.monotonic() + 15  # HAProxy: 2 good checks 2 s apart
    while (answer := requests.get(url, verify=str(deployment.cert), timeout=10)).status_code != 200:
        assert time.monotonic() < deadline, answer.status_code
        time.sleep(0.3)
    assert answer.content == b"kept"


def test_the_node_settings_load() -> None:
    """deploy/satchel-node.toml as a node reads it, the upstream's secret key from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    result = subprocess.run([str(Path(sys.executable).parent / "satchel"), "config", "show", "--json",
                             "--config", str(DEPLOY / "satchel-node.toml")], capture_output=True, text=True,
                            timeout=60, check=False, env={**env, "SATCHEL_BLOBS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    assert result.returncode == 0, result.stderr
    assert "postgresql://satchel@db.internal/satchel" in result.stdout and "s3://satchel-blobs/prod" in result.stdout
    assert "s3cr3t-value" not in result.stdout  # masked
