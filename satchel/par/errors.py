"""Core failures as OCI Object Storage answers them: JSON ``{"code": ..., "message": ...}``.

One table, from core error class to OCI's code and status (OCI's API errors reference). Every refusal of
access — an unknown, expired, deleted or used-up token, a URL of another bucket, an object out of scope, a
method the PAR does not grant, a client outside its address range, a creator no longer allowed, a
revocation — is the same ``404 NotAuthorizedOrNotFound`` with the same message: nothing in the answer tells
whether a token exists (the audit event says why). Anything unmapped is ``500 InternalServerError``.
"""

from __future__ import annotations

import json

from satchel.core import errors as e

#: The one answer to every refusal of access.
UNIFORM_MESSAGE = ("Either the pre-authenticated request does not exist, or it does not allow this request. "
                   "It may have expired or been deleted.")

TABLE: dict[type[e.SatchelError], tuple[str, int]] = {
    e.AccessDenied: ("NotAuthorizedOrNotFound", 404),
    e.NoSuchBucket: ("NotAuthorizedOrNotFound", 404),
    e.NoSuchKey: ("ObjectNotFound", 404),
    e.NoSuchVersion: ("ObjectNotFound", 404),
    e.VersioningChanged: ("Conflict", 409),
    e.NoSuchUpload: ("NoSuchUpload", 404),
    e.InvalidArgument: ("InvalidParameter", 400),
    e.InvalidRequest: ("InvalidParameter", 400),
    e.InvalidURI: ("InvalidParameter", 400),
    e.InvalidDigest: ("InvalidParameter", 400),
    e.KeyTooLongError: ("InvalidParameter", 400),
    e.MetadataTooLarge: ("InvalidParameter", 400),
    e.InvalidPart: ("InvalidParameter", 400),
    e.InvalidPartOrder: ("InvalidParameter", 400),
    e.EntityTooSmall: ("InvalidParameter", 400),
    e.BadDigest: ("UnmatchedContentMD5", 400),
    e.IncompleteBody: ("InsufficientContentLength", 400),
    e.RequestTimeout: ("RequestTimeout", 408),
    e.MissingContentLength: ("MissingContentLength", 411),
    e.EntityTooLarge: ("RequestEntityTooLarge", 413),
    e.InvalidRange: ("InvalidRange", 416),
    e.NotImplementedFeature: ("NotImplemented", 501),
    e.MethodNotAllowed: ("MethodNotAllowed", 405),
    # Every SlowDown is the server's side being short (the upstream blob store away, too many reads or
    # connections at once), never this client's rate: OCI's answer for that is 503 ServiceUnavailable
    # ("the service is currently unavailable"); its 429 TooManyRequests means "you are throttled".
    e.SlowDown: ("ServiceUnavailable", 503),
    e.InsufficientStorage: ("InsufficientStorage", 507),
    e.ServiceUnavailable: ("ServiceUnavailable", 503),
    e.InternalError: ("InternalServerError", 500),
}


def error_code(exc: BaseException) -> tuple[str, int]:
    if isinstance(exc, e.PreconditionFailed):
        condition = exc.extra.get("Condition", "")
        return ("IfNoneMatchFailed" if "none" in condition.lower() else "IfMatchFailed"), 412
    found = TABLE.get(type(exc)) if isinstance(exc, e.SatchelError) else None
    return found or ("InternalServerError", 500)


def render(exc: BaseException) -> tuple[int, bytes]:
    code, status = error_code(exc)
    if code == "NotAuthorizedOrNotFound":
        message = UNIFORM_MESSAGE  # the reason goes to the audit trail only
    elif status == 500:
        message = e.InternalError.default_message
    else:
        assert isinstance(exc, e.SatchelError)
        message = exc.message
    return status, json.dumps({"code": code, "message": message}).encode()
