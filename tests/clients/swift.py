"""Helpers for the Swift tier: TempAuth against the test server, the ``swift`` CLI and swiftclient's API."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import swiftclient.client as swift_api

from tests.clients.boto import unique_bucket
from tests.clients.server import Credentials, ServerHandle, venv_tool


def auth_url(server: ServerHandle) -> str:
    return f"{server.endpoint}/auth/v1.0"


def unique_container(prefix: str = "sw") -> str:
    return unique_bucket(prefix)  # a container is a bucket


@dataclass(frozen=True)
class SwiftUser:
    """A user as Swift sees it: ``account:user`` and one of its key secrets."""

    server: ServerHandle
    account: str
    user: str
    key: str

    @property
    def auth_user(self) -> str:
        return f"{self.account}:{self.user}"

    def token(self) -> tuple[str, str]:
        """(storage URL, token) from ``GET /auth/v1.0``."""
        url, token = swift_api.get_auth(auth_url(self.server), self.auth_user, self.key)
        return url, token

    def connection(self) -> swift_api.Connection:
        return swift_api.Connection(authurl=auth_url(self.server), user=self.auth_user, key=self.key, retries=0)

    def cli(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``swift -A ... -U ... -K ... ARGS``; a failure fails the test unless ``check`` is False."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_", "SWIFTCLIENT_"))}
        cmd = [venv_tool("swift"), "-A", auth_url(self.server), "-U", self.auth_user, f"--key={self.key}", *args]
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"swift {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc


def root_user(server: ServerHandle) -> SwiftUser:
    return SwiftUser(server, "root", "root", server.root.secret_key)


def member_user(server: ServerHandle, creds: Credentials, account: str = "root") -> SwiftUser:
    return SwiftUser(server, account, creds.user, creds.secret_key)


def empty_container(conn: swift_api.Connection, name: str) -> None:
    """Delete every object and the container (missing is fine)."""
    try:
        _, objects = conn.get_container(name, full_listing=True)
    except swift_api.ClientException:
        return
    for entry in objects:
        conn.delete_object(name, entry["name"])
    conn.delete_container(name)
