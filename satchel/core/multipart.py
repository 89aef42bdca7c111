"""Multipart uploads: create, upload (or copy) parts, complete, abort, list.

Completing an upload copies no bytes: the object's segments are the part blobs themselves, in order.
The ETag is S3's: hex MD5 of the concatenated binary part MD5s, a dash, the part count.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import secrets
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from satchel.blobs.digests import combine_crc64nvme, new_checksum
from satchel.core import acl as acls
from satchel.core import sse, versioning
from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.completions import Completion, parts_digest, replay
from satchel.core.conditions import ByteRange
from satchel.core.errors import (
    BadDigest,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    MalformedXML,
    NoSuchUpload,
    PreconditionFailed,
)
from satchel.core.gc import release_blobs
from satchel.core.inflight import Recheck, confirm
from satchel.core.models import AclGrant, Bucket, ObjectRecord, Part, Principal, Segment, Upload
from satchel.core.node import Node
from satchel.core.objects import check_key, check_user_meta, early_precondition, read_to_copy, write_target
from satchel.core.receive import Expectations, receive, valid_checksum
from satchel.core.text import decimal

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000


async def create_upload(
    node: Node,
    principal: Principal,
    bucket: str,
    key: str,
    *,
    headers: Mapping[str, str],
    user_meta: Mapping[str, str],
    checksum_algorithm: str | None,
    bucket_id: str | None = None,
    encrypt: sse.Encrypt | None = None,
    tags: Sequence[tuple[str, str]] = (),
    acl: tuple[AclGrant, ...] = (),
) -> Upload:
    """``bucket_id`` as for ``objects.write_target``; ``encrypt`` as for ``objects.put_object``: every part
    is encrypted under the upload's content key; ``tags`` become the object's at completion, and ``acl``
    (``core/acl.py``)."""
    check_key(key)
    check_user_meta(user_meta)
    target = write_target(node, principal, bucket, key, bucket_id)
    plan = await node.read(sse.for_write, node, target, encrypt)
    upload = Upload(
        upload_id=secrets.token_urlsafe(24),
        bucket=bucket,
        key=key,
        initiated=node.clock.now(),
        owner_user_id=principal.user.id if principal.user else None,
        headers=sse.with_plan(headers, plan),
        user_meta=dict(user_meta),
        checksum_algorithm=checksum_algorithm,
        acl=acl,
    )
    return await node.write(node.store.create_upload, upload, bucket_id=target.id, tags=tags)


def get_upload(node: Node, principal: Principal, bucket: str, key: str, upload_id: str) -> Upload:
    return _authorised_upload(node, principal, bucket, key, upload_id)[1]


def _authorised_upload(node: Node, principal: Principal, bucket: str, key: str,
                       upload_id: str) -> tuple[Bucket, Upload]:
    """The upload and the bucket its step was authorised against."""
    target = bucket_for(node, principal, bucket, Action.OBJECT_WRITE, key)
    upload = node.store.get_upload(bucket, upload_id)
    if upload is None or upload.key != key:
        raise NoSuchUpload(UploadId=upload_id)
    return target, upload


def _authorised_with_acl(node: Node, principal: Principal, bucket: str, key: str, upload_id: str) -> None:
    """A completion's second admission (the body has arrived): the step, and the upload's ACL it applies."""
    target, upload = _authorised_upload(node, principal, bucket, key, upload_id)
    acls.check_deferred(principal, target, key, upload.acl)


def check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PART_NUMBER:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=str(number),
        )


async def _store_part(node: Node, upload: Upload, number: int, blob_id: str, size: int,
                      md5_hex: str, checksums: dict[str, str]) -> Part:
    part = Part(upload.upload_id, number, size, md5_hex, blob_id, node.clock.now(), checksums)
    try:
        dead = await node.write(node.store.put_part, part)
    except BaseException as exc:
        if not getattr(exc, "outcome_unknown", False):  # a write that may still commit keeps its blob
            await node.blobs.delete([blob_id])
        raise
    await release_blobs(node.store, node.blobs, dead, node.write)
    return part


async def upload_part(
    node: Node,
    principal: Principal,
    bucket: str,
    key: str,
    upload_id: str,
    number: int,
    body: AsyncIterable[bytes],
    expect: Expectations,
    recheck: Recheck | None = None,
    customer: sse.CustomerKey | None = None,
) -> Part:
    """``recheck``: the front-end's second admission, once the body has arrived (``core/inflight.py``);
    ``customer``: the SSE-C key, which every part of an SSE-C upload must bring (the upload's, as AWS)."""
    check_part_number(number)
    upload = await node.read(get_upload, node, principal, bucket, key, upload_id)
    plan = sse.for_read(node, upload.headers, customer)
    sent = {*expect.checksums, *([expect.trailer] if expect.trailer else [])}
    if upload.checksum_algorithm and sent - {upload.checksum_algorithm}:
        # As AWS: a part's checksum is of the upload's algorithm, or the part is refused.
        raise InvalidRequest(f"Checksum Type mismatch occurred, expected checksum Type: {upload.checksum_algorithm}, "
                             f"actual checksum Type: {', '.join(sorted(sent))}")
    if upload.checksum_algorithm and upload.checksum_algorithm not in expect.compute:
        expect.compute = (*expect.compute, upload.checksum_algorithm)
    got = await receive(node, body, expect, plan)
    await confirm(node, recheck, principal, lambda again: get_upload(node, again, bucket, key, upload_id),
                  [got.blob_id])
    return await _store_part(node, upload, number, got.blob_id, got.size, _part_etag(plan, got.md5_hex),
                             got.checksums)


def _part_etag(plan: sse.Plan | None, md5_hex: str) -> str:
    return plan.etag(md5_hex) if plan is not None else md5_hex


async def upload_part_copy(
    node: Node,
    principal: Principal,
    bucket: str,
    key: str,
    upload_id: str,
    number: int,
    *,
    source: ObjectRecord,
    source_range: ByteRange | None,
    customer: sse.CustomerKey | None = None,
    source_customer: sse.CustomerKey | None = None,
) -> Part:
    """A part copied from ``source`` (read by ``objects.copy_source``), whole or ``source_range``; decrypted
    with the source's key and encrypted with the upload's (``customer``: its SSE-C key)."""
    check_part_number(number)
    upload = await node.read(get_upload, node, principal, bucket, key, upload_id)
    plan = sse.for_read(node, upload.headers, customer)
    source_plan = sse.for_read(node, source.headers, source_customer)
    if source_range is not None and source_range.end >= source.size:
        # A well-formed range past the source's end is unsatisfiable (416 InvalidRange, as S3 answers and
        # ceph s3-tests test_multipart_copy_invalid_range expects); unlike GET, a copy never clamps it.
        raise InvalidRange("The requested range is not satisfiable",
                           RangeRequested=f"bytes={source_range.start}-{source_range.end}",
                           ActualObjectSize=str(source.size))
    compute = (upload.checksum_algorithm,) if upload.checksum_algorithm else ()
    got = await receive(node, read_to_copy(node, source, source_range, source_plan), Expectations(compute=compute),
                        plan)
    return await _store_part(node, upload, number, got.blob_id, got.size, _part_etag(plan, got.md5_hex),
                             got.checksums)


def _normal_etag(etag: str) -> str:
    return etag.strip().strip('"')


@dataclass(frozen=True, slots=True)
class ObjectChecks:
    """What CompleteMultipartUpload's headers say the object must be (each checked before it is published)."""

    #: ``x-amz-checksum-<alg>``: the object's checksum (full-object, or composite with or without ``-N``).
    checksums: Mapping[str, str] = field(default_factory=dict)
    #: ``x-amz-checksum-type``: must be the upload's.
    checksum_type: str | None = None
    #: ``x-amz-mp-object-size``, as sent.
    size: str | None = None


async def complete_upload(
    node: Node,
    principal: Principal,
    bucket: str,
    key: str,
    upload_id: str,
    requested: Sequence[tuple[int, str, Mapping[str, str]]],
    conditions: Mapping[str, str] | None = None,
    *,
    expected: ObjectChecks = ObjectChecks(),
    recheck: Recheck | None = None,
    customer: sse.CustomerKey | None = None,
) -> ObjectRecord:
    """Publish the listed parts as the object. Checks S3's rules in S3's order.

    ``conditions`` (If-Match / If-None-Match) are checked against the object the upload would
    replace, again in the transaction that publishes; when they fail the upload stays as it was.
    ``recheck``: the front-end's second admission, made once the request's body has arrived and before
    publishing (``core/inflight.py``); refused, the upload stays as it was too.

    An upload completed within ``COMPLETION_MEMORY`` with the same part list answers again as it did the
    first time and changes nothing (``core/completions.py``); with another list, NoSuchUpload."""
    try:
        target, upload = await node.read(_authorised_upload, node, principal, bucket, key, upload_id)
    except NoSuchUpload:
        return await node.read(_completed_before, node, principal, bucket, key, upload_id, requested)
    # Refused before anything else, leaving the upload as it was (it can still be aborted, or completed by
    # someone who may set its ACL).
    acls.check_deferred(principal, target, key, upload.acl)
    customer_upload = sse.is_customer(upload.headers)
    if customer_upload and upload.checksum_algorithm:
        sse.for_read(node, upload.headers, customer)  # AWS: the key is required when checksums are kept
    precondition = await node.read(early_precondition, node, bucket, key, conditions)
    if not requested:
        raise MalformedXML()
    numbers = [number for number, _, _ in requested]
    if any(b <= a for a, b in itertools.pairwise(numbers)):  # strictly ascending: a part named twice too
        raise InvalidPartOrder(UploadId=upload_id)
    stored = {part.part_number: part for part in await node.read(node.store.list_parts, upload_id)}
    chosen: list[Part] = []
    for number, etag, checksums in requested:
        part = stored.get(number)
        if part is None or _normal_etag(etag) != part.etag:
            if part is None:  # a concurrent completion of the same list may have taken the parts just now
                with contextlib.suppress(NoSuchUpload):
                    return await node.read(_completed_before, node, principal, bucket, key, upload_id, requested)
            raise InvalidPart(UploadId=upload_id, PartNumber=str(number), ETag=etag)
        _check_part_checksums(upload, part, etag, checksums)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise EntityTooSmall(
                ProposedSize=str(part.size), MinSizeAllowed=str(MIN_PART_SIZE),
                PartNumber=str(part.part_number), ETag=f'"{part.etag}"',
            )
    md5s = b"".join(binascii.unhexlify(part.etag) for part in chosen)
    etag = f"{hashlib.md5(md5s, usedforsecurity=False).hexdigest()}-{len(chosen)}"
    record = ObjectRecord(
        bucket=bucket,
        key=key,
        size=sum(part.size for part in chosen),
        etag=etag,
        last_modified=node.clock.now(),
        segments=tuple(Segment(part.blob_id, part.size) for part in chosen),
        headers=dict(upload.headers),
        user_meta=dict(upload.user_meta),
        checksums=_composite_checksums(upload, chosen),
        parts_count=len(chosen),
        owner_user_id=upload.owner_user_id,
        acl=upload.acl,
    )
    _check_object(upload, record, expected)
    # The bucket stays the one authorised first: the store's transaction below checks its id.
    await confirm(node, recheck, principal, lambda again: _authorised_with_acl(node, again, bucket, key, upload_id))
    remember = Completion(upload_id=upload_id, bucket_id=target.id, key=key, parts_digest=parts_digest(requested),
                          etag=record.etag, size=record.size, completed=record.last_modified,
                          parts_count=len(chosen),
                          # A retry may come without the key: it gets no plaintext checksums.
                          checksums={} if customer_upload else record.checksums)
    try:
        record, dead = await versioning.write_version(
            node, record,
            lambda stamped: node.write(node.store.complete_upload, upload_id, stamped, precondition,
                                       bucket_id=target.id,
                                       remember=replace(remember, version_id=stamped.version_id)))
    except NoSuchUpload:  # a concurrent completion of the same upload won
        return await node.read(_completed_before, node, principal, bucket, key, upload_id, requested)
    await release_blobs(node.store, node.blobs, dead, node.write)
    return record


def _completed_before(node: Node, principal: Principal, bucket: str, key: str, upload_id: str,
                      requested: Sequence[tuple[int, str, Mapping[str, str]]]) -> ObjectRecord:
    """The first answer again, for a retry of a completion still remembered; NoSuchUpload otherwise."""
    target = bucket_for(node, principal, bucket, Action.OBJECT_WRITE, key)
    again = replay(node.store.completed_upload(upload_id), bucket=bucket, bucket_id=target.id, key=key,
                   requested=requested, now=node.clock.now())
    if again is None:
        raise NoSuchUpload(UploadId=upload_id)
    return again


def _check_part_checksums(upload: Upload, part: Part, etag: str, claimed: Mapping[str, str]) -> None:
    """Every checksum the client lists for a part must be the part's, as AWS checks them.

    The upload's own algorithm must be listed for every part (its values make the object's checksum);
    a wrong value of it is InvalidPart. A value of another algorithm is checked against what the part
    was uploaded with; one that differs, or that the part never had (nothing to check it against), is
    BadDigest — InvalidPart for an upload made without an algorithm. Never silently ignored.
    """
    number = part.part_number
    algorithm = upload.checksum_algorithm
    if len(claimed) > 1 or not all(valid_checksum(name, value) for name, value in claimed.items()):
        raise InvalidArgument("Invalid Base64 or multiple checksums present in request")
    if algorithm and algorithm not in claimed:
        raise InvalidRequest(
            f"The upload was created using a {algorithm} checksum. The complete request must include the "
            f"checksum for each part. It was missing for part {number} in the request."
        )
    for name, value in claimed.items():
        if part.checksums.get(name) == value:
            continue
        if name == algorithm or not algorithm:
            raise InvalidPart(UploadId=upload.upload_id, PartNumber=str(number), ETag=etag)
        raise BadDigest(f"The {name} you specified for part {number} did not match what we received.")


def _check_object(upload: Upload, record: ObjectRecord, expected: ObjectChecks) -> None:
    """The client's expectations of the whole object, as AWS checks them; never ignored."""
    if expected.size is not None:
        size = decimal(expected.size)
        if size is None:
            raise InvalidRequest(f"Value for x-amz-mp-object-size header is invalid: '{expected.size}'")
        if size != record.size:
            raise InvalidRequest(f"The provided 'x-amz-mp-object-size' header value {expected.size} does not match "
                                 f"what was computed: {record.size}")
    made = None if upload.checksum_algorithm is None else \
        "FULL_OBJECT" if upload.checksum_algorithm == "crc64nvme" else "COMPOSITE"
    if expected.checksum_type is not None and expected.checksum_type.strip().upper() != made:
        raise InvalidRequest(f"The upload was created using the {made or 'null'} checksum mode. The complete "
                             "request must use the same checksum mode.")
    for algorithm, value in expected.checksums.items():
        computed = record.checksums.get(algorithm)
        if computed is None:
            raise InvalidRequest(f"The upload was created using the {upload.checksum_algorithm or 'null'} checksum "
                                 f"algorithm; the object has no {algorithm} checksum to compare.")
        if value not in (computed, computed.partition("-")[0]):
            raise BadDigest(f"The {algorithm.upper()} you specified did not match the calculated checksum.")


def _composite_checksums(upload: Upload, parts: Sequence[Part]) -> dict[str, str]:
    """The object's checksum for uploads created with a checksum algorithm: S3's checksum of checksums
    (``<b64>-<N>``), or for CRC64NVME, which S3 only offers as a full-object checksum, the CRC of the
    whole object (combined from the parts' CRCs; no suffix)."""
    algorithm = upload.checksum_algorithm
    if not algorithm or not all(algorithm in part.checksums for part in parts):
        return {}
    if algorithm == "crc64nvme":
        whole = bytes(8)
        for part in parts:
            whole = combine_crc64nvme(whole, base64.b64decode(part.checksums[algorithm]), part.size)
        return {algorithm: base64.b64encode(whole).decode()}
    digest = new_checksum(algorithm)
    for part in parts:
        digest.update(base64.b64decode(part.checksums[algorithm]))
    return {algorithm: f"{base64.b64encode(digest.digest()).decode()}-{len(parts)}"}


async def abort_upload(
    node: Node, principal: Principal, bucket: str, key: str, upload_id: str, *, initiated: float | None = None
) -> None:
    """``initiated`` is ``x-amz-if-match-initiated-time``: abort only the upload started then (412
    otherwise). An upload's start never changes, so checking before the transaction is exact."""
    upload = await node.read(get_upload, node, principal, bucket, key, upload_id)
    if initiated is not None and int(upload.initiated) != int(initiated):
        raise PreconditionFailed(Condition="x-amz-if-match-initiated-time")
    dead = await node.write(node.store.abort_upload, upload_id)
    await release_blobs(node.store, node.blobs, dead, node.write)


def list_parts(
    node: Node, principal: Principal, bucket: str, key: str, upload_id: str, *, after: int, limit: int,
    customer: sse.CustomerKey | None = None,
) -> tuple[Upload, list[Part], bool]:
    """A page of the upload's parts. The checksums of an SSE-C upload's parts are of its plaintext (a
    CRC32 of a short secret is a cheap guess to confirm): AWS requires the upload's SSE-C key to list them
    when the upload has a checksum algorithm, and so does Satchel whenever the page would show one."""
    upload = get_upload(node, principal, bucket, key, upload_id)
    parts = node.store.list_parts(upload_id, after=after, limit=limit + 1)
    if sse.is_customer(upload.headers) and (upload.checksum_algorithm or any(p.checksums for p in parts[:limit])):
        sse.for_read(node, upload.headers, customer)  # 400 without the key, 403 with another
    return upload, parts[:limit], len(parts) > limit
