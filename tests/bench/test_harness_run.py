"""The benchmark harness end to end against a real Satchel, with loads cut to seconds.

Nothing here judges speed (that is what ``make bench`` is for). It proves the harness still measures:
every workload runs against a real server through the real load generators (wrk, curl, boto3, the
link API from client processes), every figure the table shows for Satchel is a number and not an
error note, and nothing the harness started outlives it. A harness that rots silently would print a
table of "error: ..." cells or, worse, figures of the wrong thing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import procs
from bench import run as harness
from bench.results import save, table
from bench.workloads import Limits

pytestmark = pytest.mark.timeout(240)

#: Every load bounded to about a second; the big object is 4 MiB instead of 1 GiB.
TINY = Limits(wrk_seconds=1, big_get_seconds=20, big_get_min_seconds=0.2, put_seconds=30, seed_seconds=60,
              list_reps=3, list_sizes=(4,), api_load_max=0, api_load_seconds=10, mint_seconds=0.2,
              link_api_seconds=0.5, rss64_seconds=20)
SERVER = "satchel-1w"
#: The figures each workload records for a Satchel column.
METRICS = (
    "get1k_c16_rps", "get1k_c16_p50_ms", "get1k_c16_p99_ms", "get1k_c64_rps", "get1k_c64_p50_ms",
    "get1k_c64_p99_ms",
    "get1g_s1_mb_s", "get1g_s1_cpu_s_gib", "get1g_s1_peak_rss_mib", "get1g_s4_mb_s", "get1g_s4_cpu_s_gib",
    "get1g_s4_peak_rss_mib",
    "put1g_curl_mb_s", "put1g_curl_peak_rss_mib", "put1g_boto3_mb_s",
    "list_e4_p50_ms", "list_e4_p99_ms",
    "mint_signer_ops", "mint_link_api_ops", "mint_link_api_ops_concurrent",
    "idle_rss_mib", "idle_rss_max_proc_mib", "rss64_peak_mib", "rss64_mb_s",
)


def test_every_workload_measures_a_real_satchel(tmp_path: Path) -> None:
    for tool in ("wrk", "curl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/install-test-deps.sh (make test does)")
    args = harness.parse_args(["--servers", SERVER, "--workers", "1", "--big-mib", "4"])
    work = tmp_path / "run"
    work.mkdir()
    # Only Satchel is selected, so the nginx binary is never started.
    run = harness.Run(args, TINY, {"nginx": "/nonexistent/nginx"}, work)
    try:
        run.execute()
        server = run.servers[0]
        assert server.pid is not None, "the server died during the run"
        started = procs.tree(server.pid)
    finally:
        run.cleanup()
    results = run.results
    # Nothing the harness started is left running: the server and its workers are gone.
    assert len(started) >= 1
    assert [pid for pid in started if procs.alive(pid)] == []

    assert results.servers == [SERVER]
    assert results.target_server == SERVER
    assert results.failures == {}
    assert results.details.get("errors") is None, results.details["errors"]
    for name in METRICS:
        cell = results.get(SERVER, name)
        assert cell.value is not None and cell.value > 0, (name, cell)
    for name in ("md5_mb_s", "mint_boto3_ops", "mint_signer_ops"):
        assert (results.globals[name].value or 0) > 0, name
    # The signer's URLs were accepted by the server, or its figure would be struck out.
    assert results.details["signer_url_status"] == {SERVER: 200}
    # Every GET and download moved the whole object: 4 MiB per stream and round.
    for streams in ("1", "4"):
        got = results.details["big_get"][SERVER][streams]
        assert got["complete"] and got["bytes"] > 0 and got["bytes"] % (4 << 20) == 0, got
        assert set(got["statuses"]) == {"200"}, got
    assert results.details["rss64"][SERVER]["bytes"] == 64 * (4 << 20)

    rendered = table(results)
    assert f"| {SERVER} |" in rendered.splitlines()[0]
    # Ratios to servers not in the run say so instead of showing a number.
    assert "no nginx" in rendered and "no moto" in rendered
    # Targets are judged on the figures (whichever way they go here): a mark, not "n/a".
    idle = next(line for line in rendered.splitlines() if "| idle RSS MiB, largest process |" in line)
    assert idle.endswith(("| PASS (every Satchel column) |", "| FAIL (every Satchel column) |")), idle
    saved = json.loads(save(results, tmp_path / "results").read_text())
    assert saved["cells"][SERVER]["get1k_c16_rps"]["value"] == results.get(SERVER, "get1k_c16_rps").value
