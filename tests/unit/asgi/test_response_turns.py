"""``Response.send`` takes turns on the event loop: a streamed body whose ``send`` never waits (a client
that reads as fast as a local disk is read) gives the loop up every ``YIELD_BYTES``, so other requests and
downloads run between its chunks; before, one download held the loop from its first byte to its last
(bench/README.md, "64 concurrent downloads from a local-disk node")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from satchel.asgi import YIELD_BYTES, Message, Response

CHUNK = 64 * 1024


async def _chunks(count: int, log: list[str]) -> AsyncIterator[bytes]:
    for _ in range(count):
        log.append("chunk")
        yield b"x" * CHUNK


def test_a_streamed_body_lets_other_tasks_run_between_its_chunks() -> None:
    log: list[str] = []
    chunks = 4 * YIELD_BYTES // CHUNK

    async def send(message: Message) -> None:  # never waits: the socket always has room
        return None

    async def other() -> None:
        for _ in range(chunks):
            log.append("other")
            await asyncio.sleep(0)

    async def main() -> int:
        neighbour = asyncio.ensure_future(other())
        sent = await Response(200, [], _chunks(chunks, log)).send(send)
        await neighbour
        return sent

    assert asyncio.run(main()) == chunks * CHUNK
    streak = longest = 0
    for entry in log:
        streak = streak + 1 if entry == "chunk" else 0
        longest = max(longest, streak)
    # Never more than one turn's worth of chunks in a row (plus the one read before the yield).
    assert longest <= YIELD_BYTES // CHUNK + 1, log


def test_a_small_body_never_yields() -> None:
    """Bodies under one turn cost no loop round: the 1 KiB GETs that links mostly serve."""
    log: list[str] = []

    async def send(message: Message) -> None:
        return None

    async def main() -> None:
        neighbour = asyncio.ensure_future(asyncio.sleep(0))
        neighbour.add_done_callback(lambda _: log.append("other"))
        await Response(200, [], _chunks(YIELD_BYTES // CHUNK - 1, log)).send(send)
        log.append("sent")
        await neighbour

    asyncio.run(main())
    assert log.index("sent") < log.index("other"), log
