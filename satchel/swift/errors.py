"""Failures as Swift answers them: a status and, like Swift's proxy, a short HTML page for the
generic cases (``swob``'s wording) or a plain-text sentence when there is something specific to say.

Core errors map to statuses in one table; anything unmapped is a 500, so a forgotten mapping is loud.
"""

from __future__ import annotations

from satchel.core import errors as core

#: swob's titles and explanations for the statuses this front-end answers with.
REASONS: dict[int, tuple[str, str]] = {
    400: ("Bad Request", "The server could not comply with the request since it is either malformed or "
                         "otherwise incorrect."),
    401: ("Unauthorized", "This server could not verify that you are authorized to access the document you "
                          "requested."),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Length Required"),
    412: ("Precondition Failed", "A precondition for this request was not met."),
    413: ("Request Entity Too Large", "The body of your request was too large for this server."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
    499: ("Client Disconnect", "The client was disconnected during request."),
    500: ("Internal Error", "The server has either erred or is incapable of performing the requested operation."),
    501: ("Not Implemented", "The requested method is not implemented by this server."),
    503: ("Service Unavailable", "The server is currently unavailable. Please try again at a later time."),
}


class SwiftError(Exception):
    """A refusal decided by the front-end itself. ``message`` (plain text) says why, for refusals of
    something Swift has but Satchel does not honour; without one the generic page is sent."""

    def __init__(self, status: int, message: str | None = None, headers: list[tuple[str, str]] | None = None):
        super().__init__(message or REASONS.get(status, ("Error", ""))[0])
        self.status = status
        self.message = message
        self.headers = headers or []


def unauthorized(message: str | None = None) -> SwiftError:
    return SwiftError(401, message)


#: Core failures by status. AccessDenied is decided per request (401 anonymous, 403 otherwise).
_STATUS: dict[type[core.SatchelError], int] = {
    core.NoSuchBucket: 404,
    core.NoSuchKey: 404,
    core.NotFound: 404,
    core.NoSuchUpload: 404,
    core.BucketNotEmpty: 409,
    core.Conflict: 409,
    core.VersioningChanged: 409,
    core.BucketAlreadyExists: 409,
    core.PreconditionFailed: 412,
    core.InvalidRange: 416,
    core.BadDigest: 422,
    core.InvalidDigest: 422,
    core.EntityTooLarge: 413,
    core.IncompleteBody: 499,
    core.RequestTimeout: 408,
    core.MissingContentLength: 411,
    core.KeyTooLongError: 400,
    core.MetadataTooLarge: 400,
    core.InvalidArgument: 400,
    core.InvalidRequest: 400,
    core.InvalidBucketName: 400,
    core.InvalidURI: 400,
    core.NotImplementedFeature: 501,
    core.SlowDown: 503,
    core.InsufficientStorage: 507,
    core.ServiceUnavailable: 503,
    core.InternalError: 500,
}

#: Core failures whose message is worth sending as is (the others get swob's page).
_SAY_WHY = (core.KeyTooLongError, core.MetadataTooLarge, core.InvalidArgument, core.InvalidRequest,
            core.InvalidBucketName, core.NotImplementedFeature, core.EntityTooLarge, core.InsufficientStorage)


_HIDDEN_FROM_ANONYMOUS = (core.NoSuchBucket, core.NotFound, core.NoSuchUpload)


def status_of(exc: BaseException, *, anonymous: bool) -> tuple[int, str | None]:
    """(status, plain-text reason or None) for any failure."""
    if isinstance(exc, SwiftError):
        return exc.status, exc.message
    if isinstance(exc, core.AccessDenied):
        # As tempauth: an anonymous caller is asked to authenticate, a known one is refused.
        return (401 if anonymous else 403), None
    if anonymous and isinstance(exc, _HIDDEN_FROM_ANONYMOUS):
        # As tempauth: whatever does or does not exist, an anonymous request that is refused is 401 (a 404
        # would tell which containers exist). A missing object of a readable (public) container is 404:
        # core decides access before it looks the key up, so NoSuchKey only reaches those who may read.
        return 401, None
    if isinstance(exc, core.KeyTooLongError):
        return 400, f"Object name length of {exc.extra.get('Size', '?')} longer than 1024"
    if isinstance(exc, core.MetadataTooLarge):
        if "MaxCount" in exc.extra:
            return 400, exc.message
        return 400, f"Metadata too large; max {exc.extra.get('MaxSizeAllowed', '?')} bytes"
    if isinstance(exc, core.SatchelError):
        status = _STATUS.get(type(exc), 500)
        return status, exc.message if (isinstance(exc, _SAY_WHY) and status < 500) or status == 501 else None
    return 500, None


def error_body(status: int, message: str | None) -> tuple[str, bytes]:
    """(Content-Type, body) of an error answer."""
    if message is not None:
        return "text/plain; charset=UTF-8", message.encode() + b"\n"
    title, explanation = REASONS.get(status, ("Error", ""))
    return "text/html; charset=UTF-8", f"<html><h1>{title}</h1><p>{explanation}</p></html>".encode()
