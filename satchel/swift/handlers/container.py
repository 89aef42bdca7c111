"""Container requests: PUT (create, or update an existing one: 202), GET (listing), HEAD, POST
(metadata, public read), DELETE (409 while not empty).

A container is a Satchel bucket of the URL's account: the same objects through S3 and Swift. Bucket
names are global (they are S3 bucket names), so a name another account holds is 409 here.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator

from satchel.asgi import Response
from satchel.core import buckets, listing, publicaccess, swiftmeta
from satchel.core.bucketnames import valid_bucket_name
from satchel.core.errors import BucketAlreadyExists, BucketAlreadyOwnedByYou, NoSuchBucket
from satchel.core.models import Bucket, ListEntry
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError
from satchel.swift.headers import meta_headers, x_timestamp
from satchel.swift.listing import (
    CONTENT_TYPES,
    DEFAULT_OBJECT_TYPE,
    ListParams,
    ObjectRow,
    container_listing,
    list_params,
)
from satchel.swift.metadata import (
    PUBLIC_READ_ACL,
    STORAGE_POLICY,
    apply_container_meta,
    container_changes,
    tempurl_key_headers,
)
from satchel.swift.objectheaders import ACCEPTED_BODY, CREATED_BODY, HTML

#: A reverse listing scans its range forward; past this many entries it is refused (narrow it with
#: marker / end_marker) rather than read a whole large bucket for one page.
MAX_REVERSE_SCAN = 100_000
_PAGE = 1000


async def put_container(ctx: SwiftContext) -> Response:
    name = ctx.bucket_name
    changes = container_changes(ctx.request.headers)  # refused before anything is created
    if not valid_bucket_name(name):
        raise SwiftError(400, f"Invalid container name {name!r}: containers are S3 buckets, named with 3-63 "
                              "characters of a-z 0-9 . - (and some names are reserved).")
    taken = SwiftError(409, f"The container name {name!r} is taken by another user or account (container "
                            "names are S3 bucket names, shared by every account).")
    try:
        await buckets.create_bucket(ctx.node, ctx.principal, name, publish=bool(changes.public))
        status, body = 201, CREATED_BODY
    except BucketAlreadyOwnedByYou:
        status, body = 202, ACCEPTED_BODY
    except BucketAlreadyExists:
        existing = ctx.node.bucket(name)
        if existing is not None and existing.account_id == ctx.account.id:
            raise SwiftError(403) from None  # this account's container, which this user may not change
        raise taken from None
    try:
        ctx.bucket()
    except NoSuchBucket:
        raise taken from None
    await apply_container_meta(ctx, changes)
    return Response(status, [HTML], body)


async def post_container(ctx: SwiftContext) -> Response:
    changes = container_changes(ctx.request.headers)
    ctx.bucket()
    await apply_container_meta(ctx, changes)
    return Response(204)


async def delete_container(ctx: SwiftContext) -> Response:
    bucket = ctx.bucket()
    # Its container metadata goes in the same transaction (``delete_bucket`` of the store).
    await buckets.delete_bucket(ctx.node, ctx.principal, bucket.name)
    return Response(204)


def container_headers(ctx: SwiftContext, prefix: str | None = None, *, head: bool = False) -> list[tuple[str, str]]:
    """HEAD and GET's headers; reading them is a BUCKET_READ of the container (of ``prefix`` for a
    listing; of any prefix for a HEAD). Counts and metadata describe the whole bucket: only for those who
    may read all of it."""
    ctx.bucket()
    bucket, meta = swiftmeta.container_metadata(ctx.node, ctx.principal, ctx.bucket_name, prefix, head=head)
    headers = [("X-Timestamp", x_timestamp(bucket.created)), ("X-Storage-Policy", STORAGE_POLICY)]
    # A caller who may read only part of the bucket (a prefix grant) is shown 0, as in the account listing:
    # the figures would tell about keys outside its prefix, and clients (rclone) need the headers there.
    count, used = swiftmeta.usage(ctx.node, ctx.principal, bucket) or (0, 0)
    headers += [("X-Container-Object-Count", str(count)), ("X-Container-Bytes-Used", str(used))]
    headers.extend(meta_headers("container", meta or {}))
    headers.extend(tempurl_key_headers(ctx, bucket))
    if publicaccess.public_in_force(bucket):  # under IgnorePublicAcls the stored .r:* answers nothing: not shown
        headers.append(("X-Container-Read", PUBLIC_READ_ACL))
    return headers


async def head_container(ctx: SwiftContext) -> Response:
    return Response(204, [*await ctx.node.read(container_headers, ctx, head=True), ("Content-Length", "0"),
                          ("Content-Type", CONTENT_TYPES["plain"])])


async def get_container(ctx: SwiftContext) -> Response:
    params = list_params(ctx.request.query_dict, ctx.request.headers, ctx.request.raw_query)
    headers = await ctx.node.read(container_headers, ctx, params.prefix)
    entries = await ctx.node.read(_reverse_page if params.reverse else _forward_page, ctx, params)
    keys = [entry.key for entry in entries if entry.record is not None]
    types = await ctx.node.read(ctx.node.store.content_types, ctx.bucket_name, keys) \
        if params.format != "plain" and keys else {}
    rows: list[ObjectRow | str] = [
        entry.key if entry.record is None else ObjectRow(entry.key, entry.record.etag, entry.record.size,
                                                         types.get(entry.key, DEFAULT_OBJECT_TYPE),
                                                         entry.record.last_modified)
        for entry in entries
    ]
    headers.append(("Content-Type", CONTENT_TYPES[params.format]))
    if not rows and params.format == "plain":
        return Response(204, headers)
    return Response(200, headers, container_listing(params.format, ctx.bucket_name, rows))


def _scan(ctx: SwiftContext, params: ListParams, marker: str) -> Iterator[ListEntry]:
    """Entries after ``marker``, in order, one core page at a time (each page authorized by core)."""
    cursor: str | None = marker or None
    while True:
        page = listing.list_objects(ctx.node, ctx.principal, ctx.bucket_name, prefix=params.prefix,
                                    delimiter=params.delimiter, marker=cursor, max_keys=_PAGE)
        yield from page.entries
        if not page.is_truncated:
            return
        cursor = page.next_marker


def _forward_page(ctx: SwiftContext, params: ListParams) -> list[ListEntry]:
    if params.limit == 0:
        return []
    page = listing.list_objects(ctx.node, ctx.principal, ctx.bucket_name, prefix=params.prefix,
                                delimiter=params.delimiter, marker=params.marker or None, max_keys=params.limit)
    entries = list(page.entries)
    if params.end_marker:
        entries = [entry for entry in entries if entry.key < params.end_marker]
    return entries


def _reverse_page(ctx: SwiftContext, params: ListParams) -> list[ListEntry]:
    """Swift's ``reverse=true``: names below ``marker`` and above ``end_marker``, highest first."""
    if params.limit == 0:
        # Still authorized: an empty page of a container the caller may not read is a refusal.
        listing.list_objects(ctx.node, ctx.principal, ctx.bucket_name, prefix=params.prefix, max_keys=0)
        return []
    last: deque[ListEntry] = deque(maxlen=params.limit)
    # Swift derives subdirectories from the names between the markers only: the subdirectory holding
    # end_marker shows when one of its names is above it (the scan, which starts after end_marker, skips
    # it), the one holding marker when one of its names is below it.
    straddled = _subdirectory_of(params, params.end_marker)
    entries: Iterator[ListEntry] = _scan(ctx, params, params.end_marker)
    if straddled:
        entries = itertools.chain([ListEntry(straddled, None)],
                                  (entry for entry in entries if entry.key != straddled))
    for scanned, entry in enumerate(entries):
        if params.marker and entry.key >= params.marker:
            break
        if entry.record is None and (params.marker.startswith(entry.key) or entry.key == straddled) \
                and not _has_key_between(ctx, entry.key, params.end_marker, params.marker):
            if params.marker.startswith(entry.key):
                break  # everything after it is above the marker
            continue
        if scanned >= MAX_REVERSE_SCAN:
            raise SwiftError(400, f"A reverse listing may span at most {MAX_REVERSE_SCAN} entries: narrow it "
                                  "with marker and end_marker, or a prefix.")
        last.append(entry)
    return list(reversed(last))


def _subdirectory_of(params: ListParams, name: str) -> str:
    """The subdirectory (common prefix) ``name`` falls in under the listing's prefix and delimiter, or ""."""
    if not params.delimiter or not name.startswith(params.prefix):
        return ""
    cut = name.find(params.delimiter, len(params.prefix))
    return name[: cut + 1] if cut >= 0 else ""


def _has_key_between(ctx: SwiftContext, prefix: str, low: str, high: str) -> bool:
    """A name under ``prefix`` above ``low`` and below ``high`` (either bound may be empty): what puts the
    subdirectory ``prefix`` in a reverse listing between those markers."""
    first = listing.list_objects(ctx.node, ctx.principal, ctx.bucket_name, prefix=prefix, marker=low or None,
                                 max_keys=1).entries
    return bool(first) and (not high or first[0].key < high)


def account_buckets(ctx: SwiftContext) -> list[Bucket]:
    """The containers of the URL's account this caller may see (owned, the account's for an admin,
    granted); ListBuckets' answer, as core decides it."""
    return [bucket for bucket in buckets.list_buckets(ctx.node, ctx.principal)
            if bucket.account_id == ctx.account.id]
