"""The S3 front-end's side of encryption at rest: SSE headers in, SSE headers out (core: ``core/sse.py``).

SSE-C keys are accepted only on a secure request (AWS refuses them over HTTP): Satchel serving TLS
itself, or a trusted proxy saying ``X-Forwarded-Proto: https`` (uvicorn then sets the ASGI scheme);
``sse_c_allow_http`` lifts the rule for a private network behind an untrusted-listed TLS proxy.
The rule holds for every operation, as on AWS, not only those that use a key: :func:`check_request`
runs right after routing, so a ListObjects or DeleteObject that sends a key over HTTP is refused too
(the key has crossed the network in clear either way; the client must learn it). A request that sends
the copy-source key but is no copy is refused rather than stored unencrypted: its client believes a
key protects something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from satchel.core.errors import InvalidArgument, InvalidRequest
from satchel.core.node import Node
from satchel.core.sse import AES256, CustomerKey, Encrypt
from satchel.s3.context import S3Context
from satchel.s3.endpoints import Endpoint

SSE = "x-amz-server-side-encryption"
CUSTOMER = "x-amz-server-side-encryption-customer-"
SOURCE_CUSTOMER = "x-amz-copy-source-server-side-encryption-customer-"


def _customer(node: Node, ctx: S3Context, values: Mapping[str, str], prefix: str) -> CustomerKey | None:
    algorithm, key, md5 = (values.get(prefix + name) for name in ("algorithm", "key", "key-md5"))
    if algorithm is None and key is None and md5 is None:
        return None
    _require_secure(node, ctx.request.scope.get("scheme"))
    return CustomerKey.parse(algorithm, key, md5, prefix)


def _require_secure(node: Node, scheme: object) -> None:
    if scheme != "https" and not node.settings.sse_c_allow_http:
        raise InvalidRequest("Requests specifying Server Side Encryption with Customer provided keys must be made "
                             "over a secure connection.")


def check_request(node: Node, scheme: object, endpoint: Endpoint, headers: Iterable[tuple[str, str]]) -> None:
    """The SSE-C rules every S3 request meets, whatever its operation (``headers``: lower-case names, the
    query's ``x-amz-*`` parameters included): its SSE-C headers only over a secure connection, and the
    copy-source ones only on a copy."""
    names = [name for name, _ in headers if name.startswith((CUSTOMER, SOURCE_CUSTOMER))]
    if not names:
        return
    _require_secure(node, scheme)
    if endpoint.copy_source is None:
        for name in names:
            if name.startswith(SOURCE_CUSTOMER):
                raise InvalidArgument("The copy-source SSE-C headers are only valid on a copy (CopyObject or "
                                      "UploadPartCopy with x-amz-copy-source); this request is not one.",
                                      ArgumentName=name)


def customer_key(node: Node, ctx: S3Context, values: Mapping[str, str] | None = None) -> CustomerKey | None:
    """The request's SSE-C key (GET, HEAD, UploadPart, a copy's destination), checked."""
    return _customer(node, ctx, ctx.request.headers if values is None else values, CUSTOMER)


def source_customer_key(node: Node, ctx: S3Context) -> CustomerKey | None:
    """A copy's ``x-amz-copy-source-server-side-encryption-customer-*`` key, checked."""
    return _customer(node, ctx, ctx.request.headers, SOURCE_CUSTOMER)


def encrypt(node: Node, ctx: S3Context, values: Mapping[str, str] | None = None) -> Encrypt | None:
    """What a write asks for (PutObject, CopyObject, POST fields, CreateMultipartUpload); None: the bucket's
    default. ``aws:kms`` never reaches here: ``refusedheaders`` answers it 501 (no KMS)."""
    values = ctx.request.headers if values is None else values
    customer = customer_key(node, ctx, values)
    algorithm = values.get(SSE)
    if algorithm is not None and algorithm != AES256:
        raise InvalidArgument("The encryption method specified is not supported", ArgumentName=SSE,
                              ArgumentValue=algorithm[:64])
    if customer is not None:
        if algorithm is not None:
            raise InvalidArgument("Server Side Encryption with Customer provided key is incompatible with the "
                                  "encryption method specified", ArgumentName=SSE, ArgumentValue=algorithm)
        return Encrypt(customer)
    return Encrypt() if algorithm is not None else None
