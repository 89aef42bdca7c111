"""scripts/coverage_gate.py: each group of files against its own floor, from coverage's JSON report."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "coverage_gate.py"


def _gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coverage_gate", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _file(statements: int, executed: int, branches: int, taken: int) -> dict[str, Any]:
    return {"summary": {"num_statements": statements, "covered_lines": executed, "num_branches": branches,
                        "covered_branches": taken}}


def _report(tmp_path: Path, files: dict[str, Any], branch: bool = True) -> Path:
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps({"meta": {"branch_coverage": branch}, "files": files}))
    return path


def _every_group(statements: int, executed: int) -> dict[str, Any]:
    """One file in every group, each with the same figures."""
    gate = _gate()
    names = {pattern.replace("*", "x.py") for group in gate.GROUPS for pattern in group.patterns}
    return {name: _file(statements, executed, 10, 10) for name in names}


def test_passes_when_every_group_reaches_its_floor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _gate().main([str(_report(tmp_path, _every_group(100, 100)))]) == 0
    out = capsys.readouterr().out
    assert "BELOW" not in out and out.count(" ok") == len(_gate().GROUPS)


def test_a_group_below_its_floor_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _every_group(100, 100)
    files["satchel/admin/x.py"] = _file(100, 70, 10, 5)  # (70 + 5) / 110 = 68.2 % < 85 %
    assert _gate().main([str(_report(tmp_path, files))]) == 1
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("management API"))
    assert "68.2%" in line and "50.0%" in line and "BELOW" in line


def test_figures_are_coverage_branch_percentages_over_the_group() -> None:
    gate = _gate()
    found = gate.tally({"satchel/s3/a.py": _file(90, 90, 10, 0), "satchel/s3/b.py": _file(100, 50, 0, 0),
                        "satchel/admin/c.py": _file(1, 0, 0, 0)}, ("satchel/s3/*",))
    assert (found.files, round(found.percent, 1), found.branch_percent) == (2, 70.0, 0.0)


def test_a_group_that_matches_no_file_fails(tmp_path: Path) -> None:
    files = _every_group(100, 100)
    del files["satchel/core/links.py"]
    assert _gate().main([str(_report(tmp_path, files))]) == 1


def test_a_report_without_branch_data_is_refused(tmp_path: Path) -> None:
    assert _gate().main([str(_report(tmp_path, _every_group(100, 100), branch=False))]) == 2
