"""PostObject: browser form uploads authorised by a signed POST policy (or, unsigned, by a bucket ACL that lets
everybody write: ``public-read-write``).

How a page uploads without credentials: the owner's SDK builds the form
(``boto3.client("s3").generate_presigned_post(Bucket, Key, Fields, Conditions, ExpiresIn)``), the
page posts it as ``multipart/form-data`` to the bucket URL with the file as the last field. Satchel
checks the policy's signature with the signer's *current* key, every condition and the expiry before
storing a byte, streams the file into a blob while enforcing ``content-length-range``, then answers
as ``success_action_redirect`` / ``success_action_status`` ask (204 by default, 201 with XML, 200, or
a 303 redirect). CORS for the page comes from the bucket's CORS rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import Message
from urllib.parse import SplitResult, quote, urlencode, urlsplit, urlunsplit

from satchel.asgi import Response
from satchel.core import acl, objects
from satchel.core.admission import LinkUse, check_use
from satchel.core.errors import InvalidArgument, MalformedPOSTRequest
from satchel.core.inflight import signer_recheck
from satchel.core.models import ANONYMOUS
from satchel.core.node import Node
from satchel.core.receive import Expectations, checksum_algorithm, checksum_headers
from satchel.core.tagging import MAX_OBJECT_TAGS
from satchel.s3 import sse as s3sse
from satchel.s3 import xml
from satchel.s3.context import S3Context
from satchel.s3.handlers.versioning import written_version_headers
from satchel.s3.headervalues import check_stored_value
from satchel.s3.objectheaders import object_url, stored_headers, user_metadata
from satchel.s3.policyfacts import post_facts
from satchel.s3.postform import PostForm
from satchel.s3.refusedheaders import check_protection_headers
from satchel.s3.tagxml import parse_tagging
from satchel.signing.post_policy import ContentLengthRange, verify_post_form


def _boundary(content_type: str) -> str:
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MalformedPOSTRequest()
    return boundary


async def _bounded(stream: AsyncIterator[bytes], limits: ContentLengthRange | None) -> AsyncIterator[bytes]:
    """Enforce the policy's content-length-range while the file streams, and at its end."""
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if limits is not None:
            limits.check(size, final=False)
        yield chunk
    if limits is not None:
        limits.check(size)


async def post_object(node: Node, ctx: S3Context) -> Response:
    form = PostForm(_boundary(ctx.request.headers.get("content-type", "")), ctx.request.body_chunks())
    raw_fields = await form.read_fields()
    fields = {name.lower(): value for name, value in raw_fields.items()}
    if is_anonymous_form(fields):
        return await _anonymous_post(node, ctx, form, fields)
    signer = node.credentials.signer()
    result = await node.read(  # the key lookup may read the store: off the loop
        verify_post_form,
        raw_fields,
        bucket=ctx.bucket,
        region=node.settings.region,
        now=node.clock.now(),
        lookup_secret=signer,
        filename=form.filename,
    )
    fields = dict(result.fields)
    key = fields.get("key", "")
    if not key:
        raise InvalidArgument("User key must have a length greater than 0.", ArgumentName="key")
    principal = signer.principal.through_link()  # a POST policy is a link: its signer needs the share right
    principal = principal.with_facts(post_facts(ctx.auth.principal.facts, sigv4="x-amz-algorithm" in fields,
                                                signed_at=result.issued_at))
    ctx.signer, ctx.object_key = principal, key
    headers, user_meta = stored_headers(fields, wire=False), user_metadata(fields, wire=False)
    expect = _expectations(fields)
    redirect = _success_redirect(fields)
    # The form's ``tagging`` field is a Tagging document (the ``$tagging`` policy condition matches it whole).
    tags = parse_tagging(fields["tagging"].encode(), MAX_OBJECT_TAGS) if "tagging" in fields else ()
    check_protection_headers(fields.items())
    encrypt = s3sse.encrypt(node, ctx, fields)  # SSE fields, covered by the policy like the others
    admission = await check_use(node, LinkUse(
        principal=principal,
        bucket=ctx.bucket,
        key=key,
        method="POST",
        issued_at=result.issued_at,
        expires_at=result.policy.expiration,
        fingerprint=result.fingerprint,
    ))
    record = await objects.put_object(
        node,
        principal,
        ctx.bucket,
        key,
        _bounded(form.file_data(), result.content_length_range),
        headers=headers,
        user_meta=user_meta,
        expect=expect,
        recheck=signer_recheck(node, principal, admission),
        encrypt=encrypt,
        tags=tags,
        acl=await node.read(acl.for_write, node, principal, ctx.bucket, key, _acl_fields(fields)),
    )
    response = _success(node, ctx, fields, redirect, record.key, record.etag)
    response.headers += written_version_headers(record.version_id)
    return response


