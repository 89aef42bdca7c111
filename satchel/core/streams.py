"""Closing a byte stream that may hold resources.

An object's body is an async generator holding open blob files (``core/objects.read_range`` opens
every segment before the first byte). A stream that will not be read to its end — a response dropped
unsent, a client that left, a refusal after the object was opened — must be closed at once, not left
to the garbage collector, or its descriptors stay open. Bodies that are plain ``bytes`` or iterators
without ``aclose`` hold nothing.
"""

from __future__ import annotations


async def close_stream(stream: object) -> None:
    """``await stream.aclose()`` when the stream has it; nothing otherwise."""
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()
