"""Completed multipart uploads, remembered for a while so a retried CompleteMultipartUpload is answered.

S3 clients retry CompleteMultipartUpload when the first answer is lost (a timeout, a dropped connection
after the server committed). AWS answers such a retry with 200 and the same ETag as long as it still
knows the upload; with a different part list it answers NoSuchUpload, as for any upload it does not
know. Satchel does the same: completing an upload records, in the transaction that publishes the object,
which parts made it (a digest of the part numbers and ETags) and what the answer was. That row lives for
:data:`COMPLETION_MEMORY` seconds (rows older than that are pruned whenever another upload completes),
so the table holds at most the uploads completed in the last hour.

A retry is authorised exactly as the first call (``Action.OBJECT_WRITE`` on the key, through the same
bucket identity: a bucket of the same name made since answers NoSuchUpload) and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from satchel.core.models import ObjectRecord

#: How long a completed upload is remembered, in seconds. SDK retries come within seconds or minutes.
COMPLETION_MEMORY = 3600.0


@dataclass(frozen=True, slots=True)
class Completion:
    """What completing ``upload_id`` published, for answering a retry."""

    upload_id: str
    #: The bucket's immutable id, not its name.
    bucket_id: str
    key: str
    #: :func:`parts_digest` of the part list that made the object.
    parts_digest: str
    etag: str
    size: int
    completed: float
    parts_count: int
    checksums: dict[str, str] = field(default_factory=dict)
    #: The version id the object got (None in a bucket never versioned): a retry's answer names it too.
    version_id: str | None = None


def parts_digest(requested: Sequence[tuple[int, str, Mapping[str, str]]]) -> str:
    """One value for a completion list: its part numbers and ETags (quotes and case aside), in order."""
    text = "\n".join(f"{number}:{etag.strip().strip(chr(34)).lower()}" for number, etag, _ in requested)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def replay(found: Completion | None, *, bucket: str, bucket_id: str, key: str,
           requested: Sequence[tuple[int, str, Mapping[str, str]]], now: float) -> ObjectRecord | None:
    """The answer to give again, when ``requested`` repeats the list that completed ``found`` in this very
    bucket and key, within :data:`COMPLETION_MEMORY`; None otherwise (the caller answers NoSuchUpload)."""
    if found is None or found.bucket_id != bucket_id or found.key != key:
        return None
    if now - found.completed > COMPLETION_MEMORY:
        return None
    if not hmac.compare_digest(found.parts_digest, parts_digest(requested)):
        return None
    return ObjectRecord(bucket=bucket, key=key, size=found.size, etag=found.etag, last_modified=found.completed,
                        segments=(), checksums=dict(found.checksums), parts_count=found.parts_count,
                        version_id=found.version_id)
