"""Object versioning, protocol-neutral: bucket state, version ids, reading and deleting versions.

A write's version id follows the bucket's state: none in a bucket whose versioning was never enabled
(the overwritten bytes die, as before), a fresh random id while ``Enabled`` (the previous version is
kept, noncurrent), ``"null"`` while ``Suspended`` (replacing the one null version, keeping the others).
The id is chosen here from the store's state and checked by the store in the transaction that
publishes (``meta/sqlite_versioning.py``): if PutBucketVersioning landed in between, the write is
chosen again once. A version is read with the same right as the current object (OBJECT_READ) and
deleted for good with a right of its own (OBJECT_VERSION_DELETE, AWS's s3:DeleteObjectVersion: whoever
controls the bucket, or a policy Allow; a bucket ACL WRITE or a read-write grant does not give it); the
bucket's state with BUCKET_READ/ADMIN.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.errors import (
    InvalidArgument,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
    VersioningChanged,
)
from satchel.core.gc import release_blobs
from satchel.core.models import ObjectRecord, ObjectVersion, Principal, VersionRecord
from satchel.core.node import Node

ENABLED = "Enabled"
SUSPENDED = "Suspended"
STATES = (ENABLED, SUSPENDED)

#: Ids Satchel makes are 32 hex digits; any 32 URL-safe characters are taken as an id (none found is
#: NoSuchVersion). ``null`` names the null version. Anything else cannot
#: name a version here and is refused as AWS refuses a malformed id, before any lookup.
_VERSION_ID = re.compile(r"[A-Za-z0-9_-]{32}|null")


def new_version_id() -> str:
    """32 hex digits: an id starting with "-" (as URL-safe base64 may) reads as an option on command
    lines (``aws s3api get-object --version-id -x...`` fails)."""
    return secrets.token_hex(16)


def check_version_id(version_id: str) -> str:
    if not _VERSION_ID.fullmatch(version_id):
        raise InvalidArgument("Invalid version id specified", ArgumentName="versionId", ArgumentValue=version_id[:64])
    return version_id


def version_for(node: Node, bucket: str) -> str | None:
    """The version id a write to ``bucket`` gets now (read from the store: caches may be stale)."""
    state = node.store.bucket_versioning(bucket)
    if state == ENABLED:
        return new_version_id()
    return "null" if state == SUSPENDED else None


async def write_version(node: Node, record: ObjectRecord,
                        write: Callable[[ObjectRecord], Awaitable[list[str]]]) -> tuple[ObjectRecord, list[str]]:
    """Run ``write`` (a store write publishing ``record``) with the version id the bucket's state gives,
    choosing again once if that state changed before the write committed."""
    for attempt in (1, 2):
        stamped = replace(record, version_id=await node.read(version_for, node, record.bucket))
        try:
            return stamped, await write(stamped)
        except VersioningChanged:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- bucket state ---------------------------------------------------------------------------------
def get_state(node: Node, principal: Principal, bucket: str) -> str:
    bucket_for(node, principal, bucket, Action.BUCKET_READ)
    return node.store.bucket_versioning(bucket)


async def put_state(node: Node, principal: Principal, bucket: str, state: str) -> None:
    target = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    if state not in STATES:
        raise InvalidArgument("The versioning status must be Enabled or Suspended.", ArgumentName="Status",
                              ArgumentValue=state[:64])
    await node.write(node.store.set_bucket_versioning, bucket, state, bucket_id=target.id)


# --- reading ----------------------------------------------------------------------------------------
def latest_deleted(node: Node, bucket: str, key: str) -> NoSuchKey:
    """The NoSuchKey of a read of a key with no current data: naming the delete marker when that is
    what its latest version is (``x-amz-delete-marker``, ``x-amz-version-id``), as AWS answers."""
    error = NoSuchKey(Key=key)
    latest = node.store.get_object_version(bucket, key, None)
    if latest is not None and latest.delete_marker:
        error.version_id, error.delete_marker = latest.record.version_id, True
    return error


def shown_version_id(node: Node, record: ObjectRecord) -> str | None:
    """The ``x-amz-version-id`` a read of ``record`` answers: its id, and ``null`` for an object written
    before versioning was enabled (it is the null version, as ListObjectVersions lists it: AWS names it so
    once the bucket is Enabled or Suspended); none in a bucket never versioned."""
    if record.version_id is not None:
        return record.version_id
    return "null" if node.store.bucket_versioning(record.bucket) in STATES else None


def lookup(node: Node, bucket: str, key: str, version_id: str) -> VersionRecord | None:
    """Version ``version_id`` of a key as stored (a malformed id is refused first)."""
    return node.store.get_object_version(bucket, key, check_version_id(version_id))


def readable(found: VersionRecord | None, key: str, version_id: str) -> ObjectRecord:
    """The record of a version looked up with :func:`lookup`, for a read the caller authorised:
    NoSuchVersion when there is none, 405 MethodNotAllowed for a delete marker, as AWS answers."""
    if found is None:
        raise NoSuchVersion(Key=key, VersionId=version_id)
    if found.delete_marker:
        error = MethodNotAllowed(Method="GET", ResourceType="DeleteMarker")
        error.version_id, error.delete_marker = found.record.version_id, True
        raise error
    return found.record


def named_version(node: Node, principal: Principal, bucket: str, key: str, version_id: str,
                  action: Action) -> ObjectRecord:
    """The version a per-version setting (its tags, its ACL) is asked of: authorised for ``action`` with
    that version's own ACL before anything is said about it; NoSuchVersion when there is none, 405 for a
    delete marker (which has neither tags nor an ACL)."""
    found = lookup(node, bucket, key, version_id)
    bucket_for(node, principal, bucket, action, key, acl=found.record.acl if found is not None else ())
    return readable(found, key, version_id)


# --- deleting ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Deleted:
    """What a delete did: the version it removed or the delete marker it made (``version_id``), and
    whether that is a delete marker. Both empty in a bucket never versioned."""

    version_id: str | None = None
    delete_marker: bool = False


async def delete_version(node: Node, bucket: str, key: str, version_id: str, *, bucket_id: str) -> Deleted:
    """Remove one version for good (authorised by the caller); a missing one succeeds, as in S3."""
    removed, dead = await node.write(node.store.delete_object_version, bucket, key, check_version_id(version_id),
                                     bucket_id=bucket_id)
    await release_blobs(node.store, node.blobs, dead, node.write)
    if removed is None:
        return Deleted(version_id)
    return Deleted(version_id, removed.delete_marker)


async def delete_latest(node: Node, principal: Principal, bucket: str, key: str,
                        write: Callable[[str | None, str | None], Awaitable[list[str]]]) -> Deleted:
    """A delete without a version id: ``write(marker, owner)`` removes the key (marker None) or puts a
    delete marker over it, whichever the bucket's state asks for."""
    owner = principal.user.id if principal.user else None
    for attempt in (1, 2):
        marker = await node.read(version_for, node, bucket)
        try:
            dead = await write(marker, owner)
        except VersioningChanged:
            if attempt == 2:
                raise
            continue
        await release_blobs(node.store, node.blobs, dead, node.write)
        return Deleted(marker, marker is not None)
    raise AssertionError("unreachable")


