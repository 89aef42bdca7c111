"""The README's S3 compatibility table against the router: every operation AWS defines that Satchel
recognises has exactly one row, implemented ones say supported or partial, the ones answered with
``501 NotImplemented`` say not supported — so the table can neither promise what does not answer nor
forget a 501 (the issue's "every 501 that remains is a deliberate, documented choice")."""

from __future__ import annotations

from pathlib import Path

from satchel.s3.endpoints import Op, Unsupported

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### S3 compatibility: every operation, and what answers"
#: Not AWS operations: CORS preflight and the 501 route itself.
NOT_OPERATIONS = {Op.Options.value, Op.NotImplemented.value}


def table_rows() -> list[tuple[list[str], str, str]]:
    """(operation names, status, notes) of each row of the README's table."""
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.index("\n### ", start + len(HEADING))
    rows = []
    for line in text[start:end].splitlines():
        if not line.startswith("| ") or line.startswith(("| operation ", "|---")):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 3, f"a row of three cells: {line!r}"
        rows.append(([name.strip() for name in cells[0].split(",")], cells[1], cells[2]))
    return rows


def test_every_operation_has_exactly_one_row_with_the_right_status() -> None:
    implemented = {op.value for op in Op} - NOT_OPERATIONS
    refused = {op.value for op in Unsupported}
    seen: list[str] = []
    for names, status, notes in table_rows():
        for name in names:
            seen.append(name)
            if name in implemented:
                assert status in ("supported", "partial"), f"{name} is implemented: {status!r}"
                if status == "partial":
                    assert notes, f"{name}: a partial row says what is missing"
            elif name in refused:
                assert status == "not supported (`501`)", f"{name} answers 501: {status!r}"
                assert notes, f"{name}: a 501 row says why"
            else:
                raise AssertionError(f"{name!r} is no operation Satchel routes")
    assert sorted(seen) == sorted(set(seen)), "an operation has two rows"
    missing = (implemented | refused) - set(seen)
    assert not missing, f"operations without a row: {sorted(missing)}"
