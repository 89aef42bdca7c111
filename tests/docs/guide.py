"""Turns docs/guide.md into one bash script, and checks a block's output against what the guide shows.

The guide is the specification of its own test: every ```sh block runs, in document order, in one
``bash -e -o pipefail`` (so variables and functions carry from block to block, as in a reader's shell);
every ```python block runs at its place through the venv's interpreter (a heredoc); a ```text block right
after a code block is that block's output as the guide shows it, checked line by line (``…`` stands for
anything, lines in order, other output lines allowed in between). Other blocks are prose.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
RUNNABLE = ("sh", "python")
MARKER = "@@satchel-guide-block {}@@"
_FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_PY_END = "SATCHEL_GUIDE_PYTHON_END"


@dataclass(frozen=True)
class Block:
    index: int
    lang: str
    code: str
    line: int
    expected: tuple[str, ...] | None = None


def parse(text: str) -> list[Block]:
    """The runnable blocks of a Markdown text, each with the output shown right after it (if any)."""
    fences = [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]
    blocks: list[Block] = []
    for position, (lang, code, line) in enumerate(fences):
        if lang not in RUNNABLE:
            continue
        expected = None
        if position + 1 < len(fences) and fences[position + 1][0] == "text":
            expected = tuple(row for row in fences[position + 1][1].splitlines() if row.strip())
        blocks.append(Block(len(blocks), lang, code, line, expected))
    return blocks


def script(blocks: list[Block]) -> str:
    """One bash script running every block in order, each announced by its marker on stdout."""
    parts = ["set -e -o pipefail"]
    for block in blocks:
        parts.append(f"echo '{MARKER.format(block.index)}'")
        if block.lang == "sh":
            parts.append(block.code)
        else:
            assert _PY_END not in block.code
            parts.append(f"python3 - <<'{_PY_END}'\n{block.code}{_PY_END}")
    parts.append(f"echo '{MARKER.format('end')}'")
    return "\n".join(parts) + "\n"


def outputs(stdout: str) -> dict[int, list[str]]:
    """Each block's stdout lines, split at the markers."""
    found: dict[int, list[str]] = {}
    current: int | None = None
    for row in stdout.splitlines():
        match = re.fullmatch(r"@@satchel-guide-block (\d+|end)@@", row)
        if match:
            current = int(match.group(1)) if match.group(1) != "end" else None
            if current is not None:
                found[current] = []
        elif current is not None:
            found[current].append(row)
    return found


def pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(piece) for piece in shown.split("…")))


def missing(expected: tuple[str, ...], got: list[str]) -> str | None:
    """The first expected line not found (in order) in got, else None."""
    rows = iter(got)
    for shown in expected:
        wanted = pattern(shown.rstrip())
        if not any(wanted.fullmatch(row.rstrip()) for row in rows):
            return shown
    return None


def require(tool: str) -> str:
    """The tool's path; a missing one fails the test, as `make test` installs it (never a silent skip)."""
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{tool} is missing: run scripts/install-test-deps.sh (make test does)")
    return found
