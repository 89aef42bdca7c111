"""Fixtures for the real-client tier: one satchel process per xdist worker, clients pointed at it.

Run against another S3 endpoint (e.g. to debug the harness) with::

    SATCHEL_TEST_ENDPOINT=http://127.0.0.1:5000 SATCHEL_TEST_ACCESS_KEY=... SATCHEL_TEST_SECRET_KEY=... \
        .venv/bin/python -m pytest tests/clients

Tests that need the admin CLI skip themselves then; signature checks fail against servers that do not
verify signatures, which is expected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients import cluster
from tests.clients.boto import S3Factory, empty_and_delete, make_client, unique_bucket
from tests.clients.content import write_random_file
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, external_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    clustered = cluster.topology() == "cluster"
    for item in items:
        if "tests/clients/" in item.nodeid:
            item.add_marker(pytest.mark.clients)
            if not clustered:
                continue
            if item.get_closest_marker("single_node"):
                item.add_marker(pytest.mark.skip(reason="single_node: not run on the two-node cluster"))
            elif "satchel_server" not in getattr(item, "fixturenames", ()):
                # It starts servers of its own (or none): the same test in either topology.
                item.add_marker(pytest.mark.skip(reason="not on the shared server: nothing of the cluster to test"))


@pytest.fixture(scope="session")
def satchel_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[ServerHandle]:
    """One server per xdist worker; with SATCHEL_TEST_TOPOLOGY=cluster, two nodes behind HAProxy on
    PostgreSQL and SeaweedFS (tests/clients/cluster.py), reached through the load balancer."""
    external = external_server()
    if external is not None:
        yield external
        return
    if cluster.topology() == "cluster":
        deployment = cluster.start_cluster(request, tmp_path_factory.mktemp("cluster"))
        try:
            yield deployment
        finally:
            deployment.stop()
        return
    server = SatchelProcess(tmp_path_factory.mktemp("satchel") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def managed_server(satchel_server: ServerHandle) -> SatchelProcess:
    """The server, when the harness started it (so the admin CLI works); skips otherwise."""
    satchel_server.require_managed()
    assert isinstance(satchel_server, SatchelProcess)
    return satchel_server


@pytest.fixture(scope="session")
def s3(satchel_server: ServerHandle) -> Any:
    """A boto3 client with botocore's current defaults (CRC32 checksums, signed payload over http)."""
    return make_client(satchel_server)


@pytest.fixture(scope="session")
def s3_factory(satchel_server: ServerHandle) -> S3Factory:
    def factory(creds: Credentials | None = None, **config: Any) -> Any:
        return make_client(satchel_server, creds, **config)

    return factory


@pytest.fixture
def bucket_factory(s3: Any) -> Iterator[Callable[..., str]]:
    """Creates uniquely named buckets owned by the root key and removes them after the test."""
    made: list[str] = []

    def create(prefix: str = "t") -> str:
        name = unique_bucket(prefix)
        s3.create_bucket(Bucket=name)
        made.append(name)
        return name

    yield create
    for name in made:
        empty_and_delete(s3, name)


@pytest.fixture
def bucket(bucket_factory: Callable[..., str]) -> str:
    return bucket_factory()


@pytest.fixture
def member(managed_server: SatchelProcess) -> Callable[[], Credentials]:
    """Makes fresh member users of the root account, each with one access key."""

    def create() -> Credentials:
        return managed_server.create_user(f"u{uuid.uuid4().hex[:12]}")

    return create


@pytest.fixture
def random_file(tmp_path: Path) -> Callable[[str, int], Path]:
    """Writes a file of random bytes at ``tmp_path/name``."""
    return lambda name, size: write_random_file(tmp_path / name, size)