# --- lifecycle ---------------------------------------------------------------------------------------
#: Versions read per store query while looking for expired delete markers; pages per pass, bounded.
_MARKER_PAGE = 1000
_MAX_MARKER_PAGES = 10_000


async def drop_expired_markers(node: Node, bucket: str, bucket_id: str, prefix: str,
                               selects: Callable[[str], bool]) -> int:
    """Lifecycle's ``ExpiredObjectDeleteMarker``: remove every delete marker under ``prefix`` that is the
    only version left of its key (and that ``selects`` admits), as AWS does. Returns how many went."""
    removed = 0
    key_marker: str | None = None
    version_marker: str | None = None
    group: list[ObjectVersion] = []  # the versions of the key being read, across pages
    for _ in range(_MAX_MARKER_PAGES):
        page = await asyncio.to_thread(functools.partial(
            node.store.list_object_versions, bucket, prefix=prefix, key_marker=key_marker,
            version_id_marker=version_marker, limit=_MARKER_PAGE))
        for row in page:
            if group and group[0].key != row.key:
                removed += await _drop_lone_marker(node, bucket, bucket_id, group, selects)
                group = []
            group.append(row)
        if len(page) < _MARKER_PAGE:
            break
        key_marker, version_marker = page[-1].key, page[-1].version_id
    if group:
        removed += await _drop_lone_marker(node, bucket, bucket_id, group, selects)
    return removed


