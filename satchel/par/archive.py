"""``GET …/o/?format=zip``: every object in a read PAR's scope as one streamed zip archive (beyond OCI).

    curl -o reports.zip 'https://s3.example.com/p/TOKEN/n/acme/b/finance/o/?format=zip&prefix=2024/'

The PAR must allow reading and listing (``AnyObjectRead``/``AnyObjectReadWrite`` with ``bucketListingAction:
ListObjects``): an archive names every object it holds, so a PAR that denies listing never lists by zip.
``prefix`` narrows the archive inside the PAR's scope, as for a listing.

- Streamed: entries are stored (no compression: most shared files are compressed already, and storing
  keeps the server's CPU per byte at a copy), written as each object is read, with data descriptors; the
  archive is never buffered whole. Zip64 records are written for every entry, so objects over 4 GiB and
  archives over 4 GiB or 65,535 entries open in any zip64 reader (Python's zipfile, Info-ZIP, 7-Zip,
  every current OS).
- Bounded: at most ``par_zip_max_entries`` objects and ``par_zip_max_bytes`` bytes of content (server
  settings), checked before the first byte; over either is ``400 InvalidParameter``.
- Names are the object names. An object whose name an unzipper could write outside the extraction
  directory or misread (a ``.``/``..`` segment, a leading ``/``, a backslash, a drive letter such as
  ``C:``, a control character: :func:`unsafe_name`) is left out, and so is one deleted while the archive
  streams, one the bucket policy denies the PAR (decided with ``authorize()`` before the headers are sent,
  and again as each entry is read, since a policy can change meanwhile: a refusal never cuts the stream),
  and one encrypted with a customer key (SSE-C: a PAR cannot carry it); the archive's comment and the audit
  event say how many.
- One use of the PAR (counted before the first byte), one audit event with the bytes sent.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import AsyncIterator

from satchel.asgi import Response
from satchel.contentsafety import SANDBOX
from satchel.core import objects, sse
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchKey
from satchel.core.links import content_disposition
from satchel.core.models import ObjectSummary
from satchel.core.node import Node
from satchel.core.par.manage import has_dot_segment
from satchel.core.par.use import ParAdmission
from satchel.core.streams import close_stream
from satchel.par.handlers import ParContext

#: Rows read per store query while collecting the archive's entries.
_BATCH = 1000


class _Sink(io.RawIOBase):
    """What zipfile writes into: an unseekable buffer the response drains after every write."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer += data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        chunk, self.buffer = bytes(self.buffer), bytearray()
        return chunk


def collect(node: Node, bucket: str, prefix: str, *, max_entries: int, max_bytes: int) -> list[ObjectSummary]:
    """Every object under ``prefix``; InvalidParameter beyond either ceiling (read at most one row more)."""
    found: list[ObjectSummary] = []
    after = None
    while True:
        rows = node.store.list_objects(bucket, prefix=prefix, after=after, limit=min(_BATCH, max_entries + 1))
        found += rows
        if len(found) > max_entries:
            raise InvalidArgument(f"The archive would hold more than {max_entries} objects; narrow it with prefix.")
        if sum(row.size for row in found) > max_bytes:
            raise InvalidArgument(f"The archive would hold more than {max_bytes} bytes; narrow it with prefix.")
        if len(rows) < min(_BATCH, max_entries + 1):
            return found
        after = rows[-1].key


#: A segment an unzipper on Windows reads as a drive (``C:``, ``C:x``).
_DRIVE = re.compile(r"[A-Za-z]:")


def unsafe_name(name: str) -> bool:
    """Whether an object name is unsafe as a zip entry name: Windows unzippers treat ``\\`` as a separator
    (``..\\..\\x``) and ``C:`` as a drive, control characters mangle listings and terminals."""
    return (has_dot_segment(name) or name.startswith("/") or name.endswith("/") or "\\" in name
            or any(_DRIVE.match(part) for part in name.split("/"))
            or any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in name))


def archive_name(prefix: str, bucket: str) -> str:
    base = prefix.rstrip("/").rsplit("/", 1)[-1] or bucket
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in base)[:100] + ".zip"


def readable(admission: ParAdmission, entries: list[ObjectSummary]) -> list[ObjectSummary]:
    """The entries the PAR may read: a bucket policy Deny (``access.py`` rule 13) can refuse some objects of
    its scope, and that is decidable before the first byte, so it is never a stream cut off halfway."""
    return [entry for entry in entries
            if authorize(admission.principal, Action.OBJECT_READ, Resource(bucket=admission.bucket, key=entry.key))]


async def stream(node: Node, ctx: ParContext, admission: ParAdmission,
                 entries: list[ObjectSummary], refused: int = 0) -> AsyncIterator[bytes]:
    """``refused``: entries :func:`readable` left out already, counted in the comment."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    written, skipped = 0, refused
    for entry in entries:
        name = entry.key
        if unsafe_name(name):
            skipped += 1
            continue
        try:
            record = await node.read(objects.get_object, node, admission.principal, admission.bucket.name, name)
            if sse.is_customer(record.headers):  # a PAR cannot carry its SSE-C key
                skipped += 1
                continue
            _, body = await objects.open_object(node, admission.principal, record, None)
        except (NoSuchKey, FileNotFoundError, AccessDenied):  # deleted, or denied by a policy put meanwhile
            skipped += 1
            continue
        info = zipfile.ZipInfo(name, _zip_time(record.last_modified))
        info.file_size = record.size
        info.compress_type = zipfile.ZIP_STORED
        try:
            with archive.open(info, "w", force_zip64=True) as member:
                async for chunk in body:
                    member.write(chunk)
                    if len(sink.buffer) >= 1 << 20:
                        yield sink.take()
        finally:
            await close_stream(body)
        written += 1
        yield sink.take()
    if skipped:
        archive.comment = (f"{skipped} object(s) left out: unsafe names, denied by the bucket policy, deleted "
                           "meanwhile, or encrypted with a customer key (SSE-C)").encode()
    archive.close()
    ctx.summary = f"zip of {written} object(s)" + (f", {skipped} left out" if skipped else "")
    yield sink.take()


def _zip_time(epoch: float) -> tuple[int, int, int, int, int, int]:
    moment = datetime.datetime.fromtimestamp(max(epoch, 315532800.0), datetime.UTC)  # zip dates start in 1980
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def response(node: Node, ctx: ParContext, admission: ParAdmission, prefix: str) -> Response:
    settings = node.settings
    entries = collect(node, admission.bucket.name, prefix, max_entries=settings.par_zip_max_entries,
                      max_bytes=settings.par_zip_max_bytes)
    allowed = readable(admission, entries)
    ctx.summary = f"zip of {len(allowed)} object(s) started"
    name = archive_name(prefix, admission.bucket.name)
    headers = [("Content-Type", "application/zip"), ("Content-Disposition", content_disposition("attachment", name)),
               SANDBOX]  # contentsafety.py: object bytes, whatever the type
    return Response(200, headers, stream(node, ctx, admission, allowed, len(entries) - len(allowed)))
