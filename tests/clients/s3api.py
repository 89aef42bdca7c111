"""``aws s3api`` as a subprocess against a test server, with the root keys and nothing of the developer's AWS setup."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.clients.boto import awscli_env
from tests.clients.server import ServerHandle, venv_tool

S3Api = Callable[..., subprocess.CompletedProcess[str]]


def s3api(server: ServerHandle, home: Path) -> S3Api:
    config = home / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n")
    env = awscli_env(server, home, config)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([venv_tool("aws"), "--endpoint-url", server.endpoint, "s3api", *args],
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    return run
