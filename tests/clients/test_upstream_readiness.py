"""Readiness follows the blob upstream (issue 14: failure behaviour): a node whose S3 upstream hangs turns
unready (``/_satchel/health/ready`` 503, so a load balancer sends its requests elsewhere) while it stays
live, every readiness answer comes within the probe's bound, and it is ready again once the upstream
answers — without a restart. The upstream is a real SeaweedFS, stopped with SIGSTOP (it accepts
connections, never answers: the hardest case for a probe)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.readiness import TIMEOUT, TTL
from tests.clients.test_postgres_startup import status
from tests.clients.test_s3_blobs import UpstreamSatchel
from tests.seaweedfs import SeaweedFS, running

#: A readiness answer never takes longer than one probe (plus the metadata check, milliseconds here).
ANSWER_BOUND = TIMEOUT + 1.0
#: The answer changes within one reuse of the last answer plus one probe.
CHANGE_BOUND = TTL + TIMEOUT + 1.0


@pytest.fixture
def node(tmp_path: Path) -> Iterator[UpstreamSatchel]:
    with running(tmp_path / "upstream") as upstream:
        server = UpstreamSatchel(tmp_path / "data", upstream, upstream.new_bucket())
        with server.running():
            yield server


def answers_within(node: UpstreamSatchel, expected: int, bound: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < bound:
        polled = time.monotonic()
        found = status(node, "/_satchel/health/ready")
        assert time.monotonic() - polled < ANSWER_BOUND
        if found == expected:
            return time.monotonic() - began
        time.sleep(0.2)
    pytest.fail(f"ready never answered {expected} within {bound} s; log tail:\n{node.log_tail()}")


def test_readiness_follows_a_hung_upstream_and_comes_back(node: UpstreamSatchel) -> None:
    upstream: SeaweedFS = node.upstream
    assert status(node, "/_satchel/health/ready") == 200
    with upstream.paused():
        answers_within(node, 503, CHANGE_BOUND)
        assert status(node, "/_satchel/health/live") == 200
        for _ in range(3):  # still unready, each answer bounded (reused or probed afresh)
            polled = time.monotonic()
            assert status(node, "/_satchel/health/ready") == 503
            assert time.monotonic() - polled < ANSWER_BOUND
    answers_within(node, 200, CHANGE_BOUND)
    log = node.log_path.read_text(errors="replace")
    assert log.count("the blob upstream does not answer") == 1, log
    assert log.count("the blob upstream answers again: ready") == 1, log
    assert upstream.weed.secret_key not in log
