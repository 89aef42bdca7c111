"""The management API's operations: mint, list, inspect and revoke links; revoke before a moment;
read the audit trail; set a bucket's link policy. Each one is parse → core → JSON."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from satchel.admin import schemas
from satchel.asgi import Request
from satchel.core import buckets, links
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidBucketName, NoSuchBucket, NotFound, SatchelError
from satchel.core.models import AccessKey, AuditEvent, Link, LinkKind, Principal, Revocation, RevocationScope, Role
from satchel.core.node import Node
from satchel.s3.router import valid_bucket_name
from satchel.signing.sigv2 import presign_v2_url
from satchel.signing.sigv4.presign import PresignerV4
from satchel.signing.sigv4.verify import iso8601


@dataclass
class Call:
    node: Node
    request: Request
    body: bytes
    key: AccessKey
    principal: Principal
    params: dict[str, str]
    request_id: str
    _names: dict[str, str] = field(default_factory=dict)

    @property
    def now(self) -> float:
        return self.node.clock.now()

    def user_name(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        name = self._names.get(user_id)
        if name is None:  # one lookup per user and call: a listing names the same signers again and again
            name = self._names[user_id] = self.node.store.user_name(user_id)
        return name


Handler = Callable[[Call], Awaitable[Any]]

#: Links signed between two yields to the event loop while answering one mint call.
YIELD_EVERY = 100


class LinkSigner:
    """The wire form of minted links: standard presigned URLs carrying the signed link id.

    One per mint call: the SigV4 presigner for the call's method, bucket, expiry and moment is built
    once and signs every link of the batch.
    """

    def __init__(self, node: Node, key: AccessKey) -> None:
        self._node = node
        self._key = key
        self._v4: dict[tuple[str, str, int, float], PresignerV4] = {}

    def url(self, link: Link) -> str:
        assert link.key is not None
        extra = links.link_query(link)
        settings = self._node.settings
        if link.kind is LinkKind.S3V2:
            return presign_v2_url(method=link.method, endpoint=settings.endpoint, bucket=link.bucket, key=link.key,
                                  access_key_id=self._key.access_key_id, secret=self._key.secret,
                                  expires_at=int(link.expires), extra_query=extra)
        expires = round(link.expires - link.created)
        batch = (link.method, link.bucket, expires, link.created)
        signer = self._v4.get(batch)
        if signer is None:
            signer = self._v4[batch] = PresignerV4(
                method=link.method, endpoint=settings.endpoint, bucket=link.bucket,
                access_key_id=self._key.access_key_id, secret=self._key.secret, region=settings.region,
                expires=expires, now=link.created)
        return signer.url(link.key, extra)


def _error(exc: SatchelError) -> dict[str, str]:
    return {"code": type(exc).__name__, "message": exc.message}


async def mint(call: Call) -> Any:
    node = call.node
    spec = schemas.link_spec(call.body)
    planned = links.plan_links(node.store, call.principal, call.key, spec,
                               server_max=node.settings.max_link_lifetime, now=call.now)
    fresh = [m.link for m in planned if m.link is not None]
    if fresh:
        await node.write(node.store.create_links, fresh)
    out = []
    signer = LinkSigner(node, call.key)
    for count, item in enumerate(planned, 1):
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a thousand links take ~20 ms: let this worker's other requests in
        if item.link is None:
            assert item.error is not None
            out.append({"key": item.key, "error": _error(item.error)})
            continue
        node.audit.record(links.mint_event(item.link, client_ip=call.request.client,
                                           user_agent=call.request.user_agent,
                                           request_id=call.request_id))
        out.append({"key": item.key, "url": signer.url(item.link),
                    "link": schemas.link_json(item.link, call.user_name, call.now)})
    return {"links": out}


async def list_links(call: Call) -> Any:
    query = call.request.query_dict
    found = links.visible_links(
        call.node.store, call.principal, bucket=query.get("bucket") or None, key_prefix=query.get("prefix") or None,
        active_at=call.now if query.get("active", "").lower() in ("1", "true", "yes") else None,
        limit=schemas.limit(query),
    )
    return {"links": [schemas.link_json(link, call.user_name, call.now) for link in found]}


async def show_link(call: Call) -> Any:
    link = links.get_managed_link(call.node.store, call.principal, call.params["id"])
    return schemas.link_json(link, call.user_name, call.now)


async def revoke_link(call: Call) -> Any:
    node = call.node
    link = links.get_managed_link(node.store, call.principal, call.params["id"])
    if link.revoked is not None:  # revoking again changes nothing: no new time, no second event
        return schemas.link_json(link, call.user_name, call.now)
    now = call.now
    revoked = await node.write(node.store.revoke_link, link.id, now)
    # The store keeps the first revocation time: only the call that wrote it is the revocation to audit
    # (two concurrent calls both saw the link unrevoked above).
    if revoked.revoked == now:
        node.audit.record(_revoke_event(call, kind=link.kind.value, link_id=link.id, bucket=link.bucket,
                                        key=link.key))
    return schemas.link_json(revoked, call.user_name, now)


def _revoke_event(call: Call, **fields: Any) -> AuditEvent:
    user = call.principal.user
    return AuditEvent(time=call.now, action="revoke", outcome="allowed", user_id=user.id if user else None,
                      access_key_id=call.key.access_key_id, client_ip=call.request.client,
                      user_agent=call.request.user_agent, request_id=call.request_id,
                      **fields)


async def add_revocation(call: Call) -> Any:
    node = call.node
    scope, target, bucket, before = schemas.revocation_request(call.body)
    if scope is RevocationScope.USER:
        user = node.store.get_user_by_name(target) or node.store.get_user(target)
        if user is None:
            raise NotFound(f"No user {target!r}.")
        target = user.id
    links.check_revocation_scope(node.store, call.principal, scope, target, bucket)
    revocation = links.new_revocation(call.principal, scope, target, bucket, before or call.now, call.now)
    await node.write(node.store.add_revocation, revocation)
    node.audit.record(_revoke_event(call, kind=f"before:{scope.value}", bucket=revocation.bucket or (
        target if scope is RevocationScope.BUCKET else None), key=target if revocation.bucket else None,
        reason=f"revocation {revocation.id} before {iso8601(revocation.before)}"))
    return schemas.revocation_json(revocation, call.user_name)


async def list_revocations(call: Call) -> Any:
    user = call.principal.user
    if user is None:
        raise AccessDenied()
    store = call.node.store

    def visible(revocation: Revocation) -> bool:
        if revocation.created_by == user.id:
            return True
        bucket = revocation.target if revocation.scope is RevocationScope.BUCKET else revocation.bucket
        return bucket is not None and links.can_manage_bucket(store, call.principal, bucket)

    mine = [r for r in store.list_revocations() if visible(r)]
    return {"revocations": [schemas.revocation_json(r, call.user_name) for r in mine]}


async def audit(call: Call) -> Any:
    store = call.node.store
    user = links.acting_user(call.principal)
    query = call.request.query_dict
    wanted_user: str | None = None
    if query.get("user"):
        found = store.get_user_by_name(query["user"])
        wanted_user = found.id if found else query["user"]
    if user.role is Role.ADMIN:
        users = tuple(u.id for u in store.list_users(user.account_id))
        buckets = tuple(b.name for b in store.list_buckets(user.account_id))
    else:
        users = (user.id,)
        buckets = tuple(b.name for b in store.list_buckets() if b.owner_user_id == user.id)
    parsed = dataclasses.replace(schemas.audit_query(query, wanted_user), visible_users=users,
                                 visible_buckets=buckets)
    await call.node.audit.flush()  # what happened up to this call is visible in its answer
    return {"events": [schemas.event_json(e, call.user_name) for e in store.query_audit(parsed)]}


def _admin_bucket(call: Call) -> str:
    name = call.params["bucket"]
    bucket = call.node.store.get_bucket(name)
    if bucket is None:
        raise NoSuchBucket(BucketName=name)
    if not authorize(call.principal, Action.BUCKET_ADMIN, Resource(bucket=bucket)):
        raise AccessDenied()
    return name


async def get_link_policy(call: Call) -> Any:
    name = _admin_bucket(call)
    bucket = call.node.store.get_bucket(name)
    assert bucket is not None
    return {"bucket": name, "max_link_lifetime": bucket.max_link_lifetime,
            "server_max_link_lifetime": call.node.settings.max_link_lifetime}


async def put_link_policy(call: Call) -> Any:
    name = _admin_bucket(call)
    lifetime = schemas.max_link_lifetime(call.body)
    await call.node.write(call.node.store.update_bucket, name, max_link_lifetime=lifetime)
    return await get_link_policy(call)


async def create_bucket(call: Call) -> Any:
    """CreateBucket for tools that cannot set S3's ``x-satchel-bucket-owner`` header; who may ask for a
    contract-owned bucket is decided in core, exactly as for S3."""
    name, contract_owned = schemas.bucket_request(call.body)
    # The S3 naming rule, so a bucket made here is reachable through S3 (it belongs in core/buckets).
    if not valid_bucket_name(name):
        raise InvalidBucketName(BucketName=name)
    bucket = await buckets.create_bucket(call.node, call.principal, name, contract_owned=contract_owned)
    return schemas.bucket_json(bucket, call.user_name)


async def whoami(call: Call) -> Any:
    user = call.principal.user
    assert user is not None
    return {"user": user.name, "user_id": user.id, "account_id": user.account_id, "role": user.role.value,
            "access_key_id": call.key.access_key_id}
