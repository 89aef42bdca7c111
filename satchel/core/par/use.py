"""One use of a pre-authenticated request's access URL: find it, admit it, count it.

Every use goes through the same checks, in this order, each refusal an ``AccessDenied`` whose message is
the audit event's reason (the front-end answers them all alike: see ``satchel/par/errors.py``):

1. the token names a PAR (only its SHA-256 is looked up) that is not deleted, not expired, has uses left;
2. the URL's namespace and bucket are the PAR's, and the bucket is the one it was made for (by id);
3. the client address is inside the PAR's allowed range, when it has one;
4. the method and object are in the PAR's access type and scope (listing only with ``ListObjects``);
5. the creator still exists and ``authorize()`` — with the creator, acting through a link, as principal —
   allows the action on this object now (OCI: the creator's permissions are checked on every use; Satchel
   adds the share right). Rights that come back make the PAR work again, as on OCI: the PAR was never
   deleted, only refused while its creator could not do what it grants;
6. the lifetime ceilings (server ``max_par_lifetime``, the bucket's link ceiling) still hold, measured from
   the PAR's creation, so tightening a ceiling also cuts PARs handed out already;
7. no revocation "before a moment" covers it: object, prefix, bucket and user scopes apply, issued at its
   (server-recorded, exact) creation time; for a PAR minted with an access key, access-key revocations of
   that key too, and the key must still exist, be active and be the creator's (DESIGN.md: deleting or
   disabling a key kills every link it signed). A PAR minted without a key (a console session) follows
   its creator only.

Nothing is counted here: :func:`count_use` counts one use right before the first byte of a read or before
a write (exactly, under concurrency, for a PAR with a use limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from satchel.core.access import NOT_SHARED, POLICY_DENIED, Action, Resource, authorize, denied_by_policy
from satchel.core.admission import IssueTime, Target, check_lifetime
from satchel.core.errors import AccessDenied
from satchel.core.inflight import Recheck
from satchel.core.models import Bucket, Principal
from satchel.core.par.model import Par
from satchel.core.requestfacts import RequestFacts
from satchel.signing.tokens import same_hash, token_hash, well_formed

if TYPE_CHECKING:
    from satchel.core.node import Node

#: A ceiling of "none" for :func:`satchel.core.admission.check_lifetime`.
_NO_CEILING = 1 << 62


class Operation(enum.Enum):
    READ = Action.OBJECT_READ
    WRITE = Action.OBJECT_WRITE
    LIST = Action.BUCKET_READ


@dataclass(frozen=True, slots=True)
class ParAdmission:
    par: Par
    #: The creator, acting through a link: what every core call of this use runs as.
    principal: Principal
    bucket: Bucket


def find(node: Node, token: str) -> Par | None:
    """The PAR a token names, whatever its state."""
    if not well_formed(token):
        return None
    wanted = token_hash(token)
    par = node.store.par_by_token_hash(wanted)
    return par if par is not None and same_hash(par.token_hash, wanted) else None


def refuse_state(par: Par, now: float, *, continuing: bool = False) -> None:
    """Check 1: the front-end makes it first, before reading anything else of the request, so that an
    expired, deleted or used-up token is refused exactly like an unknown one, whatever else is wrong."""
    state = par.state(now)
    if state != "active" and not (continuing and state == "used-up"):
        raise AccessDenied(f"The pre-authenticated request is {state}.")


def admit(node: Node, par: Par, *, namespace: str, bucket_name: str, key: str | None, operation: Operation,
          client_ip: str, continuing: bool = False, now: float | None = None,
          facts: RequestFacts | None = None) -> ParAdmission:
    """Checks 1 to 7 of the module docstring for a use reaching ``key`` (for a listing: its prefix).

    ``continuing``: a later step of a multipart upload the PAR started (and counted): a PAR whose uses are
    all spent still serves it; a deleted or expired one does not. ``now``: the moment the PAR's expiry
    is judged at (default: now; :func:`recheck`: when the write started)."""
    now = node.clock.now() if now is None else now
    refuse_state(par, now, continuing=continuing)
    if namespace != par.namespace or bucket_name != par.bucket:
        raise AccessDenied("The URL names another namespace or bucket than the pre-authenticated request's.")
    bucket = node.bucket(par.bucket)
    if bucket is None or bucket.id != par.bucket_id:
        raise AccessDenied("The bucket of the pre-authenticated request no longer exists.")
    if par.ip_range is not None and not _address_in(client_ip, par.ip_range):
        raise AccessDenied(f"The client address is outside the allowed range {par.ip_range}.")
    _check_scope(par, key, operation)
    try:
        creator = node.credentials.principal_for_user(par.user_id)
    except AccessDenied:
        raise AccessDenied("The creator of the pre-authenticated request no longer exists.") from None
    _check_key(node, par)
    creator = creator.with_facts(facts)  # the use's request, for bucket policy conditions
    principal = creator.through_link()
    resource = Resource(bucket=bucket, key=key)
    if not authorize(principal, operation.value, resource):
        if denied_by_policy(principal, operation.value, resource):
            raise AccessDenied(f"The pre-authenticated request is refused by the bucket policy ({POLICY_DENIED}).")
        if authorize(creator.signer(), operation.value, resource):
            raise AccessDenied(f"The creator may no longer share this: {NOT_SHARED}")
        raise AccessDenied("The creator of the pre-authenticated request may no longer do what it grants.")
    ceiling = node.settings.max_par_lifetime or _NO_CEILING
    check_lifetime(par.expires, par.created, bucket, ceiling, now)
    target = Target(bucket_id=bucket.id, key=None if operation is Operation.LIST else key,
                    access_key_id=par.access_key_id,
                    user_id=par.user_id, listing_prefix=key if operation is Operation.LIST else None)
    revoked = node.revocations.revoked(IssueTime(par.created), target)
    if revoked is not None:
        raise AccessDenied(f"The pre-authenticated request was revoked ({revoked.scope.value} revocation "
                           f"{revoked.id}).")
    return ParAdmission(par, principal, bucket)


def recheck(node: Node, admission: ParAdmission, *, namespace: str, key: str, client_ip: str,
            facts: RequestFacts | None = None) -> Recheck:
    """A PAR write admitted again once its body has arrived (``core/inflight.py``): the PAR read afresh
    (deleted meanwhile: refused), then checks 1 to 7 again, with its expiry and use count judged as when
    the write started (its use was counted then), the creator's rights and key and the revocations now."""
    started = node.clock.now()
    par = admission.par

    async def again() -> Principal:
        current = await node.read(node.store.get_par, par.id)
        if current is None:
            raise AccessDenied("The pre-authenticated request is deleted.")
        return admit(node, current, namespace=namespace, bucket_name=admission.bucket.name, key=key,
                     operation=Operation.WRITE, client_ip=client_ip, continuing=True, now=started,
                     facts=facts).principal
    return again