#: Form fields that authenticate a POST; a form with none of them is anonymous (AWS: an upload to a bucket
#: whose ACL lets everybody write, ``public-read-write``).
_AUTH_FIELDS = frozenset({"policy", "signature", "awsaccesskeyid", "x-amz-signature", "x-amz-credential",
                          "x-amz-algorithm", "x-amz-date", "x-amz-security-token"})


def is_anonymous_form(fields: dict[str, str]) -> bool:
    return not _AUTH_FIELDS.intersection(fields)


async def _anonymous_post(node: Node, ctx: S3Context, form: PostForm, fields: dict[str, str]) -> Response:
    """An unsigned form: no link (nothing to admit, count or revoke), stored as the anonymous principal,
    which ``authorize()`` lets write only where an ACL grants AllUsers WRITE (``core/access.py`` rule 14)."""
    key = fields.get("key", "")
    if form.filename is not None:
        key = key.replace("${filename}", form.filename.replace("\\", "/").rsplit("/", 1)[-1])
    if not key:
        raise InvalidArgument("User key must have a length greater than 0.", ArgumentName="key")
    ctx.signer, ctx.object_key = ANONYMOUS, key
    redirect = _success_redirect(fields)
    tags = parse_tagging(fields["tagging"].encode(), MAX_OBJECT_TAGS) if "tagging" in fields else ()
    check_protection_headers(fields.items())
    record = await objects.put_object(
        node, ANONYMOUS, ctx.bucket, key, _bounded(form.file_data(), None),
        headers=stored_headers(fields, wire=False), user_meta=user_metadata(fields, wire=False),
        expect=_expectations(fields), encrypt=s3sse.encrypt(node, ctx, fields), tags=tags,
        acl=await node.read(acl.for_write, node, ANONYMOUS, ctx.bucket, key, _acl_fields(fields)),
    )
    return _success(node, ctx, fields, redirect, record.key, record.etag)


def _acl_fields(fields: dict[str, str]) -> dict[str, str]:
    """The form's ``acl`` field is the x-amz-acl header of a browser upload (its policy must allow it, as
    every field); ``x-amz-grant-*`` fields are those headers."""
    return {("x-amz-acl" if name == "acl" else name): value for name, value in fields.items()
            if name == "acl" or name.startswith("x-amz-grant-")}


def _expectations(fields: dict[str, str]) -> Expectations:
    """The form's Content-MD5 and checksum fields, verified against the file as the same headers of a
    PUT are (AWS's POST Object checks both); an ``x-amz-checksum-algorithm`` field asks for one computed."""
    expect = Expectations(content_md5=fields.get("content-md5"), checksums=checksum_headers(fields))
    algorithm = fields.get("x-amz-checksum-algorithm")
    if algorithm:
        expect.compute = (checksum_algorithm(algorithm),)
    return expect


#: Printable US-ASCII, which a Location header carries as is; anything else non-ASCII is percent-encoded.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _success_redirect(fields: dict[str, str]) -> SplitResult | None:
    """The ``success_action_redirect`` URL (``redirect`` of old forms), checked before anything is stored.

    AWS ignores a URL it cannot interpret (no http(s) scheme or host). Control characters are refused
    (they cannot be in a Location header); other non-ASCII is made ASCII as browsers do: an IDNA host
    name, the rest percent-encoded as UTF-8 (RFC 3986 §2.1).
    """
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if not redirect:
        return None
    check_stored_value("success_action_redirect", redirect)
    parts = urlsplit(redirect)
    userinfo, at, host_port = parts.netloc.rpartition("@")
    host, colon, port = host_port.partition(":")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    parts = urlsplit(quote(urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}{colon}{port}")), safe=_URL_SAFE))
    return parts if parts.scheme in ("http", "https") and parts.netloc else None


def _success(node: Node, ctx: S3Context, fields: dict[str, str], redirect: SplitResult | None,
             key: str, etag: str) -> Response:
    quoted = f'"{etag}"'
    location = object_url(node.settings.endpoint, ctx.bucket, key)
    if redirect is not None:
        extra = urlencode({"bucket": ctx.bucket, "key": key, "etag": quoted})
        query = f"{redirect.query}&{extra}" if redirect.query else extra
        return Response(303, [("ETag", quoted), ("Location", urlunsplit(redirect._replace(query=query)))])
    headers = [("ETag", quoted), ("Location", location)]
    status = fields.get("success_action_status", "")
    if status == "201":
        body = xml.post_response(location, ctx.bucket, key, quoted)
        return Response(201, [*headers, ("Content-Type", "application/xml")], body)
    if status == "200":
        return Response(200, headers)
    return Response(204, headers)
