"""Request -> :class:`~satchel.s3.endpoints.Endpoint`: a pure function, tested as a table.

Dispatch follows the S3 REST API reference: the HTTP method, whether a key is present, the
*subresource* query parameters (``?uploads``, ``?uploadId=``, ``?cors``, ``?list-type=2`` ...; names
are case-sensitive, as in S3) and one header (``x-amz-copy-source`` turns a PUT into a copy). The
shape follows Garage's ``src/api/s3/router.rs``.

Addressing:

* path style: ``https://s3.example.com/bucket/some/key``;
* virtual-host style, when a ``domain`` is configured: ``https://bucket.s3.example.com/some/key`` —
  the bucket is the part of the Host before ``.{domain}`` (bucket names may contain dots) and the
  whole path is the key. A Host equal to the domain, or unrelated to it (an IP, ``localhost``), means
  path style.

The first path segments in :data:`RESERVED_PREFIXES` belong to other front-ends on the same port;
they can never be buckets (``auth`` is why Swift's ``/auth/v1.0`` makes it a reserved bucket name).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, unquote

from satchel.core.bucketnames import RESERVED_PREFIXES
from satchel.core.errors import (
    InvalidArgument,
    InvalidBucketName,
    InvalidRequest,
    InvalidURI,
    MethodNotAllowed,
    NotImplementedFeature,
    PreconditionFailed,
)
from satchel.core.text import is_text
from satchel.core.versioning import check_version_id
from satchel.s3.endpoints import (
    COMMON_PARAMETERS,
    QUERY_PARAMETERS,
    CopySource,
    Endpoint,
    Op,
    Unsupported,
    amz_query_headers,
)
from satchel.s3.refusedheaders import check_protection_headers
from satchel.signing.sigv4.parse import QUERY_AUTH_PARAMS

_U = Unsupported

# Bucket subresources, per method, in the order they are tested. A request carrying several
# subresources is malformed anyway; a fixed order keeps the answer deterministic.
_BUCKET_SUBRESOURCES: dict[str, tuple[tuple[str, Op | Unsupported], ...]] = {
    "GET": (
        ("location", Op.GetBucketLocation),
        ("versioning", Op.GetBucketVersioning),
        ("acl", Op.GetBucketAcl),
        ("cors", Op.GetBucketCors),
        ("uploads", Op.ListMultipartUploads),
        ("versions", Op.ListObjectVersions),
        ("accelerate", _U.GetBucketAccelerateConfiguration),
        ("analytics", _U.GetBucketAnalyticsConfiguration),
        ("encryption", Op.GetBucketEncryption),
        ("intelligent-tiering", _U.GetBucketIntelligentTieringConfiguration),
        ("inventory", _U.GetBucketInventoryConfiguration),
        ("lifecycle", Op.GetBucketLifecycleConfiguration),
        ("logging", _U.GetBucketLogging),
        ("metrics", _U.GetBucketMetricsConfiguration),
        ("notification", _U.GetBucketNotificationConfiguration),
        ("object-lock", _U.GetObjectLockConfiguration),
        ("ownershipControls", _U.GetBucketOwnershipControls),
        ("policy", Op.GetBucketPolicy),
        ("policyStatus", Op.GetBucketPolicyStatus),
        ("publicAccessBlock", Op.GetPublicAccessBlock),
        ("replication", _U.GetBucketReplication),
        ("requestPayment", _U.GetBucketRequestPayment),
        ("tagging", Op.GetBucketTagging),
        ("website", _U.GetBucketWebsite),
        ("session", _U.CreateSession),
        ("abac", _U.GetBucketAbac),
        ("metadataConfiguration", _U.GetBucketMetadataConfiguration),
        ("metadataTable", _U.GetBucketMetadataTableConfiguration),
        ("default-storage-class", _U.GetBucketDefaultStorageClass),
    ),
    "PUT": (
        ("cors", Op.PutBucketCors),
        ("acl", Op.PutBucketAcl),
        ("versioning", Op.PutBucketVersioning),
        ("accelerate", _U.PutBucketAccelerateConfiguration),
        ("analytics", _U.PutBucketAnalyticsConfiguration),
        ("encryption", Op.PutBucketEncryption),
        ("intelligent-tiering", _U.PutBucketIntelligentTieringConfiguration),
        ("inventory", _U.PutBucketInventoryConfiguration),
        ("lifecycle", Op.PutBucketLifecycleConfiguration),
        ("logging", _U.PutBucketLogging),
        ("metrics", _U.PutBucketMetricsConfiguration),
        ("notification", _U.PutBucketNotificationConfiguration),
        ("object-lock", _U.PutObjectLockConfiguration),
        ("ownershipControls", _U.PutBucketOwnershipControls),
        ("policy", Op.PutBucketPolicy),
        ("publicAccessBlock", Op.PutPublicAccessBlock),
        ("replication", _U.PutBucketReplication),
        ("requestPayment", _U.PutBucketRequestPayment),
        ("tagging", Op.PutBucketTagging),
        ("website", _U.PutBucketWebsite),
        ("abac", _U.PutBucketAbac),
        ("metadataAnnotationTable", _U.UpdateBucketMetadataAnnotationTableConfiguration),
        ("metadataInventoryTable", _U.UpdateBucketMetadataInventoryTableConfiguration),
        ("metadataJournalTable", _U.UpdateBucketMetadataJournalTableConfiguration),
        ("default-storage-class", _U.PutBucketDefaultStorageClass),
    ),
    "DELETE": (
        ("cors", Op.DeleteBucketCors),
        ("analytics", _U.DeleteBucketAnalyticsConfiguration),
        ("encryption", Op.DeleteBucketEncryption),
        ("intelligent-tiering", _U.DeleteBucketIntelligentTieringConfiguration),
        ("inventory", _U.DeleteBucketInventoryConfiguration),
        ("lifecycle", Op.DeleteBucketLifecycle),
        ("metrics", _U.DeleteBucketMetricsConfiguration),
        ("ownershipControls", _U.DeleteBucketOwnershipControls),
        ("policy", Op.DeleteBucketPolicy),
        ("publicAccessBlock", Op.DeletePublicAccessBlock),
        ("replication", _U.DeleteBucketReplication),
        ("tagging", Op.DeleteBucketTagging),
        ("website", _U.DeleteBucketWebsite),
        ("metadataConfiguration", _U.DeleteBucketMetadataConfiguration),
        ("metadataTable", _U.DeleteBucketMetadataTableConfiguration),
    ),
    "POST": (
        ("delete", Op.DeleteObjects),
        ("metadataConfiguration", _U.CreateBucketMetadataConfiguration),
        ("metadataTable", _U.CreateBucketMetadataTableConfiguration),
    ),
    "HEAD": (),
}

_OBJECT_SUBRESOURCES: dict[str, tuple[tuple[str, Op | Unsupported], ...]] = {
    "GET": (
        ("part", _U.GetPart),
        ("uploadId", Op.ListParts),
        ("acl", Op.GetObjectAcl),
        ("attributes", _U.GetObjectAttributes),
        ("legal-hold", _U.GetObjectLegalHold),
        ("retention", _U.GetObjectRetention),
        ("tagging", Op.GetObjectTagging),
        ("torrent", _U.GetObjectTorrent),
        ("annotation", _U.GetObjectAnnotation),
    ),
    "PUT": (
        ("acl", Op.PutObjectAcl),
        ("legal-hold", _U.PutObjectLegalHold),
        ("retention", _U.PutObjectRetention),
        ("tagging", Op.PutObjectTagging),
        ("renameObject", _U.RenameObject),
        ("encryption", _U.UpdateObjectEncryption),
        ("annotation", _U.PutObjectAnnotation),
    ),
    "DELETE": (
        ("uploadId", Op.AbortMultipartUpload),
        ("tagging", Op.DeleteObjectTagging),
        ("annotation", _U.DeleteObjectAnnotation),
    ),
    "POST": (
        ("uploads", Op.CreateMultipartUpload),
        ("uploadId", Op.CompleteMultipartUpload),
        ("restore", _U.RestoreObject),
        ("select", _U.SelectObjectContent),
    ),
    "HEAD": (),
}

# Subresources shared by a "get one" and a "list all" operation, told apart by one parameter.
_LIST_WHEN_ABSENT: dict[Op | Unsupported, tuple[str, Unsupported]] = {
    _U.GetBucketAnalyticsConfiguration: ("id", _U.ListBucketAnalyticsConfigurations),
    _U.GetBucketIntelligentTieringConfiguration: ("id", _U.ListBucketIntelligentTieringConfigurations),
    _U.GetBucketInventoryConfiguration: ("id", _U.ListBucketInventoryConfigurations),
    _U.GetBucketMetricsConfiguration: ("id", _U.ListBucketMetricsConfigurations),
    _U.GetObjectAnnotation: ("annotationName", _U.ListObjectAnnotations),
}

_BUCKET_DEFAULT: dict[str, Op] = {
    "GET": Op.ListObjects,
    "HEAD": Op.HeadBucket,
    "PUT": Op.CreateBucket,
    "DELETE": Op.DeleteBucket,
}

#: Object subresources identified by the key alone (the others carry an upload id).
_KEY_ONLY = frozenset({Op.CreateMultipartUpload, Op.GetObjectAcl, Op.PutObjectAcl, Op.GetObjectTagging,
                       Op.PutObjectTagging, Op.DeleteObjectTagging})

_OBJECT_DEFAULT: dict[str, Op] = {
    "GET": Op.GetObject,
    "HEAD": Op.HeadObject,
    "PUT": Op.PutObject,
    "DELETE": Op.DeleteObject,
}

_PART_NUMBER = re.compile(r"[0-9]{1,5}")
MAX_PART_NUMBER = 10_000


def route(
    method: str,
    path: str,
    pairs: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    *,
    domain: str | None,
) -> Endpoint:
    """Name the operation a request asks for. ``path`` is percent-decoded, header names lower-case,
    ``pairs`` the decoded query in order (duplicates included: they are refused here, so handlers may
    read the first value of a name).

    Raises MethodNotAllowed for unknown methods, InvalidBucketName for a reserved first segment,
    InvalidArgument for malformed identifying values (part number, copy source) and duplicated
    parameters, NotImplemented for a query parameter the operation does not declare or a header
    asking for something Satchel lacks (:mod:`satchel.s3.refusedheaders`).
    """
    bucket, key, virtual = split_target(path, headers.get("host", ""), domain)
    if not is_text(path):
        # The path was percent-decoded with surrogate escapes: bytes that are not UTF-8 name no key
        # (AWS answers InvalidURI), and must not reach code that encodes keys.
        raise InvalidURI()
    query: dict[str, str] = {}
    for name, value in pairs:
        query.setdefault(name, value)
    headers = _with_query_headers(headers, pairs)
    endpoint = _route_target(method, bucket, key, query, headers)
    _check_parameters(endpoint, query)
    _check_duplicates(endpoint, pairs)
    if "versionId" in query and "versionId" in QUERY_PARAMETERS.get(endpoint.op, ()):
        endpoint = dataclasses.replace(endpoint, version_id=query["versionId"])
    if endpoint.part_number is not None and endpoint.op in _IGNORES_VALUED_UNKNOWN and "range" in headers:
        raise InvalidRequest("Cannot specify both Range header and partNumber query parameter")
    for name in _UNDEFINED_CONDITIONS.get(endpoint.op, ()):
        if name in headers:
            raise NotImplementedFeature(f"Satchel does not evaluate {name} on {endpoint.op.value}.", Header=name)
    check_protection_headers(headers.items())
    return dataclasses.replace(endpoint, virtual_host=True) if virtual else endpoint


#: Reads of one object ignore unknown parameters that carry a value, as AWS does: pages add
#: cache-busters to object URLs. Such a request can only read what the caller may read anyway; a
#: valueless name has the shape of a subresource (?part, ?attributes) and is still refused.
_IGNORES_VALUED_UNKNOWN = frozenset({Op.GetObject, Op.HeadObject})


_DATES = ("if-modified-since", "if-unmodified-since")
_ALL_CONDITIONS = ("if-match", "if-none-match", *_DATES)
#: Conditions S3 does not define for a write or a delete (read conditions; any condition on the
#: steps of a multipart upload, which S3 evaluates at completion only): honouring them is not what
#: AWS does and ignoring them would change the object whatever its state, so they are refused.
#: (If-Match / If-None-Match of writes and the x-amz-if-match-* of deletes are evaluated.)
_UNDEFINED_CONDITIONS: dict[Op, tuple[str, ...]] = {
    Op.PutObject: _DATES,
    Op.CopyObject: _DATES,
    Op.CompleteMultipartUpload: _DATES,
    Op.DeleteObject: ("if-none-match", *_DATES),
    Op.CreateMultipartUpload: _ALL_CONDITIONS,
    Op.UploadPart: _ALL_CONDITIONS,
    Op.UploadPartCopy: _ALL_CONDITIONS,
}


def _with_query_headers(headers: Mapping[str, str], pairs: Sequence[tuple[str, str]]) -> Mapping[str, str]:
    """The headers a route depends on, with those a client moved into the query (``x-amz-copy-source``
    makes a PUT a copy wherever it is; a refused header is refused in the query too). A name given both
    ways must carry one value."""
    moved = amz_query_headers(pairs)
    if not moved:
        return headers
    merged = dict(headers)
    for name, value in moved:
        if merged.setdefault(name, value) != value:
            raise InvalidArgument(f"{name} is given twice, with different values, in the query and the headers.",
                                  ArgumentName=name)
    return merged


def _check_parameters(endpoint: Endpoint, query: Mapping[str, str]) -> None:
    """Refuse a query parameter the operation does not declare (see ``QUERY_PARAMETERS``).

    This is what keeps an operation we lack from falling through to a default one: a PUT or DELETE
    with a subresource botocore learnt last month would otherwise write or delete the object.
    """
    accepted = QUERY_PARAMETERS.get(endpoint.op)
    if accepted is None:  # NotImplemented and OPTIONS: nothing is done with the query
        return
    for name, value in query.items():
        if name in accepted or name in COMMON_PARAMETERS or (value and name[:6].lower() == "x-amz-"):
            continue  # a valueless x-amz-* name is no hoisted header: it has a subresource's shape
        if name in QUERY_AUTH_PARAMS:
            continue  # an empty X-Amz-Algorithm= makes the request presigned: verify_presigned refuses it (400)
        if _ignored(endpoint, accepted, name, value):
            continue  # a cache-buster (?_t=1700000000), as AWS ignores it; subresources have no value
        raise NotImplementedFeature(
            f"The query parameter {name!r} is not implemented by Satchel for {endpoint.op.value}.",
            ArgumentName=name,
        )
    version = query.get("versionId")
    if version is not None:
        check_version_id(version)  # a malformed id names no version: refused before it can act on any


def _check_duplicates(endpoint: Endpoint, pairs: Sequence[tuple[str, str]]) -> None:
    """Refuse a parameter given twice: which of ``versionId=null&versionId=x`` or of two upload ids
    was meant is not ours to guess, and a signature checker may have read the other one.

    Only the cache-busters a read ignores may repeat. ``x-amz-*`` names compare without case, as
    the headers they stand for do (``X-Amz-Tagging`` and ``x-amz-tagging`` are one header).
    """
    accepted = QUERY_PARAMETERS.get(endpoint.op, frozenset())
    seen: set[str] = set()
    for name, value in pairs:
        same = name.lower() if name[:6].lower() == "x-amz-" else name
        if same in seen and not _ignored(endpoint, accepted, name, value):
            raise InvalidArgument(f"The query parameter {name!r} was given more than once.",
                                  ArgumentName=name, ArgumentValue=value)
        seen.add(same)


def _ignored(endpoint: Endpoint, accepted: frozenset[str], name: str, value: str) -> bool:
    """A cache-buster of an object read: a valued name the operation does not declare."""
    if endpoint.op not in _IGNORES_VALUED_UNKNOWN or not value:
        return False
    return name not in accepted and name not in COMMON_PARAMETERS and name[:6].lower() != "x-amz-"


def _route_target(
    method: str, bucket: str | None, key: str | None, query: Mapping[str, str], headers: Mapping[str, str]
) -> Endpoint:
    if bucket in RESERVED_PREFIXES:
        raise InvalidBucketName(BucketName=bucket)
    if method == "OPTIONS":
        return Endpoint(Op.Options, bucket, key)
    if method not in _BUCKET_DEFAULT and method != "POST":
        raise MethodNotAllowed(Method=method, ResourceType="OBJECT" if key else "BUCKET")
    if bucket is None:
        if method in ("GET", "HEAD"):
            return Endpoint(Op.ListBuckets, None, None)
        raise MethodNotAllowed(Method=method, ResourceType="SERVICE")
    if key is None:
        return _bucket_endpoint(method, bucket, query, headers)
    return _object_endpoint(method, bucket, key, query, headers)


def split_target(path: str, host: str, domain: str | None) -> tuple[str | None, str | None, bool]:
    """(bucket, key, whether the bucket came from the Host header); never raises, so the audit can name
    the target of a request refused while it was routed."""
    rest = path[1:] if path.startswith("/") else path
    vhost_bucket = _bucket_from_host(host, domain) if domain else None
    if vhost_bucket is not None:
        return vhost_bucket, rest or None, True
    bucket, _, key = rest.partition("/")
    return bucket or None, key or None, False


def _bucket_from_host(host: str, domain: str | None) -> str | None:
    if not host or not domain or host.startswith("["):
        return None  # absent, or an IPv6 literal: never virtual-host style
    name, sep, port = host.rpartition(":")
    if sep and port.isascii() and port.isdigit():
        host = name
    host = host.lower().rstrip(".")
    suffix = "." + domain.lower().rstrip(".").split(":", 1)[0]
    if host.endswith(suffix) and len(host) > len(suffix):
        return host[: -len(suffix)]
    return None


def _subresource(table: tuple[tuple[str, Op | Unsupported], ...], query: Mapping[str, str]) -> Op | Unsupported | None:
    for name, op in table:
        if name in query:
            variant = _LIST_WHEN_ABSENT.get(op)
            return variant[1] if variant is not None and variant[0] not in query else op
    return None


def _unsupported(op: Unsupported, bucket: str, key: str | None) -> Endpoint:
    return Endpoint(Op.NotImplemented, bucket, key, unsupported=op)


def _bucket_endpoint(method: str, bucket: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Endpoint:
    found = _subresource(_BUCKET_SUBRESOURCES[method], query)
    if isinstance(found, Unsupported):
        return _unsupported(found, bucket, None)
    if found is not None:
        return Endpoint(found, bucket, None)
    if method == "POST":
        if _is_form(headers):
            return Endpoint(Op.PostObject, bucket, None)
        # AWS's answer to a bucket POST that is not an HTML form upload.
        raise PreconditionFailed(Condition="Bucket POST must be of the enclosure-type multipart/form-data")
    op = _BUCKET_DEFAULT[method]
    if op is Op.ListObjects and "list-type" in query:
        if query["list-type"] != "2":
            raise InvalidArgument(
                "Invalid List Type specified", ArgumentName="list-type", ArgumentValue=query["list-type"]
            )
        op = Op.ListObjectsV2
    return Endpoint(op, bucket, None)


def _object_endpoint(
    method: str, bucket: str, key: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> Endpoint:
    found = _subresource(_OBJECT_SUBRESOURCES[method], query)
    if isinstance(found, Unsupported):
        return _unsupported(found, bucket, key)
    if found in _KEY_ONLY:
        return Endpoint(found, bucket, key)
    if found is not None:  # ListParts, AbortMultipartUpload, CompleteMultipartUpload
        return Endpoint(found, bucket, key, upload_id=query["uploadId"])
    if method == "POST":
        raise MethodNotAllowed(Method=method, ResourceType="OBJECT")
    if method == "PUT":
        return _put_object(bucket, key, query, headers)
    part_number = None
    if method in ("GET", "HEAD") and "partNumber" in query:
        part_number = _part_number(query["partNumber"])
    return Endpoint(_OBJECT_DEFAULT[method], bucket, key, part_number=part_number)


def _put_object(bucket: str, key: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Endpoint:
    raw_source = headers.get("x-amz-copy-source")
    source = parse_copy_source(raw_source) if raw_source is not None else None
    has_part, has_upload = "partNumber" in query, "uploadId" in query
    if has_part != has_upload:
        missing = "uploadId" if has_part else "partNumber"
        raise InvalidArgument(f"{missing} is required for UploadPart", ArgumentName=missing)
    if has_part:
        op = Op.UploadPart if source is None else Op.UploadPartCopy
        return Endpoint(
            op,
            bucket,
            key,
            upload_id=query["uploadId"],
            part_number=_part_number(query["partNumber"]),
            copy_source=source,
        )
    if source is not None:
        return Endpoint(Op.CopyObject, bucket, key, copy_source=source)
    return Endpoint(Op.PutObject, bucket, key)


def _is_form(headers: Mapping[str, str]) -> bool:
    content_type = headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _part_number(value: str) -> int:
    number = int(value) if _PART_NUMBER.fullmatch(value) else 0
    if not 1 <= number <= MAX_PART_NUMBER:
        raise InvalidArgument(
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=value,
        )
    return number


def parse_copy_source(value: str) -> CopySource:
    """Parse ``x-amz-copy-source``: ``[/]bucket/key[?versionId=v]``, the key URL-encoded.

    The query is split off *before* decoding: a literal ``?`` in a key arrives as ``%3F``. Anything
    in it but one ``versionId`` is refused: a duplicated id or an unknown name is no source we can
    name with certainty.
    """
    path, mark, qs = value.partition("?")
    pairs = parse_qsl(qs, keep_blank_values=True) if mark else []
    if len(pairs) > 1 or any(name != "versionId" or not version for name, version in pairs):
        raise InvalidArgument("The x-amz-copy-source query may only name one versionId.",
                              ArgumentName="x-amz-copy-source", ArgumentValue=value)
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        decoded = ""
    bucket, _, key = decoded.removeprefix("/").partition("/")
    if not bucket or not key:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=value,
        )
    return CopySource(bucket, key, pairs[0][1] if pairs else None)
