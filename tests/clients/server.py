"""A real ``satchel serve`` process on loopback, as the client and fault tiers see it.

The tests talk to the server only over HTTP and through the ``satchel admin`` CLI, exactly as an operator
would, so nothing here imports the server's code. ``SATCHEL_TEST_ENDPOINT`` (with
``SATCHEL_TEST_ACCESS_KEY`` / ``SATCHEL_TEST_SECRET_KEY``) runs the client tests against another S3
endpoint instead: tests that need the admin CLI or process control skip themselves in that mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REGION = "us-east-1"
HEALTH_PATH = "/_satchel/health"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def venv_tool(name: str) -> str:
    """A console script installed beside the running interpreter (the project venv), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is neither in the venv nor on PATH")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _random_token(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class Credentials:
    """An access key pair and the user it belongs to (``user`` is empty for the root key)."""

    access_key: str
    secret_key: str
    user: str = ""


class ServerHandle:
    """What a test needs to reach an S3 endpoint; subclasses add process control."""

    def __init__(self, endpoint: str, root: Credentials, data_dir: Path | None) -> None:
        self.endpoint = endpoint
        self.root = root
        self.data_dir = data_dir
        self.region = REGION

    @property
    def access_key(self) -> str:
        return self.root.access_key

    @property
    def secret_key(self) -> str:
        return self.root.secret_key

    @property
    def host_port(self) -> str:
        return self.endpoint.split("://", 1)[1].rstrip("/")

    @property
    def managed(self) -> bool:
        """True when this harness runs the server and so can use the admin CLI and signals."""
        return False

    def require_managed(self) -> None:
        if not self.managed:
            pytest.skip("needs a satchel process started by the harness (SATCHEL_TEST_ENDPOINT is set)")


class SatchelProcess(ServerHandle):
    """``satchel serve`` on a free loopback port with a private data directory and known root keys."""

    def __init__(self, data_dir: Path, port: int | None = None, extra_args: Sequence[str] = (),
                 ca_file: Path | None = None) -> None:
        root = Credentials(
            access_key="SATCHEL" + _random_token(13, string.ascii_uppercase + string.digits),
            secret_key=_random_token(40, string.ascii_letters + string.digits),
        )
        self.port = port or free_port()
        #: The certificate to trust when the server speaks HTTPS (then the endpoint is https://).
        self.ca_file = ca_file
        super().__init__(f"{'https' if ca_file else 'http'}://127.0.0.1:{self.port}", root, data_dir)
        self.data_dir: Path = data_dir
        self.password = _random_token(24, string.ascii_letters + string.digits)
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.extra_args = tuple(extra_args)

    @property
    def managed(self) -> bool:
        return True

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
        env.update(
            SATCHEL_ROOT_ACCESS_KEY=self.root.access_key,
            SATCHEL_ROOT_SECRET_KEY=self.root.secret_key,
            SATCHEL_ROOT_PASSWORD=self.password,
            PYTHONUNBUFFERED="1",
        )
        return env

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            # A new session gives the server (and any workers it forks) its own process group, so
            # stop() and kill9() reach every process we started and nothing else.
            self._proc = subprocess.Popen(
                [venv_tool("satchel"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), *self.extra_args],
                env=self.env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_error = "no answer"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                last_error = f"server exited with code {self._proc.returncode}"
                break
            try:
                context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
                with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=2, context=context) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"health answered {resp.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"health answered {exc.code}"
            except OSError as exc:
                last_error = repr(exc)
            time.sleep(0.1)
        self._signal(signal.SIGKILL)
        pytest.fail(f"satchel did not become healthy ({last_error}); log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            return

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if the server has not exited within STOP_TIMEOUT seconds."""
        if self._proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._proc.wait(timeout=STOP_TIMEOUT)
        self._reap_group()
        self._proc = None

    def kill9(self) -> None:
        """Crash the whole process group the way a power cut would look to the process."""
        if self._proc is None:
            return
        self._signal(signal.SIGKILL)
        self._proc.wait(timeout=STOP_TIMEOUT)
        self._reap_group()
        self._proc = None

    def _reap_group(self) -> None:
        # Workers are in the same group; after the leader is gone make sure none lingers on the port.
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    @contextlib.contextmanager
    def running(self) -> Iterator[SatchelProcess]:
        """Started for the ``with`` block, stopped after it whatever happens."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- the admin CLI -------------------------------------------------------------------------------
    def admin(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run ``satchel admin ARGS --data-dir D`` and return its stdout; a non-zero exit fails the test."""
        cmd = [venv_tool("satchel"), "admin", *args, "--data-dir", str(self.data_dir)]
        proc = subprocess.run(cmd, env={**self.env(), **(env or {})}, capture_output=True, text=True,
                              timeout=60, check=False)
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(cmd[1:])} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def create_user(self, name: str, role: str = "member", account: str = "root") -> Credentials:
        """A new user with one access key, made through the CLI as an operator would."""
        self.admin("user", "create", name, "--account", account, "--role", role)
        out = json.loads(self.admin("key", "create", name, "--json"))
        return Credentials(out["access_key_id"], out["secret_access_key"], user=name)

    def grant(self, user: str, bucket: str, permission: str, prefix: str | None = None, *,
              share: bool = False) -> None:
        """``share``: the user may also hand out links for what the grant gives (else its links are refused)."""
        extra = (["--prefix", prefix] if prefix else []) + (["--share"] if share else [])
        self.admin("grant", "add", user, bucket, "--permission", permission, *extra)

    def set_public(self, bucket: str, public: bool) -> None:
        self.admin("bucket", "public", "on" if public else "off", bucket)


def eventually(check: Callable[[], bool], timeout: float = 5.0, interval: float = 0.1) -> bool:
    """Polls ``check`` until it holds or ``timeout`` passes: changes made through the admin CLI reach the
    running server through short-lived caches, and the design promises a bound, not an instant."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def external_server() -> ServerHandle | None:
    """The endpoint named by SATCHEL_TEST_ENDPOINT, when the suite is pointed at another S3 server."""
    endpoint = os.environ.get("SATCHEL_TEST_ENDPOINT")
    if not endpoint:
        return None
    root = Credentials(os.environ.get("SATCHEL_TEST_ACCESS_KEY", "testing"),
                       os.environ.get("SATCHEL_TEST_SECRET_KEY", "testing"))
    return ServerHandle(endpoint.rstrip("/"), root, None)


def configured_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, name: str,
                      config: str, *extra_args: str) -> SatchelProcess:
    """A server of its own for a module, started with the TOML ``config`` and stopped at the end."""
    root: Path = tmp_path_factory.mktemp(name)
    config_file = root / "satchel.toml"
    config_file.write_text(config)
    proc = SatchelProcess(root / "data", extra_args=("--config", str(config_file), *extra_args))
    request.addfinalizer(proc.stop)
    proc.start()
    return proc
