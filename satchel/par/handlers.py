"""GetObject, HeadObject and PutObject through a PAR: admit (``core/par/use.py``), call core, render.

Counting (``maxUses``, uses, last use): a GET that answers 200 or 206 counts one use right before its
first byte (the blob is open, nothing is sent yet); a PUT counts before it writes, so two concurrent uses
of a one-use upload PAR never both write, and gives the use back when the write then fails (412, a 404
from ``If-Match``, a bad ``Content-MD5``, a body cut short, a client that left). A HEAD, a 304, a failed
write and every refusal count nothing.
"""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from satchel.asgi import Request, Response
from satchel.core import objects, sse
from satchel.core.conditions import check_conditions, requested_range
from satchel.core.errors import InvalidArgument
from satchel.core.inflight import Recheck
from satchel.core.node import Node
from satchel.core.par import use
from satchel.core.par.model import Par
from satchel.core.par.use import Operation, ParAdmission
from satchel.core.receive import Expectations
from satchel.core.requestfacts import AUTH_QUERY, RequestFacts
from satchel.core.streams import close_stream
from satchel.core.text import decimal
from satchel.par.headers import md5_base64, object_headers, put_headers, safe_inline
from satchel.par.router import Endpoint
from satchel.policyfacts import http_facts


@dataclass
class ParContext:
    request: Request
    endpoint: Endpoint
    par: Par
    request_id: str
    admission: ParAdmission | None = None
    #: Set by a listing or zip: what the audit event says beyond the URL.
    summary: str | None = None


def admit(node: Node, ctx: ParContext, key: str, operation: Operation, *, continuing: bool = False,
          policy_operation: str | None = None) -> ParAdmission:
    """``policy_operation``: the S3 operation a bucket policy sees, when not the access action's default (a
    version read is ``GetObjectVersion``)."""
    ctx.admission = use.admit(node, ctx.par, namespace=ctx.endpoint.namespace, bucket_name=ctx.endpoint.bucket,
                              key=key, operation=operation, client_ip=ctx.request.client, continuing=continuing,
                              facts=par_facts(node, ctx, policy_operation))
    return ctx.admission


def par_facts(node: Node, ctx: ParContext, operation: str | None = None) -> RequestFacts:
    """A PAR use's facts for bucket policy conditions: a link in a URL (``s3:authType`` REST-QUERY-STRING, as
    a presigned URL), its ``s3:signatureAge`` counted from the PAR's creation."""
    return http_facts(ctx.request, now=node.clock.now(), operation=operation, auth_type=AUTH_QUERY,
                      signed_at=ctx.par.created)


def recheck(node: Node, ctx: ParContext, admission: ParAdmission) -> Recheck:
    """The write's second admission, once its body has arrived (``core/par/use.recheck``)."""
    return use.recheck(node, admission, namespace=ctx.endpoint.namespace, key=ctx.endpoint.key,
                       client_ip=ctx.request.client, facts=par_facts(node, ctx))


def no_query(request: Request, allowed: frozenset[str] = frozenset()) -> dict[str, str]:
    """The query parameters an operation takes, each at most once; any other is refused, never ignored."""
    found: dict[str, str] = {}
    for name, value in request.query:
        if name not in allowed:
            raise InvalidArgument(f"Unknown query parameter {name[:64]!r}.")
        if name in found:
            raise InvalidArgument(f"Query parameter {name!r} given more than once.")
        found[name] = value
    return found


#: The query of a read: an object version (versioning), as OCI's GetObject and HeadObject take it.
_READ_QUERY = frozenset({"versionId"})


async def get_object(node: Node, ctx: ParContext) -> Response:
    return await _read(node, ctx, head=False)


async def head_object(node: Node, ctx: ParContext) -> Response:
    return await _read(node, ctx, head=True)


async def _read(node: Node, ctx: ParContext, *, head: bool) -> Response:
    request, key = ctx.request, ctx.endpoint.key
    version_id = no_query(request, _READ_QUERY).get("versionId")  # OCI GetObject/HeadObject's versionId
    admission = await node.read(admit, node, ctx, key, Operation.READ,
                                policy_operation="GetObjectVersion" if version_id is not None else None)
    principal = admission.principal
    record = await node.read(objects.get_object, node, principal, admission.bucket.name, key, version_id)
    check_conditions(request.headers, etag=record.etag, last_modified=record.last_modified)
    byte_range = requested_range(request.headers, record)
    body: bytes | AsyncIterator[bytes] = b""
    if head:
        sse.refuse_link(record.headers)  # as the GET would be: a PAR cannot carry an SSE-C key
    else:
        opened, stream = await objects.open_object(node, principal, record, byte_range, version_id=version_id)
        try:
            if opened != record:  # overwritten meanwhile: the answer describes what is being sent
                record = opened
                check_conditions(request.headers, etag=record.etag, last_modified=record.last_modified)
                byte_range = requested_range(request.headers, record)
            await use.count_use(node, ctx.par)
        except BaseException:
            await close_stream(stream)
            raise
        body = stream
    content_type = record.headers.get("content-type", "")
    inline = not safe_inline(content_type) and await node.read(node.store.par_inline_active, admission.bucket.id)
    return Response(206 if byte_range is not None else 200, object_headers(ctx.par, record, byte_range, inline), body)


_WRITE_CONDITIONS = ("if-match", "if-none-match")


def content_length(headers: Mapping[str, str]) -> int | None:
    """The announced body size (None: chunked); 400 for anything but a decimal number."""
    if "content-length" not in headers:
        return None
    size = decimal(headers["content-length"].strip())
    if size is None:
        raise InvalidArgument("Content-Length must be a non-negative integer.")
    return size


async def put_object(node: Node, ctx: ParContext) -> Response:
    request, key = ctx.request, ctx.endpoint.key
    no_query(request)
    headers = request.headers
    objects.check_key(key)
    stored, meta = put_headers(headers)
    objects.check_user_meta(meta)
    expect = Expectations(size=content_length(headers), content_md5=headers.get("content-md5"))
    conditions = {name: headers[name] for name in _WRITE_CONDITIONS if name in headers}
    admission = await node.read(admit, node, ctx, key, Operation.WRITE)
    await use.count_use(node, ctx.par)
    async with use.given_back_on_failure(node, ctx.par):
        record = await objects.put_object(node, admission.principal, admission.bucket.name, key,
                                          request.body_chunks(), headers=stored, user_meta=meta, expect=expect,
                                          conditions=conditions, bucket_id=admission.bucket.id,
                                          recheck=recheck(node, ctx, admission))
    answer = [("ETag", f'"{record.etag}"'), ("Last-Modified", _http_date(record.last_modified))]
    md5 = md5_base64(record.etag)
    if md5 is not None:
        answer.append(("opc-content-md5", md5))
    if record.version_id not in (None, "null"):  # a versioned bucket's new version, as OCI's PutObject names it
        answer.append(("version-id", str(record.version_id)))
    return Response(200, answer)


def _http_date(when: float) -> str:
    return email.utils.formatdate(when, usegmt=True)


Handler = Callable[[Node, ParContext], Awaitable[Response]]
