"""Blob stores: pick one from the settings with :func:`open_blobs`."""

from __future__ import annotations

from satchel.blobs.base import BlobStore
from satchel.blobs.localfs import LocalBlobStore
from satchel.config import Settings


def open_blobs(settings: Settings) -> BlobStore:
    """The node's blob store: ``<data_dir>/blobs`` on the local filesystem."""
    return LocalBlobStore(settings.data_dir / "blobs")
