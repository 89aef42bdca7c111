"""Findings of the fuzz harnesses, each kept as the smallest example that showed it."""

from __future__ import annotations

import pytest

from satchel.core.errors import InvalidArgument
from satchel.signing.sigv4.verify import STREAMING_SIGNED_TRAILER
from tests.fuzz.harnesses import decode_chunked, encode_chunked


def test_bytes_after_the_trailer_signature_without_a_final_newline_are_refused() -> None:
    """chunked-round-trip: the closing CRLF of a signed-trailer body replaced by "\\r0" decoded anyway
    (finish() took the state after the trailer signature as complete with a partial line pending)."""
    data = b"\x00" * 17
    body = encode_chunked(data, [17], STREAMING_SIGNED_TRAILER, {})
    assert body.endswith(b"\r\n\r\n")
    assert decode_chunked(body, STREAMING_SIGNED_TRAILER, [], len(data))[0] == data
    assert decode_chunked(body[:-2], STREAMING_SIGNED_TRAILER, [], len(data))[0] == data  # closing line left out
    with pytest.raises(InvalidArgument, match="data after the trailer signature"):
        decode_chunked(body[:-1] + b"0", STREAMING_SIGNED_TRAILER, [], len(data))
