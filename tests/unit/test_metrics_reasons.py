"""The ``reason`` label of ``satchel_link_events_total`` comes from a fixed set (attack finding: FormPost
events gave it free text such as "7 file(s) stored: ...", one series per form)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from satchel import metrics

SWIFT = Path(metrics.__file__).parent / "swift"
#: A reason's code: the text before its first ':' (a literal or the start of an f-string).
_CODE = re.compile(r"^([A-Za-z]+): ")


def _reason_literals() -> list[tuple[str, str]]:
    """Every string the TempURL and FormPost front-ends may open an audit reason with: the literal start of
    each string or f-string that reads ``Word: ...``, and every value of formpost's ``_CODES``."""
    found = []
    for name in ("tempurl.py", "formpost.py"):
        tree = ast.parse((SWIFT / name).read_text())
        for node in ast.walk(tree):
            text = None
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                text = node.values[0].value
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            if isinstance(text, str) and (match := _CODE.match(text)) and match.group(1) != "FormPost":
                found.append((name, match.group(1)))
    from satchel.swift.formpost import _CODES
    return found + [("formpost.py", code) for code in _CODES.values()]


def test_every_swift_reason_code_is_in_the_set() -> None:
    literals = _reason_literals()
    assert {code for _, code in literals} >= {"TempUrlInvalid", "FormPostInvalid", "MaxFileCountExceeded"}
    assert [(name, code) for name, code in literals if code not in metrics.reason_codes()] == []


def test_swift_codes_are_all_emitted() -> None:
    """No code in the set that nothing emits (besides the cut-off form, recorded with it)."""
    emitted = {code for _, code in _reason_literals()}
    assert metrics.SWIFT_REASON_CODES - emitted <= {"FormPostCutOff"}


@pytest.mark.parametrize(("reason", "label"), [
    ("SignatureDoesNotMatch: the signature does not match", "SignatureDoesNotMatch"),
    ("TempUrlInvalid: form expired", "TempUrlInvalid"),
    ("MaxFileCountExceeded: 7 file(s) stored: a, b; max file count exceeded", "MaxFileCountExceeded"),
    ("7 file(s) stored", metrics.OTHER_REASON),
    ("a long sentence a client chose: with a colon", metrics.OTHER_REASON),
    ("", metrics.OTHER_REASON), (None, metrics.OTHER_REASON),
])
def test_refusal_labels(reason: str | None, label: str) -> None:
    assert metrics.reason_label("refused", reason) == label
    assert metrics.reason_label("refused", reason) in metrics.reason_codes()
    assert metrics.reason_label("allowed", reason) == ""
