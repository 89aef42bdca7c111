"""The management API's operations: mint, list, inspect and revoke links; revoke before a moment;
read the audit trail; set a bucket's link policy. Each one is parse → core → JSON: every permission is
decided in core, by ``authorize()``, never here."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from satchel.admin import schemas, webhookhandlers
from satchel.asgi import Request
from satchel.console.session import SignedIn
from satchel.core import buckets, identity, links, revocations, swiftlinks
from satchel.core.errors import InvalidRequest, SatchelError
from satchel.core.models import AccessKey, AuditEvent, Bucket, Link, LinkKind, Principal, RevocationScope
from satchel.core.node import Node
from satchel.signing.sigv2 import presign_v2_url
from satchel.signing.sigv4.presign import PresignerV4
from satchel.signing.sigv4.verify import iso8601


@dataclass
class Call:
    node: Node
    request: Request
    body: bytes
    #: The signing key (SigV4), or for a console session the user's newest active key (None: it has none).
    key: AccessKey | None
    principal: Principal
    params: dict[str, str]
    request_id: str
    #: The query parameters the route knows, each given once (``schemas.query_params``).
    query: dict[str, str] = field(default_factory=dict)
    _names: dict[str, str | None] = field(default_factory=dict)
    #: The console session the call came with (None for SigV4 calls).
    session: SignedIn | None = None
    #: The signed SHA-256 of a streamed body (SigV4), checked as it is received.
    payload_sha256: str | None = None
    #: Headers added to a JSON answer (a session's cookie).
    response_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def access_key_id(self) -> str | None:
        return self.key.access_key_id if self.key is not None else None

    @property
    def caller_key_id(self) -> str | None:
        """The key that signed this call, for its audit event: none for a console session (its signing key
        signs links; it did not make the call)."""
        return self.access_key_id if self.session is None else None

    def signing_key(self) -> AccessKey:
        """The key links are signed with; a console user without an active key is told how to get one."""
        if self.key is None:
            raise InvalidRequest("Links are signed with one of your access keys, and you have no active one: "
                                 "create one on the Access keys page first.")
        return self.key

    @property
    def now(self) -> float:
        return self.node.clock.now()

    async def know(self, user_ids: Iterable[str | None]) -> None:
        """Load the names :meth:`user_name` will be asked for, in one hop off the event loop (``Node.read``)."""
        wanted = {user_id for user_id in user_ids if user_id is not None and user_id not in self._names}
        if wanted:
            self._names.update(await self.node.read(self._load_names, wanted))

    def _load_names(self, user_ids: set[str]) -> dict[str, str | None]:
        return {user_id: self.node.store.user_name(user_id) for user_id in user_ids}

    def user_name(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self._names:  # one lookup per user and call (a listing names the same signers
            # again and again), made by :meth:`know` off the loop before the answer is rendered.
            self._names[user_id] = self.node.store.user_name(user_id)
        return self._names[user_id]


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
    if spec.kind is LinkKind.SWIFT:
        return await _mint_swift(call, spec)
    key = call.signing_key()
    webhook_url = await node.read(webhookhandlers.mint_webhook_url, call, spec)
    planned = await links.mint_links(node, call.principal, key, spec, client_ip=call.request.client,
                                     user_agent=call.request.user_agent, request_id=call.request_id)
    webhook = await webhookhandlers.attach_mint_webhook(call, webhook_url, planned) if webhook_url else None
    out = []
    await call.know(item.link.user_id for item in planned if item.link is not None)
    signer = LinkSigner(node, key)
    for count, item in enumerate(planned, 1):
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a thousand links take ~20 ms: let this worker's other requests in
        if item.link is None:
            assert item.error is not None
            out.append({"key": item.key, "error": _error(item.error)})
            continue
        out.append({"key": item.key, "url": signer.url(item.link),
                    "link": schemas.link_json(item.link, call.user_name, call.now)})
    return {"links": out, "webhook": webhook} if webhook else {"links": out}


async def _mint_swift(call: Call, spec: links.LinkSpec) -> Any:
    """Swift TempURLs are not registry links: each answer has the URL and its expiry, no ``link``."""
    # Refuses a webhook: a TempURL names no link to notify about.
    await call.node.read(webhookhandlers.mint_webhook_url, call, spec)
    made = await swiftlinks.mint_swift_links(call.node, call.principal, call.signing_key(), spec,
                                             client_ip=call.request.client, user_agent=call.request.user_agent,
                                             request_id=call.request_id)
    return {"links": [{"key": item.key, "url": item.url, "expires": item.expires} if item.url is not None
                      else {"key": item.key, "error": _error(item.error or SatchelError())} for item in made]}


async def list_links(call: Call) -> Any:
    query = call.query
    found = await call.node.read(
        links.visible_links, call.node.store, call.principal, bucket=query.get("bucket") or None,
        key_prefix=query.get("prefix") or None,
        active_at=call.now if schemas.flag(query, "active") else None,
        limit=schemas.limit(query),
    )
    await call.know(link.user_id for link in found)
    return {"links": [schemas.link_json(link, call.user_name, call.now) for link in found]}


async def show_link(call: Call) -> Any:
    link = await call.node.read(links.get_managed_link, call.node.store, call.principal, call.params["id"])
    await call.know([link.user_id])
    return schemas.link_json(link, call.user_name, call.now)


async def revoke_link(call: Call) -> Any:
    revoked, fresh = await links.revoke_link(call.node, call.principal, call.params["id"])
    if fresh:  # revoking again changes nothing: no new time, no second event
        call.node.audit.record(_revoke_event(call, kind=revoked.kind.value, link_id=revoked.id,
                                             bucket=revoked.bucket, key=revoked.key, bucket_id=revoked.bucket_id,
                                             version_id=revoked.version_id))
    await call.know([revoked.user_id])
    return schemas.link_json(revoked, call.user_name, call.now)


def _revoke_event(call: Call, **fields: Any) -> AuditEvent:
    user = call.principal.user
    return AuditEvent(time=call.now, action="revoke", outcome="allowed", user_id=user.id if user else None,
                      access_key_id=call.caller_key_id, client_ip=call.request.client,
                      user_agent=call.request.user_agent, request_id=call.request_id,
                      **fields)


async def add_revocation(call: Call) -> Any:
    scope, target, bucket, before = schemas.revocation_request(call.body)
    revocation = await revocations.add_revocation(call.node, call.principal, scope, target, bucket, before)
    call.node.audit.record(_revoke_event(call, kind=f"before:{scope.value}", bucket=revocation.bucket or (
        revocation.target if scope is RevocationScope.BUCKET else None),
        key=revocation.target if revocation.bucket else None,
        reason=f"revocation {revocation.id} before {iso8601(revocation.before)}", bucket_id=revocation.bucket_id))
    await call.know([revocation.created_by])
    return schemas.revocation_json(revocation, call.user_name)


async def list_revocations(call: Call) -> Any:
    found = await call.node.read(revocations.visible_revocations, call.node.store, call.principal)
    await call.know(r.created_by for r in found)
    return {"revocations": [schemas.revocation_json(r, call.user_name) for r in found]}


async def audit(call: Call) -> Any:
    query = call.query
    wanted_user = await call.node.read(identity.user_id_for, call.node.store, query["user"]) if query.get("user") \
        else None
    parsed = schemas.audit_query(query, wanted_user)
    if query.get("bucket"):  # the bucket of that name now: an earlier bucket's events are not its events
        bucket_id = await call.node.read(links.current_bucket_id, call.node.store, query["bucket"])
        if bucket_id is None:
            return {"events": []}
        parsed = dataclasses.replace(parsed, bucket_id=bucket_id)
    events = await call.node.audit.query(call.principal, parsed)
    await call.know(e.user_id for e in events)
    return {"events": [schemas.event_json(e, call.user_name) for e in events]}


def _policy_json(call: Call, bucket: Bucket) -> dict[str, Any]:
    return {"bucket": bucket.name, "max_link_lifetime": bucket.max_link_lifetime,
            "server_max_link_lifetime": call.node.settings.max_link_lifetime, "sharing": bucket.sharing.value}


async def get_link_policy(call: Call) -> Any:
    return _policy_json(call, await call.node.read(buckets.link_policy, call.node, call.principal,
                                                   call.params["bucket"]))


async def put_link_policy(call: Call) -> Any:
    changes = schemas.link_policy(call.body)
    updated = await buckets.set_link_policy(call.node, call.principal, call.params["bucket"], **changes)
    return _policy_json(call, updated)


async def create_bucket(call: Call) -> Any:
    """CreateBucket for tools that cannot set S3's ``x-satchel-bucket-owner`` header; who may ask for a
    contract-owned bucket is decided in core, exactly as for S3."""
    name, contract_owned = schemas.bucket_request(call.body)
    bucket = await buckets.create_bucket(call.node, call.principal, name, contract_owned=contract_owned)
    await call.know([bucket.owner_user_id])
    return schemas.bucket_json(bucket, call.user_name)


async def whoami(call: Call) -> Any:
    user = call.principal.user
    assert user is not None
    return {"user": user.name, "user_id": user.id, "account_id": user.account_id, "role": user.role.value,
            "access_key_id": call.access_key_id}
