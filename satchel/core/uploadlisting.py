"""ListMultipartUploads with a delimiter: uploads whose keys share a prefix up to the delimiter roll up into
one common prefix, as ListObjects does for keys (``core/listing.py``), and the scan jumps past the group.

Uploads and common prefixes count together against ``max-uploads``, in key order. A page ends on either:
its next markers are the last upload's key and id, or the last common prefix and no upload id (passed back
as ``key-marker`` alone, the next page starts after the whole group).
"""

from __future__ import annotations

from dataclasses import dataclass

from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.listing import MAX_CHAR
from satchel.core.models import Principal, Upload
from satchel.core.node import Node


@dataclass(frozen=True, slots=True)
class UploadPage:
    uploads: tuple[Upload, ...]
    common_prefixes: tuple[str, ...]
    truncated: bool
    #: Where the next page starts (empty unless ``truncated``).
    next_key_marker: str = ""
    next_upload_id_marker: str = ""


def list_uploads(node: Node, principal: Principal, bucket: str, *, prefix: str, delimiter: str,
                 key_marker: str | None, upload_id_marker: str | None, limit: int) -> UploadPage:
    bucket_for(node, principal, bucket, Action.BUCKET_READ, prefix)
    if limit <= 0:
        return UploadPage((), (), False)
    entries: list[tuple[str, Upload | None]] = []
    after_key, after_id = key_marker, upload_id_marker
    batch = min(limit + 1, 1001)
    while True:
        rows = node.store.list_uploads(bucket, prefix=prefix, key_marker=after_key, upload_id_marker=after_id,
                                       limit=batch)
        for upload in rows:
            name: str = upload.key
            item: Upload | None = upload
            cut = upload.key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                name, item = upload.key[: cut + len(delimiter)], None
                # Every later upload of this group rolls into the same prefix: resume past it.
                after_key, after_id = name + MAX_CHAR, None
                if name == key_marker or (entries and entries[-1][0] == name):
                    continue
            else:
                after_key, after_id = upload.key, upload.upload_id
            if len(entries) == limit:
                return _page(entries, truncated=True)
            entries.append((name, item))
        if len(rows) < batch:
            return _page(entries, truncated=False)


def _page(entries: list[tuple[str, Upload | None]], *, truncated: bool) -> UploadPage:
    uploads = tuple(item for _, item in entries if item is not None)
    prefixes = tuple(name for name, item in entries if item is None)
    if not truncated or not entries:
        return UploadPage(uploads, prefixes, truncated)
    name, last = entries[-1]
    return UploadPage(uploads, prefixes, True, name, last.upload_id if last is not None else "")
