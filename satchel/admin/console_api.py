"""The management API calls the web console needs beside the link calls of ``handlers.py``: sessions,
capabilities, buckets, objects (listing, details, upload, multipart, download, delete), access keys,
users, grants and share pages. Each is parse → core → JSON; every permission is decided in core, by
``authorize()``, never here."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from satchel.admin import schemas
from satchel.admin.auth import signing_key
from satchel.admin.handlers import Call
from satchel.asgi import Response
from satchel.console import kinds, session, shares
from satchel.console.errors import NotSignedIn
from satchel.contentsafety import NOSNIFF, SANDBOX
from satchel.core import buckets, links, listing, multipart, objects, people, sse, tempurlkeys
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidArgument, InvalidRequest, NoSuchBucket
from satchel.core.inflight import Recheck, current_signer, signer_recheck
from satchel.core.links import content_disposition
from satchel.core.models import Bucket, ObjectRecord, Permission, Principal, Role, Status, User
from satchel.core.receive import Expectations
from satchel.core.text import decimal, is_text

#: The console uploads files larger than this in parts of ``PART_SIZE`` (S3's minimum part is 5 MiB).
MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024
_LIST_DEFAULT = 200


# --- sessions ---------------------------------------------------------------------------------------
def _session_json(call: Call, signed_in: session.SignedIn) -> dict[str, Any]:
    user = signed_in.user
    key = signing_key(call.node, user.id)
    return {"signed_in": True, "user": user.name, "role": user.role.value, "account_id": user.account_id,
            "csrf_token": signed_in.csrf, "expires": signed_in.session.expires,
            "idle_timeout": call.node.settings.console_session_idle,
            "signing_key": key.access_key_id if key is not None else None}


async def sign_in(call: Call) -> Any:
    """Sign in with a user name and password. Only from a page of this origin, as JSON: a form another
    site posts cannot sign a browser in to an account of the attacker's (login CSRF)."""
    request = call.request
    if not session.same_origin(request) or not request.headers.get("content-type", "").startswith(
            "application/json"):
        raise AccessDenied("Sign in from the console's own page.")
    name, password = schemas.session_request(call.body)
    signed_in = await session.sign_in(call.node, name, password, request.client)
    call.response_headers.append(("Set-Cookie", session.set_cookie(
        call.node, request, signed_in.token, call.node.settings.console_session_lifetime)))
    return _session_json(call, signed_in)


_SIGNED_OUT: dict[str, Any] = {"signed_in": False, "user": None, "role": None, "account_id": None,
                                "csrf_token": None, "expires": None, "idle_timeout": None, "signing_key": None}


async def get_session(call: Call) -> Any:
    """The session, or ``signed_in: false`` (not an error: the console asks this before anything else)."""
    try:
        signed_in, _ = await session.resume(call.node, call.request, state_change=False)
    except NotSignedIn:
        return _SIGNED_OUT
    return _session_json(call, signed_in)


async def sign_out(call: Call) -> Any:
    if call.session is None:
        raise InvalidRequest("Only a console session can be signed out.")
    await session.sign_out(call.node, call.session)
    call.response_headers.append(("Set-Cookie", session.set_cookie(call.node, call.request, "", 0)))
    return _SIGNED_OUT


async def capabilities(call: Call) -> Any:
    settings = call.node.settings
    return {"link_kinds": [kind.json(settings) for kind in kinds.share_kinds()],
            "max_link_lifetime": settings.max_link_lifetime, "max_put_size": settings.max_put_size,
            "part_size": PART_SIZE, "multipart_threshold": MULTIPART_THRESHOLD}


# --- buckets ----------------------------------------------------------------------------------------
def _bucket_entry(call: Call, bucket: Bucket) -> dict[str, Any]:
    user = call.principal.active_user
    granted = sorted({g.prefix for g in call.principal.grants
                      if user is not None and g.user_id == user.id and g.bucket_id == bucket.id})
    return {**schemas.bucket_json(bucket, call.user_name), "sharing": bucket.sharing.value,
            "admin": authorize(call.principal, Action.BUCKET_ADMIN, Resource(bucket)), "grant_prefixes": granted}


