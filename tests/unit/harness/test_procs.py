"""Stopping what the harness started: a server's whole process group, even after its leader is gone."""

from __future__ import annotations

import subprocess
import time

import pytest

from bench import procs

pytestmark = pytest.mark.timeout(30)



def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while procs.alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _worker_of(proc: subprocess.Popen[str]) -> int:
    assert proc.stdout is not None
    return int(proc.stdout.readline())


def test_stop_ends_the_leader_and_its_workers() -> None:
    proc = procs.spawn(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE)
    worker = _worker_of(proc)
    assert procs.alive(worker) and procs.tree(proc.pid) == [proc.pid, worker]
    procs.stop(proc, timeout=5.0)
    assert proc.returncode is not None
    assert _gone(worker)


def test_stop_sweeps_workers_whose_leader_was_already_reaped() -> None:
    # The leader exits at once and is reaped; its worker lives on in the group the leader created.
    proc = procs.spawn(["sh", "-c", "sleep 60 & echo $!"], stdout=subprocess.PIPE)
    worker = _worker_of(proc)
    proc.wait(5)
    assert procs.alive(worker)
    procs.stop(proc)
    assert _gone(worker)


def test_kill_all_stops_everything_still_running() -> None:
    first = procs.spawn(["sleep", "60"])
    second = procs.spawn(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE)
    worker = _worker_of(second)
    procs.kill_all()
    assert first.returncode is not None and second.returncode is not None
    assert _gone(worker)
