"""What a handler gets besides the node: the request, its route and who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from satchel.asgi import Request
from satchel.core.admission import Admission
from satchel.core.errors import SatchelError
from satchel.core.models import Principal
from satchel.s3.auth import AuthResult
from satchel.s3.endpoints import Endpoint


@dataclass(slots=True)
class S3Context:
    request: Request
    endpoint: Endpoint
    auth: AuthResult
    request_id: str
    #: Set by handlers that authenticate inside the body (POST policy uploads), for the audit trail.
    signer: Principal | None = None
    object_key: str | None = None
    #: A presigned request's admission (its link, issue time): bucket-level handlers check each key
    #: they act on against revocations with it.
    admission: Admission | None = None
    #: A copy (CopyObject, UploadPartCopy): the bytes it read from its source, or what refused the
    #: source. A copy through a link is audited for its source bucket too, with this.
    source_bytes: int = 0
    source_failure: SatchelError | None = None
    #: A DeleteObjects: what happened to its keys, for its audit event (``linkuse.delete_summary``).
    summary: str | None = None

    @property
    def bucket(self) -> str:
        assert self.endpoint.bucket is not None  # the router only routes bucket ops with a bucket
        return self.endpoint.bucket

    @property
    def key(self) -> str:
        assert self.endpoint.key is not None  # the router only routes object ops with a key
        return self.endpoint.key

    @property
    def upload_id(self) -> str:
        assert self.endpoint.upload_id is not None  # the router requires it for multipart ops
        return self.endpoint.upload_id

    @property
    def part_number(self) -> int:
        assert self.endpoint.part_number is not None  # the router requires it for part ops
        return self.endpoint.part_number
