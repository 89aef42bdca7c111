"""The coverage gate of ``make test``: branch coverage per group of files, each against its own floor.

coverage.py's ``fail_under`` is one figure for everything; the security-critical code needs a higher
floor than the front-ends, so this reads coverage's JSON report (``coverage json``) and sums each group.
A group's figure is coverage.py's branch-coverage percentage over the group — executed statements plus
taken branch arcs, over all statements plus all arcs — and the pure branch ratio is printed beside it.
A group matching no file fails too: a file renamed away must not pass the gate silently.

    python scripts/coverage_gate.py coverage.json
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Group:
    name: str
    patterns: tuple[str, ...]
    floor: float


#: Security code and every link verifier (SigV4/V2, POST policies, FormPOST, PAR tokens and PAR use,
#: TempURL signatures and their Swift front door, link admission, minting, authorize()): 95 %.
#: The S3 and management front-ends: 85 %.
GROUPS: tuple[Group, ...] = (
    Group("signing/ (SigV4, SigV2, POST policy, FormPOST, TempURL, PAR tokens)", ("satchel/signing/*",), 95),
    Group("core/access.py (authorize)", ("satchel/core/access.py",), 95),
    Group("core/links.py (minting, management)", ("satchel/core/links.py",), 95),
    Group("core/admission.py (every link use)", ("satchel/core/admission.py",), 95),
    Group("PAR verifier (signing/tokens.py, core/par/use.py)", ("satchel/signing/tokens.py", "satchel/core/par/use.py"),
          95),
    Group("TempURL verifier (signing/tempurl.py, swift/tempurl.py)",
          ("satchel/signing/tempurl.py", "satchel/swift/tempurl.py"), 95),
    Group("S3 front-end (s3/)", ("satchel/s3/*",), 85),
    Group("management API (admin/)", ("satchel/admin/*",), 85),
)


@dataclass
class Tally:
    files: int = 0
    statements: int = 0
    executed: int = 0
    branches: int = 0
    taken: int = 0

    @property
    def percent(self) -> float:
        total = self.statements + self.branches
        return 100.0 * (self.executed + self.taken) / total if total else 100.0

    @property
    def branch_percent(self) -> float:
        return 100.0 * self.taken / self.branches if self.branches else 100.0


def tally(files: dict[str, dict[str, dict[str, int]]], patterns: tuple[str, ...]) -> Tally:
    found = Tally()
    for path, data in files.items():
        if any(fnmatch.fnmatch(path, pattern) for pattern in patterns):
            summary = data["summary"]
            found.files += 1
            found.statements += summary["num_statements"]
            found.executed += summary["covered_lines"]
            found.branches += summary.get("num_branches", 0)
            found.taken += summary.get("covered_branches", 0)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="coverage's JSON report")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    if not report.get("meta", {}).get("branch_coverage"):
        print(f"{args.report}: no branch data (run coverage with branch = true)", file=sys.stderr)
        return 2
    failed = 0
    print(f"{'group':<72} {'files':>5} {'branch cov':>10} {'arcs only':>10} {'floor':>6}")
    for group in GROUPS:
        found = tally(report["files"], group.patterns)
        ok = found.files > 0 and found.percent >= group.floor
        failed += not ok
        print(f"{group.name:<72} {found.files:>5} {found.percent:>9.1f}% {found.branch_percent:>9.1f}% "
              f"{group.floor:>5.0f}% {'ok' if ok else 'BELOW'}")
    if failed:
        print(f"coverage gate: {failed} group(s) below their floor", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
