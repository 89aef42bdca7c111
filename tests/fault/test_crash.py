"""The short form of the crash harness (tests/fault/crash.py): a few kill -9 rounds of the mixed load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.server import external_server
from tests.fault.crash import Write, candidates, crash_run, initial

INF = float("inf")


def test_candidates_rule_with_deletes_and_the_initial_absence() -> None:
    put = Write("k", "a", 1, None, (), start=0, end=1, acknowledged=True)
    delete = Write("k", None, 0, None, (), start=2, end=3, acknowledged=True, op="delete")
    unknown = Write("k", "b", 1, None, (), start=2.5, end=10)  # in flight at the kill (t=10)
    assert candidates([initial("k"), put]) == [put]
    assert candidates([initial("k"), put, delete]) == [delete]
    assert candidates([initial("k"), put, delete, unknown]) == [delete, unknown]
    assert candidates([initial("k"), unknown]) == [initial("k"), unknown]


@pytest.mark.slow
@pytest.mark.timeout(240)  # ~40 s alone; restarts slow down when the suite shares the cores
def test_mixed_load_survives_kill9_rounds(tmp_path: Path) -> None:
    if external_server() is not None:
        pytest.skip("needs a satchel process started by the harness (SATCHEL_TEST_ENDPOINT is set)")
    report = crash_run(tmp_path / "data", seconds=6, kills=3, clients=5, workers=3)
    print(report.text())
    assert report.kills == 3
    # The load must have done something of every kind, and the kills must have hit it.
    assert report.acknowledged >= 100, report.text()
    for op in ("put", "delete", "multipart", "copy", "post", "mint", "use", "mint-one-time", "use-one-time",
               "revoke", "revoke-before"):
        assert report.by_op.get(op, (0, 0))[1] >= 1, f"no acknowledged {op}: {report.text()}"
    assert report.anomalies == [], report.text()
