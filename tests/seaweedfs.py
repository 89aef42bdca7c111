"""A real S3 engine for the tests: SeaweedFS's S3 gateway (``weed server -s3``) on loopback.

The session-scoped :func:`seaweedfs` fixture starts one in a temporary directory with one access key,
waits until it stores objects (the gateway answers before its volume server takes writes), and stops
it at the end. Tests that stop and start it (the upstream failing under load) use :meth:`kill` and
:meth:`start`: same directory, same ports, same data; :meth:`paused` makes it hang instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.seaweedfs import Weed

#: A cold start takes ~1 s on the development machine; the first write waits for a volume.
START_TIMEOUT = 30.0


class SeaweedFS:
    def __init__(self, root: Path) -> None:
        self.weed = Weed.on_free_ports(root, "SEAWEED" + secrets.token_hex(6).upper(), secrets.token_urlsafe(30))
        self.log_path = root / "weed.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._shared: str | None = None

    @property
    def url(self) -> str:
        return self.weed.url

    def client(self, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=self.weed.access_key, aws_secret_access_key=self.weed.secret_key,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 2, "mode": "standard"}, **config))

    def shared_bucket(self) -> str:
        """One bucket for every test that takes its own prefix in it."""
        if self._shared is None:
            self._shared = self.new_bucket()
        return self._shared

    def new_bucket(self) -> str:
        name = f"blobs-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def start(self) -> None:
        self.weed.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(self.weed.command(), stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_writable()

    def _wait_writable(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(connect_timeout=1, read_timeout=5)
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                break
            try:
                with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou,
                                         client.exceptions.BucketAlreadyExists):
                    client.create_bucket(Bucket="ready-probe")
                client.put_object(Bucket="ready-probe", Key="probe", Body=b"ok")
                return
            except (BotoCoreError, ClientError) as exc:
                last = repr(exc)
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"SeaweedFS did not start ({last}); log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, sig)

    def pause(self) -> None:
        """Stopped (SIGSTOP): hung, as an overloaded or wedged cluster — the kernel still accepts
        connections for it, nothing ever answers. :meth:`resume` continues it."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """:meth:`pause` for the ``with`` block, resumed after whatever happened."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def kill(self) -> None:
        """Gone at once, as a crashed or unplugged upstream."""
        if self._proc is None:
            return
        self._signal(signal.SIGKILL)
        self._proc.wait(10)
        self._proc = None

    def stop(self) -> None:
        if self._proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(2)  # its data is thrown away after the session: no need to wait for a flush
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._proc.wait(10)
        self._proc = None


@contextlib.contextmanager
def running(root: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS in ``root`` for the ``with`` block; killed after it (its data goes with the test)."""
    server = SeaweedFS(root)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS S3 gateway for the session (tests take their own buckets)."""
    with running(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
