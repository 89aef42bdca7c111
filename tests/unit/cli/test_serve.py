"""``satchel serve`` and ``make serve`` as a new user meets them: real processes on loopback.

The banner is the first thing anyone reads, so it is held to what the server does: every URL it prints
answers, the aws cli hint names the real key id (and the secret only on the start that generated it),
the ``satchel`` command is shown by a path that works, and a busy port is reported before any of that.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import click
import pytest
from click.testing import CliRunner

from satchel.cli.main import cli
from tests.clients.server import HEALTH_PATH, free_port, venv_tool

REPO = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT = 30.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


class Served:
    """One ``satchel serve`` process; its banner is whatever it printed before becoming healthy."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = data_dir.parent / f"serve-{port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([venv_tool("satchel"), "serve", "--port", str(port), "--data-dir",
                                          str(data_dir)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            if status(self.endpoint + HEALTH_PATH) == 200:
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"satchel serve did not become healthy:\n{self.banner}")

    @property
    def banner(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[type[Served]]:
    started: list[Served] = []

    class Tracked(Served):
        def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
            super().__init__(data_dir, port, env)
            started.append(self)

    yield Tracked
    for server in started:
        server.stop()


def export_line(banner: str) -> str:
    lines = [line for line in banner.splitlines() if "export AWS_ACCESS_KEY_ID=" in line]
    assert len(lines) == 1, banner
    return lines[0]


def test_banner_names_the_real_key_and_the_secret_only_when_generated(serve: type[Served], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    first = serve(data_dir, port, _env())
    generated = dict(re.findall(r"^\s+(Access key id|Secret access key)\s+: (\S+)$", first.banner, re.M))
    key_id, secret = generated["Access key id"], generated["Secret access key"]
    assert f"AWS_ACCESS_KEY_ID={key_id} AWS_SECRET_ACCESS_KEY={secret} " in export_line(first.banner)
    first.stop()

    again = serve(data_dir, port, _env())
    assert f"AWS_ACCESS_KEY_ID={key_id} AWS_SECRET_ACCESS_KEY=YOUR_ROOT_SECRET " in export_line(again.banner)
    assert secret not in again.banner and "never shown again" in again.banner
    # How to reach the satchel command: a path that exists, with the data dir so it works from anywhere.
    admin = next(line.strip() for line in again.banner.splitlines() if " admin user list " in line)
    command, _, rest = admin.partition(" admin ")
    assert Path(command).is_absolute() or command == "satchel" or (Path.cwd() / command).exists()
    assert f"--data-dir {data_dir.resolve()}" in rest
    assert f"Master key     : {(data_dir / 'master.key').absolute()} (every node" in again.banner  # its path only


def test_secret_given_by_the_environment_is_never_printed(serve: type[Served], tmp_path: Path) -> None:
    secret = "s3cr3t-from-the-environment-0123456789ab"
    server = serve(tmp_path / "data", free_port(),
                   _env(SATCHEL_ROOT_ACCESS_KEY="AKIABANNERTEST000001", SATCHEL_ROOT_SECRET_KEY=secret))
    assert secret not in server.banner
    assert "AWS_ACCESS_KEY_ID=AKIABANNERTEST000001 AWS_SECRET_ACCESS_KEY=\"$SATCHEL_ROOT_SECRET_KEY\"" \
        in export_line(server.banner)


def test_every_url_in_the_banner_answers(serve: type[Served], tmp_path: Path) -> None:
    server = serve(tmp_path / "data", free_port(), _env())
    urls = set(re.findall(r"http://127\.0\.0\.1:\d+\S*", server.banner))
    assert server.endpoint + HEALTH_PATH in urls
    for url in urls:
        assert status(url) not in (0, 404), url
    with urllib.request.urlopen(server.endpoint + "/_satchel/api/openapi.json", timeout=5) as response:
        document = response.read().decode().lower()
    for absent in ("postgres",):  # not built yet; the console, PARs, Swift, metrics and webhooks answer
        assert absent not in server.banner.lower() and absent not in document


def test_busy_port_is_reported_before_any_banner(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([venv_tool("satchel"), "serve", "--port", str(port), "--data-dir",
                               str(tmp_path / "data")], env=_env(), capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "in use" in proc.stderr
    assert "--port" in proc.stderr and "PORT=" in proc.stderr
    assert "Satchel is starting" not in proc.stdout + proc.stderr
    assert "AWS_" not in proc.stdout + proc.stderr
    assert not (tmp_path / "data").exists()  # no credentials generated for a server that never ran


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def test_help_advertises_nothing_that_does_not_answer() -> None:
    """Every --help of the command tree: nothing is offered until it answers (``serve --help`` promised Swift
    and a console before either answered; PostgreSQL was not offered before its store answered)."""
    text = subprocess.run([venv_tool("satchel"), "serve", "--help"], capture_output=True, text=True, timeout=30,
                          env=_env(), check=True).stdout
    for path in _commands(cli):
        result = CliRunner().invoke(cli, [*path, "--help"], prog_name="satchel")
        assert result.exit_code == 0, path
        text += result.output
    # The console, PARs, Swift, metrics, webhooks and the PostgreSQL store (tests/unit/meta/test_postgres.py,
    # tests/clients/test_postgres_nodes.py) all answer now.
    assert "postgresql://" in text.lower()


def _make_serve(*args: str, **env: str) -> str:
    """The ``satchel serve`` line ``make serve`` would run (``make -n``: nothing is built or started)."""
    # Without the flags of a `make test` that runs this test: its variables would reach this make too.
    clean = {k: v for k, v in _env(**env).items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    proc = subprocess.run(["make", "-n", "-C", str(REPO), "serve", *args], capture_output=True, text=True,
                          timeout=30, env=clean, check=True)
    return next(line for line in proc.stdout.splitlines() if "satchel serve" in line)


def test_make_serve_takes_a_port_and_otherwise_leaves_the_environment_alone() -> None:
    assert _make_serve("PORT=9100").split()[-2:] == ["--port", "9100"]
    # Without PORT=, no flag: SATCHEL_PORT (or the config file) decides, as it would for satchel serve.
    plain = _make_serve(SATCHEL_PORT="9200", SATCHEL_DATA_DIR="/srv/satchel")
    assert "--port" not in plain and "--data-dir" not in plain and "--host" not in plain
    assert _make_serve("DATA_DIR=/srv/s", "HOST=127.0.0.2").split()[-4:] == ["--host", "127.0.0.2", "--data-dir",
                                                                           "/srv/s"]


def test_admin_elsewhere_refuses_and_the_named_data_dir_reaches_the_running_server(serve: type[Served],
                                                                                   tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = serve(data_dir, free_port(), _env())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def admin(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([venv_tool("satchel"), "admin", *args], capture_output=True, text=True, timeout=60,
                              cwd=elsewhere, env=_env(**env), check=False)

    refused = admin("user", "create", "erin", "--account", "root")
    assert refused.returncode == 1 and "no Satchel node in" in refused.stderr
    assert list(elsewhere.iterdir()) == []  # no fresh store, no new root secrets
    assert admin("user", "create", "erin", "--account", "root", "--role", "admin",
                 SATCHEL_DATA_DIR=str(data_dir)).returncode == 0
    key = json.loads(admin("key", "create", "erin", "--json", "--data-dir", str(data_dir)).stdout)
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                      aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"])
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
