"""The short form of ``make soak``: the same mixed workload against a real server with two workers for
~25 s, asserting the same properties with looser bounds (its second half may still be warming up):
no errors, every operation run, memory and descriptors without a growth trend, and one audit use event
per link use made."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.server import external_server
from tests.soak.run import run

SECONDS = 25
#: Twice the long form's bounds (tests/soak/run.py explains those).
RSS_GROWTH_KIB = 32 * 1024
FD_GROWTH = 16


def test_a_short_soak_has_no_errors_no_growth_and_a_complete_audit_trail(tmp_path: Path) -> None:
    if external_server() is not None:
        pytest.skip("runs a satchel process of its own (SATCHEL_TEST_ENDPOINT is set)")
    report = run(SECONDS, clients=3, workers=2, sample_every=1.0, rss_limit_kib=RSS_GROWTH_KIB,
                 fd_limit=FD_GROWTH, root=tmp_path)
    print(report.table())
    assert report.ok, report.table()
    assert sum(report.tally.uses.values()) > 100  # the bounds were tested on a real amount of work
    assert {kind for kind, _, _ in report.audited} == {"s3v4", "par", "swift"}