async def list_buckets(call: Call) -> Any:
    owner = call.query.get("owner") or None
    if owner not in (None, "user", "account"):
        raise InvalidArgument("owner must be user or account", ArgumentName="owner")
    found = await call.node.read(buckets.list_buckets, call.node, call.principal)
    if owner is not None:
        found = [b for b in found if (b.owner_user_id is None) == (owner == "account")]
    return {"buckets": [_bucket_entry(call, b) for b in sorted(found, key=lambda b: b.name)]}


async def delete_bucket(call: Call) -> Any:
    await buckets.delete_bucket(call.node, call.principal, call.params["bucket"])
    return {"done": True}


async def put_bucket_settings(call: Call) -> Any:
    public = schemas.bucket_settings(call.body)
    updated = await buckets.set_public(call.node, call.principal, call.params["bucket"], public)
    return _bucket_entry(call, updated)


# --- objects ----------------------------------------------------------------------------------------
def _key(call: Call) -> str:
    key = call.query.get("key", "")
    if not key or not is_text(key):
        raise InvalidArgument("key is required (a UTF-8 object key)", ArgumentName="key")
    objects.check_key(key)
    return key


def _marker(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        padded = raw.encode("ascii") + b"=" * (-len(raw) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidArgument("continuation is not one this API gave", ArgumentName="continuation") from None


def _object_json(record: ObjectRecord | Any) -> dict[str, Any]:
    headers = getattr(record, "headers", None) or {}
    return {"key": record.key, "size": record.size, "etag": record.etag, "last_modified": record.last_modified,
            # An SSE-C object's type is shown by S3 only with its key: a listing leaves it out.
            "content_type": None if sse.is_customer(headers) else headers.get("content-type")}


async def list_objects(call: Call) -> Any:
    """One page of a folder: sub-folders (common prefixes) and objects, in key order. ``search`` keeps the
    names in the folder that start with it; a page is an index range scan, so it stays fast whatever
    the bucket's size."""
    query = call.query
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "/")
    search = query.get("search", "")
    if not all(is_text(v) for v in (prefix, delimiter, search)) or len(delimiter) > 1:
        raise InvalidArgument("prefix, delimiter (at most one character) and search must be text")
    page = await call.node.read(listing.list_objects, call.node, call.principal, call.params["bucket"],
                                prefix=prefix + search,
                                delimiter=delimiter, marker=_marker(query.get("continuation")),
                                max_keys=schemas.limit(query, _LIST_DEFAULT, 1000))
    folders = [e.key for e in page.entries if e.record is None]
    found = [_object_json(e.record) for e in page.entries if e.record is not None]
    token = None
    if page.is_truncated and page.next_marker is not None:
        token = base64.urlsafe_b64encode(page.next_marker.encode()).decode().rstrip("=")
    return {"prefix": prefix, "folders": folders, "objects": found, "continuation": token}


async def object_details(call: Call) -> Any:
    """An object's size, type, ETag, metadata, and the minted links to it the caller may manage."""
    bucket, key = call.params["bucket"], _key(call)
    record = await call.node.read(objects.get_object, call.node, call.principal, bucket, key)
    sse.refuse_link(record.headers)  # its metadata, as S3's HEAD, only with the key this API cannot carry
    pointing = []
    if call.principal.active_user is not None:
        found = links.visible_links(call.node.store, call.principal, bucket=bucket, key_prefix=key, active_at=None,
                                    limit=1000)
        pointing = [schemas.link_json(link, call.user_name, call.now) for link in found if link.key == key]
    return {**_object_json(record), "bucket": bucket, "headers": sse.visible_headers(record.headers),
            "metadata": dict(record.user_meta), "links": pointing}


async def delete_object(call: Call) -> Any:
    await objects.delete_object(call.node, call.principal, call.params["bucket"], _key(call))
    return {"done": True}


async def download(call: Call) -> Any:
    """The object's bytes, as an attachment named after the key's last segment."""
    bucket, key = call.params["bucket"], _key(call)
    record = await call.node.read(objects.get_object, call.node, call.principal, bucket, key)
    record, stream = await objects.open_object(call.node, call.principal, record, None)
    headers = [
        ("Content-Type", record.headers.get("content-type") or "application/octet-stream"),
        ("Content-Length", str(record.size)),
        ("ETag", f'"{record.etag}"'),
        ("Content-Disposition", content_disposition("attachment", key.rsplit("/", 1)[-1] or "download")),
        NOSNIFF,
        SANDBOX,  # an attachment, and inert even if a browser shows it (contentsafety.py), PDFs included
    ]
    return Response(200, headers, stream)


def _content_type(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    if len(raw) > 256 or not raw.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise InvalidArgument("The content type must be printable ASCII.", ArgumentName="content-type")
    return {"content-type": raw}


def _expect(call: Call) -> Expectations:
    length = call.request.headers.get("content-length")
    size = decimal(length, 19) if length is not None else None
    if length is not None and size is None:
        raise InvalidArgument("Content-Length must be a number", ArgumentName="Content-Length")
    return Expectations(size=size, sha256_hex=call.payload_sha256)


async def upload(call: Call) -> Any:
    """A whole object, streamed from the request body (the file's type in Content-Type)."""
    record = await objects.put_object(
        call.node, call.principal, call.params["bucket"], _key(call), call.request.body_chunks(),
        headers=_content_type(call.request.headers.get("content-type")), user_meta={}, expect=_expect(call),
        recheck=_recheck(call))
    return _object_json(record)


def _recheck(call: Call) -> Recheck:
    """An upload's second admission once its body has arrived: its user or key disabled meanwhile, or
    (made through a console session) the session ended by signing out or a password change, and nothing
    is stored."""
    signed_in, node = call.session, call.node
    if signed_in is None:
        return signer_recheck(node, call.principal)

    def current() -> Principal:
        session.still_open(node, signed_in)
        return current_signer(node, call.principal)
    return signer_recheck(node, call.principal, current=current)


async def create_upload(call: Call) -> Any:
    key = _key(call)
    created = await multipart.create_upload(
        call.node, call.principal, call.params["bucket"], key, headers=_content_type(call.query.get("content_type")),
        user_meta={}, checksum_algorithm=None)
    return {"upload_id": created.upload_id, "key": key, "part_size": PART_SIZE}


async def upload_part(call: Call) -> Any:
    number = decimal(call.query.get("part", ""), 5)
    if number is None:
        raise InvalidArgument("part must be a number from 1 to 10000", ArgumentName="part")
    part = await multipart.upload_part(call.node, call.principal, call.params["bucket"], _key(call),
                                       call.params["upload_id"], number, call.request.body_chunks(), _expect(call),
                                       recheck=_recheck(call))
    return {"part": part.part_number, "etag": part.etag}


async def complete_upload(call: Call) -> Any:
    parts = schemas.complete_request(call.body)
    record = await multipart.complete_upload(call.node, call.principal, call.params["bucket"], _key(call),
                                             call.params["upload_id"], [(n, etag, {}) for n, etag in parts])
    return _object_json(record)


async def abort_upload(call: Call) -> Any:
    await multipart.abort_upload(call.node, call.principal, call.params["bucket"], _key(call),
                                 call.params["upload_id"])
    return {"done": True}


# --- access keys, users, grants ---------------------------------------------------------------------
def _key_json(key: Any, user: User, secret: str | None = None) -> dict[str, Any]:
    return {"access_key_id": key.access_key_id, "user": user.name, "status": key.status.value,
            "created": key.created, "secret_access_key": secret}


async def list_keys(call: Call) -> Any:
    found = await call.node.read(people.list_keys, call.node, call.principal, call.query.get("user") or None)
    return {"access_keys": [_key_json(key, user) for key, user in found]}


async def create_key(call: Call) -> Any:
    name = schemas.access_key_request(call.body)
    key = await people.create_key(call.node, call.node.credentials.master_key, call.principal, name)
    user = await call.node.read(call.node.store.get_user, key.user_id)
    assert user is not None
    return _key_json(key, user, key.secret)


async def set_key_status(call: Call) -> Any:
    status = Status(schemas.status_request(call.body))
    stored = await people.set_key_status(call.node, call.principal, call.params["id"], status)
    user = await call.node.read(call.node.store.get_user, stored.user_id)
    assert user is not None
    return _key_json(stored, user)


async def delete_key(call: Call) -> Any:
    await people.delete_key(call.node, call.principal, call.params["id"])
    return {"done": True}


def _user_json(user: User) -> dict[str, Any]:
    return {"name": user.name, "id": user.id, "account_id": user.account_id, "role": user.role.value,
            "status": user.status.value, "created": user.created, "has_password": user.password_hash is not None}


async def list_users(call: Call) -> Any:
    return {"users": [_user_json(u) for u in await call.node.read(people.list_users, call.node, call.principal)]}


async def create_user(call: Call) -> Any:
    name, role, password = schemas.user_request(call.body)
    return _user_json(await people.create_user(call.node, call.principal, name, Role(role), password))


async def update_user(call: Call) -> Any:
    status, role, password = schemas.user_change(call.body)
    user = await people.update_user(call.node, call.principal, call.params["name"],
                                    status=Status(status) if status else None, role=Role(role) if role else None,
                                    password=password)
    return _user_json(user)


async def delete_user(call: Call) -> Any:
    await people.delete_user(call.node, call.principal, call.params["name"])
    return {"done": True}


def _grant_json(call: Call, grant: Any) -> dict[str, Any]:
    return {"id": grant.id, "user": call.user_name(grant.user_id), "bucket": grant.bucket, "prefix": grant.prefix,
            "permission": grant.permission.value, "share": grant.share, "created": grant.created}


async def list_grants(call: Call) -> Any:
    found = await call.node.read(people.list_grants, call.node, call.principal)
    return {"grants": [_grant_json(call, g) for g in found]}


async def add_grant(call: Call) -> Any:
    user, bucket, prefix, permission, share = schemas.grant_request(call.body)
    grant = await people.add_grant(call.node, call.principal, user, bucket, Permission(permission), prefix, share)
    return _grant_json(call, grant)


async def remove_grant(call: Call) -> Any:
    await people.remove_grant(call.node, call.principal, call.params["id"])
    return {"done": True}


# --- share pages ------------------------------------------------------------------------------------
async def create_share(call: Call) -> Any:
    """A friendly page ``/s/{id}`` in front of a minted GET link, optionally behind a passphrase."""
    link_id, passphrase = schemas.share_request(call.body)
    user = call.principal.active_user
    if user is None:
        raise NotSignedIn()
    share_id = await shares.create_share(call.node, call.principal, link_id, passphrase)
    return {"url": f"{call.node.settings.endpoint}/s/{share_id}", "link_id": link_id,
            "passphrase": passphrase is not None}


# --- Swift TempURL keys -----------------------------------------------------------------------------
async def set_tempurl_key(call: Call) -> Any:
    """A container key made here rather than typed: the console signs TempURLs itself, so nobody needs
    to know it (whoever controls the bucket can still read it with ``swift stat``)."""
    slot = schemas.tempurl_key_request(call.body)
    bucket = await call.node.read(call.node.store.get_bucket, call.params["bucket"])
    if bucket is None:
        raise NoSuchBucket(BucketName=call.params["bucket"])
    await tempurlkeys.change_keys(call.node, call.principal, account_id=bucket.account_id, bucket=bucket,
                                  changes=[tempurlkeys.KeyChange(slot, secrets.token_urlsafe(32))],
                                  client_ip=call.request.client, user_agent=call.request.user_agent,
                                  request_id=call.request_id)
    return {"bucket": bucket.name, "scope": "container", "slot": slot, "set_at": call.now}
