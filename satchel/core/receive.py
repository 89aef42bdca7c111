"""Streaming a request body into a new blob, verifying every digest the client promised.

Shared by PutObject, UploadPart, UploadPartCopy and POST uploads. The body is consumed once, hashed and
written as it arrives (see ``blobs/``); the blob is published only after every check passed, and
removed again when a check fails, so a bad or interrupted upload never becomes visible.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hmac
import time
from collections.abc import AsyncIterable, Callable, Iterator, Mapping
from dataclasses import dataclass, field

from satchel.blobs.digests import CHECKSUM_ALGORITHMS, CHECKSUM_SIZES, UNSUPPORTED_CHECKSUMS, Hasher
from satchel.core import sse
from satchel.core.errors import (
    BadDigest,
    EntityTooLarge,
    EntityTooSmall,
    IncompleteBody,
    InsufficientStorage,
    InvalidDigest,
    InvalidRequest,
    MalformedTrailerError,
    RequestTimeout,
    XAmzContentSHA256Mismatch,
)
from satchel.core.node import Node

MULTIPLE_CHECKSUMS = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."


@dataclass
class Expectations:
    """What the client promised about the body, checked once it has been received in full."""

    #: Bytes the client announced (Content-Length or x-amz-decoded-content-length); None if unknown.
    size: int | None = None
    #: Base64 Content-MD5 header.
    content_md5: str | None = None
    #: Hex SHA-256 of a signed payload (x-amz-content-sha256 with a hash value).
    sha256_hex: str | None = None
    #: Algorithms whose value the client sent up front (x-amz-checksum-<alg> headers).
    checksums: dict[str, str] = field(default_factory=dict)
    #: Algorithms to compute even without a value to check (x-amz-sdk-checksum-algorithm, trailers,
    #: the upload's checksum algorithm).
    compute: tuple[str, ...] = ()
    #: Values that arrive after the body (aws-chunked trailers), read once the body is exhausted.
    late_checksums: Callable[[], Mapping[str, str]] | None = None
    #: The algorithm ``x-amz-trailer`` declared: exactly that trailer must arrive (AWS's rule), no other.
    trailer: str | None = None
    #: Inclusive bounds from a POST policy's content-length-range.
    min_size: int = 0
    max_size: int | None = None


@dataclass(frozen=True, slots=True)
class Received:
    blob_id: str
    size: int
    md5_hex: str
    md5: bytes
    checksums: dict[str, str]


def checksum_algorithm(name: str) -> str:
    """Normalise an algorithm name from a header (``CRC32``, ``crc32c`` ...) or refuse it."""
    algorithm = name.strip().lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidRequest(f"Value for x-amz-checksum-algorithm header is invalid: {name}")
    return algorithm


#: The ``x-amz-checksum-*`` names S3 defines that carry no value: the algorithm (CreateMultipartUpload,
#: CopyObject, POST forms), the type (multipart) and the mode (GetObject).
_CHECKSUM_SETTINGS = frozenset({"x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-checksum-mode"})
_CHECKSUM_TYPES = frozenset({"COMPOSITE", "FULL_OBJECT"})


def checksum_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``x-amz-checksum-<alg>`` values a request carries, validated in shape.

    A ``x-amz-checksum-*`` name S3 does not define, or an ``x-amz-checksum-type`` that is neither
    COMPOSITE nor FULL_OBJECT, is InvalidRequest: a check the client asked for is made or refused.
    """
    for name in headers:
        if name.startswith("x-amz-checksum-") and name not in _CHECKSUM_SETTINGS \
                and name.removeprefix("x-amz-checksum-") not in (*CHECKSUM_ALGORITHMS, *UNSUPPORTED_CHECKSUMS):
            raise InvalidRequest(f"The {name} header is not a checksum S3 defines.")
    checksum_type = headers.get("x-amz-checksum-type")
    if checksum_type is not None and checksum_type.strip().upper() not in _CHECKSUM_TYPES:
        raise InvalidRequest("Value for x-amz-checksum-type header is invalid.")
    found: dict[str, str] = {}
    for algorithm in UNSUPPORTED_CHECKSUMS:
        if "x-amz-checksum-" + algorithm in headers:
            raise InvalidRequest(f"The x-amz-checksum-{algorithm} checksum is not supported by this server.")
    for algorithm in CHECKSUM_ALGORITHMS:
        value = headers.get("x-amz-checksum-" + algorithm)
        if value is None:
            continue
        if not valid_checksum(algorithm, value):
            raise InvalidRequest(f"Value for x-amz-checksum-{algorithm} header is invalid.")
        found[algorithm] = value
    if len(found) > 1:
        raise InvalidRequest(MULTIPLE_CHECKSUMS)
    return found


def valid_checksum(algorithm: str, value: str) -> bool:
    """Whether ``value`` is base64 of a digest of ``algorithm``'s size."""
    try:
        return len(base64.b64decode(value, validate=True)) == CHECKSUM_SIZES[algorithm]
    except (binascii.Error, ValueError):
        return False


