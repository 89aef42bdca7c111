"""Access URLs to endpoints: a pure function of the method and the raw (still percent-encoded) path.

    /p/{token}/n/{namespace}/b/{bucket}/o/            GET: ListObjects (when the PAR allows listing)
    /p/{token}/n/{namespace}/b/{bucket}/o/{object}    GET, HEAD: GetObject, HeadObject; PUT: PutObject
                                                      (with ``opc-multipart: true``: CreateMultipartUpload)
    /p/{token}/n/{namespace}/b/{bucket}/u/{object}/id/{uploadId}/{partNum}   PUT: UploadPart
    /p/{token}/n/{namespace}/b/{bucket}/u/{object}/id/{uploadId}/            POST: CommitMultipartUpload,
                                                                             DELETE: AbortMultipartUpload

The multipart paths are OCI's (its create answer's ``accessUri``), with one difference: OCI hands out a
second token for the upload, Satchel keeps the PAR's own, so one URL serves the whole upload.

The path is split on its raw slashes first and each segment decoded afterwards, so an encoded slash
(``%2F``) in the namespace or bucket never moves a segment boundary. The object name is the rest of the
path, decoded once (``a%2Fb`` and ``a/b`` name the same object, as on OCI). Names with ``.`` or ``..``
segments are refused (400): a client or proxy normalizing the path would otherwise request another object
than the one its user saw.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.multipart import MAX_PART_NUMBER
from satchel.core.par.manage import has_dot_segment, plain_text
from satchel.core.text import decimal

PREFIX = "/p/"


class Op(enum.Enum):
    GetObject = "GetObject"
    HeadObject = "HeadObject"
    PutObject = "PutObject"
    ListObjects = "ListObjects"
    CreateMultipartUpload = "CreateMultipartUpload"
    UploadPart = "UploadPart"
    CommitMultipartUpload = "CommitMultipartUpload"
    AbortMultipartUpload = "AbortMultipartUpload"


@dataclass(frozen=True, slots=True)
class Endpoint:
    op: Op
    token: str
    namespace: str
    bucket: str
    #: The object name; for ListObjects, "".
    key: str
    upload_id: str | None = None
    part_number: int | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What a path names, before the method is looked at (also what a refusal's audit event records)."""

    token: str
    namespace: str
    bucket: str
    key: str
    #: The multipart paths (``/u/``): the upload id and what follows it ("" or a part number).
    upload_id: str | None = None
    part: str | None = None


def _decode(segment: str, what: str) -> str:
    text = unquote(segment, errors="surrogateescape")
    if not plain_text(text):
        raise InvalidArgument(f"The {what} in the URL is not UTF-8 text without control characters.")
    return text


def parse_target(raw_path: str) -> Target:
    """AccessDenied (the uniform refusal) for a path that is no access URL at all."""
    parts = raw_path.split("/", 8)
    if len(parts) != 9 or parts[:2] != ["", "p"] or parts[3] != "n" or parts[5] != "b" or parts[7] not in "ou":
        raise AccessDenied("The path is not a pre-authenticated request's access URL.")
    token, namespace, bucket = parts[2], _decode(parts[4], "namespace"), _decode(parts[6], "bucket")
    if parts[7] == "u":
        name, found, tail = parts[8].rpartition("/id/")
        upload_id, slash, part = tail.partition("/")
        if not found or not name or not upload_id or not slash:
            raise AccessDenied("The path is not a multipart upload's access URL.")
        return Target(token, namespace, bucket, _decode(name, "object name"), _decode(upload_id, "upload id"), part)
    key = _decode(parts[8], "object name") if parts[8] else ""
    return Target(token, namespace, bucket, key)


def route(method: str, target: Target, headers: Mapping[str, str] | None = None) -> Endpoint:
    if target.upload_id is not None:
        return _upload_route(method, target)
    if target.key == "":
        if method == "GET":
            return Endpoint(Op.ListObjects, target.token, target.namespace, target.bucket, "")
        if method == "PUT":
            raise InvalidArgument("An object name is required: PUT to …/o/{objectName}.")
        raise AccessDenied(f"The method {method} is not allowed on a listing.")
    if has_dot_segment(target.key):
        raise InvalidArgument("Object names with '.' or '..' segments cannot be used through a "
                              "pre-authenticated request.")
    ops = {"GET": Op.GetObject, "HEAD": Op.HeadObject, "PUT": Op.PutObject}
    op = ops.get(method)
    if op is Op.PutObject and headers is not None and "opc-multipart" in headers:
        if headers["opc-multipart"].strip().lower() != "true":
            raise InvalidArgument("opc-multipart must be true (or absent).")
        op = Op.CreateMultipartUpload
    if op is None:
        # DELETE, POST and the rest: OCI's PARs never delete objects or buckets.
        raise AccessDenied(f"The method {method} is not allowed through a pre-authenticated request.")
    return Endpoint(op, target.token, target.namespace, target.bucket, target.key)


def _upload_route(method: str, target: Target) -> Endpoint:
    if has_dot_segment(target.key):
        raise InvalidArgument("Object names with '.' or '..' segments cannot be used through a "
                              "pre-authenticated request.")
    op, number = None, None
    if target.part == "":
        op = {"POST": Op.CommitMultipartUpload, "DELETE": Op.AbortMultipartUpload}.get(method)
    elif method == "PUT":
        number = decimal(target.part or "", 5)
        if number is None or not 1 <= number <= MAX_PART_NUMBER:
            raise InvalidArgument(f"The part number must be an integer from 1 to {MAX_PART_NUMBER}.")
        op = Op.UploadPart
    if op is None:
        raise AccessDenied(f"The method {method} is not allowed on a multipart upload's URL.")
    return Endpoint(op, target.token, target.namespace, target.bucket, target.key, target.upload_id, number)
