"""FormPost on the Swift front-end: browser uploads signed with a TempURL key (``signing/formpost.py``).

A ``POST`` of ``multipart/form-data`` (with or without a token, as in Swift) to
``/v1/AUTH_<account>/<container>[/<prefix>]`` (``router.Target.FORMPOST``). The attributes before the first
file are read (bounded), then the form's signature and expiry are checked against the account's and the
container's TempURL keys, and the form is admitted like every link (``core/admission.check_use``: first
sighting as issue time, lifetime ceilings, revocations; each file's object is checked against object
revocations too). Each file is then stored as ``<prefix><filename>`` *as the user who set the key, through a
link*: ``authorize()`` re-checks that user's write and share rights for every file. Attributes after the first
file are not read.

One audit event per form (kind ``swift``, method ``POST``), allowed or refused, naming the files stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from satchel.asgi import Request, Response
from satchel.core import objects
from satchel.core.admission import Admission, LinkUse, check_use
from satchel.core.audit import Resolver, resolve_in_account
from satchel.core.errors import AccessDenied, EntityTooLarge, NoSuchBucket, SatchelError
from satchel.core.inflight import Recheck, signer_recheck
from satchel.core.models import Account, AuditEvent, Bucket, LinkKind, Principal
from satchel.core.node import Node
from satchel.core.receive import Expectations
from satchel.core.requestfacts import AUTH_POST
from satchel.core.tempurlkeys import current_setter, setter
from satchel.policyfacts import http_facts
from satchel.signing import formpost
from satchel.signing.formpost import (
    MAX_ATTRIBUTES,
    MAX_VALUE_LENGTH,
    FormCutOff,
    FormInvalid,
    FormSpec,
    FormUnauthorized,
)
from satchel.signing.tempurl import parse_signature
from satchel.swift.errors import SwiftError, status_of
from satchel.swift.formreader import FormPart, FormReader, boundary_of
from satchel.swift.objectheaders import MAX_CONTENT_TYPE_BYTES
from satchel.swift.router import SwiftEndpoint, check_object_name

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_STATUS_TEXT = {201: "201 Created", 400: "400 Bad Request"}
#: The code (``metrics.SWIFT_REASON_CODES``) of each refusal that ends a form without an error.
#: Files named in a form's event (a form may store up to ``MAX_FILE_COUNT``); the count is always there.
_NAMED_FILES = 20
_CODES = {"max file count exceeded": "MaxFileCountExceeded", "no files to process": "NoFilesToProcess"}


@dataclass(slots=True)
class _Form:
    """What one form did so far."""

    stored: list[str] = field(default_factory=list)
    #: Bytes stored, all files together.
    received: int = 0
    status: int = 0
    message: str = ""
    user_id: str | None = None


async def serve(node: Node, endpoint: SwiftEndpoint, request: Request, trans_id: str) -> Response:
    try:
        account = await node.read(node.store.get_account_by_name, endpoint.account or "")
        bucket = node.bucket(endpoint.container) if endpoint.container and account is not None else None
    except SatchelError as exc:
        # The store away (503): still the form's one event, its bucket looked up when it is written.
        status, text = status_of(exc, anonymous=False)
        return _done(node, request, trans_id, None, endpoint.obj or "", _Form(), status,
                     f"FormPost: {text or type(exc).__name__}", f"{type(exc).__name__}: {exc.message}",
                     resolve_in_account(endpoint.account, endpoint.container))
    if bucket is not None and account is not None and bucket.account_id != account.id:
        bucket = None
    prefix = endpoint.obj or ""
    form = _Form()
    redirect = ""
    try:
        reader = FormReader(boundary_of(request.headers.get("content-type", "")), request.body_chunks())
        redirect = await _upload(node, request, account, bucket, endpoint, reader, form)
    except FormCutOff as exc:
        return _done(node, request, trans_id, bucket, prefix, form, 400, f"FormPost: {exc}", f"FormPostCutOff: {exc}")
    except FormInvalid as exc:
        return _done(node, request, trans_id, bucket, prefix, form, 400, f"FormPost: {exc}", f"FormPostInvalid: {exc}")
    except SwiftError as exc:  # a file's object name Swift's PUT path would refuse
        return _done(node, request, trans_id, bucket, prefix, form, exc.status, f"FormPost: {exc}",
                     f"InvalidObjectName: {exc}")
    except FormUnauthorized as exc:
        return _done(node, request, trans_id, bucket, prefix, form, 401, f"FormPost: {str(exc).title()}",
                     f"FormPostUnauthorized: {exc.reason}")
    except EntityTooLarge:
        message = "FormPost: max_file_size exceeded"
        return _done(node, request, trans_id, bucket, prefix, form, 400, message, f"EntityTooLarge: {message}")
    except AccessDenied as exc:
        # Revoked, over a ceiling, or the key's setter may not write here (any more). A form first seen for
        # an earlier bucket of this name is not the new bucket's event.
        return _done(node, request, trans_id, None if exc.earlier_bucket else bucket, prefix, form, 401,
                     "FormPost: Unauthorized", f"AccessDenied: {exc.message}")
    except SatchelError as exc:
        status, text = status_of(exc, anonymous=False)
        return _done(node, request, trans_id, bucket, prefix, form, status, f"FormPost: {text or type(exc).__name__}",
                     f"{type(exc).__name__}: {exc.message}")
    if not form.status:
        form.status, form.message = 400, "no files to process"
    reason = f"{_CODES[form.message]}: {form.message}" if form.message else ""
    if redirect:
        location = formpost.redirect_location(redirect, form.status, form.message)
        _record(node, request, trans_id, bucket, prefix, form, form.status, reason)
        return Response(303, [("Location", location), ("Content-Type", "text/html; charset=UTF-8")],
                        formpost.redirect_body(location))
    body = _STATUS_TEXT.get(form.status, str(form.status))
    if form.message:
        body += "\r\nFormPost: " + form.message.title()
    return _done(node, request, trans_id, bucket, prefix, form, form.status, body, reason)


async def _upload(node: Node, request: Request, account: Account | None, bucket: Bucket | None,
                  endpoint: SwiftEndpoint, reader: FormReader, form: _Form) -> str:
    """Read the form, storing each file; returns the redirect the signed form asked for ("" for none)."""
    attributes: dict[str, str] = {}
    checked: tuple[FormSpec, Principal, Admission, Recheck] | None = None
    while (part := await reader.next_part()) is not None:
        filename = part.filename
        if filename is None:
            if checked is None:
                _attribute(attributes, part, await reader.value(MAX_VALUE_LENGTH))
            continue
        if checked is None:
            checked = await _check(node, request, account, bucket, endpoint, attributes, form)
        spec, principal, admission, recheck = checked
        if len(form.stored) >= spec.max_file_count:
            form.status, form.message = 400, "max file count exceeded"
            break
        if bucket is None:
            raise NoSuchBucket(BucketName=endpoint.container or "")
        key = formpost.object_name(endpoint.obj or "", filename)
        if part.not_utf8:
            raise SwiftError(412, "Invalid UTF8 or contains NULL")
        _check_name(filename, key)
        admission.check_key(node.revocations, key)
        record = await objects.put_object(node, principal, bucket.name, key, reader.data(),
                                          headers=_file_headers(part, attributes), user_meta={},
                                          expect=Expectations(max_size=spec.max_file_size), bucket_id=bucket.id,
                                          recheck=recheck)
        form.stored.append(key)
        form.received += record.size
        form.status = 201
    # Swift redirects a form without files to its (then unchecked) redirect too: an open redirect through this
    # server. Only a signed redirect is followed here.
    return checked[0].redirect if checked is not None else ""


def _check_name(filename: str, key: str) -> None:
    """A file's object name obeys the rules of a Swift PUT path (NUL or not UTF-8: 412, over 1024 bytes:
    400), and names no browser link could reach (``.``/``..`` segments, a leading ``/``, a backslash) are
    refused (400): Swift keeps them, but every browser normalises their links to another object."""
    check_object_name(key)
    if filename.startswith("/") or "\\" in key or any(part in (".", "..") for part in key.split("/")):
        raise SwiftError(400, "invalid file name (a . or .. segment, a leading / or a backslash)")


def _attribute(attributes: dict[str, str], part: FormPart, raw: bytes) -> None:
    name = (part.name or "").lower()
    if not name:
        return
    if len(attributes) >= MAX_ATTRIBUTES:
        raise FormInvalid(f"more than {MAX_ATTRIBUTES} form attributes")
    try:
        attributes[name] = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise FormInvalid(f"the attribute {name[:40]} is not UTF-8") from None


async def _check(node: Node, request: Request, account: Account | None, bucket: Bucket | None,
                 endpoint: SwiftEndpoint, attributes: dict[str, str],
                 form: _Form) -> tuple[FormSpec, Principal, Admission, Recheck]:
    """Signature, expiry and admission of the form, at its first file (as Swift checks); and the second
    admission of each file, once it has arrived (``core/inflight.py``): the key still set, its setter's
    rights and the revocations as they are then."""
    spec = formpost.parse_attributes(attributes, max_put_size=node.settings.max_put_size)
    if account is None:
        raise FormUnauthorized("invalid signature", "no such account")
    keys = await node.read(node.tempurl_keys.keys, account.id, bucket)
    # The signed path is the form's own, decoded (Swift's PATH_INFO): /v1/AUTH_<account>/<container>[/<prefix>].
    index = formpost.verify(spec, request.path, [k.secret for k in keys],
                            allowed=node.settings.tempurl_allowed_digests, now=node.clock.now())
    key = keys[index]
    principal = (await node.read(setter, node, key)).with_facts(http_facts(request, now=node.clock.now(),
                                                                          auth_type=AUTH_POST))
    form.user_id = key.set_by
    admission = await check_use(node, LinkUse(
        principal=principal, bucket=bucket.name if bucket is not None else None, key=endpoint.obj,
        method="POST", issued_at=None, expires_at=float(spec.expires),
        listing_prefix=None, fingerprint=parse_signature(spec.signature).fingerprint,
    ))
    recheck = signer_recheck(node, principal, admission, current=lambda: current_setter(node, key, bucket))
    return spec, principal, admission, recheck


def _file_headers(part: FormPart, attributes: dict[str, str]) -> dict[str, str]:
    """The form's ``content-type`` / ``content-encoding`` attributes, else the file part's own."""
    headers = {"content-type": attributes.get("content-type") or part.headers.get("content-type")
               or DEFAULT_CONTENT_TYPE}
    encoding = attributes.get("content-encoding") or part.headers.get("content-encoding")
    if encoding:
        headers["content-encoding"] = encoding
    if len(headers["content-type"].encode()) > MAX_CONTENT_TYPE_BYTES:  # repeated in every listing row
        raise FormInvalid(f"a content-type longer than {MAX_CONTENT_TYPE_BYTES} bytes")
    return headers


def _record(node: Node, request: Request, trans_id: str, bucket: Bucket | None, prefix: str, form: _Form,
            status: int, reason: str, resolve_later: Resolver | None = None) -> None:
    """The form's one event, naming the files stored whatever ended it (a refusal after some files, a form
    cut mid-upload): they are in the bucket, and this is their only trace as link uses."""
    shown = ", ".join(form.stored[:_NAMED_FILES])
    more = f" and {len(form.stored) - _NAMED_FILES} more" if len(form.stored) > _NAMED_FILES else ""
    stored = f"{len(form.stored)} file(s) stored" + (f": {shown}{more}" if form.stored else "")
    reason = f"{reason}; {stored}" if reason else stored
    node.audit.record(AuditEvent(
        time=node.clock.now(), action="use", outcome="allowed" if 200 <= status < 400 and form.stored else "refused",
        kind=LinkKind.SWIFT.value, user_id=form.user_id, bucket=bucket.name if bucket is not None else None,
        key=prefix, method="POST", client_ip=request.client, user_agent=request.user_agent,
        status=request.answered_by_server or status,
        bytes=form.received, reason=reason, request_id=trans_id,
    ), resolve_later=resolve_later or False)


def _done(node: Node, request: Request, trans_id: str, bucket: Bucket | None, prefix: str, form: _Form, status: int,
          body: str, reason: str, resolve_later: Resolver | None = None) -> Response:
    """The plain-text answer (no redirect), with its audit event."""
    _record(node, request, trans_id, bucket, prefix, form, status, reason, resolve_later)
    return Response(status, [("Content-Type", "text/plain; charset=UTF-8")], body.encode())