def decode_content_md5(value: str) -> bytes:
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidDigest(Content__MD5=value) from None
    if len(digest) != 16:
        raise InvalidDigest(Content__MD5=value)
    return digest


async def receive(node: Node, body: AsyncIterable[bytes], expect: Expectations,
                  plan: sse.Plan | None = None) -> Received:
    """Stream ``body`` into a new committed blob; raise (leaving nothing behind) on any mismatch.
    ``plan``: the object's encryption at rest (``core/sse.py``), None to store the bytes as sent."""
    md5_expected = decode_content_md5(expect.content_md5) if expect.content_md5 is not None else None
    limit = node.settings.max_put_size if expect.max_size is None else min(expect.max_size, node.settings.max_put_size)
    if expect.size is not None and expect.size > limit:
        raise EntityTooLarge(ProposedSize=str(expect.size), MaxSizeAllowed=str(limit))
    hasher = new_hasher(expect)
    size = 0
    deadline = _deadline(node)
    with no_space_is_insufficient_storage():
        writer = sse.writer(node.blobs, hasher, plan)
        async with writer:
            async for chunk in body:
                if time.monotonic() > deadline:
                    raise RequestTimeout(f"The upload took longer than the {node.settings.max_upload_seconds:g} "
                                         "seconds this server allows one upload's body.")
                size += len(chunk)
                if size > limit:
                    raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(limit))
                if expect.size is not None and size > expect.size:
                    raise IncompleteBody("The request body is longer than the Content-Length you specified.")
                await writer.write(chunk)
            if expect.size is not None and size < expect.size:
                raise IncompleteBody(NumberBytesExpected=str(expect.size), NumberBytesProvided=str(size))
            if size < expect.min_size:
                raise EntityTooSmall(ProposedSize=str(size), MinSizeAllowed=str(expect.min_size))
            await writer.commit()
    try:
        checksums = verify_digests(hasher, expect, md5_expected)
    except BaseException:
        await node.blobs.delete([writer.blob_id])
        raise
    return Received(writer.blob_id, size, hasher.md5_hex(), hasher.md5(), checksums)


def _deadline(node: Node) -> float:
    """When an upload's body must have arrived (monotonic): ``max_upload_seconds`` from now. Checked as
    each piece arrives; a body that stops coming is cut by the server's ``body_timeout`` meanwhile, so no
    upload lasts beyond both together."""
    seconds = node.settings.max_upload_seconds
    return time.monotonic() + seconds if seconds > 0 else float("inf")


#: errno values that mean "no room": the device is full, or the owner's quota on it is.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def no_space_is_insufficient_storage() -> Iterator[None]:
    """A blob that does not fit is the client's clear 507, not a 500: the writer has already removed
    its partial file, so nothing is left behind and the next write succeeds once there is room."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise InsufficientStorage() from exc
        raise


def new_hasher(expect: Expectations) -> Hasher:
    """A hasher computing everything ``expect`` will need checked or stored."""
    algorithms = tuple(dict.fromkeys((*expect.checksums, *expect.compute)))
    return Hasher(sha256=expect.sha256_hex is not None, checksums=algorithms)


def verify_digests(hasher: Hasher, expect: Expectations, md5_expected: bytes | None) -> dict[str, str]:
    """Check every promised digest against what was computed; returns the checksums to store."""
    if md5_expected is not None and not hmac.compare_digest(md5_expected, hasher.md5()):
        raise BadDigest(
            ExpectedDigest=binascii.hexlify(md5_expected).decode(),
            CalculatedDigest=base64.b64encode(hasher.md5()).decode(),
        )
    if expect.sha256_hex is not None:
        computed = hasher.sha256_hex()
        if not hmac.compare_digest(computed, expect.sha256_hex.lower()):
            raise XAmzContentSHA256Mismatch(
                ClientComputedContentSHA256=expect.sha256_hex, S3ComputedContentSHA256=computed
            )
    claimed = dict(expect.checksums)
    claimed.update(_trailer_checksums(expect))
    computed_all = hasher.checksums()
    for algorithm, value in claimed.items():
        if algorithm not in computed_all:
            raise InvalidRequest(f"The {algorithm.upper()} checksum was announced too late to verify.")
        if not hmac.compare_digest(computed_all[algorithm], value):
            raise BadDigest(f"The {algorithm.upper()} you specified did not match the calculated checksum.")
    return computed_all


def _trailer_checksums(expect: Expectations) -> dict[str, str]:
    """The checksum trailer, which must be exactly the one ``x-amz-trailer`` declared (a declared
    trailer that never came, or one that was not declared, is AWS's MalformedTrailerError)."""
    trailers = dict(expect.late_checksums()) if expect.late_checksums is not None else {}
    names = {name.lower() for name in trailers}
    declared = {f"x-amz-checksum-{expect.trailer}"} if expect.trailer else set()
    if names != declared:
        raise MalformedTrailerError()
    found: dict[str, str] = {}
    for name, value in trailers.items():
        algorithm = name.lower().removeprefix("x-amz-checksum-")
        if not valid_checksum(algorithm, value):
            raise InvalidRequest(f"Value for {name} trailing header is invalid.")
        found[algorithm] = value
    return found
