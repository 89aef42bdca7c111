"""Core failures -> S3 wire errors: one exhaustive table, one renderer.

Codes and statuses follow the Amazon S3 error-code list
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). A class missing from
:data:`S3_ERRORS` — or any unexpected exception — becomes ``500 InternalError`` with a generic
message, so an unmapped failure is loud in tests and never leaks internals to clients. Lookup is by
exact class: a new subclass needs its own row, on purpose.
"""

from __future__ import annotations

from satchel.core import errors as e
from satchel.s3 import xml

S3_ERRORS: dict[type[e.SatchelError], tuple[str, int]] = {
    # authentication
    e.AccessDenied: ("AccessDenied", 403),
    e.InvalidAccessKeyId: ("InvalidAccessKeyId", 403),
    e.SignatureDoesNotMatch: ("SignatureDoesNotMatch", 403),
    e.RequestTimeTooSkewed: ("RequestTimeTooSkewed", 403),
    e.AuthorizationHeaderMalformed: ("AuthorizationHeaderMalformed", 400),
    e.AuthorizationQueryParametersError: ("AuthorizationQueryParametersError", 400),
    e.MissingSecurityHeader: ("MissingSecurityHeader", 400),
    e.XAmzContentSHA256Mismatch: ("XAmzContentSHA256Mismatch", 400),
    # S3 answers an unsupported auth mechanism (e.g. AWS4-ECDSA-P256-SHA256) with InvalidRequest.
    e.InvalidSignatureMethod: ("InvalidRequest", 400),
    # request shape
    e.InvalidArgument: ("InvalidArgument", 400),
    e.InvalidRequest: ("InvalidRequest", 400),
    e.InvalidDigest: ("InvalidDigest", 400),
    e.BadDigest: ("BadDigest", 400),
    e.IncompleteBody: ("IncompleteBody", 400),
    e.RequestTimeout: ("RequestTimeout", 400),
    e.MalformedTrailerError: ("MalformedTrailerError", 400),
    e.MissingContentLength: ("MissingContentLength", 411),
    e.EntityTooLarge: ("EntityTooLarge", 400),
    e.EntityTooSmall: ("EntityTooSmall", 400),
    e.KeyTooLongError: ("KeyTooLongError", 400),
    e.MetadataTooLarge: ("MetadataTooLarge", 400),
    e.MalformedXML: ("MalformedXML", 400),
    e.MalformedPOSTRequest: ("MalformedPOSTRequest", 400),
    e.InvalidPolicyDocument: ("InvalidPolicyDocument", 400),
    e.InvalidBucketName: ("InvalidBucketName", 400),
    e.InvalidURI: ("InvalidURI", 400),
    e.InvalidRange: ("InvalidRange", 416),
    e.InvalidPart: ("InvalidPart", 400),
    e.InvalidPartOrder: ("InvalidPartOrder", 400),
    e.InvalidPartNumber: ("InvalidPartNumber", 416),
    e.InvalidStorageClass: ("InvalidStorageClass", 400),
    e.TooManyParts: ("TooManyParts", 400),
    e.NotImplementedFeature: ("NotImplemented", 501),
    e.MethodNotAllowed: ("MethodNotAllowed", 405),
    e.RequestHeaderSectionTooLarge: ("RequestHeaderSectionTooLarge", 400),
    # What S3 sends when no CORS rule admits a preflight (not in its documented table).
    e.CORSForbidden: ("AccessForbidden", 403),
    e.CORSBadRequest: ("BadRequest", 400),
    # state
    e.NoSuchBucket: ("NoSuchBucket", 404),
    e.NoSuchKey: ("NoSuchKey", 404),
    e.NoSuchVersion: ("NoSuchVersion", 404),
    e.VersioningChanged: ("OperationAborted", 409),
    e.NoSuchUpload: ("NoSuchUpload", 404),
    e.NoSuchCORSConfiguration: ("NoSuchCORSConfiguration", 404),
    e.NoSuchBucketPolicy: ("NoSuchBucketPolicy", 404),
    e.MalformedPolicy: ("MalformedPolicy", 400),
    e.ServerSideEncryptionConfigurationNotFoundError: ("ServerSideEncryptionConfigurationNotFoundError", 404),
    e.BucketAlreadyExists: ("BucketAlreadyExists", 409),
    e.BucketAlreadyOwnedByYou: ("BucketAlreadyOwnedByYou", 409),
    e.BucketNotEmpty: ("BucketNotEmpty", 409),
    e.PreconditionFailed: ("PreconditionFailed", 412),
    e.NotModified: ("NotModified", 304),
    # S3 ACLs and Block Public Access
    e.MalformedACLError: ("MalformedACLError", 400),
    e.UnresolvableGrantByEmailAddress: ("UnresolvableGrantByEmailAddress", 400),
    e.NoSuchPublicAccessBlockConfiguration: ("NoSuchPublicAccessBlockConfiguration", 404),
    # management-side failures, should one reach the S3 front-end
    e.NotFound: ("NotFound", 404),
    e.Conflict: ("Conflict", 409),
    e.SlowDown: ("SlowDown", 503),
    e.InsufficientStorage: ("InsufficientStorage", 507),
    e.ServiceUnavailable: ("ServiceUnavailable", 503),
    e.InternalError: ("InternalError", 500),
    # tagging and lifecycle
    e.InvalidTag: ("InvalidTag", 400),
    e.BadRequest: ("BadRequest", 400),
    e.NoSuchTagSet: ("NoSuchTagSet", 404),
    e.NoSuchLifecycleConfiguration: ("NoSuchLifecycleConfiguration", 404),
}

#: Statuses whose responses carry no body (RFC 9110 §15.4.5).
_BODILESS = frozenset({304})


def s3_error(exc: BaseException) -> tuple[str, int, str, dict[str, str]]:
    """(code, status, message, extra elements) for any exception; unmapped ones are internal."""
    mapped = S3_ERRORS.get(type(exc)) if isinstance(exc, e.SatchelError) else None
    if mapped is None or not isinstance(exc, e.SatchelError):
        return "InternalError", 500, e.InternalError.default_message, {}
    code, status = mapped
    return code, status, exc.message, exc.extra


def error_code(exc: BaseException) -> str:
    """The S3 code alone, for per-key failures inside a DeleteObjects answer."""
    return s3_error(exc)[0]


def render_error(
    exc: BaseException, *, resource: str, request_id: str, host_id: str = ""
) -> tuple[int, bytes]:
    """(status, XML body). The caller drops the body of a HEAD response; 304 has none here."""
    code, status, message, extra = s3_error(exc)
    if status in _BODILESS:
        return status, b""
    return status, xml.error(code, message, resource, request_id, host_id, extra)
