"""Access URLs to endpoints: a pure function of the method and the raw (still percent-encoded) path.

    /p/{token}/n/{namespace}/b/{bucket}/o/            GET: ListObjects (when the PAR allows listing)
    /p/{token}/n/{namespace}/b/{bucket}/o/{object}    GET, HEAD: GetObject, HeadObject; PUT: PutObject

The path is split on its raw slashes first and each segment decoded afterwards, so an encoded slash
(``%2F``) in the namespace or bucket never moves a segment boundary. The object name is the rest of the
path, decoded once (``a%2Fb`` and ``a/b`` name the same object, as on OCI). Names with ``.`` or ``..``
segments are refused (400): a client or proxy normalizing the path would otherwise request another object
than the one its user saw.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import unquote

from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.par.manage import has_dot_segment
from satchel.core.text import is_text

PREFIX = "/p/"


class Op(enum.Enum):
    GetObject = "GetObject"
    HeadObject = "HeadObject"
    PutObject = "PutObject"
    ListObjects = "ListObjects"


@dataclass(frozen=True, slots=True)
class Endpoint:
    op: Op
    token: str
    namespace: str
    bucket: str
    #: The object name; for ListObjects, "".
    key: str


@dataclass(frozen=True, slots=True)
class Target:
    """What a path names, before the method is looked at (also what a refusal's audit event records)."""

    token: str
    namespace: str
    bucket: str
    key: str


def _decode(segment: str, what: str) -> str:
    text = unquote(segment, errors="surrogateescape")
    if not is_text(text) or not text.isprintable():
        raise InvalidArgument(f"The {what} in the URL is not printable UTF-8.")
    return text


def parse_target(raw_path: str) -> Target:
    """AccessDenied (the uniform refusal) for a path that is no access URL at all."""
    parts = raw_path.split("/", 8)
    if len(parts) != 9 or parts[:2] != ["", "p"] or parts[3] != "n" or parts[5] != "b" or parts[7] != "o":
        raise AccessDenied("The path is not a pre-authenticated request's access URL.")
    token, namespace, bucket = parts[2], _decode(parts[4], "namespace"), _decode(parts[6], "bucket")
    key = _decode(parts[8], "object name") if parts[8] else ""
    return Target(token, namespace, bucket, key)


def route(method: str, target: Target) -> Endpoint:
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
    if op is None:
        # DELETE, POST and the rest: OCI's PARs never delete objects or buckets.
        raise AccessDenied(f"The method {method} is not allowed through a pre-authenticated request.")
    return Endpoint(op, target.token, target.namespace, target.bucket, target.key)
