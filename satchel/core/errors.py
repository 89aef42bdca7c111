"""Protocol-neutral failures: one class per thing that can go wrong.

Classes are named after the S3 error code they usually become, because S3 is the widest protocol we
speak, but nothing here knows about HTTP: each front-end (``s3/errors.py``, later Swift and PAR) owns
one table from these classes to its wire code and status. A class missing from a table renders as an
internal error, so forgetting a mapping is loud, never silently wrong.

``extra`` carries the additional elements AWS puts in some error bodies (``X-Amz-Expires``,
``StringToSign``, ``HeadersNotSigned`` ...), in the order they should be rendered.
"""

from __future__ import annotations


class SatchelError(Exception):
    """Base of every expected failure. ``message`` is safe to show to the client."""

    default_message = "An error occurred."
    #: Set on a refusal of a link made for an earlier bucket of the request's bucket name: its audit event
    #: belongs to no current bucket (whoever re-created the name must not see the old signer).
    earlier_bucket: bool = False
    #: Set on a write refused when it was checked again after its body had arrived (``core/inflight.py``):
    #: the front-end gives back a use it counted for it.
    in_flight: bool = False
    #: Versioning: the version a refusal concerns and whether it is a delete marker (S3 answers them
    #: as ``x-amz-version-id`` / ``x-amz-delete-marker`` headers).
    version_id: str | None = None
    delete_marker: bool = False

    def __init__(self, message: str | None = None, **extra: str) -> None:
        self.message = message or self.default_message
        self.extra: dict[str, str] = {k.replace("__", "-"): v for k, v in extra.items()}
        super().__init__(self.message)


# --- authentication ---------------------------------------------------------------------------------
class AccessDenied(SatchelError):
    default_message = "Access Denied"


class InvalidAccessKeyId(SatchelError):
    default_message = "The AWS Access Key Id you provided does not exist in our records."


class SignatureDoesNotMatch(SatchelError):
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )


class RequestTimeTooSkewed(SatchelError):
    default_message = "The difference between the request time and the current time is too large."


class AuthorizationHeaderMalformed(SatchelError):
    default_message = "The authorization header is malformed."


class AuthorizationQueryParametersError(SatchelError):
    default_message = "Error parsing the query-string authentication parameters."


class MissingSecurityHeader(SatchelError):
    default_message = "Your request was missing a required header."


class XAmzContentSHA256Mismatch(SatchelError):
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class InvalidSignatureMethod(SatchelError):
    default_message = "The authorization mechanism you have provided is not supported."


# --- request shape ----------------------------------------------------------------------------------
class InvalidArgument(SatchelError):
    default_message = "Invalid Argument"


class InvalidRequest(SatchelError):
    default_message = "Invalid Request"


class InvalidDigest(SatchelError):
    default_message = "The Content-MD5 you specified is not valid."


class BadDigest(SatchelError):
    default_message = "The Content-MD5 you specified did not match what we received."


class MalformedTrailerError(SatchelError):
    """An aws-chunked body whose trailer is not the one ``x-amz-trailer`` declared (or none came)."""

    default_message = (
        "The request contained trailing data that was not well-formed or did not conform to our published schema."
    )


class IncompleteBody(SatchelError):
    default_message = "You did not provide the number of bytes specified by the Content-Length HTTP header."


class RequestTimeout(SatchelError):
    """An upload whose body took longer than ``max_upload_seconds`` in all (``core/receive.py``)."""

    default_message = "Your socket connection to the server was not read from or written to within the timeout period."


class MissingContentLength(SatchelError):
    default_message = "You must provide the Content-Length HTTP header."


class EntityTooLarge(SatchelError):
    default_message = "Your proposed upload exceeds the maximum allowed size"


class EntityTooSmall(SatchelError):
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class KeyTooLongError(SatchelError):
    default_message = "Your key is too long"


class MetadataTooLarge(SatchelError):
    default_message = "Your metadata headers exceed the maximum allowed metadata size."


class ServerSideEncryptionConfigurationNotFoundError(SatchelError):
    """GetBucketEncryption of a bucket without a default encryption (``core/sse.py``)."""

    default_message = "The server side encryption configuration was not found"


class MalformedXML(SatchelError):
    default_message = (
        "The XML you provided was not well-formed or did not validate against our published schema."
    )


class MalformedPOSTRequest(SatchelError):
    default_message = "The body of your POST request is not well-formed multipart/form-data."


class InvalidPolicyDocument(SatchelError):
    default_message = "The content of the form does not meet the conditions specified in the policy document."


class InvalidBucketName(SatchelError):
    default_message = "The specified bucket is not valid."


class InvalidURI(SatchelError):
    """A request target that does not decode (a key that is not UTF-8 once percent-decoded)."""

    default_message = "Couldn't parse the specified URI."


class InvalidRange(SatchelError):
    default_message = "The requested range is not satisfiable"


class InvalidPart(SatchelError):
    default_message = (
        "One or more of the specified parts could not be found. The part may not have been uploaded, "
        "or the specified entity tag may not match the part's entity tag."
    )


class InvalidPartNumber(SatchelError):
    default_message = "The requested partnumber is not satisfiable"


