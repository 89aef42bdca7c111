"""Creating, listing, showing and deleting pre-authenticated requests (OCI's CreatePreauthenticatedRequest,
ListPreauthenticatedRequests, GetPreauthenticatedRequest, DeletePreauthenticatedRequest).

Who may create one: whoever may *share* what it grants (``authorize()`` with the creator acting through a
link: owners, account admins, grants marked ``share``, or anyone allowed when the bucket's ``sharing`` is
``any``) — OCI's ``PAR_MANAGE`` plus ``OBJECT_READ``/``OBJECT_CREATE``/``OBJECT_OVERWRITE``. Who may see and
delete one: ``LINK_ADMIN``, as for minted links (its creator, an admin of the creator's account, whoever
controls its bucket). PARs cannot be edited: a change is a new PAR.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from satchel.core.access import Action, Resource, authorize
from satchel.core.buckets import bucket_for, require
from satchel.core.errors import InvalidArgument, NoSuchBucket, NoSuchUpload, NotFound
from satchel.core.gc import release_blobs
from satchel.core.links import MAX_USES, acting_user, new_link_ids, oversees, row_bucket
from satchel.core.models import AuditEvent, Bucket, LinkKind, Principal
from satchel.core.objects import MAX_KEY_BYTES
from satchel.core.par.model import AccessType, ListingAction, Par
from satchel.core.text import is_text
from satchel.meta.store import Store
from satchel.signing.tokens import new_token, token_hash

if TYPE_CHECKING:
    from satchel.core.node import Node

#: OCI: "The maximum length for a pre-authenticated request, including the object name, is 3500 bytes."
#: Satchel counts the whole access URL (endpoint included), with the object name or prefix percent-encoded.
MAX_URL_BYTES = 3500
MAX_NAME_CHARS = 256
MAX_FILENAME_CHARS = 255
#: The latest expiry accepted (9999-12-31): OCI sets no upper limit, a number still has to fit a date.
LATEST_EXPIRY = 253402300799.0


@dataclass(frozen=True, slots=True)
class ParSpec:
    bucket: str
    name: str
    access_type: AccessType
    expires: float
    object_name: str | None = None
    listing: ListingAction = ListingAction.DENY
    max_uses: int | None = None
    mode: str | None = None
    filename: str | None = None
    ip_range: str | None = None


@dataclass(frozen=True, slots=True)
class Created:
    par: Par
    #: The access URL's path (``/p/{token}/n/{ns}/b/{bucket}/o/{object}``): shown once, never stored.
    access_uri: str


def access_path(token: str, namespace: str, bucket: str, object_name: str | None, any_object: bool) -> str:
    """OCI's accessUri: an object PAR names its object; a bucket or prefix PAR ends in ``/o/`` (the holder
    appends the full object name, prefix included)."""
    base = f"/p/{token}/n/{quote(namespace, safe='')}/b/{bucket}/o/"
    return base if any_object or object_name is None else base + quote(object_name, safe="/")


def plain_text(value: str) -> bool:
    """Text (UTF-8, no lone surrogates) without control characters: what an object name, a prefix or a
    PAR's name may be. Not ``str.isprintable``, which refuses keys S3 allows (a no-break space, a
    private-use character)."""
    return is_text(value) and not any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value)


def has_dot_segment(name: str) -> bool:
    """``.`` or ``..`` as a path segment: refused in PAR object names and prefixes, so that no client or
    proxy that normalizes paths ever reads a PAR URL as naming another object than the server does."""
    return any(part in (".", "..") for part in name.split("/"))


def check_spec(spec: ParSpec, bucket: Bucket, *, now: float, server_max: int) -> None:
    if not spec.name or len(spec.name) > MAX_NAME_CHARS or not plain_text(spec.name):
        raise InvalidArgument(f"name must be 1 to {MAX_NAME_CHARS} characters, no control characters",
                              ArgumentName="name")
    name = spec.object_name
    if not spec.access_type.any_object and not name:
        raise InvalidArgument(f"{spec.access_type.value} needs objectName", ArgumentName="objectName")
    if name is not None:
        if not name or len(name.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES or not plain_text(name):
            raise InvalidArgument(f"objectName must be 1 to {MAX_KEY_BYTES} bytes of text without control characters",
                                  ArgumentName="objectName")
        if has_dot_segment(name):
            raise InvalidArgument("objectName may not contain '.' or '..' path segments", ArgumentName="objectName")
    if spec.listing is ListingAction.LIST_OBJECTS and not (spec.access_type.any_object and spec.access_type.reads):
        raise InvalidArgument("bucketListingAction ListObjects goes with AnyObjectRead or AnyObjectReadWrite",
                              ArgumentName="bucketListingAction")
    if not now < spec.expires <= LATEST_EXPIRY:
        raise InvalidArgument("timeExpires must be in the future (and before the year 10000)",
                              ArgumentName="timeExpires")
    ceilings = [c for c in (server_max, bucket.max_link_lifetime) if c]
    if ceilings and spec.expires - now > min(ceilings):
        raise InvalidArgument(f"timeExpires may be at most {min(ceilings)} seconds from now on this bucket",
                              ArgumentName="timeExpires")
    if spec.max_uses is not None and not 1 <= spec.max_uses <= MAX_USES:
        raise InvalidArgument(f"maxUses must be between 1 and {MAX_USES}", ArgumentName="maxUses")
    if spec.mode not in (None, "view", "download"):
        raise InvalidArgument("mode must be view or download", ArgumentName="mode")
    if spec.mode is not None and not spec.access_type.reads:
        raise InvalidArgument("mode applies to read access types only", ArgumentName="mode")
    if spec.filename is not None and (spec.mode != "download" or not spec.filename
                                      or len(spec.filename) > MAX_FILENAME_CHARS or not plain_text(spec.filename)):
        raise InvalidArgument(f"filename goes with mode download: 1 to {MAX_FILENAME_CHARS} characters, no "
                              "control characters", ArgumentName="filename")
    if spec.ip_range is not None:
        parse_ip_range(spec.ip_range)


def parse_ip_range(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise InvalidArgument("allowedIpRange must be one CIDR range, e.g. 203.0.113.0/24 or 2001:db8::/32",
                              ArgumentName="allowedIpRange") from None


def required_actions(access_type: AccessType, listing: ListingAction) -> list[Action]:
    actions = []
    if access_type.reads:
        actions.append(Action.OBJECT_READ)
    if access_type.writes:
        actions.append(Action.OBJECT_WRITE)
    if listing is ListingAction.LIST_OBJECTS:
        actions.append(Action.BUCKET_READ)
    return actions


def check_creator(principal: Principal, bucket: Bucket, access_type: AccessType, listing: ListingAction,
                  object_name: str | None) -> None:
    """The creator's right to share every right the PAR grants, on its whole scope (the same decision every
    use makes again). A bucket-wide scope is checked with no key, so only a right on the whole bucket (never
    a prefix grant) allows it; a prefix scope with the prefix, which a prefix grant covers only from inside."""
    sharer = principal.through_link()
    for action in required_actions(access_type, listing):
        key = object_name if object_name is not None else ("" if action is Action.BUCKET_READ else None)
        require(sharer, action, bucket, key)


def plan_par(store: Store, principal: Principal, spec: ParSpec, *, endpoint: str, now: float,
             server_max: int) -> tuple[Par, str]:
    """Decide and build a PAR (not stored yet) and its access URL path."""
    user = acting_user(principal)
    bucket = store.get_bucket(spec.bucket)
    if bucket is None:
        raise NoSuchBucket(BucketName=spec.bucket)
    check_spec(spec, bucket, now=now, server_max=server_max)
    check_creator(principal, bucket, spec.access_type, spec.listing, spec.object_name)
    account = store.get_account(bucket.account_id)
    namespace = account.name if account is not None else bucket.account_id
    token = new_token()
    path = access_path(token, namespace, bucket.name, spec.object_name, spec.access_type.any_object)
    url_bytes = len((endpoint.rstrip("/") + path).encode()) + (
        len(quote(spec.object_name or "", safe="/")) if spec.access_type.any_object else 0)
    if url_bytes > MAX_URL_BYTES:
        raise InvalidArgument(f"The access URL would be {url_bytes} bytes long; at most {MAX_URL_BYTES} are allowed "
                              "(shorten the object name or prefix).", ArgumentName="objectName")
    # A name to save under, never a path: the last segment, whatever the separator.
    filename = spec.filename.replace("\\", "/").rsplit("/", 1)[-1] if spec.filename is not None else None
    if spec.filename is not None and filename in ("", ".", ".."):
        raise InvalidArgument("filename must name a file, not a directory", ArgumentName="filename")
    if spec.mode == "download" and filename is None and spec.object_name and not spec.access_type.any_object:
        filename = spec.object_name.rsplit("/", 1)[-1] or None
    par = Par(
        id=new_link_ids(now, 1)[0], token_hash=token_hash(token), name=spec.name, user_id=user.id,
        namespace=namespace, bucket=bucket.name, bucket_id=bucket.id, object_name=spec.object_name,
        access_type=spec.access_type, listing=spec.listing, created=now, expires=spec.expires,
        max_uses=spec.max_uses, mode=spec.mode, filename=filename,
        ip_range=str(parse_ip_range(spec.ip_range)) if spec.ip_range is not None else None,
        access_key_id=principal.access_key_id,
    )
    return par, path


def par_event(par: Par, action: str, *, user_id: str | None, access_key_id: str | None, client_ip: str,
              user_agent: str, request_id: str, now: float, reason: str | None = None) -> AuditEvent:
    return AuditEvent(
        time=now, action=action, outcome="allowed", kind=LinkKind.PAR.value, link_id=par.id, user_id=user_id,
        access_key_id=access_key_id, bucket=par.bucket, key=par.object_name, method=None, client_ip=client_ip,
        user_agent=user_agent, request_id=request_id, bucket_id=par.bucket_id, reason=reason,
    )


async def create_par(node: Node, principal: Principal, spec: ParSpec, *, client_ip: str, user_agent: str,
                     request_id: str) -> Created:
    """Store a new PAR with its creation event (action ``mint``, kind ``par``) in one transaction."""
    now = node.clock.now()
    par, path = await node.read(plan_par, node.store, principal, spec, endpoint=node.settings.endpoint, now=now,
                         server_max=node.settings.max_par_lifetime)
    event = par_event(par, "mint", user_id=par.user_id, access_key_id=principal.access_key_id, client_ip=client_ip,
                      user_agent=user_agent, request_id=request_id, now=now,
                      reason=f"{par.access_type.value} {par.name!r}")
    cap = node.settings.par_max_per_user
    refused = await node.write(node.store.create_par, par, event, max_live_per_user=cap)
    if refused == "bucket":
        raise NoSuchBucket(BucketName=spec.bucket)
    if refused is not None:
        raise InvalidArgument(f"You have {cap} usable pre-authenticated requests, the most one user may have "
                              "(par_max_per_user): delete some first.")
    return Created(par, path)


def can_manage(store: Store, principal: Principal, par: Par) -> bool:
    return oversees(store, principal, Action.LINK_ADMIN, bucket=row_bucket(store, par.bucket, par.bucket_id),
                    subject_id=par.user_id)


def visible_pars(store: Store, principal: Principal, *, bucket: str | None, object_prefix: str | None,
                 active_at: float | None, limit: int) -> list[Par]:
    """The PARs the caller may manage (``LINK_ADMIN``), newest first; ``bucket``: of the bucket of that name
    now (an earlier bucket's PARs are not its PARs)."""
    acting_user(principal)
    bucket_id = None
    if bucket is not None:
        current = store.get_bucket(bucket)
        if current is None:
            return []
        bucket_id = current.id
        if oversees(store, principal, Action.LINK_ADMIN, bucket=current, subject_id=None):
            return store.list_pars(bucket_id=bucket_id, object_prefix=object_prefix, active_at=active_at,
                                   limit=limit)
    user_ids: Sequence[str] = [
        u.id for u in store.list_users() if authorize(principal, Action.LINK_ADMIN, Resource(None, subject=u))
    ]
    return store.list_pars(user_ids=user_ids, bucket_id=bucket_id, object_prefix=object_prefix,
                           active_at=active_at, limit=limit)


def get_managed_par(store: Store, principal: Principal, bucket: str, par_id: str) -> Par:
    """The PAR ``par_id`` of ``bucket``, if the caller may manage it; NotFound alike for every other case."""
    acting_user(principal)
    par = store.get_par(par_id)
    if par is None or par.bucket != bucket or not can_manage(store, principal, par):
        raise NotFound(f"No pre-authenticated request {par_id!r} in bucket {bucket!r}.")
    return par


async def delete_par(node: Node, principal: Principal, bucket: str, par_id: str) -> tuple[Par, bool]:
    """Delete (revoke) a PAR at once; every worker reads PARs from the store at each use, so it stops
    everywhere with the next request. The PAR, and whether this call deleted it (deleting again changes
    nothing and is not audited again)."""
    par = await node.read(get_managed_par, node.store, principal, bucket, par_id)
    if par.deleted is not None:
        return par, False
    now = node.clock.now()
    deleted: Par = await node.write(node.store.delete_par, par.id, now)
    await abort_uploads(node, deleted)
    return deleted, deleted.deleted == now


async def abort_uploads(node: Node, par: Par) -> int:
    """Abort every upload still open that was started through ``par`` (deleting a PAR ends them: nobody else
    may continue them). How many were aborted."""
    aborted = 0
    for upload_id in await node.read(node.store.par_open_uploads, par.id):
        try:
            dead = await node.write(node.store.abort_upload, upload_id)
        except NoSuchUpload:
            continue  # committed or aborted meanwhile
        await release_blobs(node.store, node.blobs, dead, node.write)
        aborted += 1
    return aborted


def inline_policy(node: Node, principal: Principal, bucket: str) -> bool:
    """Whether ``bucket`` lets PARs show active types inline (``BUCKET_ADMIN`` to read it)."""
    found = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    return node.store.par_inline_active(found.id)


async def set_inline_policy(node: Node, principal: Principal, bucket: str, allowed: bool) -> bool:
    """Let (or stop) PARs of ``bucket`` show HTML, SVG and XML objects inline (``BUCKET_ADMIN``): only for a
    bucket whose every writer is trusted with script under Satchel's origin. Applies to every PAR at once."""
    found = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    await node.write(node.store.set_par_inline_active, found.id, allowed)
    return allowed
