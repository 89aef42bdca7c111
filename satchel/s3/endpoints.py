"""The S3 operations Satchel recognises, named exactly as AWS names them.

An :class:`Endpoint` is what :func:`satchel.s3.router.route` makes of a request: the operation, the
bucket and key it targets, and the few query values that identify the target (upload id, part
number). Handlers dispatch on ``endpoint.op`` alone; they never look at the query string to find out
what they are.

Operations AWS defines but Satchel does not implement still route, to :attr:`Op.NotImplemented` with
the AWS name in ``endpoint.unsupported``, so the client gets a clean ``501 NotImplemented`` naming the
operation. All of them must be listed: a PUT or DELETE carrying a subresource we did not know would
otherwise be taken for PutObject, DeleteObject or even DeleteBucket.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from satchel.s3.objectheaders import RESPONSE_OVERRIDES


class Op(enum.StrEnum):
    """Implemented operations (plus ``Options`` for CORS preflight and ``NotImplemented``)."""

    # service
    ListBuckets = "ListBuckets"
    # bucket
    CreateBucket = "CreateBucket"
    HeadBucket = "HeadBucket"
    DeleteBucket = "DeleteBucket"
    GetBucketLocation = "GetBucketLocation"
    ListObjects = "ListObjects"
    ListObjectsV2 = "ListObjectsV2"
    GetBucketCors = "GetBucketCors"
    PutBucketCors = "PutBucketCors"
    DeleteBucketCors = "DeleteBucketCors"
    GetBucketEncryption = "GetBucketEncryption"
    PutBucketEncryption = "PutBucketEncryption"
    DeleteBucketEncryption = "DeleteBucketEncryption"
    DeleteObjects = "DeleteObjects"
    ListMultipartUploads = "ListMultipartUploads"
    PostObject = "PostObject"
    GetBucketVersioning = "GetBucketVersioning"
    PutBucketVersioning = "PutBucketVersioning"
    ListObjectVersions = "ListObjectVersions"
    # ACLs and Block Public Access (core/acl.py, core/publicaccess.py)
    GetBucketAcl = "GetBucketAcl"
    PutBucketAcl = "PutBucketAcl"
    GetPublicAccessBlock = "GetPublicAccessBlock"
    PutPublicAccessBlock = "PutPublicAccessBlock"
    DeletePublicAccessBlock = "DeletePublicAccessBlock"
    # bucket policies (core/policy.py)
    GetBucketPolicy = "GetBucketPolicy"
    PutBucketPolicy = "PutBucketPolicy"
    DeleteBucketPolicy = "DeleteBucketPolicy"
    GetBucketPolicyStatus = "GetBucketPolicyStatus"
    # object
    PutObject = "PutObject"
    CopyObject = "CopyObject"
    GetObject = "GetObject"
    HeadObject = "HeadObject"
    DeleteObject = "DeleteObject"
    GetObjectAcl = "GetObjectAcl"
    PutObjectAcl = "PutObjectAcl"
    # multipart
    CreateMultipartUpload = "CreateMultipartUpload"
    UploadPart = "UploadPart"
    UploadPartCopy = "UploadPartCopy"
    CompleteMultipartUpload = "CompleteMultipartUpload"
    AbortMultipartUpload = "AbortMultipartUpload"
    ListParts = "ListParts"
    # tagging and lifecycle (core/tagging.py, core/lifecycle.py)
    GetObjectTagging = "GetObjectTagging"
    PutObjectTagging = "PutObjectTagging"
    DeleteObjectTagging = "DeleteObjectTagging"
    GetBucketTagging = "GetBucketTagging"
    PutBucketTagging = "PutBucketTagging"
    DeleteBucketTagging = "DeleteBucketTagging"
    GetBucketLifecycleConfiguration = "GetBucketLifecycleConfiguration"
    PutBucketLifecycleConfiguration = "PutBucketLifecycleConfiguration"
    DeleteBucketLifecycle = "DeleteBucketLifecycle"
    # not AWS operations
    Options = "Options"
    NotImplemented = "NotImplemented"


class Unsupported(enum.StrEnum):
    """AWS operations we recognise and answer with ``501 NotImplemented``."""

    # bucket, by subresource
    GetBucketAccelerateConfiguration = "GetBucketAccelerateConfiguration"
    PutBucketAccelerateConfiguration = "PutBucketAccelerateConfiguration"
    GetBucketAnalyticsConfiguration = "GetBucketAnalyticsConfiguration"
    PutBucketAnalyticsConfiguration = "PutBucketAnalyticsConfiguration"
    DeleteBucketAnalyticsConfiguration = "DeleteBucketAnalyticsConfiguration"
    GetBucketIntelligentTieringConfiguration = "GetBucketIntelligentTieringConfiguration"
    PutBucketIntelligentTieringConfiguration = "PutBucketIntelligentTieringConfiguration"
    DeleteBucketIntelligentTieringConfiguration = "DeleteBucketIntelligentTieringConfiguration"
    GetBucketInventoryConfiguration = "GetBucketInventoryConfiguration"
    PutBucketInventoryConfiguration = "PutBucketInventoryConfiguration"
    DeleteBucketInventoryConfiguration = "DeleteBucketInventoryConfiguration"
    GetBucketLogging = "GetBucketLogging"
    PutBucketLogging = "PutBucketLogging"
    GetBucketMetricsConfiguration = "GetBucketMetricsConfiguration"
    PutBucketMetricsConfiguration = "PutBucketMetricsConfiguration"
    DeleteBucketMetricsConfiguration = "DeleteBucketMetricsConfiguration"
    GetBucketNotificationConfiguration = "GetBucketNotificationConfiguration"
    PutBucketNotificationConfiguration = "PutBucketNotificationConfiguration"
    GetObjectLockConfiguration = "GetObjectLockConfiguration"
    PutObjectLockConfiguration = "PutObjectLockConfiguration"
    GetBucketOwnershipControls = "GetBucketOwnershipControls"
    PutBucketOwnershipControls = "PutBucketOwnershipControls"
    DeleteBucketOwnershipControls = "DeleteBucketOwnershipControls"
    GetBucketReplication = "GetBucketReplication"
    PutBucketReplication = "PutBucketReplication"
    DeleteBucketReplication = "DeleteBucketReplication"
    GetBucketRequestPayment = "GetBucketRequestPayment"
    PutBucketRequestPayment = "PutBucketRequestPayment"
    ListBucketAnalyticsConfigurations = "ListBucketAnalyticsConfigurations"
    ListBucketIntelligentTieringConfigurations = "ListBucketIntelligentTieringConfigurations"
    ListBucketInventoryConfigurations = "ListBucketInventoryConfigurations"
    ListBucketMetricsConfigurations = "ListBucketMetricsConfigurations"
    CreateSession = "CreateSession"
    GetBucketAbac = "GetBucketAbac"
    PutBucketAbac = "PutBucketAbac"
    CreateBucketMetadataConfiguration = "CreateBucketMetadataConfiguration"
    GetBucketMetadataConfiguration = "GetBucketMetadataConfiguration"
    DeleteBucketMetadataConfiguration = "DeleteBucketMetadataConfiguration"
    CreateBucketMetadataTableConfiguration = "CreateBucketMetadataTableConfiguration"
    GetBucketMetadataTableConfiguration = "GetBucketMetadataTableConfiguration"
    DeleteBucketMetadataTableConfiguration = "DeleteBucketMetadataTableConfiguration"
    UpdateBucketMetadataAnnotationTableConfiguration = "UpdateBucketMetadataAnnotationTableConfiguration"
    UpdateBucketMetadataInventoryTableConfiguration = "UpdateBucketMetadataInventoryTableConfiguration"
    UpdateBucketMetadataJournalTableConfiguration = "UpdateBucketMetadataJournalTableConfiguration"
    GetBucketWebsite = "GetBucketWebsite"
    PutBucketWebsite = "PutBucketWebsite"
    DeleteBucketWebsite = "DeleteBucketWebsite"
    # object, by subresource
    GetObjectAttributes = "GetObjectAttributes"
    GetObjectLegalHold = "GetObjectLegalHold"
    PutObjectLegalHold = "PutObjectLegalHold"
    GetObjectRetention = "GetObjectRetention"
    PutObjectRetention = "PutObjectRetention"
    GetObjectTorrent = "GetObjectTorrent"
    RestoreObject = "RestoreObject"
    RenameObject = "RenameObject"
    UpdateObjectEncryption = "UpdateObjectEncryption"
    GetObjectAnnotation = "GetObjectAnnotation"
    ListObjectAnnotations = "ListObjectAnnotations"
    PutObjectAnnotation = "PutObjectAnnotation"
    DeleteObjectAnnotation = "DeleteObjectAnnotation"
    SelectObjectContent = "SelectObjectContent"
    GetPart = "GetPart"
    GetBucketDefaultStorageClass = "GetBucketDefaultStorageClass"
    PutBucketDefaultStorageClass = "PutBucketDefaultStorageClass"


_OVERRIDES = frozenset(RESPONSE_OVERRIDES)
_LISTING = frozenset({"delimiter", "encoding-type", "max-keys", "prefix"})

#: The query parameters each implemented operation understands: its subresource and the request
#: parameters of the S3 API reference that Satchel honours. Besides these, any request may carry
#: :data:`COMMON_PARAMETERS` and ``x-amz-*`` names (SigV4 query authentication, the link id, and
#: headers an SDK hoisted into a presigned URL — those are checked as headers). Every other name is
#: refused with ``501 NotImplemented``: a parameter we do not know may name an operation we lack
#: (``DELETE /b/k?someNewSubresource`` must never delete ``k``) or ask for something we would
#: silently not do. The one exception (the router's ``_IGNORES_VALUED_UNKNOWN``): GetObject and
#: HeadObject ignore unknown names that carry a value, as AWS does, for cache-busters.
QUERY_PARAMETERS: dict[Op, frozenset[str]] = {
    Op.ListBuckets: frozenset({"max-buckets", "continuation-token", "prefix", "bucket-region"}),
    Op.CreateBucket: frozenset(),
    Op.HeadBucket: frozenset(),
    Op.DeleteBucket: frozenset(),
    Op.GetBucketLocation: frozenset({"location"}),
    Op.ListObjects: _LISTING | {"marker"},
    Op.ListObjectsV2: _LISTING | {"list-type", "continuation-token", "fetch-owner", "start-after"},
    Op.GetBucketCors: frozenset({"cors"}),
    Op.PutBucketCors: frozenset({"cors"}),
    Op.DeleteBucketCors: frozenset({"cors"}),
    Op.GetBucketEncryption: frozenset({"encryption"}),
    Op.PutBucketEncryption: frozenset({"encryption"}),
    Op.DeleteBucketEncryption: frozenset({"encryption"}),
    Op.DeleteObjects: frozenset({"delete"}),
    Op.ListMultipartUploads: _LISTING - {"max-keys"} | {"uploads", "key-marker", "max-uploads", "upload-id-marker"},
    Op.PostObject: frozenset(),
    Op.GetBucketVersioning: frozenset({"versioning"}),
    Op.PutBucketVersioning: frozenset({"versioning"}),
    Op.ListObjectVersions: _LISTING | {"versions", "key-marker", "version-id-marker"},
    Op.GetBucketAcl: frozenset({"acl"}),
    Op.PutBucketAcl: frozenset({"acl"}),
    Op.GetPublicAccessBlock: frozenset({"publicAccessBlock"}),
    Op.PutPublicAccessBlock: frozenset({"publicAccessBlock"}),
    Op.DeletePublicAccessBlock: frozenset({"publicAccessBlock"}),
    Op.GetBucketPolicy: frozenset({"policy"}),
    Op.PutBucketPolicy: frozenset({"policy"}),
    Op.DeleteBucketPolicy: frozenset({"policy"}),
    Op.GetBucketPolicyStatus: frozenset({"policyStatus"}),
    Op.PutObject: frozenset(),
    Op.CopyObject: frozenset(),
    Op.GetObject: _OVERRIDES | {"partNumber", "versionId"},
    Op.HeadObject: _OVERRIDES | {"partNumber", "versionId"},
    Op.DeleteObject: frozenset({"versionId"}),
    Op.GetObjectAcl: frozenset({"acl", "versionId"}),
    Op.PutObjectAcl: frozenset({"acl", "versionId"}),
    Op.CreateMultipartUpload: frozenset({"uploads"}),
    Op.UploadPart: frozenset({"partNumber", "uploadId"}),
    Op.UploadPartCopy: frozenset({"partNumber", "uploadId"}),
    Op.CompleteMultipartUpload: frozenset({"uploadId"}),
    Op.AbortMultipartUpload: frozenset({"uploadId"}),
    Op.ListParts: frozenset({"uploadId", "max-parts", "part-number-marker"}),
    Op.GetObjectTagging: frozenset({"tagging", "versionId"}),
    Op.PutObjectTagging: frozenset({"tagging", "versionId"}),
    Op.DeleteObjectTagging: frozenset({"tagging", "versionId"}),
    Op.GetBucketTagging: frozenset({"tagging"}),
    Op.PutBucketTagging: frozenset({"tagging"}),
    Op.DeleteBucketTagging: frozenset({"tagging"}),
    Op.GetBucketLifecycleConfiguration: frozenset({"lifecycle"}),
    Op.PutBucketLifecycleConfiguration: frozenset({"lifecycle"}),
    Op.DeleteBucketLifecycle: frozenset({"lifecycle"}),
}

#: Accepted on every request: SigV2 query authentication (botocore copies the signed Content-Type
#: and Content-MD5 of a SigV2 presigned URL into its query, beside the ``x-amz-*`` headers), and the
#: operation name botocore appends to some requests (``?x-id=PutObject``) for request tracing.
COMMON_PARAMETERS = frozenset({"AWSAccessKeyId", "Signature", "Expires", "content-type", "content-md5", "x-id"})

#: ``x-amz-*`` query parameters of the signature itself (lower-case), never request headers. Every other
#: ``x-amz-*`` query parameter is a header a client moved into the query (SDK presigners do), read as
#: that header where a signature covers it (:func:`amz_query_headers`).
AUTH_QUERY_PARAMETERS = frozenset({
    "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
    "x-amz-signature", "x-amz-security-token", "x-amz-content-sha256", "x-amz-satchel-link-id",
})


def amz_query_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The request headers a query carries: its ``x-amz-*`` parameters that are not the signature's,
    names lower-cased."""
    return [(lowered, value) for name, value in pairs
            if (lowered := name.lower()).startswith("x-amz-") and lowered not in AUTH_QUERY_PARAMETERS]


@dataclass(frozen=True, slots=True)
class CopySource:
    """The parsed ``x-amz-copy-source`` header of CopyObject / UploadPartCopy."""

    bucket: str
    key: str
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a request is. ``key`` is percent-decoded, exactly as stored; an empty key is None."""

    op: Op
    bucket: str | None
    key: str | None
    #: UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts.
    upload_id: str | None = None
    #: UploadPart / UploadPartCopy (always set), GetObject / HeadObject (``?partNumber=``), 1..10000.
    part_number: int | None = None
    #: CopyObject / UploadPartCopy only.
    copy_source: CopySource | None = None
    #: ``?versionId=`` of GetObject, HeadObject, DeleteObject, GetObjectAcl and object tagging (validated by the
    #: router): the one value handlers, admission and the audit act on. An operation that accepts it must honour
    #: it (object tags and ACLs: per version, ``core/versioning.named_version``), never ignore it.
    version_id: str | None = None
    #: The AWS operation name when ``op`` is :attr:`Op.NotImplemented`.
    unsupported: Unsupported | None = None
    #: True when the bucket came from the Host header (``bucket.domain``): SigV2 signs ``/bucket``
    #: in front of the path then.
    virtual_host: bool = False
