"""Request bodies as the core wants them: decoded payload bytes plus what the client promised.

Handles every payload mode real clients send: plain bodies (with Content-Length or HTTP chunked),
``x-amz-content-sha256`` hex hashes, ``UNSIGNED-PAYLOAD``, and aws-chunked bodies (signed chunks,
signed or unsigned trailers) whose framing is removed — and every signature verified — while the
bytes stream through. HTTP chunked transfer encoding itself is removed by the HTTP server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from satchel.core.errors import InvalidArgument, InvalidRequest, MalformedXML, MissingContentLength
from satchel.core.receive import (
    MULTIPLE_CHECKSUMS,
    Expectations,
    checksum_algorithm,
    checksum_headers,
    decode_content_md5,
    new_hasher,
    verify_digests,
)
from satchel.core.text import decimal
from satchel.s3.context import S3Context
from satchel.signing.sigv4.chunked import AwsChunkedDecoder

STREAMING_MODES = frozenset(
    {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
)


def _int_header(headers: dict[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    number = decimal(raw.strip())
    if number is None:
        raise InvalidArgument(f"Invalid {name} header.", ArgumentName=name, ArgumentValue=raw)
    return number


def request_body(ctx: S3Context, *, header_checksums: bool = True) -> tuple[AsyncIterator[bytes], Expectations]:
    """The decoded body stream and the expectations to verify once it has been read.

    ``header_checksums=False``: the ``x-amz-checksum-*`` headers describe something else than the body
    (CompleteMultipartUpload's are the object's), and the caller checks them.
    """
    request = ctx.request
    headers = request.headers
    auth = ctx.auth
    mode = auth.payload_mode
    content_length = _int_header(headers, "content-length")
    chunked_transfer = "chunked" in headers.get("transfer-encoding", "").lower()
    expect = Expectations(content_md5=headers.get("content-md5"),
                          checksums=checksum_headers(headers) if header_checksums else {})
    if header_checksums and headers.get("x-amz-checksum-type", "FULL_OBJECT").strip().upper() != "FULL_OBJECT":
        # One body has one checksum, of all of it: COMPOSITE is a multipart upload's.
        raise InvalidRequest("The COMPOSITE checksum type applies to multipart uploads only.")
    sdk_algorithm = headers.get("x-amz-sdk-checksum-algorithm")
    if sdk_algorithm:
        expect.compute = (checksum_algorithm(sdk_algorithm),)
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    if trailer:
        # Declared, so it must arrive (only aws-chunked bodies carry one we read: anything else is
        # MalformedTrailerError once the body is in), and be the request's only checksum.
        if not trailer.startswith("x-amz-checksum-"):
            raise InvalidRequest(f"Unsupported trailer: {trailer}")
        if expect.checksums:
            raise InvalidRequest(MULTIPLE_CHECKSUMS)
        expect.trailer = checksum_algorithm(trailer.removeprefix("x-amz-checksum-"))
        expect.compute = (*expect.compute, expect.trailer)
    if mode in STREAMING_MODES:
        decoded = _int_header(headers, "x-amz-decoded-content-length")
        if decoded is None and not chunked_transfer:
            raise MissingContentLength()
        assert mode is not None
        decoder = AwsChunkedDecoder(mode, auth.streaming, decoded_length=decoded)
        expect.size = decoded
        expect.late_checksums = lambda: decoder.trailers
        return _decode(request.body_chunks(), decoder), expect
    if _aws_chunked(headers):
        # Framing that no streaming x-amz-content-sha256 announced: storing it as the body would keep
        # the chunk sizes and trailers as the object's bytes.
        raise InvalidArgument("Content-Encoding aws-chunked requires a STREAMING x-amz-content-sha256.",
                              ArgumentName="x-amz-content-sha256", ArgumentValue=mode or "")
    if content_length is None and not chunked_transfer:
        raise MissingContentLength()
    expect.size = content_length
    if mode is not None and mode != "UNSIGNED-PAYLOAD":
        expect.sha256_hex = mode
    return request.body_chunks(), expect


def _aws_chunked(headers: dict[str, str]) -> bool:
    return any(c.strip().lower() == "aws-chunked" for c in headers.get("content-encoding", "").split(","))


async def _decode(chunks: AsyncIterator[bytes], decoder: AwsChunkedDecoder) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        for piece in decoder.feed(chunk):
            yield bytes(piece)
    decoder.finish()


async def read_document(ctx: S3Context, limit: int = 256 * 1024, *, require_integrity: bool = False,
                        header_checksums: bool = True) -> bytes:
    """A small XML body, read whole and checked against Content-MD5 / checksums / the signed hash.

    ``require_integrity`` is S3's rule for DeleteObjects: some integrity header must be present.
    """
    stream, expect = request_body(ctx, header_checksums=header_checksums)
    parts: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise MalformedXML("The XML you provided was larger than the maximum allowed size.")
        parts.append(chunk)
    body = b"".join(parts)
    _verify_document(body, expect, require_integrity)
    return body


def _verify_document(body: bytes, expect: Expectations, require_integrity: bool) -> None:
    md5 = decode_content_md5(expect.content_md5) if expect.content_md5 is not None else None
    hasher = new_hasher(expect)
    hasher.update(body)
    verify_digests(hasher, expect, md5)
    if require_integrity and md5 is None and not expect.checksums and not expect.compute \
            and expect.sha256_hex is None:
        raise InvalidRequest("Missing required header for this request: Content-MD5")
