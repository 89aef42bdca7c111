"""The blob store interface: immutable byte sequences under fresh ids.

A blob is written once, through a :class:`BlobWriter`, and never changed; an object version points at
one blob per segment. The writer's contract is what makes writes crash-safe:

1. ``write()`` streams bytes to a private temporary place while feeding the hasher;
2. ``commit()`` makes the bytes durable (fsync) and moves them to the blob's final name (fsync of the
   directory), only then may metadata point at the blob;
3. ``abort()`` (or an exception inside ``async with``) removes every trace.

A crash after ``commit()`` but before the metadata transaction leaves an orphan blob, which
:meth:`BlobStore.orphans` finds and the garbage collector removes after a grace period.

Implementations: ``localfs.py`` (a directory, default) and ``s3.py`` (a bucket of an upstream S3 cluster,
``blobs_url``), where "durable" means the upstream answered 200 to the PUT or the
``CompleteMultipartUpload``; ``tests/unit/blobs/test_blob_contract.py`` runs this contract on both.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from types import TracebackType

from satchel.blobs.digests import Hasher

#: One stretch of a blob: (blob id, offset, length; None: to the blob's end).
Piece = tuple[str, int, int | None]


class BlobWriter(abc.ABC):
    """Receives one blob's bytes. Use as an async context manager: leaving it without ``commit()``
    aborts."""

    blob_id: str
    size: int

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Append ``data``; hashing and disk writes happen off the event loop, pipelined."""

    @abc.abstractmethod
    async def commit(self) -> None:
        """Flush, fsync and publish the blob under its id. The hasher is final afterwards."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Discard everything written. Idempotent."""

    async def __aenter__(self) -> BlobWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None or not getattr(self, "committed", False):
            await self.abort()


class BlobStore(abc.ABC):
    @abc.abstractmethod
    def writer(self, hasher: Hasher) -> BlobWriter:
        """A writer for a new blob with a fresh, unguessable id."""

    @abc.abstractmethod
    def read(self, blob_id: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """Stream ``length`` bytes (to the end when None) from ``offset`` in large chunks.

        Raises ``FileNotFoundError`` before yielding anything when the blob is gone, so a reader that
        raced a delete can look the key up again. (An implementation may still serve a blob it holds
        in memory after another process deleted the file: the bytes of an id never change, so that
        is the same answer as having opened the file a moment earlier.)
        """

    @abc.abstractmethod
    def read_pieces(self, pieces: Sequence[Piece]) -> AsyncIterator[bytes]:
        """Stream several stretches of blobs one after the other, as one body (a multipart object).

        Holds every blob it needs before the first byte, so that deleting or overwriting the object
        during the read cannot cut it short: ``FileNotFoundError`` when one is already gone, or
        ``OSError(EMFILE)`` when the process cannot hold them all now, both before anything is
        yielded. (The S3 store's hold is its delete delay, which needs no upstream call per blob: there
        only the first blob is known present before the first byte; see ``s3.py``.)
        """

    @abc.abstractmethod
    async def copy(self, blob_id: str) -> str:
        """A new blob with the same bytes (a hard link or a server-side copy, never a read loop when
        avoidable); returns its id."""

    @abc.abstractmethod
    async def delete(self, blob_ids: list[str]) -> None:
        """Remove blobs; ids that do not exist are ignored."""

    @abc.abstractmethod
    def orphans(self, older_than: float, writes_before: float) -> list[str]:
        """Ids of committed blobs whose files are older than ``older_than`` (epoch seconds); the
        garbage collector deletes those the metadata store does not know. Also removes what unfinished
        writes started before ``writes_before`` left (temporary files, upstream multipart uploads).

        Two times because an unfinished write may be live: a slow upload still receiving its body.
        ``writes_before`` must be older than any live write can be (``core/gc.write_grace``), or the
        collector pulls the ground from under it; a committed blob is only ever waiting for its
        metadata transaction, which ``older_than`` (``orphan_grace``) covers."""

    def probe(self) -> None:
        """Raise unless the blob store can serve now (readiness, ``satchel/readiness.py``): a bounded,
        blocking check, run in a thread. The default trusts it."""
        return

    @abc.abstractmethod
    def close(self) -> None: ...
