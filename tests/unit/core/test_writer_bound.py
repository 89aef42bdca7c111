"""``MetadataWriter.run(bound=…)``: a write waited for in vain is a 503 either way, but a queued one is
dropped (it never runs: nothing written) while a started one is left to finish and marked
``outcome_unknown`` (it may still commit: its caller must not undo what it references)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from satchel.core.errors import ServiceUnavailable
from satchel.core.writer import MetadataWriter


def test_a_started_write_is_unknown_and_a_queued_one_never_runs() -> None:
    release = threading.Event()
    ran: list[str] = []

    def hung() -> str:
        release.wait(10)  # the database frozen while this statement waits for its answer
        ran.append("hung")
        return "committed"

    def queued() -> str:
        ran.append("queued")
        return "never"

    @contextlib.contextmanager
    def group() -> Iterator[None]:
        yield

    writer = MetadataWriter(group)

    async def scenario() -> tuple[BaseException, BaseException]:
        first = asyncio.ensure_future(writer.run(hung, bound=0.2))
        await asyncio.sleep(0.05)  # the writer thread has started it
        second = asyncio.ensure_future(writer.run(queued, bound=0.2))
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        assert all(isinstance(o, ServiceUnavailable) for o in outcomes), outcomes
        return outcomes[0], outcomes[1]  # type: ignore[return-value]

    loop = asyncio.new_event_loop()
    try:
        started, dropped = loop.run_until_complete(scenario())
        assert getattr(started, "outcome_unknown", None) is True
        assert getattr(dropped, "outcome_unknown", None) is False and "nothing was written" in str(dropped)
        release.set()
        writer.close()  # finishes what it runs; the dropped one is skipped
        assert ran == ["hung"]
    finally:
        release.set()
        loop.close()


@pytest.mark.parametrize("bound", [None, 5.0])
def test_a_write_that_answers_in_time_returns_its_value(bound: float | None) -> None:
    writer = MetadataWriter(contextlib.nullcontext)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(writer.run(lambda: 42, bound=bound)) == 42
    finally:
        writer.close()
        loop.close()
