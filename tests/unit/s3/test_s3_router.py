"""The router as a table: AWS documentation request lines -> the operation AWS names.

Rows are written the way the S3 API reference shows requests (``PUT /my-image.jpg?acl``, with a
Host header naming the bucket). A second oracle is botocore itself: for every operation in its S3
model, the request it builds must route to that operation's name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from satchel.core.bucketnames import RESERVED_PREFIXES, valid_bucket_name
from satchel.core.errors import (
    InvalidArgument,
    InvalidBucketName,
    InvalidRequest,
    InvalidStorageClass,
    MethodNotAllowed,
    NotImplementedFeature,
    PreconditionFailed,
    SatchelError,
)
from satchel.s3.endpoints import COMMON_PARAMETERS, QUERY_PARAMETERS, CopySource, Endpoint, Op, Unsupported
from satchel.s3.router import parse_copy_source, route

DOMAIN = "s3.amazonaws.com"
VHOST = "examplebucket.s3.amazonaws.com"
UPLOAD = "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"


def _route(line: str, host: str = VHOST, domain: str | None = DOMAIN, **headers: str) -> Endpoint:
    """``line`` is ``METHOD target`` as on the wire: the target is percent-encoded."""
    method, target = line.split(" ", 1)
    url = urlsplit(target)
    query = parse_qsl(url.query, keep_blank_values=True)
    all_headers = {"host": host, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return route(method, unquote(url.path), query, all_headers, domain=domain)


def _op(ep: Endpoint) -> str:
    return ep.unsupported.value if ep.unsupported is not None else ep.op.value


# (request line, extra headers, op, bucket, key) — virtual-host style, as the API reference writes them.
VHOST_ROWS: list[tuple[str, dict[str, str], str, str | None, str | None]] = [
    ("PUT /", {}, "CreateBucket", "examplebucket", None),
    ("HEAD /", {}, "HeadBucket", "examplebucket", None),
    ("DELETE /", {}, "DeleteBucket", "examplebucket", None),
    ("GET /?location", {}, "GetBucketLocation", "examplebucket", None),
    ("GET /?prefix=N&marker=Ned&max-keys=40", {}, "ListObjects", "examplebucket", None),
    ("GET /?list-type=2&prefix=a", {}, "ListObjectsV2", "examplebucket", None),
    ("GET /?list-type=2&start-after=ExampleGuide.pdf", {}, "ListObjectsV2", "examplebucket", None),
    ("GET /?cors", {}, "GetBucketCors", "examplebucket", None),
    ("PUT /?cors", {}, "PutBucketCors", "examplebucket", None),
    ("DELETE /?cors", {}, "DeleteBucketCors", "examplebucket", None),
    ("POST /?delete", {}, "DeleteObjects", "examplebucket", None),
    ("GET /?uploads&max-uploads=3", {}, "ListMultipartUploads", "examplebucket", None),
    ("GET /?uploads&delimiter=/&prefix=photos/2006/", {}, "ListMultipartUploads", "examplebucket", None),
    (
        "POST /",
        {"content-type": "multipart/form-data; boundary=9431149156168"},
        "PostObject",
        "examplebucket",
        None,
    ),
    ("GET /?versioning", {}, "GetBucketVersioning", "examplebucket", None),
    ("GET /?acl", {}, "GetBucketAcl", "examplebucket", None),
    ("PUT /my-image.jpg", {}, "PutObject", "examplebucket", "my-image.jpg"),
    (
        "PUT /my-second-image.jpg",
        {"x-amz-copy-source": "/bucket/my-image.jpg"},
        "CopyObject",
        "examplebucket",
        "my-second-image.jpg",
    ),
    ("GET /my-image.jpg", {}, "GetObject", "examplebucket", "my-image.jpg"),
    ("GET /my-image.jpg?response-content-type=text/plain", {}, "GetObject", "examplebucket", "my-image.jpg"),
    ("HEAD /my-image.jpg", {}, "HeadObject", "examplebucket", "my-image.jpg"),
    ("DELETE /my-second-image.jpg", {}, "DeleteObject", "examplebucket", "my-second-image.jpg"),
    ("GET /my-image.jpg?acl", {}, "GetObjectAcl", "examplebucket", "my-image.jpg"),
    ("POST /example-object?uploads", {}, "CreateMultipartUpload", "examplebucket", "example-object"),
    (f"PUT /my-movie.m2ts?partNumber=1&uploadId={UPLOAD}", {}, "UploadPart", "examplebucket", "my-movie.m2ts"),
    (
        f"PUT /newobject?partNumber=2&uploadId={UPLOAD}",
        {"x-amz-copy-source": "/source-bucket/sourceobject"},
        "UploadPartCopy",
        "examplebucket",
        "newobject",
    ),
    (f"POST /example-object?uploadId={UPLOAD}", {}, "CompleteMultipartUpload", "examplebucket", "example-object"),
    (f"DELETE /example-object?uploadId={UPLOAD}", {}, "AbortMultipartUpload", "examplebucket", "example-object"),
    (
        f"GET /example-object?uploadId={UPLOAD}&max-parts=2&part-number-marker=1",
        {},
        "ListParts",
        "examplebucket",
        "example-object",
    ),
    ("OPTIONS /exampleobject", {}, "Options", "examplebucket", "exampleobject"),
    ("OPTIONS /", {}, "Options", "examplebucket", None),
    ("GET /?policy", {}, "GetBucketPolicy", "examplebucket", None),
    ("PUT /?policy", {}, "PutBucketPolicy", "examplebucket", None),
    ("DELETE /?policy", {}, "DeleteBucketPolicy", "examplebucket", None),
    ("GET /?policyStatus", {}, "GetBucketPolicyStatus", "examplebucket", None),
    # recognised, not implemented
    ("GET /?lifecycle", {}, "GetBucketLifecycleConfiguration", "examplebucket", None),
    ("GET /?tagging", {}, "GetBucketTagging", "examplebucket", None),
    ("GET /?encryption", {}, "GetBucketEncryption", "examplebucket", None),
    ("GET /?versions", {}, "ListObjectVersions", "examplebucket", None),
    ("GET /?object-lock", {}, "GetObjectLockConfiguration", "examplebucket", None),
    ("GET /?ownershipControls", {}, "GetBucketOwnershipControls", "examplebucket", None),
    ("PUT /?acl", {}, "PutBucketAcl", "examplebucket", None),
    ("PUT /?versioning", {}, "PutBucketVersioning", "examplebucket", None),
    ("DELETE /?analytics&id=list1", {}, "DeleteBucketAnalyticsConfiguration", "examplebucket", None),
    ("GET /?analytics&id=list1", {}, "GetBucketAnalyticsConfiguration", "examplebucket", None),
    ("GET /?analytics", {}, "ListBucketAnalyticsConfigurations", "examplebucket", None),
    ("GET /?metrics", {}, "ListBucketMetricsConfigurations", "examplebucket", None),
    ("DELETE /?metadataTable", {}, "DeleteBucketMetadataTableConfiguration", "examplebucket", None),
    ("PUT /my-image.jpg?acl", {}, "PutObjectAcl", "examplebucket", "my-image.jpg"),
    ("GET /example-object?tagging", {}, "GetObjectTagging", "examplebucket", "example-object"),
    ("PUT /example-object?tagging", {}, "PutObjectTagging", "examplebucket", "example-object"),
    ("DELETE /example-object?tagging", {}, "DeleteObjectTagging", "examplebucket", "example-object"),
    ("PUT /example-object?renameObject", {}, "RenameObject", "examplebucket", "example-object"),
    ("PUT /example-object?encryption", {}, "UpdateObjectEncryption", "examplebucket", "example-object"),
    ("POST /example-object?restore&versionId=3", {}, "RestoreObject", "examplebucket", "example-object"),
    ("POST /example-object?select&select-type=2", {}, "SelectObjectContent", "examplebucket", "example-object"),
    ("GET /example-object?attributes", {}, "GetObjectAttributes", "examplebucket", "example-object"),
    ("GET /example-object?part&partNumber=2&uploadId=x", {}, "GetPart", "examplebucket", "example-object"),
    ("PUT /?default-storage-class", {}, "PutBucketDefaultStorageClass", "examplebucket", None),
    ("GET /?default-storage-class", {}, "GetBucketDefaultStorageClass", "examplebucket", None),
    # parameters that are not the operation's own are ignored when they are the signature's
    ("GET /k?X-Amz-Signature=ab&x-amz-satchel-link-id=l&x-id=GetObject", {}, "GetObject", "examplebucket", "k"),
    ("GET /k?AWSAccessKeyId=a&Signature=s&Expires=1&versionId=null", {}, "GetObject", "examplebucket", "k"),
    # reads of an object ignore unknown parameters with a value (cache-busters), as AWS does
    ("GET /k?_t=1700000000", {}, "GetObject", "examplebucket", "k"),
    ("HEAD /k?v=3", {}, "HeadObject", "examplebucket", "k"),
]


@pytest.mark.parametrize(("line", "headers", "op", "bucket", "key"), VHOST_ROWS, ids=[r[0] for r in VHOST_ROWS])
def test_documented_requests(line: str, headers: dict[str, str], op: str, bucket: str, key: str | None) -> None:
    ep = _route(line, **headers)
    assert (_op(ep), ep.bucket, ep.key) == (op, bucket, key)
    assert (ep.op is Op.NotImplemented) == (op in Unsupported.__members__)


# Path style: the same operations with the bucket as the first path segment.
PATH_ROWS: list[tuple[str, str, str | None, str | None]] = [
    ("GET /", "ListBuckets", None, None),
    ("HEAD /", "ListBuckets", None, None),
    ("GET /bucket?list-type=2&prefix=a", "ListObjectsV2", "bucket", None),
    ("GET /bucket/", "ListObjects", "bucket", None),
    ("DELETE /bucket?cors", "DeleteBucketCors", "bucket", None),
    ("GET /bucket/my%20file.txt", "GetObject", "bucket", "my file.txt"),
    ("GET /bucket/a+b", "GetObject", "bucket", "a+b"),
    ("GET /bucket/%E6%97%A5%E6%9C%AC%E8%AA%9E/%C3%BC.txt", "GetObject", "bucket", "日本語/ü.txt"),
    ("GET /bucket/dir%2Fsub%2Ffile", "GetObject", "bucket", "dir/sub/file"),
    ("PUT /bucket/dir/", "PutObject", "bucket", "dir/"),
    ("PUT /bucket//leading-slash", "PutObject", "bucket", "/leading-slash"),
    ("GET /bucket/a%3Fb%23c%25d", "GetObject", "bucket", "a?b#c%d"),
    ("GET /bucket/key?partNumber=3", "GetObject", "bucket", "key"),
    ("OPTIONS /", "Options", None, None),
    ("GET /bucket/%3Ckey%3E&%22'", "GetObject", "bucket", "<key>&\"'"),
]


@pytest.mark.parametrize(("line", "op", "bucket", "key"), PATH_ROWS, ids=[r[0] for r in PATH_ROWS])
def test_path_style(line: str, op: str, bucket: str | None, key: str | None) -> None:
    ep = _route(line, host="s3.amazonaws.com")
    assert (_op(ep), ep.bucket, ep.key) == (op, bucket, key)


@pytest.mark.parametrize(
    ("host", "domain", "path", "bucket", "key"),
    [
        ("examplebucket.s3.amazonaws.com", DOMAIN, "/photos/puppy.jpg", "examplebucket", "photos/puppy.jpg"),
        ("my.dotted.bucket.s3.amazonaws.com:9000", DOMAIN, "/k", "my.dotted.bucket", "k"),
        ("ExampleBucket.S3.AmazonAWS.com", DOMAIN, "/k", "examplebucket", "k"),
        ("bucket.s3.example.com", "s3.example.com:9000", "/k", "bucket", "k"),
        ("bucket.s3.example.com.", "s3.example.com", "/k", "bucket", "k"),
        # The whole path is the key, even when it looks like bucket/key.
        ("b1.s3.amazonaws.com", DOMAIN, "/b2/k", "b1", "b2/k"),
        # Host == domain, an unrelated host, an IP or no domain configured: path style.
        ("s3.amazonaws.com", DOMAIN, "/b2/k", "b2", "k"),
        ("s3.amazonaws.com:443", DOMAIN, "/b2/k", "b2", "k"),
        ("localhost:9000", DOMAIN, "/b2/k", "b2", "k"),
        ("127.0.0.1:9000", DOMAIN, "/b2/k", "b2", "k"),
        ("[::1]:9000", DOMAIN, "/b2/k", "b2", "k"),
        ("examplebucket.s3.amazonaws.com", None, "/b2/k", "b2", "k"),
        ("evil-s3.amazonaws.com", DOMAIN, "/b2/k", "b2", "k"),
    ],
)
def test_addressing(host: str, domain: str | None, path: str, bucket: str, key: str) -> None:
    ep = route("GET", path, [], {"host": host}, domain=domain)
    assert (ep.op, ep.bucket, ep.key) == (Op.GetObject, bucket, key)
    assert ep.virtual_host == (not path.startswith(f"/{bucket}/"))


def test_identifying_values_are_parsed() -> None:
    ep = _route(
        f"PUT /newobject?partNumber=0002&uploadId={UPLOAD}",
        x_amz_copy_source="/source-bucket/dir/a%20b%2Bc%3F.txt?versionId=3%2F4",
    )
    assert ep == Endpoint(
        Op.UploadPartCopy,
        "examplebucket",
        "newobject",
        upload_id=UPLOAD,
        part_number=2,
        copy_source=CopySource("source-bucket", "dir/a b+c?.txt", "3/4"),
        virtual_host=True,
    )
    assert _route(f"GET /k?uploadId={UPLOAD}").upload_id == UPLOAD
    assert _route("HEAD /k?partNumber=10000").part_number == 10000
    assert _route("GET /k").part_number is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/bucket/key", CopySource("bucket", "key")),
        ("bucket/key", CopySource("bucket", "key")),
        ("bucket/dir/k%20%E2%82%AC+", CopySource("bucket", "dir/k €+")),
        ("bucket/a%3Fb?versionId=null", CopySource("bucket", "a?b", "null")),
        ("%2Fbucket%2Fkey", CopySource("bucket", "key")),
    ],
)
def test_copy_source(value: str, expected: CopySource) -> None:
    assert parse_copy_source(value) == expected


@pytest.mark.parametrize("value", ["", "/", "bucket", "bucket/", "/bucket/", "/key-only", "b/%FF%FE"])
def test_copy_source_malformed(value: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_copy_source(value)


ERROR_ROWS: list[tuple[str, str, dict[str, str], type[SatchelError]]] = [
    ("PATCH /bucket/key", "s3.amazonaws.com", {}, MethodNotAllowed),
    ("TRACE /", "s3.amazonaws.com", {}, MethodNotAllowed),
    ("PUT /", "s3.amazonaws.com", {}, MethodNotAllowed),
    ("DELETE /", "s3.amazonaws.com", {}, MethodNotAllowed),
    ("POST /bucket/key", "s3.amazonaws.com", {}, MethodNotAllowed),
    ("POST /bucket", "s3.amazonaws.com", {"content-type": "application/xml"}, PreconditionFailed),
    ("POST /bucket", "s3.amazonaws.com", {}, PreconditionFailed),
    ("GET /bucket?list-type=1", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /b/k?partNumber=0&uploadId=x", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /b/k?partNumber=10001&uploadId=x", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /b/k?partNumber=-1&uploadId=x", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /b/k?partNumber=%D9%A1&uploadId=x", "s3.amazonaws.com", {}, InvalidArgument),  # Arabic-Indic 1
    ("PUT /b/k?partNumber=1", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /b/k?uploadId=x", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /b/k?partNumber=abc", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-copy-source": "nokey"}, InvalidArgument),
    ("GET /_satchel/health", "s3.amazonaws.com", {}, InvalidBucketName),
    ("GET /p/token/file", "s3.amazonaws.com", {}, InvalidBucketName),
    ("PUT /v1/AUTH_x/c/o", "s3.amazonaws.com", {}, InvalidBucketName),
    ("GET /auth/v1.0", "s3.amazonaws.com", {}, InvalidBucketName),
    ("OPTIONS /auth/v1.0", "s3.amazonaws.com", {}, InvalidBucketName),
    ("GET /key", "p.s3.amazonaws.com", {}, InvalidBucketName),
    # Subresource names are case-sensitive, and a parameter the operation does not declare is
    # refused: it may name an operation Satchel lacks, which must never fall through to a default.
    ("GET /bucket?CORS", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("GET /bucket?Uploads", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("GET /bucket/key?ACL", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("DELETE /bucket/key?anyUnknownName", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("DELETE /bucket?anyUnknownName", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("PUT /bucket?anyUnknownName=1", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("PUT /bucket/key?anyUnknownName=", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("POST /bucket/key?uploads&unknown", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("GET /?max-keys=10", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("GET /bucket/key?response-content-typo", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("HEAD /bucket/key?attributes2=", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("GET /bucket?_t=1700000000", "s3.amazonaws.com", {}, NotImplementedFeature),
    # Buckets are unversioned: only the "null" version exists, another id must not touch the object.
    ("DELETE /bucket/key?versionId=3HL4kqtJlcpXroDTDmJ", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /bucket/key?versionId=3HL4kqtJlcpXroDTDmJ", "s3.amazonaws.com", {}, InvalidArgument),
    # A valueless x-amz-* name is no hoisted header: it has a subresource's shape.
    ("DELETE /bucket/key?x-amz-foo", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("DELETE /bucket?X-Amz-Foo", "s3.amazonaws.com", {}, NotImplementedFeature),
    ("GET /bucket/key?x-amz-foo", "s3.amazonaws.com", {}, NotImplementedFeature),
    # A parameter given twice is ambiguous, whatever the values.
    ("DELETE /bucket/key?versionId=null&versionId=x", "s3.amazonaws.com", {}, InvalidArgument),
    ("DELETE /bucket/key?versionId=null&versionId=null", "s3.amazonaws.com", {}, InvalidArgument),
    ("POST /bucket/key?uploadId=A&uploadId=B", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /bucket/key?partNumber=1&partNumber=2", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /bucket?prefix=a&prefix=b", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /bucket?marker=a&marker=b", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /bucket/key?X-Amz-Credential=a&X-Amz-Credential=b", "s3.amazonaws.com", {}, InvalidArgument),
    ("PUT /bucket/key?x-amz-meta-a=1&X-Amz-Meta-A=2", "s3.amazonaws.com", {}, InvalidArgument),
    ("GET /bucket/key?partNumber=1", "s3.amazonaws.com", {"range": "bytes=0-1"}, InvalidRequest),
    ("HEAD /bucket/key?partNumber=1", "s3.amazonaws.com", {"range": "bytes=0-1"}, InvalidRequest),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-copy-source": "/b/s?versionId=null&versionId=x"}, InvalidArgument),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-copy-source": "/b/s?foo"}, InvalidArgument),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-copy-source": "/b/s?versionId="}, InvalidArgument),
    # Features a write would silently drop; read-only conditions on a change.
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-write-offset-bytes": "8"}, NotImplementedFeature),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-storage-class": "GLACIER"}, NotImplementedFeature),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-storage-class": "FAST"}, InvalidStorageClass),
    ("PUT /b/k", "s3.amazonaws.com", {"x-amz-website-redirect-location": "/x"}, NotImplementedFeature),
    ("PUT /b/k", "s3.amazonaws.com", {"if-unmodified-since": "Wed, 01 Jan 2025 00:00:00 GMT"},
     NotImplementedFeature),
    ("DELETE /b/k", "s3.amazonaws.com", {"if-none-match": "*"}, NotImplementedFeature),
    ("POST /b/k?uploads", "s3.amazonaws.com", {"if-none-match": "*"}, NotImplementedFeature),
    ("PUT /b/k?partNumber=1&uploadId=x", "s3.amazonaws.com", {"if-match": '"e"'}, NotImplementedFeature),
]


@pytest.mark.parametrize("line", [
    "GET /bucket/key?_t=1&_t=2",  # cache-busters a read ignores may repeat
    "GET /bucket/key?x-amz-meta-a=1",
])
def test_tolerated(line: str) -> None:
    assert _route(line, host="s3.amazonaws.com").op is Op.GetObject


def test_standard_storage_class_and_copied_tags_are_accepted() -> None:
    headers = {"x-amz-storage-class": "STANDARD", "x-amz-tagging-directive": "COPY", "x-amz-copy-source": "/b/s"}
    assert _route("PUT /b/k", host="s3.amazonaws.com", **headers).op is Op.CopyObject


@pytest.mark.parametrize(("line", "host", "headers", "error"), ERROR_ROWS, ids=[r[0] + " " + r[1] for r in ERROR_ROWS])
def test_refused(line: str, host: str, headers: dict[str, str], error: type[SatchelError]) -> None:
    with pytest.raises(error):
        _route(line, host=host, **headers)


def test_reserved_prefixes() -> None:
    assert frozenset({"_satchel", "p", "v1", "auth", "info", "s"}) == RESERVED_PREFIXES


# --- botocore as the oracle ----------------------------------------------------------------------
# Deprecated operations that share their successor's request line, and operations that are not
# addressed to a bucket at all.
_ALIASES = {
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration",
    "ListDirectoryBuckets": "ListBuckets",
}
_NOT_ROUTABLE = {"WriteGetObjectResponse"}  # Object Lambda: a different endpoint in AWS


def _botocore_operations(peer: Any) -> list[str]:
    return [name for name in peer.model.operation_names if name not in _NOT_ROUTABLE]


def _botocore_route(peer: Any, name: str, style: str) -> str:
    """The name our router gives botocore's request for ``name``; "NotImplemented" when refused so."""
    request = peer.request(name, style=style)
    try:
        ep = route(request["method"], request["path"], request["query"], request["headers"], domain=peer.domain)
    except NotImplementedFeature:
        return "NotImplemented"
    expected = _ALIASES.get(name, name)
    has_key = "Key" in peer.model.operation_model(name).input_shape.required_members
    target = (None if expected == "ListBuckets" else peer.bucket, peer.key if has_key else None)
    return _op(ep) if (ep.bucket, ep.key) == target else f"{_op(ep)} on {(ep.bucket, ep.key)}"


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_every_botocore_operation_routes_to_its_name(peer: Any, style: str) -> None:
    """Every operation of the *installed* botocore: ours by name, or NotImplemented, never another one.

    An operation AWS adds after this table was written may route to NotImplemented (the router
    refuses parameters it does not know); it must never be taken for one we implement.
    """
    known = {op.value for op in Op} | {u.value for u in Unsupported} | set(_ALIASES)
    wrong = {}
    for name in _botocore_operations(peer):
        got = _botocore_route(peer, name, style)
        expected = _ALIASES.get(name, name)
        if got != expected and not (got == "NotImplemented" and name not in known):
            wrong[name] = got
    assert wrong == {}


