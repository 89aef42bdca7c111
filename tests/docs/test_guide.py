"""docs/guide.md, executed: every command and SDK snippet against a real ``satchel serve``.

The guide documents the variables its commands read (SATCHEL_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, SATCHEL_DATA_DIR); this test sets them to a fresh server's and
runs the guide in a scratch directory with the venv's tools first on PATH, so the guide cannot rot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.server import SatchelProcess
from tests.docs.guide import GUIDE, missing, outputs, parse, require, script


def guide_env(server: SatchelProcess, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SATCHEL_", "AWS_", "OS_", "ST_", "PYTHONPATH"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),  # no ~/.aws or ~/.config of the machine's user
        SATCHEL_ENDPOINT=server.endpoint,
        AWS_ACCESS_KEY_ID=server.root.access_key,
        AWS_SECRET_ACCESS_KEY=server.root.secret_key,
        AWS_DEFAULT_REGION=server.region,
        SATCHEL_DATA_DIR=str(server.data_dir),
    )
    if "PYTHONPATH" in os.environ:  # the worktree's satchel, as the server runs it
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


@pytest.mark.slow  # some 40 tool runs (the aws cli starts in ~0.5 s): 20-30 s
def test_every_block_of_the_guide_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    for tool in ("jq", "unzip", "curl"):
        require(tool)
    blocks = parse(GUIDE.read_text())
    server = SatchelProcess(tmp_path / "data")
    server.start()
    try:
        work = tmp_path / "work"
        work.mkdir()
        result = subprocess.run(["bash", "-c", script(blocks)], cwd=work, env=guide_env(server, work),
                                capture_output=True, text=True, timeout=240, check=False)
    finally:
        server.stop()
    got = outputs(result.stdout)
    last = blocks[max(got, default=0)]
    assert result.returncode == 0, (
        f"the guide's {last.lang} block at guide.md line {last.line} failed (exit {result.returncode}):\n"
        f"--- stdout tail\n{result.stdout[-3000:]}\n--- stderr tail\n{result.stderr[-3000:]}"
    )
    assert "@@satchel-guide-block end@@" in result.stdout
    for block in blocks:
        if block.expected is not None:
            lost = missing(block.expected, got[block.index])
            assert lost is None, (f"guide.md line {block.line}: shown output line {lost!r} not printed; "
                                  f"it printed:\n" + "\n".join(got[block.index]))


def test_the_guide_has_a_block_for_every_way_and_every_task() -> None:
    text = GUIDE.read_text()
    blocks = parse(text)
    assert sum(block.lang == "python" for block in blocks) >= 6
    assert sum(block.expected is not None for block in blocks) >= 15
    for task in ("15 minutes", "view or download", "upload without credentials", "folder", "one-time",
                 "Revoke one link", "who downloaded", "Rotate a key", "Swift TempURLs"):
        assert task in text


def test_the_output_check_refuses_what_was_not_printed() -> None:
    assert missing(("200", "403"), ["200", "403"]) is None
    assert missing(("content-disposition: attachment…",), ["content-disposition: attachment; x"]) is None
    assert missing(("200", "403"), ["403", "200"]) == "403"  # order matters
    assert missing(("200",), ["2000"]) == "200"  # whole lines
    assert missing(("quarterly figures",), []) == "quarterly figures"
