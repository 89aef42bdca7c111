"""Streaming reader of a browser-upload form (``multipart/form-data``) for S3 POST uploads.

S3's rules: fields come first, the ``file`` field must be the last one that matters (anything after
it is ignored), and the fields before it are at most 20 KB. So the reader collects fields in memory
(bounded), stops as soon as the file part begins — the policy can then be checked before a single
file byte is stored — and afterwards hands out the file's bytes as they arrive, never buffering them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import Message

from python_multipart.multipart import MultipartParser

from satchel.core.errors import InvalidArgument, MalformedPOSTRequest

#: S3 limits the form fields preceding the file to 20 KB.
MAX_FIELDS_BYTES = 20 * 1024


def _text(raw: bytes, what: str) -> str:
    """A form's bytes as UTF-8 text (S3: "The form and policy must be UTF-8 encoded"). Bytes that are
    not UTF-8 are refused, never replaced: two different keys must not become the same U+FFFD key."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"The POST form's {what} is not valid UTF-8.", ArgumentName=what) from None


def _param(message: Message, name: str) -> str | None:
    """A Content-Disposition parameter; an RFC 2231 value (``filename*=UTF-8''...``) decoded strictly."""
    value = message.get_param(name, header="content-disposition")
    if value is None or isinstance(value, str):
        return value
    charset, _language, text = value
    try:
        return text.encode("raw-unicode-escape").decode(charset or "us-ascii")
    except (LookupError, UnicodeError):
        raise InvalidArgument(f"The POST form's {name} is not valid {charset}.", ArgumentName=name) from None


def _content_disposition(value: str) -> tuple[str | None, str | None]:
    message = Message()
    message["content-disposition"] = value
    filename = _param(message, "filename")
    return _param(message, "name"), None if filename is None else filename.strip()


class PostForm:
    def __init__(self, boundary: str, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self._in_file = False
        self._file_done = False
        self._pending: list[bytes] = []
        self._field_bytes = 0
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[str, str] = {}
        self._data = bytearray()
        self._ended = False
        self._current_name = ""
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    # --- parser callbacks (synchronous, called from within feed) ---------------------------------
    def _part_begin(self) -> None:
        self._headers = {}
        self._data = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = _text(self._header_value, "part header")
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        if self._file_done:
            return
        name, filename = _content_disposition(self._headers.get("content-disposition", ""))
        if name is None:
            raise MalformedPOSTRequest()
        if name.lower() == "file":
            self._in_file = True
            self.filename = filename or ""
        else:
            self._current_name = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file_done:
            return
        if self._in_file:
            self._pending.append(data[start:end])
            return
        self._field_bytes += end - start
        if self._field_bytes > MAX_FIELDS_BYTES:
            raise InvalidArgument("Your POST request fields preceding the upload file were too large.",
                                  ArgumentName="POST fields", MaxMessageLengthBytes=str(MAX_FIELDS_BYTES))
        self._data += data[start:end]

    def _part_end(self) -> None:
        if self._file_done:
            return
        if self._in_file:
            self._in_file = False
            self._file_done = True
            return
        name = self._current_name
        if any(existing.lower() == name.lower() for existing in self.fields):
            raise InvalidArgument(f"POST requires exactly one value for field {name}", ArgumentName=name)
        self.fields[name] = _text(bytes(self._data), name)

    def _end(self) -> None:
        self._ended = True

    # --- async interface ----------------------------------------------------------------------
    async def read_fields(self) -> dict[str, str]:
        """Read until the file part starts; the fields are then complete (later ones are ignored)."""
        while not self._in_file and not self._file_done:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                raise InvalidArgument("POST requires exactly one file upload per request.",
                                      ArgumentName="file", ArgumentValue="0")
            self._feed(chunk)
        return self.fields

    def _feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except (InvalidArgument, MalformedPOSTRequest):
            raise
        except Exception:
            raise MalformedPOSTRequest() from None

    async def file_data(self) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive; then the rest of the form is read and discarded."""
        while True:
            if self._pending:
                pending, self._pending = self._pending, []
                for piece in pending:
                    yield piece
            if self._file_done:
                break
            chunk = await anext(self._chunks, None)
            if chunk is None:
                raise MalformedPOSTRequest("The body of your POST request ended before the file was complete.")
            self._feed(chunk)
        async for chunk in self._chunks:
            self._feed(chunk)