class InvalidPartOrder(SatchelError):
    default_message = "The list of parts was not in ascending order. Parts must be ordered by part number."


class InvalidStorageClass(SatchelError):
    default_message = "The storage class you specified is not valid"


class TooManyParts(SatchelError):
    default_message = "You have attempted to upload more parts than allowed."


class NotImplementedFeature(SatchelError):
    """Wire code ``NotImplemented``: a header or operation we recognise but do not implement."""

    default_message = "A header you provided implies functionality that is not implemented"


class MethodNotAllowed(SatchelError):
    default_message = "The specified method is not allowed against this resource."


class RequestHeaderSectionTooLarge(SatchelError):
    default_message = "Your request header section exceeds the maximum allowed size."


class CORSForbidden(SatchelError):
    """A preflight that no CORS rule allows (wire: 403 AccessForbidden)."""

    default_message = "CORSResponse: This CORS request is not allowed."


class CORSBadRequest(SatchelError):
    """A preflight missing ``Origin`` or ``Access-Control-Request-Method`` (wire: 400 BadRequest): it is
    not a CORS request at all, so S3 refuses it as malformed rather than as forbidden."""

    default_message = "Insufficient information. Origin request header needed."


# --- state ------------------------------------------------------------------------------------------
class NoSuchBucket(SatchelError):
    default_message = "The specified bucket does not exist"


class NoSuchKey(SatchelError):
    default_message = "The specified key does not exist."


class NoSuchVersion(SatchelError):
    default_message = "The specified version does not exist."


class VersioningChanged(SatchelError):
    """A write chose its version id for a bucket state that changed before it committed (nothing was
    written); ``core/versioning.py`` chooses again once, then gives up with this (409)."""

    default_message = "The bucket's versioning state changed during the request; please retry."


class NoSuchUpload(SatchelError):
    default_message = (
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed."
    )


class NoSuchCORSConfiguration(SatchelError):
    default_message = "The CORS configuration does not exist"


class BucketAlreadyExists(SatchelError):
    default_message = (
        "The requested bucket name is not available. The bucket namespace is shared by all users of the "
        "system. Please select a different name and try again."
    )


class BucketAlreadyOwnedByYou(SatchelError):
    default_message = "Your previous request to create the named bucket succeeded and you already own it."


class BucketNotEmpty(SatchelError):
    default_message = "The bucket you tried to delete is not empty"


class PreconditionFailed(SatchelError):
    default_message = "At least one of the pre-conditions you specified did not hold"


class NotModified(SatchelError):
    """Not an error to the client (304), but it ends the request the same way."""

    default_message = "Not Modified"


# --- S3 ACLs and Block Public Access (core/acl.py, core/publicaccess.py) -----------------------------
class MalformedACLError(SatchelError):
    default_message = "The XML you provided was not well-formed or did not validate against our published schema."


class UnresolvableGrantByEmailAddress(SatchelError):
    default_message = "The e-mail address you provided does not match any account on record."


class NoSuchPublicAccessBlockConfiguration(SatchelError):
    default_message = "The public access block configuration was not found"


# --- management-side failures (admin CLI / JSON API) -------------------------------------------------
class NotFound(SatchelError):
    default_message = "Not found"


class Conflict(SatchelError):
    default_message = "Conflict"


class SlowDown(SatchelError):
    default_message = "Please reduce your request rate."


class InsufficientStorage(SatchelError):
    """The disk holding blobs or metadata is full (ENOSPC, EDQUOT, SQLITE_FULL): the write changed
    nothing. S3 has no code for it; the wire answer is 507, like MinIO's ``XMinioStorageFull`` and
    Swift's object server, which clients do not retry at once (a full disk stays full for a while)."""

    default_message = "The server has no space left to store this. Delete data or add space, then retry."


class ServiceUnavailable(SatchelError):
    """A dependency (the PostgreSQL metadata database) cannot answer now: nothing changed, retry later.
    S3 ``ServiceUnavailable`` 503, which the SDKs retry with back-off."""

    default_message = "The service is unavailable. Please retry."
    #: Set when a metadata write had started before its wait bound ran out (``Node.write``): it may still
    #: commit once the database answers, so its caller must not undo what the write would reference (its
    #: fresh blobs stay for the orphan collector). S3 clients treat any 5xx as an unknown outcome anyway.
    outcome_unknown: bool = False


class InternalError(SatchelError):
    default_message = "We encountered an internal error. Please try again."


# --- bucket policies (core/policy.py) ---------------------------------------------------------------------
class MalformedPolicy(SatchelError):
    default_message = "Policies must be valid JSON and the first byte must be '{'"


class NoSuchBucketPolicy(SatchelError):
    default_message = "The bucket policy does not exist"
# --- tagging and lifecycle (issue 16) ---------------------------------------------------------------
class InvalidTag(SatchelError):
    default_message = "The tag provided was not a valid tag."


class BadRequest(SatchelError):
    """AWS's code for a tag set over its count limit."""

    default_message = "Bad Request"


class NoSuchTagSet(SatchelError):
    default_message = "The TagSet does not exist"


class NoSuchLifecycleConfiguration(SatchelError):
    default_message = "The lifecycle configuration does not exist"