async def _drop_lone_marker(node: Node, bucket: str, bucket_id: str, group: list[ObjectVersion],
                            selects: Callable[[str], bool]) -> int:
    if len(group) != 1 or not group[0].delete_marker or not selects(group[0].key):
        return 0
    await node.write(node.store.delete_object_version, bucket, group[0].key, group[0].version_id, bucket_id=bucket_id)
    return 1


# --- listing ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VersionPage:
    entries: tuple[ObjectVersion, ...]
    prefixes: tuple[str, ...]
    truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None


#: Sorts after every character a key can contain, so "prefix + MAX_CHAR" is past the whole group.
_MAX_CHAR = "\U0010ffff"


def list_versions(node: Node, principal: Principal, bucket: str, *, prefix: str = "", delimiter: str = "",
                  key_marker: str | None = None, version_id_marker: str | None = None,
                  max_keys: int = 1000) -> VersionPage:
    """One page of ListObjectVersions. A common prefix counts as one entry and the scan jumps past its
    group, as ``core/listing.py`` does for keys, so a page costs O(page) store reads."""
    bucket_for(node, principal, bucket, Action.BUCKET_READ, prefix)
    if version_id_marker is not None and key_marker is None:
        raise InvalidArgument("A version-id marker cannot be specified without a key marker.",
                              ArgumentName="version-id-marker", ArgumentValue=version_id_marker[:64])
    if version_id_marker is not None:
        check_version_id(version_id_marker)
    entries: list[ObjectVersion] = []
    prefixes: list[str] = []
    key_cursor, version_cursor = key_marker, version_id_marker
    batch = min(max_keys + 1, 1001)
    if max_keys <= 0:
        return VersionPage((), (), False, None, None)
    for _ in range(max_keys * 2 + 10):  # bounded: each round adds an entry or a prefix, or returns
        rows = node.store.list_object_versions(bucket, prefix=prefix, key_marker=key_cursor,
                                               version_id_marker=version_cursor, limit=batch)
        if not rows:
            return VersionPage(tuple(entries), tuple(prefixes), False, None, None)
        for row in rows:
            if delimiter:
                cut = row.key.find(delimiter, len(prefix))
                if cut >= 0:
                    group = row.key[: cut + len(delimiter)]
                    if len(entries) + len(prefixes) >= max_keys:
                        return _page(entries, prefixes)
                    if group != key_marker:
                        prefixes.append(group)
                    key_cursor, version_cursor = group + _MAX_CHAR, None
                    break
            if len(entries) + len(prefixes) >= max_keys:
                return _page(entries, prefixes)
            entries.append(row)
            key_cursor, version_cursor = row.key, row.version_id
        else:
            if len(rows) < batch:
                return VersionPage(tuple(entries), tuple(prefixes), False, None, None)
    return _page(entries, prefixes)


def _page(entries: list[ObjectVersion], prefixes: list[str]) -> VersionPage:
    """A truncated page: it resumes after its last entry (a version, or a whole common prefix)."""
    last_entry = entries[-1] if entries else None
    last_prefix = prefixes[-1] if prefixes else None
    if last_prefix is not None and (last_entry is None or last_prefix > last_entry.key):
        return VersionPage(tuple(entries), tuple(prefixes), True, last_prefix, None)
    if last_entry is None:
        return VersionPage((), (), False, None, None)
    return VersionPage(tuple(entries), tuple(prefixes), True, last_entry.key, last_entry.version_id)


__all__ = ["Deleted", "VersionPage", "VersionRecord"]
