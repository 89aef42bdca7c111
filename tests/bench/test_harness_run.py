"""The benchmark harness end to end, with every column issue 4 names and loads cut to seconds.

Nothing here judges speed (that is what ``make bench`` is for). It proves the harness still measures:
Satchel with one worker and with two, nginx, moto, Satchel with its blobs on SeaweedFS, two Satchel nodes on
PostgreSQL and SeaweedFS behind HAProxy, SeaweedFS itself and an extra endpoint named by ``BENCH_EXTRA_*``
(a second real Satchel here) are started and stopped by the harness as in a real run; every workload
runs against them through the real load generators (wrk, curl, boto3, the link API from client
processes); every figure the table shows is a number or says why not; and nothing the harness started
outlives it. A harness that rots silently would print a table of "error: ..." cells or, worse,
figures of the wrong thing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import deps, procs
from bench import run as harness
from bench.results import Results, save, table
from bench.workloads import Limits
from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess

pytestmark = pytest.mark.timeout(300)

#: Every load bounded to about a second; the big object is 4 MiB instead of 1 GiB.
TINY = Limits(wrk_seconds=1, big_get_seconds=20, big_get_min_seconds=0.2, put_seconds=30, seed_seconds=60,
              list_reps=3, list_sizes=(4,), api_load_max=0, api_load_seconds=10, mint_seconds=0.2,
              link_api_seconds=0.5, rss64_seconds=20)
BIG = 4 << 20
SATCHELS = ("satchel-1w", "satchel-2w")
#: Every Satchel column: blobs on the local disk, then in an upstream SeaweedFS (``satchel-s3``), then two
#: nodes on PostgreSQL and that upstream behind a load balancer (``satchel-2n``).
SATCHEL_COLUMNS = (*SATCHELS, "satchel-s3", "satchel-2n")
COLUMNS = (*SATCHELS, "nginx-2w", "moto", "satchel-s3", "satchel-2n", "seaweedfs", "extra")
GET = ("get1k_c16_rps", "get1k_c16_p50_ms", "get1k_c16_p99_ms", "get1k_c64_rps", "get1k_c64_p50_ms",
       "get1k_c64_p99_ms", "get1g_s1_mb_s", "get1g_s4_mb_s", "rss64_mb_s")
#: Figures of the server's own processes: every column but the remote endpoint has them.
LOCAL = ("get1g_s1_cpu_s_gib", "get1g_s1_peak_rss_mib", "get1g_s4_cpu_s_gib", "get1g_s4_peak_rss_mib",
         "idle_rss_mib", "idle_rss_max_proc_mib", "rss64_peak_mib")
PUT = ("put1g_curl_mb_s", "put1g_boto3_mb_s")
#: What only a Satchel column has: the 10^4-key listing (others would load it through the API, which
#: ``api_load_max=0`` skips here) and minting.
SATCHEL_ONLY = ("list_e4_p50_ms", "list_e4_p99_ms", "mint_signer_ops", "mint_link_api_ops",
                "mint_link_api_ops_concurrent", "put1g_curl_peak_rss_mib", "paced100_rps", "paced1000_rps",
                "pacedhalf_rps")
#: Event-loop lag p99 per workload, over all of them, and while idle.
LAG = tuple(f"loop_lag_{w}_p99_ms" for w in ("get1k", "paced100", "paced1000", "pacedhalf", "get1g", "put", "list",
                                             "mint", "memory", "all", "idle"))


@pytest.fixture
def extra_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SatchelProcess]:
    """An S3 endpoint the harness did not start, named the way an operator names theirs."""
    server = SatchelProcess(tmp_path / "extra-data")
    server.start()
    monkeypatch.setenv("BENCH_EXTRA_URL", server.endpoint)
    monkeypatch.setenv("BENCH_EXTRA_ACCESS_KEY", server.root.access_key)
    monkeypatch.setenv("BENCH_EXTRA_SECRET_KEY", server.root.secret_key)
    monkeypatch.setenv("BENCH_EXTRA_NAME", "extra")
    try:
        yield server
    finally:
        server.stop()


def test_every_workload_measures_every_column(tmp_path: Path, extra_endpoint: SatchelProcess) -> None:
    for tool in ("wrk", "curl", "nginx"):
        if shutil.which(tool) is None and shutil.which(tool, path="/usr/sbin:/sbin") is None:
            pytest.fail(f"{tool} is missing: run scripts/install-test-deps.sh (make test does)")
    args = harness.parse_args(["--servers", ",".join(COLUMNS), "--workers", "2", "--big-mib", "4"])
    # Where bench/run.py puts its run: nginx's unprivileged workers must reach the files, and pytest's
    # own tmp_path sits in a directory only its owner may enter.
    work = Path(tempfile.mkdtemp(prefix="satchel-bench-test-"))
    run = harness.Run(args, TINY, deps.ensure_tools(), work)
    try:
        run.execute()
        assert [s.name for s in run.servers if not s.up] == [], "a server died during the run"
        started = [pid for s in run.servers if s.measured is not None for pid in procs.tree(s.measured)]
    finally:
        run.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    results = run.results
    # Nothing the harness started is left running: every server and its workers are gone; the
    # extra endpoint, not the harness's, still serves and still holds none of the run's buckets.
    # satchel-1w; supervisor + 2 workers; nginx master + 2; moto; satchel-s3; seaweedfs; satchel-2n's
    # HAProxy, two nodes of supervisor + worker, PostgreSQL's postmaster and its background processes
    assert len(started) >= 1 + 3 + 3 + 1 + 1 + 1 + 1 + 4 + 4
    assert [pid for pid in started if procs.alive(pid)] == []
    assert make_client(extra_endpoint).list_buckets()["Buckets"] == []

    assert results.servers == list(COLUMNS)
    assert results.target_server == "satchel-2w"
    assert results.failures == {}
    assert results.details.get("errors") is None, results.details["errors"]
    for name in COLUMNS:
        expected = GET + (LOCAL if name != "extra" else ()) + (PUT if name != "nginx-2w" else ())
        expected += SATCHEL_ONLY if name in SATCHEL_COLUMNS else ()
        # satchel-1w's metric files are satchel-2w's (one data dir): its lag is marked, not measured.
        expected += LAG if name in SATCHEL_COLUMNS and name != "satchel-1w" else ()
        for metric in expected:
            cell = results.get(name, metric)
            # CPU time is counted in 10 ms clock ticks, and a few 4 MiB transfers may take none.
            least = 0.0 if metric.endswith("_cpu_s_gib") else 1e-9
            assert cell.value is not None and cell.value >= least, (name, metric, cell)
    _assert_notes(results)
    for name in ("md5_mb_s", "mint_boto3_ops", "mint_signer_ops"):
        assert (results.globals[name].value or 0) > 0, name
    # The signer's URLs were accepted by both Satchels, or its figure would be struck out.
    assert results.details["signer_url_status"] == dict.fromkeys(SATCHEL_COLUMNS, 200)
    # Every big GET moved whole objects with status 200, and so did the 64 downloads.
    for name in COLUMNS:
        for streams in ("1", "4"):
            got = results.details["big_get"][name][streams]
            assert got["complete"] and got["bytes"] > 0 and got["bytes"] % BIG == 0, (name, got)
            assert set(got["statuses"]) == {"200"}, (name, got)
        assert results.details["rss64"][name]["bytes"] == 64 * BIG, name

    rendered = table(results)
    assert rendered.splitlines()[0].startswith("| Workload | Metric | " + " | ".join(COLUMNS) + " |")
    # Ratios are computed from the reference in the same run.
    by_nginx = _row(rendered, "÷ nginx")
    mine, nginx = (results.get(name, "get1k_c16_rps").value or 0.0 for name in ("satchel-2w", "nginx-2w"))
    assert by_nginx[3] == f"{mine / nginx:.3g}x" and by_nginx[4] == "1x"
    assert by_nginx[-1] in ("PASS", "FAIL")
    # Targets are judged on the figures (whichever way they go here): a mark, not "n/a".
    idle = _row(rendered, "idle RSS MiB, largest process")
    assert idle[-1] in {f"{a} / {b} (every Satchel column)" for a in ("PASS", "FAIL") for b in ("PASS", "FAIL")}
    saved = json.loads(save(results, tmp_path / "results").read_text())
    assert saved["cells"]["moto"]["get1k_c16_rps"]["value"] == results.get("moto", "get1k_c16_rps").value


def _assert_notes(results: Results) -> None:
    """Figures a column cannot have say why, in words the table shows."""
    assert results.get("nginx-2w", "put1g_curl_mb_s").note == "static server"
    assert results.get("nginx-2w", "list_e4_p50_ms").note == "static server"
    assert results.get("extra", "idle_rss_mib").note == "remote"
    assert results.get("extra", "get1g_s1_cpu_s_gib").note == "remote"
    assert results.get("satchel-1w", "loop_lag_all_p99_ms").note == (
        "not measured: its metric files are satchel-2w's (one data dir)")
    for name in ("nginx-2w", "moto", "seaweedfs", "extra"):
        assert results.get(name, "loop_lag_all_p99_ms").note == "not Satchel", name
    for name in ("moto", "seaweedfs", "extra"):
        assert (results.get(name, "list_e4_p50_ms").note or "").startswith("skipped"), name
        assert results.get(name, "mint_link_api_ops").note == "—"


def _row(rendered: str, label: str) -> list[str]:
    line = next(line for line in rendered.splitlines() if f"| {label} |" in line)
    return [cell.strip() for cell in line.strip("|").split("|")]
