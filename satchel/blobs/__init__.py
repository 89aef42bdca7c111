"""Blob stores: pick one from the settings with :func:`open_blobs`."""

from __future__ import annotations

from satchel.blobs.base import BlobStore
from satchel.blobs.localfs import LocalBlobStore
from satchel.config import Settings


def open_blobs(settings: Settings) -> BlobStore:
    """The node's blob store: ``<data_dir>/blobs`` on the local filesystem, or the upstream S3 bucket
    ``blobs_url`` names (``blobs/s3.py``)."""
    if settings.blobs_url is None:
        return LocalBlobStore(settings.data_dir / "blobs")
    from satchel.blobs.s3 import MAX_PARTS, S3BlobStore
    from satchel.blobs.s3upstream import Location, Upstream

    upstream = Upstream(
        endpoint_url=settings.blobs_endpoint_url, region=settings.blobs_region,
        access_key_id=settings.blobs_access_key_id, secret_access_key=settings.blobs_secret_access_key,
        threads=settings.blobs_threads, connect_timeout=settings.blobs_connect_timeout,
        read_timeout=settings.blobs_read_timeout, attempts=settings.blobs_attempts,
        connections=settings.max_connections)
    # Parts large enough that the largest upload fits S3's 10,000 parts.
    part_size = max(settings.blobs_part_size, -(-settings.max_put_size // MAX_PARTS))
    return S3BlobStore(Location.parse(settings.blobs_url), upstream, part_size=part_size,
                       delete_delay=settings.blobs_delete_delay, parallel=settings.blobs_threads)
