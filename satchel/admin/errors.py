"""Core failures as the JSON management API answers them: ``{"error": {"code", "message", "request_id"}}``.

The codes are the core error class names (the same names S3 clients see); the statuses are this
API's own table. Anything unmapped is a 500 InternalError, so a forgotten mapping is loud.
"""

from __future__ import annotations

import json

from satchel.console.errors import NotSignedIn, TooManyAttempts
from satchel.core import errors as e

STATUS: dict[type[e.SatchelError], int] = {
    e.AccessDenied: 403,
    e.InvalidAccessKeyId: 403,
    e.SignatureDoesNotMatch: 403,
    e.RequestTimeTooSkewed: 403,
    e.AuthorizationHeaderMalformed: 400,
    e.InvalidArgument: 400,
    e.InvalidRequest: 400,
    e.MalformedPOSTRequest: 400,
    e.XAmzContentSHA256Mismatch: 400,
    e.NotFound: 404,
    e.NoSuchBucket: 404,
    e.NoSuchKey: 404,
    e.Conflict: 409,
    e.InvalidBucketName: 400,
    e.BucketAlreadyExists: 409,
    e.BucketAlreadyOwnedByYou: 409,
    e.MethodNotAllowed: 405,
    # The console's calls (sessions, objects, uploads, keys, users).
    NotSignedIn: 401,
    TooManyAttempts: 429,
    e.BucketNotEmpty: 409,
    e.NoSuchUpload: 404,
    e.BadDigest: 400,
    e.IncompleteBody: 400,
    e.RequestTimeout: 408,
    e.EntityTooLarge: 413,
    e.EntityTooSmall: 400,
    e.KeyTooLongError: 400,
    e.MetadataTooLarge: 400,
    e.InvalidPart: 400,
    e.InvalidPartOrder: 400,
    e.PreconditionFailed: 412,
    e.InvalidRange: 416,
    e.MalformedXML: 400,
    e.SlowDown: 503,
    # Node administration (bucket CORS over JSON).
    e.NoSuchCORSConfiguration: 404,
    e.InsufficientStorage: 507,
    e.ServiceUnavailable: 503,
}


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def with_request_id(body: bytes, request_id: str) -> bytes:
    """An error body that also names its request (as S3's XML errors do), for reports to an operator."""
    try:
        document = json.loads(body)
        document["error"]["request_id"] = request_id
    except (ValueError, KeyError, TypeError):
        return body
    return json.dumps(document).encode()


def render(exc: BaseException) -> tuple[int, bytes]:
    status = STATUS.get(type(exc)) if isinstance(exc, e.SatchelError) else None
    if status is None or not isinstance(exc, e.SatchelError):
        return 500, error_body("InternalError", e.InternalError.default_message)
    return status, error_body(type(exc).__name__, exc.message)