def test_documented_parameters_are_accepted(peer: Any) -> None:
    """Each implemented operation accepts the query parameters botocore sends for it."""
    not_honoured: dict[str, set[str]] = {}
    missing = {}
    for op in Op:
        if op.value not in peer.model.operation_names:
            continue
        shape = peer.model.operation_model(op.value).input_shape
        members = shape.members.values() if shape is not None else []
        names = {m.serialization["name"] for m in members if m.serialization.get("location") == "querystring"}
        extra = names - QUERY_PARAMETERS[op] - COMMON_PARAMETERS - not_honoured.get(op.value, set())
        if extra:
            missing[op.value] = extra
    assert missing == {}
    assert set(QUERY_PARAMETERS) == set(Op) - {Op.Options, Op.NotImplemented}


def test_every_operation_is_known_to_botocore(peer: Any) -> None:
    """No invented names: each Op and Unsupported member is an AWS operation (or ours)."""
    ours = {"Options", "NotImplemented", "PostObject"}  # PostObject: the HTML form upload
    names = {op.value for op in Op} | {u.value for u in Unsupported}
    assert names - ours <= set(peer.model.operation_names)


def test_botocore_copy_source_round_trip(peer: Any) -> None:
    request = peer.request(
        "CopyObject",
        {"Bucket": "dst", "Key": "k", "CopySource": {"Bucket": "src", "Key": "a b/ü+%?#.txt", "VersionId": "v1"}},
    )
    ep = route(request["method"], request["path"], request["query"], request["headers"], domain=None)
    assert ep.copy_source == CopySource("src", "a b/ü+%?#.txt", "v1")


# --- bucket names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "my-bucket",
        "my.bucket.name",
        "b0.1-2",
        "123",
        "1.2.3",
        "192.168.5.4x",
        "xn-bucket",
        "bucket-s3alias-x",
        "auth1",
        "ppp",
    ],
)
def test_valid_bucket_names(name: str) -> None:
    assert valid_bucket_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "ab",
        "a" * 64,
        "MyBucket",
        "my_bucket",
        "-bucket",
        "bucket-",
        ".bucket",
        "bucket.",
        "my..bucket",
        "my.-bucket",
        "my-.bucket",
        "192.168.5.4",
        "xn--bucket",
        "sthree-bucket",
        "amzn-s3-demo-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "bucket--x-s3",
        "bucket--table-s3",
        "bucket.mrap",
        "bucket name",
        "bücket",
        "auth",
        "info",
        "_satchel",
    ],
)
def test_invalid_bucket_names(name: str) -> None:
    assert not valid_bucket_name(name)
