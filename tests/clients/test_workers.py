"""``satchel serve --workers 2``: the supervisor, its workers, and what clients see while they come and go.

Drives a dedicated server through boto3 and signals (SIGKILL of one worker, SIGHUP, SIGTERM).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess, venv_tool

DEADLINE = 20.0


def children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return set()
    return {int(child) for child in text.split()}


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SatchelProcess]:
    proc = SatchelProcess(tmp_path / "data", extra_args=["--workers", "2"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def supervisor_pid(server: SatchelProcess) -> int:
    assert server._proc is not None
    return server._proc.pid


def test_one_light_supervisor_and_two_workers_share_the_port(server: SatchelProcess) -> None:
    pid = supervisor_pid(server)
    assert "satchel.supervisor" in cmdline(pid)
    workers = children(pid)
    assert len(workers) == 2, "no resource tracker or other helper, just the workers"
    assert all("satchel.worker --fd" in cmdline(worker) for worker in workers)
    # Every new connection may land on either worker: a write is visible to all later reads.
    s3 = make_client(server)
    s3.create_bucket(Bucket="www")
    for i in range(20):
        make_client(server).put_object(Bucket="www", Key=f"k{i}", Body=f"v{i}".encode())
        assert make_client(server).get_object(Bucket="www", Key=f"k{i}")["Body"].read() == f"v{i}".encode()


def test_a_killed_worker_is_replaced_and_the_server_keeps_serving(server: SatchelProcess) -> None:
    pid = supervisor_pid(server)
    s3 = make_client(server)
    s3.create_bucket(Bucket="kkk")
    victim = min(children(pid))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(children(pid)) == 2 and victim not in children(pid), "a replacement worker")
    for i in range(10):
        make_client(server).put_object(Bucket="kkk", Key=f"k{i}", Body=b"x")
    assert len(s3.list_objects_v2(Bucket="kkk")["Contents"]) == 10
    assert "exited with code" in server.log_tail()


def test_sighup_replaces_every_worker_without_refusing_a_request(server: SatchelProcess) -> None:
    pid = supervisor_pid(server)
    s3 = make_client(server)
    s3.create_bucket(Bucket="hhh")
    s3.put_object(Bucket="hhh", Key="k", Body=b"still here")
    before = children(pid)
    failures: list[Exception] = []
    done = threading.Event()

    def read_all_along() -> None:
        client = make_client(server)
        while not done.is_set():
            try:
                assert client.get_object(Bucket="hhh", Key="k")["Body"].read() == b"still here"
            except (ClientError, AssertionError, OSError) as exc:
                failures.append(exc)

    reader = threading.Thread(target=read_all_along)
    reader.start()
    try:
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: len(children(pid)) == 2 and not children(pid) & before, "two new workers")
    finally:
        done.set()
        reader.join()
    assert failures == []


def test_sigterm_stops_the_workers_and_the_supervisor(server: SatchelProcess) -> None:
    pid = supervisor_pid(server)
    workers = children(pid)
    assert server._proc is not None
    os.kill(pid, signal.SIGTERM)  # only the supervisor: it must pass the signal on
    assert server._proc.wait(timeout=DEADLINE) == 0
    # The supervisor exits only after it has reaped its workers.
    assert [worker for worker in workers if Path(f"/proc/{worker}").exists()] == []


def test_workers_stop_when_the_supervisor_is_killed(server: SatchelProcess) -> None:
    """kill -9 of the supervisor alone must not leave orphans serving and holding the port."""
    pid = supervisor_pid(server)
    workers = children(pid)
    assert len(workers) == 2
    os.kill(pid, signal.SIGKILL)
    assert server._proc is not None
    server._proc.wait(timeout=DEADLINE)
    wait_for(lambda: not any(Path(f"/proc/{worker}").exists() for worker in workers), "the orphaned workers to exit")
    server._proc = None
    server.start()  # the same port again
    s3 = make_client(server)
    s3.create_bucket(Bucket="again")
    assert s3.list_buckets()["Buckets"][0]["Name"] == "again"


def test_a_taken_port_is_a_clear_error(server: SatchelProcess, tmp_path: Path) -> None:
    result = subprocess.run(
        [venv_tool("satchel"), "serve", "--host", "127.0.0.1", "--port", str(server.port), "--workers", "2",
         "--data-dir", str(tmp_path / "other")],
        env=server.env(), capture_output=True, text=True, timeout=DEADLINE,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr
