"""Streaming reader of a FormPost form (``multipart/form-data`` with any number of files).

Parts come one after the other: an attribute's value is read into memory (bounded), a file's bytes are
handed out as they arrive and never buffered, so a form of many large files costs one chunk of memory.
Every size a client chooses is bounded (``signing/formpost.py``): part headers, attribute values, the
number of attributes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import Message

from python_multipart.multipart import MultipartParser

from satchel.signing.formpost import MAX_PART_HEADER_BYTES, FormCutOff, FormInvalid

_Event = tuple[str, bytes]


def boundary_of(content_type: str) -> str:
    """The boundary of a ``multipart/form-data`` Content-Type; FormInvalid without one."""
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if message.get_content_type() != "multipart/form-data" or not isinstance(boundary, str) or not boundary \
            or len(boundary) > 200:
        raise FormInvalid("invalid starting boundary")
    return boundary


@dataclass(slots=True)
class FormPart:
    headers: dict[str, str] = field(default_factory=dict)
    #: The Content-Disposition (the file's name) was not UTF-8.
    not_utf8: bool = False

    def _disposition(self, name: str) -> str | None:
        message = Message()
        message["content-disposition"] = self.headers.get("content-disposition", "")
        value = message.get_param(name, header="content-disposition")
        if value is None or isinstance(value, str):
            return value
        return None  # RFC 2231 forms are not what browsers send for FormPost

    @property
    def name(self) -> str | None:
        return self._disposition("name")

    @property
    def filename(self) -> str | None:
        """The file's name; None (an attribute) when absent or empty, as Swift decides."""
        return self._disposition("filename") or None


class FormReader:
    def __init__(self, boundary: str, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._events: deque[_Event] = deque()
        self._field = b""
        self._value = b""
        self._header_bytes = 0
        self._in_part = False
        self._ended = False
        self._parser = MultipartParser(boundary.encode("latin-1"), {
            "on_part_begin": lambda: self._events.append(("begin", b"")),
            "on_header_field": self._on_field,
            "on_header_value": self._on_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": lambda: self._events.append(("headers", b"")),
            "on_part_data": lambda data, start, end: self._events.append(("data", data[start:end])),
            "on_part_end": lambda: self._events.append(("end", b"")),
            "on_end": lambda: self._events.append(("done", b"")),
        })

    def _on_field(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._field += data[start:end]

    def _on_value(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._value += data[start:end]

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise FormInvalid("form part headers too large")

    def _on_header_end(self) -> None:
        self._events.append(("header", self._field + b"\0" + self._value))
        self._field = self._value = b""

    async def _next(self) -> _Event:
        while not self._events:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                raise FormCutOff("the form ended early")
            try:
                self._parser.write(chunk)
            except FormInvalid:
                raise
            except Exception:
                raise FormInvalid("invalid starting boundary") from None
        return self._events.popleft()

    async def next_part(self) -> FormPart | None:
        """The next part's headers (the rest of the current part is skipped); None at the form's end."""
        part: FormPart | None = None
        while not self._ended:
            kind, data = await self._next()
            if kind == "begin":
                part, self._header_bytes = FormPart(), 0
            elif kind == "header" and part is not None:
                name, _, value = data.partition(b"\0")
                header = name.decode("latin-1").lower()
                try:
                    part.headers[header] = value.decode("utf-8")
                except UnicodeDecodeError:
                    # A file name that is not UTF-8 is refused as Swift's path would be, not stored mangled.
                    part.not_utf8 = part.not_utf8 or header == "content-disposition"
                    part.headers[header] = value.decode("utf-8", "replace")
            elif kind == "headers" and part is not None:
                return part
            elif kind == "done":
                self._ended = True
        return None

    async def value(self, limit: int) -> bytes:
        """The current part's bytes, at most ``limit`` of them (FormInvalid beyond)."""
        value = b""
        async for chunk in self.data():
            value += chunk
            if len(value) > limit:
                raise FormInvalid(f"a form attribute is longer than {limit} bytes")
        return value

    async def data(self) -> AsyncIterator[bytes]:
        """The current part's bytes as they arrive, up to its end."""
        while True:
            kind, data = await self._next()
            if kind == "data":
                if data:
                    yield data
            elif kind == "end":
                return
