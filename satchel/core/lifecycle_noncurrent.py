"""Lifecycle's ``NoncurrentVersionExpiration``: removing old versions of versioned keys for good.

A noncurrent version (data or delete marker) expires ``NoncurrentDays`` after it *became* noncurrent —
the moment its successor was written, which the store does not keep apart, so the successor's
``last_modified`` stands for it — rounded up to the next midnight UTC (``lifecycle.due``). With
``NewerNoncurrentVersions`` N, the newest N noncurrent versions of a key are kept whatever their age.

The pass reads versions a page at a time in S3's order (key, newest first) and carries only the
current key's state between rows, so a bucket's versions are never held at once. Each removal is
conditional (``expect``): a version that has become current, whose ETag or Last-Modified differs from
what the page showed (a replaced ``null`` version), or that has fewer than ``NewerNoncurrentVersions``
noncurrent versions newer than it now (a client removed one), is left for the next pass. Removing a version frees
its blobs in the same transaction (the store's delete-version path), and the files go right after.

Limitation: when a client removes a version by id, the next older one's "became noncurrent" time is read
from the successor left, which is later than the true moment: it expires late, never early. (The pass's own
removals cannot cause this: a version due implies every older one is due too, and they go in the same pass,
timed from the row just removed.)
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass

from satchel.core import lifecycle
from satchel.core.errors import PreconditionFailed
from satchel.core.gc import release_blobs
from satchel.core.lifecycle import Rule
from satchel.core.models import ObjectVersion, VersionRecord
from satchel.core.node import Node

#: Versions read per page, and the most pages one rule reads per pass (the rest waits for the next pass).
PAGE = 1000
MAX_PAGES = 10_000


@dataclass(slots=True)
class _KeyState:
    """What the pass knows of the key being read: its name, the newer version's Last-Modified (when the
    next row became noncurrent), and how many noncurrent versions came before."""

    key: str = ""
    successor_modified: float = 0.0
    rank: int = -1


def expiring(row: ObjectVersion, state: _KeyState, rule: Rule, now: float, day: float) -> bool:
    """Advance ``state`` past ``row`` and tell whether ``rule`` expires it now."""
    if row.key != state.key or row.is_latest:
        state.key, state.successor_modified, state.rank = row.key, row.last_modified, -1
        if row.is_latest:
            return False
    state.rank += 1
    became_noncurrent = state.successor_modified
    state.successor_modified = row.last_modified
    when = lifecycle.noncurrent_due(became_noncurrent, state.rank, rule, day)
    # A Tag filter is the version's own tags: looked up by the caller, only for a version due.
    return when is not None and now >= when and rule.selects(row.key, row.size, rule.tags)


def _tags_admit(node: Node, bucket: str, row: ObjectVersion, rule: Rule) -> bool:
    """The rule's Tag filter admits this version by its own tags (a delete marker has none)."""
    return not rule.tags or rule.selects(row.key, row.size, node.store.get_object_tags(bucket, row.key, row.version_id))


def _same(row: ObjectVersion, keep: int) -> Callable[[VersionRecord, int], bool]:
    """Still noncurrent, still the same version, and still behind the ``keep`` newest noncurrent ones
    (a client may have removed one of those since the page was read)."""
    def expect(found: VersionRecord, newer_noncurrent: int) -> bool:
        return (not found.latest and found.record.etag == row.etag
                and found.record.last_modified == row.last_modified and newer_noncurrent >= keep)
    return expect


async def expire_noncurrent(node: Node, bucket: str, bucket_id: str, rule: Rule, now: float, day: float) -> int:
    """Remove the noncurrent versions ``rule`` has come due for; returns how many went."""
    if not await asyncio.to_thread(node.store.bucket_versioning, bucket):
        return 0  # never versioned: no noncurrent versions (and a store without versioning lists none)
    removed = 0
    state = _KeyState()
    # Resume after the last row that is still there: a removed row as marker would skip its key's rest.
    key_marker: str | None = None
    version_marker: str | None = None
    for _ in range(MAX_PAGES):
        page = await asyncio.to_thread(functools.partial(
            node.store.list_object_versions, bucket, prefix=rule.prefix, key_marker=key_marker,
            version_id_marker=version_marker, limit=PAGE))
        for row in page:
            if expiring(row, state, rule, now, day) and await asyncio.to_thread(_tags_admit, node, bucket, row, rule):
                outcome = await _remove(node, bucket, bucket_id, row, rule.newer_noncurrent_versions or 0)
                if outcome is not None:
                    removed += outcome
                    continue
            key_marker, version_marker = row.key, row.version_id
        if len(page) < PAGE:
            break
    return removed


async def _remove(node: Node, bucket: str, bucket_id: str, row: ObjectVersion, keep: int) -> int | None:
    """1 when the version went, 0 when someone removed it first, None when it is kept (it changed)."""
    try:
        found, dead = await node.write(node.store.delete_object_version, bucket, row.key, row.version_id,
                                       bucket_id=bucket_id, expect=_same(row, keep))
    except PreconditionFailed:
        return None  # became current or was replaced since the page was read: next pass
    await release_blobs(node.store, node.blobs, dead, node.write)
    return 0 if found is None else 1
