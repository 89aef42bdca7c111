"""Reading an object's segments: every blob held before the first byte, and what a read that cannot
hold them gets (tests/clients/test_read_races.py races a real DELETE against a real server)."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from satchel.blobs.base import Piece
from satchel.core import objects
from satchel.core.conditions import ByteRange
from satchel.core.errors import SlowDown
from satchel.core.models import ObjectRecord, Segment

RECORD = ObjectRecord("b", "k", 30, "etag-3", 0.0, tuple(Segment(c * 32, 10) for c in "abc"))


class Blobs:
    """Records what is asked; ``fail`` is raised before the first byte, as the real store does."""

    def __init__(self, fail: OSError | None = None) -> None:
        self.asked: list[list[Piece]] = []
        self.fail = fail

    async def read(self, blob_id: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        self.asked.append([(blob_id, offset, length or 0)])
        yield blob_id[0].encode() * (length or 0)

    async def read_pieces(self, pieces: Sequence[Piece]) -> AsyncIterator[bytes]:
        self.asked.append(list(pieces))
        if self.fail is not None:
            raise self.fail
        for blob_id, _, length in pieces:
            yield blob_id[0].encode() * (length or 0)


class Node:
    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs


async def _body(node: Any, byte_range: ByteRange | None) -> bytes:
    _, stream = await objects.open_object(node, None, RECORD, byte_range)  # type: ignore[arg-type]
    return b"".join([chunk async for chunk in stream])


@pytest.mark.parametrize(("byte_range", "asked", "body"), [
    (None, [("a" * 32, 0, 10), ("b" * 32, 0, 10), ("c" * 32, 0, 10)], b"a" * 10 + b"b" * 10 + b"c" * 10),
    (ByteRange(5, 14), [("a" * 32, 5, 5), ("b" * 32, 0, 5)], b"aaaaabbbbb"),
    (ByteRange(12, 17), [("b" * 32, 2, 6)], b"bbbbbb"),  # one segment: the plain read
])
def test_a_read_asks_for_exactly_the_segments_it_touches_at_once(byte_range: ByteRange | None,
                                                                  asked: list[Piece], body: bytes) -> None:
    blobs = Blobs()
    assert asyncio.run(_body(Node(blobs), byte_range)) == body
    assert blobs.asked == [asked]


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE])
def test_a_read_that_cannot_hold_its_files_is_slow_down_before_the_first_byte(code: int) -> None:
    with pytest.raises(SlowDown):
        asyncio.run(_body(Node(Blobs(OSError(code, "too many"))), None))


def test_other_failures_pass_through() -> None:
    with pytest.raises(PermissionError):
        asyncio.run(_body(Node(Blobs(PermissionError(errno.EACCES, "no"))), None))
