"""Incremental decoder for ``Content-Encoding: aws-chunked`` request bodies.

Feed it the body as it streams in; it hands back payload pieces and never releases a byte that has not
been verified (sigv4-streaming.html, sigv4-streaming-trailers.html)::

    result = verify_header_auth(...)                     # payload_hash is the streaming mode
    decoder = AwsChunkedDecoder(result.payload_hash, ChunkSigner.from_result(result),
                                decoded_length=int(headers["x-amz-decoded-content-length"]))
    async for data in body:
        for piece in decoder.feed(data):
            writer.write(piece)
    decoder.finish()                                     # IncompleteBody if the stream was cut
    decoder.trailers                                     # {"x-amz-checksum-crc32": "..."}

Wire formats (``x-amz-content-sha256`` value → framing):

* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``: ``<hex-len>;chunk-signature=<sig>\\r\\n<data>\\r\\n`` …
  ``0;chunk-signature=<sig>\\r\\n\\r\\n``. Each signature chains from the previous one, seeded with the
  Authorization header's signature.
* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``: the same chunks, then ``name:value\\r\\n`` trailer lines
  and ``x-amz-trailer-signature:<sig>\\r\\n`` (signed over ``name:value\\n`` lines).
* ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (boto3's default over HTTPS, botocore ``AwsChunkedWrapper``):
  ``<hex-len>\\r\\n<data>\\r\\n`` … ``0\\r\\n`` + trailer lines + ``\\r\\n``.

Limits: a signed chunk is buffered whole until its signature checks out, so signed chunks above
``max_chunk_size`` (default 16 MiB; SDKs use 64 KiB to 8 MiB) are refused with InvalidArgument. Unsigned
chunks stream through and have no size limit. Chunk header lines are capped at 4 KiB and the trailer
section at 16 KiB. Truncation raises IncompleteBody, bad framing InvalidArgument, a bad chunk or trailer
signature SignatureDoesNotMatch. Checking trailer *values* (the checksums) is the caller's job.

Pieces are ``memoryview`` slices of the fed ``bytes`` where possible (zero copy), so feed immutable
``bytes``. A signed chunk split across feeds is copied once into a buffer of its exact size.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field

from satchel.core.errors import IncompleteBody, InvalidArgument, MalformedTrailerError, SignatureDoesNotMatch
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.verify import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    SigV4Result,
)

MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_LINE = 4096
MAX_TRAILER_BYTES = 16 * 1024
TRAILER_SIGNATURE = "x-amz-trailer-signature"
_CHUNK_SIGNATURE = b"chunk-signature="
_HEX = frozenset(b"0123456789abcdefABCDEF")
_MODES = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER})


@dataclass(frozen=True, slots=True)
class ChunkSigner:
    """What chunk signatures chain from: the verified header signature and its signing key."""

    signing_key: bytes = field(repr=False)
    amz_date: str
    scope: str
    seed_signature: str

    @classmethod
    def from_result(cls, result: SigV4Result) -> ChunkSigner:
        return cls(result.signing_key, result.amz_date, result.scope, result.signature)


class _State(enum.Enum):
    HEADER = enum.auto()
    DATA = enum.auto()
    DATA_END = enum.auto()
    TRAILER = enum.auto()
    TRAILER_SIGNED = enum.auto()
    DONE = enum.auto()


def _malformed(detail: str) -> InvalidArgument:
    return InvalidArgument(f"Malformed aws-chunked encoding: {detail}.")


def _parse_hex(text: bytes) -> int:
    if not text or len(text) > 16 or not _HEX.issuperset(text):
        raise _malformed("invalid chunk size")
    return int(text, 16)


class AwsChunkedDecoder:
    """Pure state machine: bytes in, verified payload pieces out. Not thread-safe; one per request."""

    def __init__(
        self,
        mode: str,
        signer: ChunkSigner | None = None,
        *,
        max_chunk_size: int = MAX_CHUNK_SIZE,
        decoded_length: int | None = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"not an aws-chunked mode: {mode!r}")
        self._mode = mode
        self._signed = mode != STREAMING_UNSIGNED_TRAILER
        if self._signed and signer is None:
            raise ValueError("signed aws-chunked bodies need the request's ChunkSigner")
        self._signer = signer
        self._previous = signer.seed_signature if signer else ""
        self._max_chunk = max_chunk_size
        self._expected_length = decoded_length
        self._state = _State.HEADER
        self._line = bytearray()
        self._remaining = 0
        self._chunk_size = 0
        self._chunk_signature = b""
        self._pending: bytearray | None = None
        self._filled = 0
        self._trailer_size = 0
        self._trailer_lines: list[str] = []
        self.trailers: dict[str, str] = {}
        self.decoded_bytes = 0

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    # --- input ------------------------------------------------------------------------------------
    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | memoryview]:
        """Consume the next body bytes; return the payload pieces they complete (maybe none)."""
        if isinstance(data, memoryview):
            data = data.tobytes()
        out: list[bytes | memoryview] = []
        view = memoryview(data)
        size = len(data)
        i = 0
        while i < size:
            state = self._state
            if state is _State.DATA:
                i = self._take_data(view, i, out)
                continue
            if state is _State.DONE:
                raise _malformed("data after the final chunk")
            end = data.find(b"\n", i)
            if end < 0:
                self._buffer_line(view[i:])
                break
            if self._line:
                self._buffer_line(view[i:end])
                line = bytes(self._line)
                self._line.clear()
            else:
                line = bytes(view[i:end])
                self._check_line_length(len(line))
            i = end + 1
            self._on_line(line.rstrip(b"\r"))
        return out

    def finish(self) -> None:
        """Call at end of body: raises IncompleteBody unless the final chunk (and trailer) arrived."""
        state = self._state
        complete = state in (_State.DONE, _State.TRAILER_SIGNED) or (
            state is _State.TRAILER and not self._line and self._mode != STREAMING_SIGNED_TRAILER
        )
        if not complete:
            raise IncompleteBody()
        if state is _State.TRAILER_SIGNED and self._line.rstrip(b"\r"):
            # The closing blank line may be left out, but nothing else may follow the trailer signature:
            # bytes after it, without a final newline, are no part of a body the signature covers.
            raise _malformed("data after the trailer signature")
        if self._expected_length is not None and self.decoded_bytes != self._expected_length:
            raise IncompleteBody()
        self._state = _State.DONE

    # --- framing ----------------------------------------------------------------------------------
    def _check_line_length(self, length: int) -> None:
        if self._state in (_State.TRAILER, _State.TRAILER_SIGNED):
            if self._trailer_size + length > MAX_TRAILER_BYTES:
                raise _malformed("trailer section too long")
        elif length > MAX_LINE:
            raise _malformed("chunk header line too long")

    def _buffer_line(self, piece: memoryview) -> None:
        self._check_line_length(len(self._line) + len(piece))
        self._line += piece

    def _on_line(self, line: bytes) -> None:
        state = self._state
        if state is _State.HEADER:
            self._on_chunk_header(line)
        elif state is _State.DATA_END:
            if line:
                raise _malformed("chunk data not followed by CRLF")
            self._state = _State.HEADER
        elif state is _State.TRAILER:
            self._on_trailer(line)
        elif line:  # TRAILER_SIGNED: only the closing blank line may follow the trailer signature
            raise _malformed("data after the trailer signature")
        else:
            self._state = _State.DONE

    def _on_chunk_header(self, line: bytes) -> None:
        size_text, _, extension = line.partition(b";")
        size = _parse_hex(size_text)
        if self._signed:
            if not extension.startswith(_CHUNK_SIGNATURE):
                raise _malformed("chunk-signature missing")
            signature = extension[len(_CHUNK_SIGNATURE) :]
            if len(signature) != 64 or not _HEX.issuperset(signature):
                raise _malformed("chunk-signature is not 64 hex digits")
            if size > self._max_chunk:
                raise InvalidArgument(
                    f"Chunk size {size} exceeds the maximum of {self._max_chunk} bytes for signed chunks."
                )
            self._chunk_signature = signature
        self._chunk_size = self._remaining = size
        if size:
            self._state = _State.DATA
            return
        if self._signed:
            self._verify_chunk(b"")
        self._state = _State.TRAILER

    def _take_data(self, view: memoryview, i: int, out: list[bytes | memoryview]) -> int:
        take = min(self._remaining, len(view) - i)
        piece = view[i : i + take]
        self._remaining -= take
        if not self._signed:
            self._release(piece, out)
        else:
            chunk: memoryview | None = None
            if self._pending is None and self._remaining == 0:
                chunk = piece  # the whole chunk arrived in one feed: verify it in place
            else:
                if self._pending is None:
                    self._pending = bytearray(self._chunk_size)
                    self._filled = 0
                self._pending[self._filled : self._filled + take] = piece
                self._filled += take
                if self._remaining == 0:
                    chunk = memoryview(self._pending)
                    self._pending = None
            if chunk is not None:
                self._verify_chunk(chunk)
                self._release(chunk, out)
        if self._remaining == 0:
            self._state = _State.DATA_END
        return i + take

    def _release(self, piece: memoryview, out: list[bytes | memoryview]) -> None:
        self.decoded_bytes += len(piece)
        if self._expected_length is not None and self.decoded_bytes > self._expected_length:
            raise _malformed("more data than x-amz-decoded-content-length")
        out.append(piece)

    # --- signatures -------------------------------------------------------------------------------
    def _expect(self, expected: str, provided: bytes) -> None:
        # Constant time, as for every signature; then chain: the next chunk signs over this one.
        if not hmac.compare_digest(expected.encode("ascii"), provided):
            raise SignatureDoesNotMatch(SignatureProvided=provided.decode("ascii", "replace"))
        self._previous = expected

    def _verify_chunk(self, chunk: bytes | memoryview) -> None:
        signer = self._signer
        assert signer is not None  # guaranteed for signed modes by __init__
        digest = hashlib.sha256(chunk).hexdigest()
        sts = c.chunk_string_to_sign(signer.amz_date, signer.scope, self._previous, digest)
        self._expect(c.sign(signer.signing_key, sts), self._chunk_signature)

    def _on_trailer(self, line: bytes) -> None:
        if not line:
            # Some clients put a blank line between the checksum and its signature; tolerate that.
            if self._mode != STREAMING_SIGNED_TRAILER:
                self._state = _State.DONE
            return
        self._trailer_size += len(line)
        name_bytes, sep, value_bytes = line.partition(b":")
        name = name_bytes.strip().lower().decode("latin-1")
        value = value_bytes.strip().decode("latin-1")
        if not sep or not name:
            raise _malformed("trailer line is not name:value")
        if self._mode == STREAMING_SIGNED:
            raise _malformed("trailers are not allowed in STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        if self._mode == STREAMING_SIGNED_TRAILER and name == TRAILER_SIGNATURE:
            signer = self._signer
            assert signer is not None
            digest = c.sha256_hex("".join(self._trailer_lines))
            sts = c.trailer_string_to_sign(signer.amz_date, signer.scope, self._previous, digest)
            self._expect(c.sign(signer.signing_key, sts), value.encode("latin-1"))
            self._state = _State.TRAILER_SIGNED
            return
        if name in self.trailers:  # which of two values was meant is not ours to guess
            raise MalformedTrailerError()
        self.trailers[name] = value
        self._trailer_lines.append(f"{name}:{value}\n")
