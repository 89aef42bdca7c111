"""Revocation "before a moment": who may revoke what, and the moments a revocation may name.

A revocation refuses from then on every link in its scope (object, prefix, bucket, access key, user)
issued before its moment; ``core/admission.py`` applies it at every use.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchBucket
from satchel.core.links import acting_user, current_bucket_id, oversees, row_bucket
from satchel.core.models import Principal, Revocation, RevocationScope
from satchel.meta.store import Store

if TYPE_CHECKING:
    from satchel.core.node import Node

#: The earliest moment a revocation may name (2000-01-01 UTC): no link was issued before it, and an
#: earlier time (0, a negative one) is a client's mistake, not a revocation.
EARLIEST_REVOCATION = 946684800.0


def check_revocation_scope(store: Store, principal: Principal, scope: RevocationScope, target: str,
                           bucket: str | None) -> None:
    """``REVOCATION_ADMIN``: object, prefix and bucket scopes need control of the bucket; key and user
    scopes need to act for that user (or its key's user): be it, or an admin of its account."""
    acting_user(principal)
    if scope in (RevocationScope.OBJECT, RevocationScope.PREFIX, RevocationScope.BUCKET):
        name = target if scope is RevocationScope.BUCKET else bucket
        if not name:
            raise InvalidArgument("object and prefix revocations need a bucket", ArgumentName="bucket")
        current = store.get_bucket(name)
        if current is None:
            raise NoSuchBucket(BucketName=name)
        if not oversees(store, principal, Action.REVOCATION_ADMIN, bucket=current, subject_id=None):
            raise AccessDenied()
        return
    if scope is RevocationScope.ACCESS_KEY:
        stored = store.get_access_key(target)
        owner_id = stored.user_id if stored else None
    else:
        owner_id = target
    owner = store.get_user(owner_id) if owner_id else None
    # One answer for a user or key that does not exist and one the caller may not act for: telling them
    # apart would let anyone enumerate the names and key ids of every account.
    if owner is None or not authorize(principal, Action.REVOCATION_ADMIN, Resource(None, subject=owner)):
        raise AccessDenied(f"No {scope.value} of that name whose links you may revoke.")


_BUCKET_SCOPES = frozenset({RevocationScope.OBJECT, RevocationScope.PREFIX, RevocationScope.BUCKET})


def new_revocation(principal: Principal, scope: RevocationScope, target: str, bucket: str | None,
                   before: float, now: float, *, bucket_id: str | None = None) -> Revocation:
    """``bucket_id``: the current bucket's id for object, prefix and bucket scopes (a revocation covers
    that bucket only)."""
    user = principal.user
    return Revocation(
        id=secrets.token_hex(8),
        scope=scope,
        target=target,
        bucket=bucket if scope in (RevocationScope.OBJECT, RevocationScope.PREFIX) else None,
        before=before,
        created=now,
        created_by=user.id if user else None,
        bucket_id=bucket_id if scope in _BUCKET_SCOPES else None,
    )


def revocation_time(before: float | None, now: float, server_max: int) -> float:
    """The moment a revocation names: ``before``, or now when None.

    Refused (InvalidArgument) unless it is a finite time from :data:`EARLIEST_REVOCATION` to now plus
    the server's link lifetime ceiling. A moment ahead refuses links minted until then too; beyond
    that bound it would stop every new link for longer than any link may live (``1e308``, infinity),
    and no store or audit line could even write it."""
    if before is None:
        return now
    latest = now + server_max
    if not EARLIEST_REVOCATION <= before <= latest:  # NaN fails every comparison
        raise InvalidArgument(f"before must be epoch seconds from {EARLIEST_REVOCATION:.0f} (2000-01-01) to "
                              f"{latest:.0f} (now plus the server's longest link lifetime).",
                              ArgumentName="before", ArgumentValue=repr(before))
    return float(before)


async def add_revocation(node: Node, principal: Principal, scope: RevocationScope, target: str,
                         bucket: str | None, before: float | None) -> Revocation:
    """Refuse from now on every link in the scope issued before ``before`` (default: now; see
    :func:`revocation_time`). A user scope's target may be a user name or id."""
    moment = revocation_time(before, node.clock.now(), node.settings.max_link_lifetime)
    store = node.store
    if scope is RevocationScope.USER:  # nobody by that name: check_revocation_scope refuses it as any other
        user = store.get_user_by_name(target) or store.get_user(target)
        target = user.id if user is not None else target
    # The id is read before the check: if the name changed hands in between, the check refuses or the
    # revocation names a bucket that is gone; it never lands on a bucket the caller was not checked on.
    name = target if scope is RevocationScope.BUCKET else bucket
    bucket_id = current_bucket_id(store, name) if name else None
    check_revocation_scope(store, principal, scope, target, bucket)
    now = node.clock.now()
    revocation = new_revocation(principal, scope, target, bucket, moment, now, bucket_id=bucket_id)
    await node.write(store.add_revocation, revocation)
    return revocation


def visible_revocations(store: Store, principal: Principal) -> list[Revocation]:
    """Revocations the principal oversees (``REVOCATION_ADMIN``): on buckets it controls, and those made by
    the users it acts for."""
    acting_user(principal)
    return [r for r in store.list_revocations() if oversees(
        store, principal, Action.REVOCATION_ADMIN,
        bucket=row_bucket(store, r.target if r.scope is RevocationScope.BUCKET else r.bucket, r.bucket_id),
        subject_id=r.created_by)]
