"""The FormPost form reader: parts in order, files streamed, every client-chosen size bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from satchel.signing.formpost import MAX_PART_HEADER_BYTES, FormInvalid
from satchel.swift.formreader import FormReader, boundary_of

BOUNDARY = "----WebKitFormBoundaryNcxTqxSlX7t4TDkR"


def _form(*parts: tuple[str, bytes]) -> bytes:
    body = b""
    for disposition, data in parts:
        body += f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


async def _chunks(body: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _read(body: bytes, limit: int = 4096) -> list[tuple[str | None, str | None, bytes]]:
    async def run() -> list[tuple[str | None, str | None, bytes]]:
        reader = FormReader(BOUNDARY, _chunks(body))
        out: list[tuple[str | None, str | None, bytes]] = []
        while (part := await reader.next_part()) is not None:
            if part.filename is None:
                out.append((part.name, None, await reader.value(limit)))
            else:
                out.append((part.name, part.filename, b"".join([c async for c in reader.data()])))
        return out
    return asyncio.run(run())


def test_parts_in_order_with_files_streamed() -> None:
    body = _form(('name="max_file_size"', b"1024"), ('name="file1"; filename="a.txt"', b"Test File\nOne\n"),
                 ('name="file2"; filename=""', b""), ('name="file3"; filename="b.bin"', bytes(range(256)) * 3),
                 ("name=\"file4\"; filename*=UTF-8''c.txt", b"z"))
    # An empty filename (Swift) and an RFC 2231 one (no browser sends it) make an attribute, not a file.
    assert _read(body) == [("max_file_size", None, b"1024"), ("file1", "a.txt", b"Test File\nOne\n"),
                           ("file2", None, b""), ("file3", "b.bin", bytes(range(256)) * 3), ("file4", None, b"z")]


def test_attribute_too_long() -> None:
    with pytest.raises(FormInvalid, match="longer than 10 bytes"):
        _read(_form(('name="redirect"', b"x" * 11)), limit=10)


def test_part_headers_bounded() -> None:
    # Three header lines, each under python-multipart's own line limit, together over ours.
    extra = "".join(f"\r\nX-Pad-{i}: " + "p" * (MAX_PART_HEADER_BYTES // 3) for i in range(3))
    with pytest.raises(FormInvalid, match="headers too large"):
        _read(_form((f'name="a"{extra}', b"x")))
    with pytest.raises(FormInvalid):  # one line over python-multipart's limit
        _read(_form((f'name="{"n" * MAX_PART_HEADER_BYTES}"', b"x")))


@pytest.mark.parametrize("body", [b"not a form at all", _form(('name="a"', b"1"))[:-20]])
def test_malformed_or_truncated(body: bytes) -> None:
    with pytest.raises(FormInvalid):
        _read(body)


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "multipart/form-data; boundary=",
                                          "multipart/form-data; boundary=" + "b" * 201])
def test_boundary_refused(content_type: str) -> None:
    with pytest.raises(FormInvalid, match="boundary"):
        boundary_of(content_type)


def test_boundary() -> None:
    assert boundary_of(f"multipart/form-data; boundary={BOUNDARY}") == BOUNDARY
