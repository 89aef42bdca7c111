"""The readiness probe (``satchel/readiness.py``): one check at a time, reused for its TTL, bounded, off
the event loop, and a changed answer logged once."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest

from satchel.blobs.localfs import LocalBlobStore
from satchel.readiness import ReadinessProbe


class Check:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.fail: BaseException | None = None
        self.threads: set[int] = set()

    def __call__(self) -> None:
        self.calls += 1
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail


def test_concurrent_polls_share_one_check_and_reuse_it_for_the_ttl() -> None:
    now = [100.0]
    check = Check(delay=0.05)
    probe = ReadinessProbe(check, what="the upstream", ttl=2.0, clock=lambda: now[0])

    async def main() -> list[bool]:
        answers = await asyncio.gather(*(probe() for _ in range(50)))
        answers.append(await probe())  # within the TTL: no new check
        now[0] += 2.5
        answers.append(await probe())  # after it: one more
        return answers

    assert all(asyncio.run(main()))
    assert check.calls == 2
    assert threading.get_ident() not in check.threads  # never on the event loop's thread
    probe.close()


def test_a_check_that_hangs_is_not_ready_within_the_timeout_and_the_loop_keeps_turning() -> None:
    check = Check(delay=1.0)
    probe = ReadinessProbe(check, what="the upstream", timeout=0.2, ttl=0.0)

    async def main() -> tuple[bool, float, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        running = asyncio.ensure_future(ticker())
        began = time.monotonic()
        answer = await probe()
        took = time.monotonic() - began
        running.cancel()
        return answer, took, ticks

    answer, took, ticks = asyncio.run(main())
    assert answer is False
    assert took < 0.5
    assert ticks >= 10  # the loop ran while the check hung
    probe.close()


def test_a_change_of_answer_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    check = Check()
    probe = ReadinessProbe(check, what="the upstream", ttl=0.0)
    caplog.set_level(logging.WARNING, logger="satchel")

    async def main() -> list[bool]:
        answers = [await probe()]
        check.fail = ConnectionRefusedError(111, "Connection refused")
        answers += [await probe() for _ in range(5)]
        check.fail = None
        answers += [await probe() for _ in range(3)]
        return answers

    assert asyncio.run(main()) == [True] + [False] * 5 + [True] * 3
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["the upstream does not answer (ConnectionRefusedError: Connection refused): not ready "
                     "until it does", "the upstream answers again: ready"]
    probe.close()


def test_local_blobs_are_unready_when_their_directory_goes(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.probe()
    (tmp_path / "blobs" / "tmp").rmdir()
    with pytest.raises(OSError):
        store.probe()
    store.close()
