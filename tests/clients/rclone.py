"""rclone (Debian's) driven with a remote configured through ``RCLONE_CONFIG_<NAME>_*`` variables only.

One runner for the S3 and Swift tests: the caller's environment is cleaned of anything that would leak
into rclone's backends (its own variables, AWS profiles and CA bundles, OpenStack credentials), and every
call is bounded in retries and time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

Rclone = Callable[..., subprocess.CompletedProcess[str]]
#: Variables that would reach rclone's backends from the caller's environment.
LEAKING = ("RCLONE_", "AWS_", "OS_", "ST_")


def rclone_runner(workdir: Path, remote: Mapping[str, str], *, timeout: float = 240,
                  low_level_retries: int = 2) -> Rclone:
    """``run(*args, check=True)``: rclone with an empty config file in ``workdir`` and ``remote`` (the
    ``RCLONE_CONFIG_*`` variables) as its only configuration; a failure fails the test unless ``check`` is
    False. A missing rclone fails rather than skips: CI installs it."""
    exe = shutil.which("rclone")
    if exe is None:
        pytest.fail("rclone is missing: run scripts/install-test-deps.sh (make test does)")
    config = workdir / "rclone.conf"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKING)} | dict(remote)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [exe, "--config", str(config), "--retries", "1", "--low-level-retries", str(low_level_retries),
               *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"rclone {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run
