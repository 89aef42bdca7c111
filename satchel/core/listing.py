"""Listing with prefix and delimiter, one page at a time.

The store gives an ordered range scan; here keys that share a prefix up to the delimiter are rolled
into one common prefix, and the scan then jumps past the whole group instead of reading it, so a
page costs O(page) even when a "directory" holds millions of keys.
"""

from __future__ import annotations

from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.models import ListEntry, ListPage, ObjectSummary, Principal
from satchel.core.node import Node

#: Sorts after every character a key can contain, so "prefix + MAX_CHAR" is past the whole group.
MAX_CHAR = "\U0010ffff"


def list_objects(
    node: Node,
    principal: Principal,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str = "",
    marker: str | None = None,
    max_keys: int = 1000,
) -> ListPage:
    """One page of keys and common prefixes after ``marker``.

    ``next_marker`` is the last key or common prefix returned; passing it back as ``marker`` resumes
    exactly after it (a common prefix equal to the marker is not repeated).
    """
    bucket_for(node, principal, bucket, Action.BUCKET_READ, prefix)
    return scan_page(node, bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)


def scan_page(
    node: Node, bucket: str, *, prefix: str, delimiter: str, marker: str | None, max_keys: int
) -> ListPage:
    if max_keys <= 0:
        return ListPage((), False, None)
    entries: list[ListEntry] = []
    cursor = marker if marker is not None and marker >= prefix else None
    batch = min(max_keys + 1, 1001)
    while True:
        rows = node.store.list_objects(bucket, prefix=prefix, after=cursor, limit=batch)
        for record in rows:
            name: str = record.key
            item: ObjectSummary | None = record
            if delimiter:
                cut = record.key.find(delimiter, len(prefix))
                if cut >= 0:
                    name, item = record.key[: cut + len(delimiter)], None
                    # Every later key of this group rolls into the same prefix: resume past it.
                    cursor = name + MAX_CHAR
                    if name == marker or (entries and entries[-1].key == name):
                        continue
            if item is not None:
                cursor = name
            if len(entries) == max_keys:
                return ListPage(tuple(entries), True, entries[-1].key)
            entries.append(ListEntry(name, item))
        if len(rows) < batch:
            return ListPage(tuple(entries), False, entries[-1].key if entries else None)
