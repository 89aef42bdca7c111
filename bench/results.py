"""Measurements of one run, the table that compares them, and the JSON file they are kept in.

The machine is shared and noisy, so absolute figures move from run to run; ratios to a reference
measured in the *same* run (nginx for reads, moto, the MD5 rate for uploads, boto3 for minting) are
what we compare and what the targets of issue 4 are written against. Every cell is either a number or
a short reason why there is none ("failed to start", "skipped: ...", "errors: ..."), never a blank
that could be mistaken for zero.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Cell:
    value: float | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


@dataclass
class Results:
    """``servers`` in column order; ``target_server`` is the Satchel configuration issue 4's targets
    are written for (as many workers as cores, like nginx's 2 on the development machine)."""

    servers: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    globals: dict[str, Cell] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    target_server: str | None = None
    quick: bool = False
    started: float = field(default_factory=time.time)

    def add_server(self, name: str, kind: str) -> None:
        self.servers.append(name)
        self.kinds[name] = kind
        self.cells.setdefault(name, {})

    def set(self, server: str, metric: str, value: float | None, note: str | None = None) -> None:
        self.cells.setdefault(server, {})[metric] = Cell(value, note)

    def skip(self, server: str, metric: str, why: str) -> None:
        self.set(server, metric, None, why)

    def get(self, server: str, metric: str) -> Cell:
        if server in self.failures:
            return Cell(None, "failed to start")
        return self.cells.get(server, {}).get(metric, Cell(None, "not run"))

    def by_kind(self, kind: str) -> str | None:
        return next((s for s in self.servers if self.kinds[s] == kind and s not in self.failures), None)


# --- rows of the table -----------------------------------------------------------------------------
CellFn = Callable[[Results, str], Cell]


@dataclass
class Target:
    text: str
    check: Callable[[float], bool]


@dataclass
class Row:
    workload: str
    label: str
    cell: CellFn
    fmt: str = "num"
    target: Target | None = None
    #: Whose cells the target is checked on: "target" (Satchel, nproc workers), "satchel" (every Satchel
    #: on the local disk and SQLite) or "satchels" (every Satchel column, upstream and two-node included).
    judged: str = "target"


def metric(name: str) -> CellFn:
    return lambda r, s: r.get(s, name)


def ratio_to_server(name: str, ref_kind: str) -> CellFn:
    def cell(r: Results, s: str) -> Cell:
        ref = r.by_kind(ref_kind)
        mine = r.get(s, name)
        if ref is None:
            return Cell(None, f"no {ref_kind}")
        theirs = r.get(ref, name)
        if mine.value is None or not theirs.value:
            return Cell(None, "—")
        return Cell(mine.value / theirs.value)

    return cell


def ratio_to_global(name: str, ref: str) -> CellFn:
    def cell(r: Results, s: str) -> Cell:
        mine, theirs = r.get(s, name), r.globals.get(ref, Cell(None))
        if mine.value is None or not theirs.value:
            return Cell(None, "—")
        return Cell(mine.value / theirs.value)

    return cell


def ratio_within(name: str, base: str) -> CellFn:
    def cell(r: Results, s: str) -> Cell:
        mine, theirs = r.get(s, name), r.get(s, base)
        if mine.value is None or not theirs.value:
            return Cell(None, "—")
        return Cell(mine.value / theirs.value)

    return cell


def pair(a: str, b: str) -> CellFn:
    """Two figures in one cell (p50 / p99); the value judged is the first."""

    def cell(r: Results, s: str) -> Cell:
        x, y = r.get(s, a), r.get(s, b)
        if x.value is None:
            return x
        return Cell(x.value, f"{_num(x.value)} / {_num(y.value) if y.value is not None else '?'}")

    return cell


def _num(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _fmt(cell: Cell, fmt: str) -> str:
    if cell.value is None:
        return cell.note or "—"
    if fmt == "pair" and cell.note:
        return cell.note
    text = f"{cell.value:.3g}x" if fmt == "ratio" else _num(cell.value)
    return text + (f" ({cell.note})" if cell.note and fmt != "pair" else "")


def rows(results: Results) -> list[Row]:
    """The table: one block per workload of issue 4, targets next to the figures they judge."""
    md5 = results.globals.get("md5_mb_s", Cell())
    boto = results.globals.get("mint_boto3_ops", Cell())
    big_bytes = int(results.details.get("big_object_bytes", 1 << 30))
    big = "1 GiB" if big_bytes == 1 << 30 else f"{big_bytes / (1 << 20):.0f} MiB"
    out: list[Row] = []
    for conns in (16, 64):
        w = f"1 KiB presigned GET, wrk c={conns}"
        m = f"get1k_c{conns}"
        out += [
            Row(w, "req/s", metric(f"{m}_rps")),
            Row(w, "÷ nginx", ratio_to_server(f"{m}_rps", "nginx"), "ratio", Target("≥ 0.10", lambda v: v >= 0.10)),
            Row(w, "÷ moto", ratio_to_server(f"{m}_rps", "moto"), "ratio", Target("≥ 20", lambda v: v >= 20)),
            Row(w, "÷ satchel (1st column)", ratio_to_server(f"{m}_rps", "satchel"), "ratio"),
            Row(w, "latency p50 / p99 ms", pair(f"{m}_p50_ms", f"{m}_p99_ms"), "pair"),
        ]
    for streams in (1, 4):
        w = f"GET {big}, {streams} stream{'s' if streams > 1 else ''}"
        m = f"get1g_s{streams}"
        out += [
            Row(w, "MB/s", metric(f"{m}_mb_s")),
            Row(w, "÷ nginx", ratio_to_server(f"{m}_mb_s", "nginx"), "ratio", Target("≥ 1.0", lambda v: v >= 1.0)),
            Row(w, "÷ satchel (1st column)", ratio_to_server(f"{m}_mb_s", "satchel"), "ratio"),
            Row(w, "server CPU s per GiB", metric(f"{m}_cpu_s_gib")),
            Row(w, "CPU ÷ nginx", ratio_to_server(f"{m}_cpu_s_gib", "nginx"), "ratio",
                Target("≤ 1.5", lambda v: v <= 1.5)),
            Row(w, "CPU ÷ satchel (1st column)", ratio_to_server(f"{m}_cpu_s_gib", "satchel"), "ratio"),
            Row(w, "peak RSS MiB", metric(f"{m}_peak_rss_mib")),
        ]
    md5_text = f"{md5.value:,.0f} MB/s" if md5.value else "not measured"
    w = f"PUT {big}"
    out += [
        Row(w, "presigned PUT, curl -T, MB/s", metric("put1g_curl_mb_s")),
        Row(w, f"÷ MD5 on one core ({md5_text})", ratio_to_global("put1g_curl_mb_s", "md5_mb_s"), "ratio",
            Target("≥ 0.5", lambda v: v >= 0.5)),
        Row(w, "curl ÷ satchel (1st column)", ratio_to_server("put1g_curl_mb_s", "satchel"), "ratio"),
        Row(w, "boto3 upload_file (multipart), MB/s", metric("put1g_boto3_mb_s")),
        Row(w, "boto3 ÷ satchel (1st column)", ratio_to_server("put1g_boto3_mb_s", "satchel"), "ratio"),
        Row(w, "peak RSS MiB (curl PUT)", metric("put1g_curl_peak_rss_mib")),
    ]
    for n in (4, 5, 6):
        w = f"ListObjectsV2, 1000 keys, bucket of 10^{n}"
        target = Target("p50 ≤ 20 ms", lambda v: v <= 20.0) if n == 6 else None
        out.append(Row(w, "p50 / p99 ms", pair(f"list_e{n}_p50_ms", f"list_e{n}_p99_ms"), "pair", target))
        out.append(Row(w, "p50 ÷ satchel (1st column)", ratio_to_server(f"list_e{n}_p50_ms", "satchel"), "ratio"))
    out.append(Row("ListObjectsV2, 10^6 vs 10^4", "p50 ratio", ratio_within("list_e6_p50_ms", "list_e4_p50_ms"),
                   "ratio", Target("≤ 1.5", lambda v: v <= 1.5)))
    boto_text = f"{boto.value:,.0f}/s" if boto.value else "not measured"
    w = f"Minting presigned URLs (boto3 generate_presigned_url: {boto_text})"
    out += [
        Row(w, "in-process signer ops/s", metric("mint_signer_ops")),
        Row(w, "÷ boto3", ratio_to_global("mint_signer_ops", "mint_boto3_ops"), "ratio",
            Target("≥ 10", lambda v: v >= 10)),
        Row(w, "link API ops/s, 1 client", metric("mint_link_api_ops")),
        Row(w, "÷ satchel (1st column)", ratio_to_server("mint_link_api_ops", "satchel"), "ratio"),
        Row(w, "÷ boto3", ratio_to_global("mint_link_api_ops", "mint_boto3_ops"), "ratio",
            Target("≥ 10", lambda v: v >= 10)),
        Row(w, "link API ops/s, 2 client processes", metric("mint_link_api_ops_concurrent")),
        Row(w, "÷ satchel (1st column)", ratio_to_server("mint_link_api_ops_concurrent", "satchel"), "ratio"),
        Row(w, "÷ boto3", ratio_to_global("mint_link_api_ops_concurrent", "mint_boto3_ops"), "ratio",
            Target("≥ 10", lambda v: v >= 10)),
    ]
    w = "Memory"
    out += [
        Row(w, "idle RSS MiB, whole tree", metric("idle_rss_mib")),
        Row(w, "idle RSS MiB, largest process", metric("idle_rss_max_proc_mib"), target=Target(
            "≤ 80 per worker", lambda v: v <= 80.0), judged="satchel"),
        Row(w, f"peak RSS MiB, 64 x {big} downloads", metric("rss64_peak_mib"), target=Target(
            "≤ 200", lambda v: v <= 200.0), judged="satchel"),
        Row(w, "MB/s during those downloads", metric("rss64_mb_s")),
        Row(w, "idle RSS whole tree ÷ satchel (1st column)", ratio_to_server("idle_rss_mib", "satchel"), "ratio"),
    ]
    w = "Event-loop lag p99 ms (every worker of the column, probed every 10 ms)"
    lag_goal = Target("≤ 5", lambda v: v <= 5.0)  # issue 14
    for rate in PACED_RATES:
        out.append(Row(w, f"mixed requests at {rate}/s: answered req/s", metric(f"paced{rate}_rps")))
    out.append(Row(w, "mixed requests at half the column's capacity: answered req/s (of target)",
                   metric(f"{PACED_HALF}_rps")))
    for tag, label in LAG_WORKLOADS.items():
        goal = lag_goal if tag.startswith("paced") else None
        out.append(Row(w, label, metric(f"loop_lag_{tag}_p99_ms"), target=goal, judged="satchels"))
    out.append(Row(w, "all workloads", metric("loop_lag_all_p99_ms"), target=lag_goal, judged="satchels"))
    out.append(Row(w, "idle, while the other columns ran (the machine's noise)", metric("loop_lag_idle_p99_ms")))
    return out


#: Rates of the paced mix (bench/workloads/paced.py), requests/s in all.
PACED_RATES = (100, 1000)
#: Marks a paced figure measured while its rate was not held (a saturated server): not judged.
NOT_HELD = "not held"
#: The paced step at half of what the column answered at the highest rate (its capacity on the mix).
PACED_HALF = "pacedhalf"
#: Workloads whose event-loop lag is kept apart (the harness's tags) -> the table's label.
LAG_WORKLOADS = {"get1k": "1 KiB GETs (wrk: saturated)",
                 **{f"paced{r}": f"mixed requests at {r}/s (open loop)" for r in PACED_RATES},
                 PACED_HALF: "mixed requests at half the column's capacity (open loop)",
                 "get1g": "big GETs", "put": "big PUTs", "list": "listings",
                 "mint": "link API minting", "memory": "64 big downloads"}


def _judge(row: Row, results: Results) -> str:
    if row.target is None:
        return ""
    names = [s for s in results.servers if results.kinds[s] == "satchel"]
    if row.judged == "satchels":  # every configuration of Satchel: SQLite or PostgreSQL, disk or upstream
        names = [s for s in results.servers if results.kinds[s].startswith("satchel")]
    if row.judged == "target":
        names = [results.target_server] if results.target_server else []
    marks = []
    for name in names:
        cell = row.cell(results, name)
        if cell.value is None or NOT_HELD in (cell.note or ""):
            marks.append("n/a")
        else:
            marks.append("PASS" if row.target.check(cell.value) else "FAIL")
    if not marks:
        return "n/a"
    return " / ".join(marks)


def table(results: Results) -> str:
    """A Markdown table: readable in a terminal and pasted as is into bench/README.md."""
    judged = results.target_server or "satchel"
    header = ["Workload", "Metric", *results.servers, "Target", f"Result ({judged})"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    last = None
    for row in rows(results):
        cells = [_fmt(row.cell(results, s), row.fmt) for s in results.servers]
        result = _judge(row, results)
        if row.judged in ("satchel", "satchels") and row.target is not None:
            result += " (every Satchel column)"
        workload = row.workload if row.workload != last else ""
        last = row.workload
        lines.append("| " + " | ".join([workload, row.label, *cells, row.target.text if row.target else "",
                                         result]) + " |")
    notes = [f"- {name}: failed to start — {_clip(why)}" for name, why in results.failures.items()]
    return "\n".join(lines + (["", *notes] if notes else []))


def _clip(text: str, limit: int = 240) -> str:
    """Keep the end of an error (where the exception is); the JSON file has all of it."""
    return text if len(text) <= limit else "…" + text[-limit:]


def save(results: Results, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(results.started))
    path = directory / f"{stamp}.json"
    data = asdict(results)
    data["machine"] = {"cpus": _cpus(), "platform": platform.platform(), "python": platform.python_version()}
    data["finished"] = time.time()
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
