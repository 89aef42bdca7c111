"""The S3 front-end's request facts for bucket policy conditions (``satchel/policyfacts.py``)."""

from __future__ import annotations

import dataclasses

from satchel.asgi import Request
from satchel.core.models import Principal
from satchel.core.policy import HEADER_KEYS
from satchel.core.requestfacts import AUTH_HEADER, AUTH_POST, AUTH_QUERY, SIGV2, SIGV4, RequestFacts
from satchel.policyfacts import http_facts
from satchel.s3.auth import AuthMethod, AuthResult
from satchel.s3.endpoints import Endpoint, amz_query_headers

_AUTH = {
    AuthMethod.HEADER_V4: (AUTH_HEADER, SIGV4),
    AuthMethod.HEADER_V2: (AUTH_HEADER, SIGV2),
    AuthMethod.QUERY_V4: (AUTH_QUERY, SIGV4),
    AuthMethod.QUERY_V2: (AUTH_QUERY, SIGV2),
    AuthMethod.POST: (AUTH_POST, None),
}
#: Listing parameters that are condition keys (``s3:prefix`` ...); request headers are ``HEADER_KEYS``.
_QUERY_KEYS = ("prefix", "delimiter", "max-keys")


def s3_facts(request: Request, endpoint: Endpoint, auth: AuthResult, now: float) -> RequestFacts:
    auth_type, version = _AUTH.get(auth.method, (None, None))
    query = request.query_dict
    keys = [(f"s3:{name}", query[name]) for name in _QUERY_KEYS if name in query]
    headers = dict(request.headers)
    if auth.presigned:  # headers an SDK moved into the signed query count as the headers they are
        headers.update(amz_query_headers(request.query))
    keys += [(f"s3:{name}", headers[name]) for name in HEADER_KEYS if name in headers]
    operation = version_operation(endpoint.op.value) if endpoint.version_id is not None else endpoint.op.value
    return http_facts(request, now=now, operation=operation, auth_type=auth_type,
                      signature_version=version, signed_at=auth.issued_at if auth.presigned else None, keys=keys)


#: Versioning: a request naming a version is, to a policy, the operation's version form (as AWS checks
#: ``s3:GetObjectVersion`` for ``GET ?versionId=``), so a Deny of the version action is never bypassed.
_VERSION_OPERATIONS = {
    "GetObject": "GetObjectVersion", "HeadObject": "GetObjectVersion", "GetObjectAcl": "GetObjectVersionAcl",
    "PutObjectAcl": "PutObjectVersionAcl", "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging", "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "DeleteObject": "DeleteObjectVersion", "DeleteObjects": "DeleteObjectVersion",
    "CopyObject": "GetObjectVersion", "UploadPartCopy": "GetObjectVersion",
}


def version_operation(operation: str) -> str:
    return _VERSION_OPERATIONS.get(operation, operation)


def for_version(principal: Principal) -> Principal:
    """``principal`` acting on one version inside a wider operation (a DeleteObjects entry, a copy's source)."""
    facts = principal.facts
    if facts is None or facts.operation is None:
        return principal
    return principal.with_facts(dataclasses.replace(facts, operation=version_operation(facts.operation)))


def post_facts(facts: RequestFacts | None, *, sigv4: bool, signed_at: float | None) -> RequestFacts | None:
    """A POST upload's facts, once its form's signature is known (``s3:authType`` POST)."""
    if facts is None:
        return None
    return dataclasses.replace(facts, auth_type=AUTH_POST, signature_version=SIGV4 if sigv4 else SIGV2,
                               signed_at=signed_at)
