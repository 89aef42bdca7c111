"""aws-chunked decoding: the AWS streaming examples, botocore's AwsChunkedWrapper, framing faults.

Vectors: sigv4-streaming.html "Example: PUT Object" (66560 bytes of 'a' in 64 KiB + 1 KiB chunks) and the
matching example of sigv4-streaming-trailers.html (same payload, x-amz-checksum-crc32c trailer).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from collections.abc import Iterable

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from satchel.core.errors import (
    IncompleteBody,
    InvalidArgument,
    MalformedTrailerError,
    SatchelError,
    SignatureDoesNotMatch,
)
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.chunked import AwsChunkedDecoder, ChunkSigner
from satchel.signing.sigv4.verify import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    verify_header_auth,
)
from tests.unit.signing import botocore_oracle as bo

KEY = c.signing_key(bo.SECRET, "20130524", "us-east-1", "s3")
DATE = "20130524T000000Z"
SCOPE = "20130524/us-east-1/s3/aws4_request"
PAYLOAD = b"a" * 66560
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_SIGS = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_SIGS = (
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
)
TRAILER = (
    b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
    b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
)


def signed_body(sigs: tuple[str, str, str], tail: bytes = b"\r\n") -> bytes:
    return (
        f"10000;chunk-signature={sigs[0]}\r\n".encode() + PAYLOAD[:65536] + b"\r\n"
        + f"400;chunk-signature={sigs[1]}\r\n".encode() + PAYLOAD[65536:] + b"\r\n"
        + f"0;chunk-signature={sigs[2]}\r\n".encode() + tail
    )  # fmt: skip


def pieces(data: bytes, size: int) -> Iterable[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def decode(decoder: AwsChunkedDecoder, data: bytes, size: int) -> bytes:
    out = bytearray()
    for piece in pieces(data, size):
        for part in decoder.feed(piece):
            out += part
    decoder.finish()
    return bytes(out)


def doc_decoder(seed: str = DOC_SEED, mode: str = STREAMING_SIGNED, **kwargs: int) -> AwsChunkedDecoder:
    return AwsChunkedDecoder(mode, ChunkSigner(KEY, DATE, SCOPE, seed), **kwargs)


@pytest.mark.parametrize("size", [1, 7, 4096, 65536, 65600, 1 << 20])
def test_aws_doc_signed_example(size: int) -> None:
    decoder = doc_decoder(decoded_length=66560)
    assert decode(decoder, signed_body(DOC_SIGS), size) == PAYLOAD
    assert decoder.decoded_bytes == 66560
    assert decoder.trailers == {}


def test_seed_from_verified_header_feeds_the_decoder() -> None:
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": DATE,
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
        "x-amz-content-sha256": STREAMING_SIGNED,
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={DOC_SEED}",
    }
    result = verify_header_auth(
        method="PUT", raw_path="/examplebucket/chunkObject.txt", query=[], headers=headers, now=1369353600.0,
        region="us-east-1", lookup_secret=lambda _: bo.SECRET,
    )  # fmt: skip
    assert result.streaming
    body = signed_body(DOC_SIGS)
    assert len(body) == 66824
    decoder = AwsChunkedDecoder(result.payload_hash, ChunkSigner.from_result(result), decoded_length=66560)
    assert decode(decoder, body, 8192) == PAYLOAD


@pytest.mark.parametrize("tail", [b"\r\n", b""], ids=["final-crlf", "no-final-crlf"])
@pytest.mark.parametrize("size", [3, 65536, 1 << 20])
def test_aws_doc_trailer_example(tail: bytes, size: int) -> None:
    decoder = doc_decoder(TRAILER_SEED, STREAMING_SIGNED_TRAILER)
    assert decode(decoder, signed_body(TRAILER_SIGS, TRAILER + tail), size) == PAYLOAD
    assert decoder.trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}


def test_trailer_with_blank_line_before_signature_is_tolerated() -> None:
    body = signed_body(TRAILER_SIGS, TRAILER.replace(b"\r\nx-amz-trailer-signature", b"\n\r\nx-amz-trailer-signature"))
    assert decode(doc_decoder(TRAILER_SEED, STREAMING_SIGNED_TRAILER), body, 1000) == PAYLOAD


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (signed_body(TRAILER_SIGS, TRAILER.replace(b"signature:d81", b"signature:d80")), SignatureDoesNotMatch),
        (signed_body(TRAILER_SIGS, TRAILER.replace(b"sOO8", b"sOO9")), SignatureDoesNotMatch),
        (signed_body(TRAILER_SIGS, TRAILER.split(b"x-amz-trailer-signature")[0]), IncompleteBody),
        (signed_body(TRAILER_SIGS, TRAILER + b"more\r\n"), InvalidArgument),
        (signed_body(TRAILER_SIGS, TRAILER + b"\r\nmore"), InvalidArgument),
        (signed_body(TRAILER_SIGS, b"no-colon-here\r\n" + TRAILER), InvalidArgument),
        (signed_body(TRAILER_SIGS, b"x-amz-meta-pad:" + b"p" * 20000 + b"\r\n"), InvalidArgument),
    ],
    ids=[
        "bad-trailer-signature",
        "tampered-checksum",
        "unsigned-trailer",
        "line-after-signature",
        "data-after-end",
        "not-name-value",
        "trailer-too-long",
    ],
)
def test_signed_trailer_faults(body: bytes, error: type[SatchelError]) -> None:
    with pytest.raises(error):
        decode(doc_decoder(TRAILER_SEED, STREAMING_SIGNED_TRAILER), body, 4096)


def test_corrupt_chunk_is_never_released() -> None:
    body = bytearray(signed_body(DOC_SIGS))
    second = body.index(b"400;chunk-signature")
    body[second + 100] ^= 1  # a byte inside the second chunk's data
    decoder = doc_decoder()
    released = 0
    with pytest.raises(SignatureDoesNotMatch):
        for piece in pieces(bytes(body), 1000):
            released += sum(len(p) for p in decoder.feed(piece))
    assert released == 65536  # only the first, verified chunk


@pytest.mark.parametrize("mode", [STREAMING_SIGNED, STREAMING_UNSIGNED_TRAILER])
def test_every_truncation_is_refused(mode: str) -> None:
    data = bytes(range(256)) * 3
    body = encode(data, 100, signed=mode == STREAMING_SIGNED)
    # Cutting only the closing CRLF loses nothing (every chunk is in and verified): accepted.
    whole = doc_decoder(mode=mode) if mode == STREAMING_SIGNED else AwsChunkedDecoder(mode)
    assert decode(whole, body[:-2], 50) == data
    for cut in range(len(body) - 2):
        decoder = doc_decoder(mode=mode) if mode == STREAMING_SIGNED else AwsChunkedDecoder(mode)
        released = bytearray()
        with pytest.raises((IncompleteBody, InvalidArgument)):
            for part in decoder.feed(body[:cut]):
                released += part
            decoder.finish()
        assert data.startswith(released)


@pytest.mark.parametrize("chunk_size", [1, 100, 8192, 1 << 20])
def test_botocore_unsigned_trailer_bodies(chunk_size: int) -> None:
    data = bytes(range(256)) * (8 if chunk_size == 1 else 700)  # botocore's read() is quadratic in chunks
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=chunk_size
    )
    body = wrapper.read()
    decoder = AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER, decoded_length=len(data))
    assert decode(decoder, body, 65536) == data
    expected = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert decoder.trailers == {"x-amz-checksum-crc32": expected}


def test_botocore_unsigned_body_without_checksum() -> None:
    body = AwsChunkedWrapper(io.BytesIO(b"hello world"), chunk_size=4).read()
    assert body.endswith(b"0\r\n\r\n")
    decoder = AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER)
    assert decode(decoder, body, 5) == b"hello world"
    assert decoder.trailers == {}


def encode(data: bytes, chunk_size: int, *, signed: bool, seed: str = DOC_SEED) -> bytes:
    """Our own encoder, to round-trip arbitrary payloads and chunk sizes."""
    out = bytearray()
    previous = seed
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for chunk in chunks:
        if signed:
            sts = c.chunk_string_to_sign(DATE, SCOPE, previous, hashlib.sha256(chunk).hexdigest())
            previous = c.sign(KEY, sts)
            out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode()
        else:
            out += f"{len(chunk):x}\r\n".encode()
        out += chunk + b"\r\n" if chunk else b""
    return bytes(out + b"\r\n")


@pytest.mark.parametrize("chunk_size", [1, 10, 4096, 70000])
def test_round_trip_signed(chunk_size: int) -> None:
    data = hashlib.sha256(b"seed").digest() * (100 if chunk_size == 1 else 5000)
    decoder = doc_decoder(decoded_length=len(data))
    assert decode(decoder, encode(data, chunk_size, signed=True), 9000) == data


MALFORMED = [
    ("bad-hex", b"1g;chunk-signature=" + b"0" * 64 + b"\r\n", InvalidArgument),
    ("no-signature", b"10\r\n", InvalidArgument),
    ("short-signature", b"10;chunk-signature=abc\r\n", InvalidArgument),
    ("huge-size", b"fffffffffffffffff;chunk-signature=" + b"0" * 64 + b"\r\n", InvalidArgument),
    ("line-too-long", b"1" * 5000, InvalidArgument),
    ("too-big-for-limit", b"1001;chunk-signature=" + b"0" * 64 + b"\r\n", InvalidArgument),
]


@pytest.mark.parametrize(("name", "body", "error"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_signed_framing(name: str, body: bytes, error: type[SatchelError]) -> None:
    decoder = doc_decoder(max_chunk_size=4096)
    with pytest.raises(error):
        decoder.feed(body)
        decoder.finish()


def test_missing_crlf_after_chunk_data() -> None:
    body = encode(b"x" * 10, 10, signed=False).replace(b"xxxxxxxxxx\r\n", b"xxxxxxxxxxZZ\r\n")
    with pytest.raises(InvalidArgument):
        decode(AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER), body, 4)


def test_trailers_are_refused_in_plain_signed_mode() -> None:
    body = signed_body(DOC_SIGS, b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n")
    with pytest.raises(InvalidArgument):
        decode(doc_decoder(), body, 70000)


def test_data_after_the_end_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        decode(AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER), b"0\r\n\r\nextra", 100)


def test_decoded_length_is_enforced() -> None:
    body = encode(b"abc", 2, signed=False)
    with pytest.raises(InvalidArgument):
        decode(AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER, decoded_length=2), body, 100)
    with pytest.raises(IncompleteBody):
        decode(AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER, decoded_length=4), body, 100)


def test_unknown_mode_and_missing_signer_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="mode"):
        AwsChunkedDecoder("UNSIGNED-PAYLOAD")
    with pytest.raises(ValueError, match="ChunkSigner"):
        AwsChunkedDecoder(STREAMING_SIGNED)


def test_memoryview_and_bytearray_input_and_done_flag() -> None:
    body = encode(b"payload", 3, signed=True)
    decoder = doc_decoder()
    out = bytearray()
    for part in decoder.feed(memoryview(body)[:10]):
        out += part
    assert not decoder.done
    for part in decoder.feed(bytearray(body[10:])):
        out += part
    assert decoder.done  # the closing CRLF arrived
    decoder.finish()
    assert decoder.done
    assert out == b"payload"


@pytest.mark.parametrize("second", ["x-amz-checksum-crc32", "X-Amz-Checksum-CRC32"])
def test_a_trailer_sent_twice_is_malformed(second: str) -> None:
    """Which of two values was meant is not ours to guess (hostile review C: the last one won)."""
    body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n" + second.encode() + b":NSRBwg==\r\n\r\n"
    with pytest.raises(MalformedTrailerError):
        decode(AwsChunkedDecoder(STREAMING_UNSIGNED_TRAILER), body, 5)
