"""Object operations: put, get, head, delete, copy — protocol-neutral.

Reads are plain calls on the event loop (one indexed SQLite read); writes stream through
``receive()`` and then publish with one metadata transaction in the writer thread. Blobs a
transaction made dead are deleted right after it (``gc.release_blobs``).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Mapping, Sequence
from dataclasses import replace

from satchel.core import sse, versioning
from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.conditions import (
    ByteRange,
    DeleteConditions,
    Precondition,
    check_conditions,
    delete_precondition,
    write_precondition,
)
from satchel.core.errors import (
    InternalError,
    InvalidRequest,
    KeyTooLongError,
    MetadataTooLarge,
    NoSuchBucket,
    NoSuchKey,
    SatchelError,
    SlowDown,
)
from satchel.core.gc import release_blobs
from satchel.core.inflight import Recheck, confirm
from satchel.core.models import AclGrant, Bucket, ObjectRecord, Principal, Segment
from satchel.core.node import Node
from satchel.core.receive import Expectations, Received, receive
from satchel.core.streams import close_stream

log = logging.getLogger(__name__)

#: S3's limits: keys are at most 1024 bytes of UTF-8; user metadata at most 2 KiB.
MAX_KEY_BYTES = 1024
MAX_USER_META_BYTES = 2048

#: Representation headers stored with an object and returned on GET/HEAD.
STORED_HEADERS = (
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
)


def check_key(key: str) -> None:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise KeyTooLongError(Size=str(len(key.encode("utf-8", "surrogatepass"))), MaxSizeAllowed=str(MAX_KEY_BYTES))


def check_user_meta(user_meta: Mapping[str, str]) -> None:
    size = sum(len(k.encode()) + len(v.encode()) for k, v in user_meta.items())
    if size > MAX_USER_META_BYTES:
        raise MetadataTooLarge(Size=str(size), MaxSizeAllowed=str(MAX_USER_META_BYTES))


async def publish(node: Node, record: ObjectRecord, precondition: Precondition | None, *,
                  bucket: Bucket, tags: Sequence[tuple[str, str]] = ()) -> ObjectRecord:
    """Make ``record`` current if ``precondition`` accepts the version it replaces and the bucket of its
    name is still ``bucket``, the one the write was authorised against (both checked in the same
    transaction), with ``tags`` as its tags; on failure its fresh blobs are removed so nothing leaks."""
    try:
        record, dead = await versioning.write_version(
            node, record,
            lambda stamped: node.write(node.store.put_object, stamped, precondition, bucket_id=bucket.id, tags=tags))
    except BaseException as exc:
        if not getattr(exc, "outcome_unknown", False):  # a write that may still commit keeps its blobs
            await node.blobs.delete([s.blob_id for s in record.segments])
        raise
    await release_blobs(node.store, node.blobs, dead, node.write)
    return record


async def put_object(
    node: Node,
    principal: Principal,
    bucket: str,
    key: str,
    body: AsyncIterable[bytes],
    *,
    headers: Mapping[str, str],
    user_meta: Mapping[str, str],
    expect: Expectations,
    conditions: Mapping[str, str] | None = None,
    bucket_id: str | None = None,
    recheck: Recheck | None = None,
    encrypt: sse.Encrypt | None = None,
    tags: Sequence[tuple[str, str]] = (),
    acl: tuple[AclGrant, ...] = (),
) -> ObjectRecord:
    """Store a whole object. ``conditions`` may carry If-Match / If-None-Match for conditional writes;
    ``bucket_id`` as for :func:`write_target`; ``recheck`` is the front-end's second admission, made
    once the body has arrived (``core/inflight.py``); ``encrypt`` the encryption the request asked for
    (else the bucket's default applies); ``tags`` (checked by ``core/tagging.py``) replace the old
    version's; ``acl`` the object's, checked by ``core/acl.for_write``."""
    check_key(key)
    check_user_meta(user_meta)
    target = write_target(node, principal, bucket, key, bucket_id)
    precondition = await node.read(early_precondition, node, bucket, key, conditions)
    plan = await node.read(sse.for_write, node, target, encrypt)
    got = await receive(node, body, expect, plan)
    principal = await confirm(node, recheck, principal,
                              lambda again: write_target(node, again, bucket, key, target.id), [got.blob_id])
    record = _received_record(node, principal, bucket, key, got, plan, headers, user_meta, acl)
    return await publish(node, record, precondition, bucket=target, tags=tags)


def _received_record(node: Node, principal: Principal, bucket: str, key: str, got: Received, plan: sse.Plan | None,
                     headers: Mapping[str, str], user_meta: Mapping[str, str],
                     acl: tuple[AclGrant, ...]) -> ObjectRecord:
    """The record of a one-blob object just received (PUT, POST, a re-encrypting copy)."""
    return ObjectRecord(
        bucket=bucket,
        key=key,
        size=got.size,
        etag=plan.etag(got.md5_hex) if plan is not None else got.md5_hex,
        last_modified=node.clock.now(),
        segments=(Segment(got.blob_id, got.size),),
        headers=sse.with_plan(headers, plan),
        user_meta=dict(user_meta),
        checksums=got.checksums,
        owner_user_id=principal.user.id if principal.user else None,
        acl=acl,
    )


def write_target(node: Node, principal: Principal, bucket: str, key: str, bucket_id: str | None) -> Bucket:
    """The bucket a write of ``key`` goes to, authorised. ``bucket_id`` is the bucket a front-end admitted
    the request for before reading part of its body (a PAR's, a signed form's container): the write is
    refused unless the name still holds that bucket, as the store refuses it at commit."""
    if bucket_id is not None:
        # Checked first: a bucket of this name made since by someone else is no business of this write's.
        current = node.bucket(bucket)
        if current is None or current.id != bucket_id:
            raise NoSuchBucket(BucketName=bucket)
    return bucket_for(node, principal, bucket, Action.OBJECT_WRITE, key)


def early_precondition(
    node: Node, bucket: str, key: str, conditions: Mapping[str, str] | None
) -> Precondition | None:
    """A write's If-Match / If-None-Match, checked now (before any byte is received or copied, so a
    doomed write costs nothing) and returned for the store to check again in its transaction."""
    precondition = write_precondition(key, conditions or {})
    if precondition is not None:
        precondition(node.store.get_object(bucket, key))
    return precondition


def get_object(node: Node, principal: Principal, bucket: str, key: str, version_id: str | None = None) -> ObjectRecord:
    """The current record of a key the principal may read (its own ACL counts: ``core/acl.py``), or its
    version ``version_id`` (that version's ACL counts; authorised before anything is said about it)."""
    if version_id is not None:
        found = versioning.lookup(node, bucket, key, version_id)
        acl = found.record.acl if found is not None and not found.delete_marker else ()
        bucket_for(node, principal, bucket, Action.OBJECT_READ, key, acl=acl)
        return versioning.readable(found, key, version_id)
    record = node.store.get_object(bucket, key)
    bucket_for(node, principal, bucket, Action.OBJECT_READ, key, acl=record.acl if record is not None else ())
    if record is None:
        raise versioning.latest_deleted(node, bucket, key)
    return record


async def open_object(
    node: Node, principal: Principal, record: ObjectRecord, byte_range: ByteRange | None,
    customer: sse.CustomerKey | None = None, *, keyless_link: bool = True, version_id: str | None = None,
) -> tuple[ObjectRecord, AsyncGenerator[bytes, None]]:
    """Start streaming the bytes of ``record`` (or a range of them), a record the caller looked up.

    Encrypted objects are decrypted (``core/sse.py``): ``customer`` is the SSE-C key the request sent.
    ``keyless_link``: the request came through a link that cannot carry such a key (a minted link, PAR,
    TempURL, console share; every front-end but a plain S3 request), so an SSE-C object is refused
    with a message that says why.

    The lookup is redone once when the blob vanished between reading the metadata and opening the
    file: a concurrent overwrite deleted the old blob, and the new version is what the client gets
    (the caller compares the records to notice). A read of version ``version_id`` looks that version
    up again: its blob vanished because it was deleted, never for a newer version.
    """
    bucket, key = record.bucket, record.key
    try:
        return record, await _start(node, record, byte_range, customer, keyless_link)
    except FileNotFoundError:
        record = get_object(node, principal, bucket, key, version_id)
    try:
        return record, await _start(node, record, byte_range, customer, keyless_link)
    except FileNotFoundError:
        raise _lost(record) from None


def _source_missing(node: Node, source: ObjectRecord) -> SatchelError:
    """What a copy whose source blob the blob store does not have answers, as a GET would: when the
    metadata still names that very version with those blobs, they are lost (``500 InternalError``, logged by
    :func:`_lost`); when the source was deleted or replaced while the copy read it, ``NoSuchKey`` (the bytes
    went with the version the copy had chosen; a retry copies what is there now)."""
    found = node.store.get_object_version(source.bucket, source.key, source.version_id)
    if found is not None and not found.delete_marker and found.record.segments == source.segments:
        return _lost(source)
    return NoSuchKey(Key=source.key)


def _lost(record: ObjectRecord) -> InternalError:
    """A referenced blob the blob store does not have, twice: data loss (a file or upstream object
    deleted behind this server's back, a restore that missed blobs), not a dependency being away — the
    store answered, and said "no such blob" about one it confirmed when it was written (S3 and every
    S3-compatible engine Satchel supports read after write consistently). So a deliberate ``500
    InternalError`` (Swift and OCI: their 500s), as AWS answers when its own storage fails; never
    ``NoSuchKey``, which would contradict the listing, and never ``503``, which clients retry for as
    long as they like. One log line at ERROR names the object and its blob ids for the operator, once
    per worker (clients retrying a 500 must not flood the log); the answer names nothing."""
    blobs = ", ".join(s.blob_id for s in record.segments)
    if blobs not in _LOST_REPORTED:
        if len(_LOST_REPORTED) >= LOST_REPORTED_MAX:
            _LOST_REPORTED.clear()
        _LOST_REPORTED.add(blobs)
        log.error("blob store has lost a blob of %s/%s (blobs %s): answering 500 InternalError", record.bucket,
                  record.key, blobs)
    return InternalError("We encountered an internal error. Please try again.")


#: Lost blobs already logged (by their ids); forgotten all at once past LOST_REPORTED_MAX.
_LOST_REPORTED: set[str] = set()
LOST_REPORTED_MAX = 10_000


async def _start(
    node: Node, record: ObjectRecord, byte_range: ByteRange | None, customer: sse.CustomerKey | None,
    keyless_link: bool,
) -> AsyncGenerator[bytes, None]:
    if keyless_link and customer is None:
        sse.refuse_link(record.headers)
    stream = read_range(node, record, byte_range, sse.for_read(node, record.headers, customer))
    try:
        first = await anext(stream)
    except StopAsyncIteration:
        first = b""
    except sse.BlobDecryptError as exc:
        # Damaged stored data, found before the headers (the first chunks are decrypted, and a small
        # blob's length checked, before anything is sent): 500, and one line saying which object.
        await close_stream(stream)
        _log_damage(record, exc, sent=False)
        raise InternalError() from None
    except OSError as exc:
        await close_stream(stream)
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            raise SlowDown("Too many objects are being read at once; retry shortly.") from None
        raise
    return _prepend(first, stream, record)


def _log_damage(record: ObjectRecord, exc: sse.BlobDecryptError, *, sent: bool) -> None:
    """One line per damaged read, whichever front-end serves it: a tampered or corrupted encrypted blob."""
    log.error("stored object %s/%s is damaged (%s): %s", record.bucket, record.key,
              "body cut after its headers" if sent else "refused before its headers", exc)


async def read_to_copy(node: Node, record: ObjectRecord, byte_range: ByteRange | None,
                       plan: sse.Plan | None) -> AsyncIterator[bytes]:
    """``read_range`` for a copy that re-encrypts (CopyObject, UploadPartCopy): a damaged source is
    refused as a GET before its headers is (500, one line), and so is a lost one (:func:`_source_missing`);
    the copy is never published."""
    stream = read_range(node, record, byte_range, plan)
    try:
        async for chunk in stream:
            yield chunk
    except sse.BlobDecryptError as exc:
        _log_damage(record, exc, sent=False)
        raise InternalError() from None
    except FileNotFoundError:
        raise await node.read(_source_missing, node, record) from None
    finally:
        await close_stream(stream)


async def _prepend(first: bytes, rest: AsyncIterator[bytes], record: ObjectRecord) -> AsyncGenerator[bytes, None]:
    """Later damage can only cut the body short, as any storage error mid-body; the front-end notes the
    cut connection, this notes why."""
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    except sse.BlobDecryptError as exc:
        _log_damage(record, exc, sent=True)
        raise
    finally:
        await close_stream(rest)  # at once: it holds open files


def read_range(node: Node, record: ObjectRecord, byte_range: ByteRange | None,
               plan: sse.Plan | None = None) -> AsyncIterator[bytes]:
    """The object's bytes across its segments, limited to ``byte_range`` when given; decrypted with
    ``plan`` (from ``sse.for_read``), which an encrypted object must have.

    A reader gets the whole object as it was when looked up, or an error before the first byte,
    never a body cut short by a DELETE or an overwrite that removed a later segment's blob meanwhile.
    Two ways were weighed:

    - *Defer removing blobs while readers are active*: readers would have to register where every
      worker process and the garbage collector (``satchel.core.gc``, also run by ``satchel admin``)
      can see them, i.e. a shared table or lock file written on every GET of the hot path, and
      a crashed reader's registration would have to expire; a grace period instead is no guarantee
      for a slow download.
    - *Open every segment up front* (chosen): an open file is the kernel's own reference count. It
      works across processes and with the collector unchanged (Linux keeps an unlinked open file
      readable and frees its space at the last close, crash included), and costs one ``open`` per
      segment the range touches, before the first byte. The price is one descriptor per segment
      for the duration of the read: a 10,000-part object holds 10,000. ``satchel.worker`` raises the
      soft RLIMIT_NOFILE to the hard limit, reads of several segments may hold at most half of it
      (``READ_FD_SHARE``), and a read beyond that gets ``503 SlowDown`` before the first byte, as
      does one that meets EMFILE; a stalled reader is bounded by ``send_timeout``. Ranged and
      ``partNumber`` reads open only the segments they touch.
    """
    start = byte_range.start if byte_range else 0
    remaining = byte_range.length if byte_range else record.size
    if sse.is_encrypted(record.headers) and plan is None:
        raise ValueError("an encrypted object read without its key")
    pieces: list[tuple[str, int, int, int]] = []
    offset = 0
    for segment in record.segments:
        if remaining <= 0:
            break
        if start >= offset + segment.size:
            offset += segment.size
            continue
        inner = start - offset if start > offset else 0
        take = min(segment.size - inner, remaining)
        pieces.append((segment.blob_id, segment.size, inner, take))
        remaining -= take
        offset += segment.size
        start = offset
    if plan is not None:
        return sse.read_pieces(node.blobs, plan, pieces)
    if len(pieces) == 1:
        return node.blobs.read(pieces[0][0], pieces[0][2], pieces[0][3])
    return node.blobs.read_pieces([(blob_id, inner, take) for blob_id, _, inner, take in pieces])


async def delete_object(
    node: Node, principal: Principal, bucket: str, key: str, conditions: DeleteConditions | None = None,
    version_id: str | None = None,
) -> versioning.Deleted:
    """Delete a key (in a versioned bucket: put a delete marker over it), or its version ``version_id``;
    deleting a missing key or version succeeds, as in S3. ``conditions`` are checked in the transaction
    that deletes."""
    check_key(key)
    # Naming a version deletes it for good: a right of its own (s3:DeleteObjectVersion), not a write's.
    action = Action.OBJECT_WRITE if version_id is None else Action.OBJECT_VERSION_DELETE
    target = bucket_for(node, principal, bucket, action, key)
    if version_id is not None:
        return await versioning.delete_version(node, bucket, key, version_id, bucket_id=target.id)
    precondition = delete_precondition(key, conditions) if conditions is not None else None
    return await versioning.delete_latest(
        node, principal, bucket, key,
        # The marker arguments only when there is a marker: a store without versioning never sees them.
        lambda marker, owner: node.write(node.store.delete_object, bucket, key, precondition, bucket_id=target.id,
                                         **({"marker": marker, "owner_user_id": owner} if marker else {})))


def _source_tags(node: Node, principal: Principal, source: ObjectRecord) -> Sequence[tuple[str, str]]:
    """The tags a copy takes from its source (``COPY``): refused, rather than copied where the caller could
    read them, when the caller may read the source but not its tags (a public-read source, rule 5)."""
    tags = node.store.get_object_tags(source.bucket, source.key, source.version_id) or ()
    if tags:
        bucket_for(node, principal, source.bucket, Action.OBJECT_TAGS_READ, source.key)
    return tags


def copy_source(node: Node, principal: Principal, bucket: str, key: str,
                conditions: Mapping[str, str], version_id: str | None = None) -> ObjectRecord:
    """The object a copy (CopyObject, UploadPartCopy) reads, checked as a GET of it would be, with its
    ``x-amz-copy-source-if-*`` conditions. A step of its own so that a front-end can tell a refused
    source from a refused destination: they are different buckets' business (and audit events)."""
    source = get_object(node, principal, bucket, key, version_id)
    check_conditions(conditions, etag=source.etag, last_modified=source.last_modified,
                     prefix="x-amz-copy-source-if-", read=False)
    return source


def _is_current(node: Node, source: ObjectRecord) -> bool:
    current = node.store.get_object(source.bucket, source.key)
    return current is None or current.version_id == source.version_id


async def copy_object(
    node: Node,
    principal: Principal,
    *,
    source: ObjectRecord,
    bucket: str,
    key: str,
    replace_metadata: bool,
    headers: Mapping[str, str],
    user_meta: Mapping[str, str],
    conditions: Mapping[str, str] | None = None,
    encrypt: sse.Encrypt | None = None,
    source_customer: sse.CustomerKey | None = None,
    keep_encryption: bool = True,
    tags: Sequence[tuple[str, str]] | None = None,
    acl: tuple[AclGrant, ...] = (),
) -> ObjectRecord:
    """Server-side copy of ``source`` (from :func:`copy_source`): the new object shares no blob with the
    source (blobs are linked or copied).

    ``conditions`` are the destination's If-Match / If-None-Match, as for PutObject. ``encrypt`` is the
    copy's encryption (else the destination bucket's default); ``source_customer`` the source's SSE-C key.
    ``keep_encryption``: an SSE-S3 source makes an SSE-S3 copy when nothing else is asked — for front-ends
    that cannot ask (Swift's copy and metadata POST must not decrypt an object); S3's CopyObject passes
    False, since there a copy's encryption is independent of its source's, as on AWS. A copy that changes
    the encryption streams the bytes through the cipher (decrypting and re-encrypting) into one new blob.
    ``tags``: the copy's tags (``x-amz-tagging-directive: REPLACE``); None copies the source's (``COPY``,
    AWS's default). ``acl``: the copy's (never the source's, as on S3)."""
    check_key(key)
    source_bucket, source_key = source.bucket, source.key
    target = bucket_for(node, principal, bucket, Action.OBJECT_WRITE, key)
    precondition = await node.read(early_precondition, node, bucket, key, conditions)
    source_plan = sse.for_read(node, source.headers, source_customer)
    if encrypt is None and keep_encryption:
        encrypt = sse.kept(source.headers)
    if (source_bucket, source_key) == (bucket, key) and not replace_metadata \
            and encrypt is None and source_plan is None and _is_current(node, source):
        # Copying an older version over its key is how a version is restored: allowed, as on AWS.
        raise InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself without "
            "changing the object's metadata, storage class, website redirect location or encryption attributes."
        )
    if replace_metadata:
        check_user_meta(user_meta)
    if tags is None:
        tags = await node.read(_source_tags, node, principal, source)
    plan = await node.read(sse.for_write, node, target, encrypt)
    kept_headers = headers if replace_metadata else source.headers
    if source_plan is not None or plan is not None:
        if source_plan is not None and plan is not None and not source_plan.customer and not plan.customer:
            plan = source_plan  # SSE-S3 to SSE-S3: the blobs stay as they are, under the same data key
        else:
            return await _recrypt(node, principal, source, source_plan, plan, target, key, precondition,
                                  kept_headers, user_meta if replace_metadata else source.user_meta, tags, acl)
    segments: list[Segment] = []
    try:
        for segment in source.segments:
            segments.append(Segment(await node.blobs.copy(segment.blob_id), segment.size))
    except FileNotFoundError:
        await node.blobs.delete([s.blob_id for s in segments])
        raise await node.read(_source_missing, node, source) from None
    except BaseException:
        await node.blobs.delete([s.blob_id for s in segments])
        raise
    if plan is not None:  # the new links keep the sealed bytes: record which blob each was sealed as
        links = [(old.blob_id, new.blob_id) for old, new in zip(source.segments, segments, strict=True)]
        plan = sse.relinked(plan, links)
    record = replace(
        source,
        bucket=bucket,
        key=key,
        last_modified=node.clock.now(),
        segments=tuple(segments),
        headers=sse.with_plan(kept_headers, plan),
        user_meta=dict(user_meta) if replace_metadata else dict(source.user_meta),
        owner_user_id=principal.user.id if principal.user else None,
        acl=acl,
    )
    try:
        return await publish(node, record, precondition, bucket=target, tags=tags)
    except NoSuchBucket:
        raise NoSuchBucket(BucketName=bucket) from None


async def _recrypt(node: Node, principal: Principal, source: ObjectRecord, source_plan: sse.Plan | None,
                   plan: sse.Plan | None, target: Bucket, key: str, precondition: Precondition | None,
                   headers: Mapping[str, str], user_meta: Mapping[str, str],
                   tags: Sequence[tuple[str, str]], acl: tuple[AclGrant, ...]) -> ObjectRecord:
    """A copy whose encryption differs from its source's: the plaintext streams from the source's blobs
    through the new cipher into one blob. Full-object checksums are computed again; a multipart
    source's composite ones describe parts the copy no longer has, as on AWS."""
    compute = tuple(name for name, value in source.checksums.items() if "-" not in value)
    got = await receive(node, read_to_copy(node, source, None, source_plan), Expectations(compute=compute), plan)
    record = _received_record(node, principal, target.name, key, got, plan, headers, user_meta, acl)
    try:
        return await publish(node, record, precondition, bucket=target, tags=tags)
    except NoSuchBucket:
        raise NoSuchBucket(BucketName=target.name) from None
