"""The harness's own arithmetic: reading wrk's report and judging figures against issue 4's targets.

The reports below are wrk 4.1's real output (Debian's package), captured on the development machine.
"""

from __future__ import annotations

import pytest

from bench.loadgen import parse_wrk
from bench.results import Cell, Results, table

#: Against a path that answers 404: every response counts as an error.
WRK_404 = """\
Running 1s test @ http://127.0.0.1:18765/nonexistent
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   646.50us  331.28us   5.93ms   89.20%
    Req/Sec     2.93k    77.03     3.02k    81.82%
  Latency Distribution
     50%  595.00us
     75%  757.00us
     90%    0.93ms
     99%    1.37ms
  3208 requests in 1.10s, 1.59MB read
  Non-2xx or 3xx responses: 3208
Requests/sec:   2917.74
Transfer/sec:      1.45MB
"""

#: A clean run whose tail reaches seconds, with the socket errors wrk reports when -d runs out.
WRK_SOCKET_ERRORS = """\
Running 5s test @ http://127.0.0.1:9000/bench/small-1k?X-Amz-Signature=...
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.51ms    2.01ms  1.20s    90.11%
    Req/Sec     7.10k   402.19     7.90k    70.00%
  Latency Distribution
     50%    4.32ms
     75%    5.10ms
     90%    6.01ms
     99%    1.02s
  70634 requests in 5.00s, 86.58MB read
  Socket errors: connect 0, read 12, write 3, timeout 2
Requests/sec:  14126.80
Transfer/sec:     17.32MB
"""


def test_wrk_report_read_with_units_and_errors() -> None:
    got = parse_wrk(WRK_404)
    assert (got.rps, got.requests, got.errors) == (2917.74, 3208, 3208)
    assert got.p50_ms == pytest.approx(0.595)
    assert got.p99_ms == pytest.approx(1.37)

    got = parse_wrk(WRK_SOCKET_ERRORS)
    assert (got.rps, got.requests) == (14126.80, 70634)
    assert got.p50_ms == pytest.approx(4.32)
    assert got.p99_ms == pytest.approx(1020.0)
    # Read errors are connections wrk itself closes at the end; connect, write and timeout count.
    assert got.errors == 5


def test_wrk_report_not_understood_is_an_error() -> None:
    with pytest.raises(ValueError, match="not understood"):
        parse_wrk(WRK_404.replace("Requests/sec", "Requests per second"))
    with pytest.raises(ValueError, match="unexpected wrk duration"):
        parse_wrk(WRK_404.replace("595.00us", "595.00ns"))


def _results() -> Results:
    results = Results()
    for name, kind in (("satchel-1w", "satchel"), ("satchel-2w", "satchel"), ("nginx-2w", "nginx"),
                       ("moto", "moto")):
        results.add_server(name, kind)
    results.target_server = "satchel-2w"
    return results


def _row(rendered: str, label: str, after: str | None = None) -> list[str]:
    """The cells of the first row with ``label`` (below the workload ``after``, when given)."""
    lines = rendered.splitlines()
    if after is not None:
        lines = lines[next(i for i, line in enumerate(lines) if after in line):]
    line = next(line for line in lines if f"| {label} |" in line)
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_ratios_are_judged_on_the_target_configuration() -> None:
    results = _results()
    for name, rps in (("satchel-1w", 5000.0), ("satchel-2w", 9000.0), ("nginx-2w", 60000.0), ("moto", 500.0)):
        results.set(name, "get1k_c16_rps", rps)
    rendered = table(results)
    # Columns: workload, metric, the four servers, target, result.
    by_nginx = _row(rendered, "÷ nginx", after="c=16")
    assert by_nginx[2:6] == ["0.0833x", "0.15x", "1x", "0.00833x"]
    assert by_nginx[6:] == ["≥ 0.10", "PASS"]  # judged on satchel-2w only: satchel-1w's 0.083 x does not count
    by_moto = _row(rendered, "÷ moto", after="c=16")
    assert by_moto[6:] == ["≥ 20", "FAIL"]  # 9000 / 500 = 18


def test_missing_figures_say_why_and_are_not_judged() -> None:
    results = _results()
    results.failures["moto"] = "exited with status 1: ImportError"
    results.set("nginx-2w", "get1k_c16_rps", 60000.0)
    results.skip("satchel-2w", "get1k_c16_rps", "errors: 12 of 100")
    rendered = table(results)
    row = _row(rendered, "req/s", after="c=16")
    assert row[2:6] == ["not run", "errors: 12 of 100", "60,000", "failed to start"]
    by_nginx = _row(rendered, "÷ nginx", after="c=16")
    assert by_nginx[3] == "—" and by_nginx[7] == "n/a"
    assert "- moto: failed to start — exited with status 1: ImportError" in rendered


def test_memory_targets_hold_for_every_satchel_column() -> None:
    results = _results()
    results.set("satchel-1w", "idle_rss_max_proc_mib", 45.0)
    results.set("satchel-2w", "idle_rss_max_proc_mib", 95.0)
    row = _row(table(results), "idle RSS MiB, largest process")
    assert row[-1] == "PASS / FAIL (every Satchel column)"


def test_ratios_to_a_figure_of_the_run() -> None:
    results = _results()
    results.globals["mint_boto3_ops"] = Cell(7000.0)
    results.set("satchel-2w", "mint_signer_ops", 105000.0)
    results.set("satchel-2w", "mint_link_api_ops", 35000.0)
    rendered = table(results)
    assert "boto3 generate_presigned_url: 7,000/s" in rendered
    after = "in-process signer"
    assert _row(rendered, "÷ boto3", after=after)[3:] == ["15x", "—", "—", "≥ 10", "PASS"]
    signer_row = rendered.splitlines().index(next(line for line in rendered.splitlines() if after in line))
    api_ratio = _row("\n".join(rendered.splitlines()[signer_row + 2:]), "÷ boto3")
    assert api_ratio[3] == "5x" and api_ratio[-1] == "FAIL"
