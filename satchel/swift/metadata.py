"""Account and container metadata headers: what a PUT or POST asks, checked, then applied.

Every account POST and every container PUT/POST goes through :func:`account_changes` /
:func:`container_changes` (parse and refuse, no side effect) and then :func:`apply_account_meta` /
:func:`apply_container_meta`. The TempURL keys (``X-Account-Meta-Temp-URL-Key``, ``-Key-2`` and the
container's) are secrets, never generic metadata: :func:`take_tempurl_keys` takes them out of the
metadata in both paths, and ``core/tempurlkeys`` sets them (sealed, audited, by who may).

Names Swift's middlewares interpret (quotas, static web, CORS, versioning, sync, ACLs beyond public
read) would be stored and silently not honoured, so they are refused (400) with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from satchel.core import buckets, swiftmeta, tempurlkeys
from satchel.core.models import Bucket
from satchel.swift.context import SwiftContext
from satchel.swift.errors import SwiftError
from satchel.swift.headers import meta_changes

#: Metadata names (lower case, after ``X-Account-Meta-`` / ``X-Container-Meta-``) that are TempURL keys.
TEMPURL_KEY_NAMES = frozenset({"temp-url-key", "temp-url-key-2"})
#: Container metadata Swift's middlewares act on, which Satchel does not.
UNHONOURED_CONTAINER_META = ("quota-", "web-", "access-control-")
UNHONOURED_ACCOUNT_META = ("quota-",)
#: Container headers whose feature Satchel does not have.
UNHONOURED_CONTAINER_HEADERS = ("x-versions-location", "x-history-location", "x-versions-mode",
                                "x-container-sync-to", "x-container-sync-key", "x-remove-versions-location",
                                "x-remove-history-location")
UNHONOURED_ACCOUNT_HEADERS = ("x-account-access-control",)
#: The one storage policy; naming another is refused rather than ignored.
STORAGE_POLICY = "standard"
#: ``X-Container-Read`` values meaning "public read" (Satchel's public buckets also list).
_PUBLIC_READ = frozenset({".r:*", ".r:*,.rlistings", ".rlistings,.r:*"})
PUBLIC_READ_ACL = ".r:*,.rlistings"


@dataclass(frozen=True, slots=True)
class MetaChanges:
    meta: dict[str, str | None] = field(default_factory=dict)
    #: The TempURL key slots asked for (value, or None to remove): never stored as ``meta``.
    tempurl_keys: dict[str, str | None] = field(default_factory=dict)
    #: Container only: True/False to make the bucket public-read or private, None to leave it.
    public: bool | None = None


def take_tempurl_keys(meta: dict[str, str | None], level: str) -> dict[str, str | None]:
    """Remove the TempURL key names from ``meta`` and return them: they are secrets, set through
    ``core/tempurlkeys`` (sealed, audited), never stored or shown as generic metadata. A value that is
    no key is refused here, before anything changes."""
    keys = {name: meta.pop(name) for name in list(meta) if name in TEMPURL_KEY_NAMES}
    for value in keys.values():
        if value is not None:
            tempurlkeys.check_key(value)
    return keys


def _refuse(meta: Mapping[str, str | None], prefixes: tuple[str, ...], level: str) -> None:
    for name in meta:
        if name.startswith(prefixes):
            raise SwiftError(400, f"X-{level.capitalize()}-Meta-{name} is interpreted by a Swift feature that "
                                  "Satchel does not have; it is not stored.")


def _refuse_headers(headers: Mapping[str, str], names: tuple[str, ...]) -> None:
    for name in names:
        if name in headers:
            raise SwiftError(400, f"{name} names a Swift feature that Satchel does not have.")


def account_changes(headers: Mapping[str, str]) -> MetaChanges:
    _refuse_headers(headers, UNHONOURED_ACCOUNT_HEADERS)
    meta = meta_changes(headers, "account")
    keys = take_tempurl_keys(meta, "account")
    _refuse(meta, UNHONOURED_ACCOUNT_META, "account")
    return MetaChanges(meta, keys)


def container_changes(headers: Mapping[str, str]) -> MetaChanges:
    _refuse_headers(headers, UNHONOURED_CONTAINER_HEADERS)
    policy = headers.get("x-storage-policy")
    if policy is not None and policy.strip().lower() != STORAGE_POLICY:
        raise SwiftError(400, f"Invalid X-Storage-Policy {policy!r}: the only policy is {STORAGE_POLICY!r}.")
    write = headers.get("x-container-write")
    if write is not None and write.strip():
        raise SwiftError(400, "X-Container-Write ACLs are not supported: give write access with grants.")
    meta = meta_changes(headers, "container")
    keys = take_tempurl_keys(meta, "container")
    _refuse(meta, UNHONOURED_CONTAINER_META, "container")
    public: bool | None = None
    read = headers.get("x-container-read")
    if read is not None:
        acl = ",".join(part.strip() for part in read.split(",") if part.strip())
        if acl and acl not in _PUBLIC_READ:
            raise SwiftError(400, "X-Container-Read takes only .r:* (public read, listings included) or an "
                                  "empty value (private): give other users access with grants.")
        public = bool(acl)
    elif "x-remove-container-read" in headers:
        public = False
    return MetaChanges(meta, keys, public)


async def apply_account_meta(ctx: SwiftContext, changes: MetaChanges) -> None:
    await swiftmeta.update_account_metadata(ctx.node, ctx.principal, ctx.account, changes.meta)
    await _apply_tempurl_keys(ctx, None, changes)


async def apply_container_meta(ctx: SwiftContext, changes: MetaChanges) -> None:
    publish = changes.public is not None and changes.public != ctx.bucket().public_read
    if publish:  # refused (members may not publish) before anything changes
        buckets.check_public(ctx.node, ctx.principal, ctx.bucket_name, bool(changes.public))
    # Called even without changes: it is what decides whether this caller may change the container at all.
    await swiftmeta.update_container_metadata(ctx.node, ctx.principal, ctx.bucket_name, changes.meta)
    if publish:
        await buckets.set_public(ctx.node, ctx.principal, ctx.bucket_name, bool(changes.public))
    await _apply_tempurl_keys(ctx, ctx.bucket(), changes)


async def _apply_tempurl_keys(ctx: SwiftContext, bucket: Bucket | None, changes: MetaChanges) -> None:
    request = ctx.request
    keys = [tempurlkeys.KeyChange(slot, value) for name, value in changes.tempurl_keys.items()
            if (slot := tempurlkeys.slot_for(name)) is not None]
    await tempurlkeys.change_keys(ctx.node, ctx.principal, account_id=ctx.account.id, bucket=bucket, changes=keys,
                                  client_ip=request.client, user_agent=request.user_agent,
                                  request_id=ctx.request_id)


def tempurl_key_headers(ctx: SwiftContext, bucket: Bucket | None) -> list[tuple[str, str]]:
    """``X-Account-Meta-Temp-URL-Key(-2)`` / ``X-Container-...`` for a HEAD or GET, to whoever may set
    them (Swift's ``swift_owner_headers``) and to nobody else."""
    level = "Container" if bucket is not None else "Account"
    shown = tempurlkeys.shown_keys(ctx.node, ctx.principal, ctx.account.id, bucket)
    return [(f"X-{level}-Meta-{name}", value) for name, value in sorted(shown.items())]
