"""The cluster topology is what it claims (``SATCHEL_TEST_TOPOLOGY=cluster``, tests/clients/cluster.py):
requests through the load balancer reach both nodes, even on one kept-alive connection; blobs land in the
upstream bucket, metadata in PostgreSQL, nothing in the nodes' data dirs but their master key and logs.
Skipped in the single-node topology, where there is nothing of this to check."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.clients.cluster import Cluster, topology
from tests.clients.server import ServerHandle, eventually

pytestmark = pytest.mark.skipif(topology() != "cluster", reason="needs SATCHEL_TEST_TOPOLOGY=cluster")


@pytest.fixture
def deployment(satchel_server: ServerHandle) -> Cluster:
    assert isinstance(satchel_server, Cluster)
    return satchel_server


def served(node_log: str, marker: str) -> int:
    return sum(marker in line for line in node_log.splitlines())


def test_consecutive_requests_on_one_connection_reach_both_nodes(deployment: Cluster) -> None:
    marker = f"rr-{uuid.uuid4().hex}"
    with requests.Session() as session:  # keep-alive to HAProxy: balancing is per request, not per connection
        for i in range(10):
            assert session.get(f"{deployment.endpoint}/{marker}/{i}", timeout=10).status_code == 404  # NoSuchBucket
    a, b = deployment.nodes

    def both() -> bool:
        return served(a.log_path.read_text(), marker) + served(b.log_path.read_text(), marker) == 10

    assert eventually(both, timeout=3), (a.log_tail(), b.log_tail())
    # Round-robin alternates (5 and 5); a health check failing under load may skew it, not empty a side.
    assert min(served(a.log_path.read_text(), marker), served(b.log_path.read_text(), marker)) >= 3


def test_blobs_go_upstream_and_metadata_to_postgres(deployment: Cluster, s3: Any, bucket: str) -> None:
    body = uuid.uuid4().bytes * 1000
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    upstream = deployment.upstream.client()
    stored = upstream.list_objects_v2(Bucket=deployment.bucket, Prefix="satchel/").get("KeyCount", 0)
    assert stored >= 1
    for node in deployment.nodes:
        left = {p.name for p in node.data_dir.iterdir()}
        assert "master.key" in left and not any(name.endswith(".db") for name in left), left
        blobs = node.data_dir / "blobs"
        assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*")), node.data_dir
    # Both nodes hold the same key: a secret sealed by either opens on the other (every request above
    # and below is checked by whichever node HAProxy picked).
    assert (deployment.nodes[0].data_dir / "master.key").read_bytes() == \
        (deployment.nodes[1].data_dir / "master.key").read_bytes()
    for _ in range(4):
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
