"""IAM's wildcards — ``*`` any run of characters (none included), ``?`` exactly one — matched without
backtracking.

Why not a regular expression: a pattern such as ``*a*a*a…*b`` against ``aaaa…`` makes a backtracking
engine try every way of splitting the text between the stars, which grows as the text's length to the
power of the number of stars. A member who owns a bucket writes the patterns (Resource, StringLike,
ArnLike) and anybody, anonymous included, writes the text (an object key, ``aws:Referer``,
``aws:UserAgent``), so such a matcher is a way to pin a worker at 100% CPU with one GET.

The matcher here is the greedy one with backtrack-to-last-star, done segment by segment: the pattern is
cut at its stars; the first piece must sit at the start of the text, the last at its end, and each piece
in between at its leftmost place after the previous one. Leftmost is always right: a piece has a fixed
length (``?`` is one character), so placing it earlier never leaves less room for the ones after it, and
a piece that is found never has to be moved back — which is why no backtracking beyond the last star is
needed. Cost: at most O(len(text) * len(pattern)) character comparisons, and a piece without ``?`` is
found with ``str.find`` (C, linear in practice).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run of the pattern between stars: its length and its literal chunks (offset, text); the gaps
    between chunks are ``?``."""

    length: int
    chunks: tuple[tuple[int, str], ...]

    @property
    def literal(self) -> bool:
        return len(self.chunks) == 1 and self.chunks[0][0] == 0 and len(self.chunks[0][1]) == self.length

    def at(self, text: str, position: int) -> bool:
        """The piece matches ``text`` starting at ``position`` (which leaves room for it)."""
        return all(text.startswith(chunk, position + offset) for offset, chunk in self.chunks)

    def find(self, text: str, start: int, end: int) -> int:
        """The leftmost place in ``text[start:end]`` where the piece matches, or -1."""
        last = end - self.length
        if last < start:
            return -1
        if not self.chunks:  # only ``?``: any place with room
            return start
        if self.literal:
            return text.find(self.chunks[0][1], start, end)
        offset, anchor = max(self.chunks, key=lambda chunk: len(chunk[1]))
        position = text.find(anchor, start + offset, last + offset + len(anchor))
        while position >= 0:
            if self.at(text, position - offset):
                return position - offset
            position = text.find(anchor, position + 1, last + offset + len(anchor))
        return -1


def _piece(text: str) -> _Piece:
    chunks: list[tuple[int, str]] = []
    start = 0
    for index, char in enumerate(text + "?"):
        if char == "?":
            if index > start:
                chunks.append((start, text[start:index]))
            start = index + 1
    return _Piece(len(text), tuple(chunks))


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> tuple[_Piece, ...]:
    return tuple(_piece(part) for part in pattern.split("*"))


def matches(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` in full (``*``, ``?``; nothing else is special; case counts)."""
    pieces = _compile(pattern)
    first, last = pieces[0], pieces[-1]
    if len(pieces) == 1:
        return len(text) == first.length and first.at(text, 0)
    end = len(text) - last.length
    if first.length > end or not first.at(text, 0) or not last.at(text, end):
        return False
    position = first.length
    for piece in pieces[1:-1]:
        found = piece.find(text, position, end)
        if found < 0:
            return False
        position = found + piece.length
    return True