def _check_key(node: Node, par: Par) -> None:
    if par.access_key_id is None:
        return
    found = node.credentials.lookup(par.access_key_id)
    if found is None or not found[0].active or found[0].user_id != par.user_id:
        raise AccessDenied("The access key that created the pre-authenticated request is disabled or deleted.")


def _check_scope(par: Par, key: str | None, operation: Operation) -> None:
    kind = par.access_type
    if operation is Operation.LIST:
        if not par.can_list:
            raise AccessDenied("The pre-authenticated request does not allow listing.")
        return
    if operation is Operation.READ and not kind.reads:
        raise AccessDenied(f"{kind.value} does not allow reading.")
    if operation is Operation.WRITE and not kind.writes:
        raise AccessDenied(f"{kind.value} does not allow writing.")
    if key is None or not par.in_scope(key):
        raise AccessDenied("The object is outside the scope of the pre-authenticated request.")


def _address_in(client_ip: str, ip_range: str) -> bool:
    try:
        return ipaddress.ip_address(client_ip) in ipaddress.ip_network(ip_range, strict=False)
    except ValueError:
        return False  # no readable client address: never inside a range


def listing_prefix(par: Par, asked: str) -> str | None:
    """The prefix a listing through ``par`` acts on: the PAR's prefix or, inside it, the one asked for;
    None when the asked prefix lies outside the PAR's (nothing to list)."""
    own = par.object_name or ""
    if asked.startswith(own):
        return asked
    if own.startswith(asked):
        return own
    return None


async def count_use(node: Node, par: Par) -> Par:
    """Count one use. With a use limit: exactly, in a transaction of its own (one conditional update), so of
    N concurrent uses only the allowed number get through; AccessDenied when the PAR became unusable
    meanwhile (its last use went to a concurrent request, it was deleted or it expired). Without one: in
    the audit trail's next batch (``core/audit.py``), as for minted links, so a read costs no write of its
    own on the request path."""
    if par.max_uses is None:
        node.audit.count_use(par.id, node.clock.now())
        return par
    counted: Par | None = await node.write(node.store.consume_par, par.id, node.clock.now())
    if counted is None:
        latest = await node.read(node.store.get_par, par.id) or par
        refuse_state(latest, node.clock.now())
        raise AccessDenied("The pre-authenticated request is used-up.")
    return counted


async def give_back(node: Node, par: Par) -> None:
    """Take back a use counted for a write that then failed (a precondition, a bad digest, a client that
    left mid-body): counting stays before the write, so a limit is exact under concurrency, and a write
    that stored nothing costs nothing. Uses without a limit are counted in the audit batch, and given back
    there (a refused write through an unlimited PAR counted a use: the hostile catalogue's finding)."""
    if par.max_uses is None:
        node.audit.give_back_use(par.id)
    else:
        await node.write(node.store.give_back_par_use, par.id)


@contextlib.asynccontextmanager
async def given_back_on_failure(node: Node, par: Par) -> AsyncIterator[None]:
    """Around a write whose use is counted already: any failure gives the use back, then propagates."""
    try:
        yield
    except BaseException as exc:
        if not getattr(exc, "outcome_unknown", False):  # a write that may still commit keeps its use
            await asyncio.shield(give_back(node, par))
        raise
