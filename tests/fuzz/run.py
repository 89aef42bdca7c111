"""The long fuzz run: ``make fuzz`` (``FUZZ_SECONDS`` per harness, default 60; ``FUZZ_HARNESSES`` to pick).

Each harness of :mod:`tests.fuzz.harnesses` runs with fresh randomness in batches until its time is up;
the run prints, per harness, the examples tried and the distinct findings (exception type and the
Satchel line that raised it), each with hypothesis's shrunk example, and exits 1 if there was any.
A finding becomes a regression test (``tests/fuzz/test_regressions.py``) and a fix at its cause.

    python -m tests.fuzz.run --seconds 60 sigv4-parse s3-router
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz import links
from tests.fuzz.harnesses import HARNESSES as S3_HARNESSES
from tests.fuzz.harnesses import Harness

HARNESSES = (*S3_HARNESSES, *links.HARNESSES)

BATCH = 200


def _origin(exc: BaseException) -> str:
    """Where a finding comes from: the innermost frame in satchel/ (else the innermost at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "/satchel/" in f.filename] or frames
    last = inside[-1] if inside else None
    where = f"{last.filename.rsplit('/', 2)[-2]}/{last.filename.rsplit('/', 1)[-1]}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__} at {where}"


def run_one(harness: Harness, seconds: float) -> tuple[int, dict[str, str]]:
    count = 0

    def counted(value: Any) -> None:
        nonlocal count
        count += 1
        harness.check(value)

    findings: dict[str, str] = {}
    deadline = time.monotonic() + seconds
    test: Callable[[], None] = settings(
        max_examples=BATCH, derandomize=False, database=None, deadline=None, report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
    )(given(harness.strategy)(counted))
    while time.monotonic() < deadline:
        try:
            test()
        except Exception as exc:  # a finding: record it, keep looking for others
            key = _origin(exc)
            if key not in findings:
                notes = "\n".join(getattr(exc, "__notes__", []))
                findings[key] = f"{type(exc).__name__}: {str(exc)[:300]}\n{notes[:1500]}"
    return count, findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", "60")))
    parser.add_argument("harnesses", nargs="*", default=os.environ.get("FUZZ_HARNESSES", "").split())
    args = parser.parse_args(argv)
    chosen = [h for h in HARNESSES if not args.harnesses or h.name in args.harnesses]
    unknown = set(args.harnesses) - {h.name for h in HARNESSES}
    if unknown:
        parser.error(f"unknown harness(es): {', '.join(sorted(unknown))}")
    total_findings = 0
    print(f"{'harness':32} {'seconds':>8} {'examples':>10} {'findings':>9}", flush=True)
    for harness in chosen:
        started = time.monotonic()
        count, findings = run_one(harness, args.seconds)
        total_findings += len(findings)
        print(f"{harness.name:32} {time.monotonic() - started:8.1f} {count:10d} {len(findings):9d}", flush=True)
        for key, detail in findings.items():
            print(f"  FINDING {key}\n    " + detail.replace("\n", "\n    "), flush=True)
    print(f"total findings: {total_findings}")
    return 1 if total_findings else 0


if __name__ == "__main__":
    sys.exit(main())
