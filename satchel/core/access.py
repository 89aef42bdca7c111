"""The one place a permission is decided.

Every front-end (S3, Swift, PAR, management API, console) and every kind of link ends in
:func:`authorize`, with the *signer* of a link as principal, loaded at *use* time. The function is pure:
the principal already carries its user and grants (``core/credentials.py`` loads and caches them), so
the same inputs always give the same answer and the rules below can be tested as a table
(``tests/unit/core/test_access.py``).

Rules, in the order they are applied:

1. A disabled user may do nothing at all: a disabled signer kills every link it signed.
2. ``LIST_BUCKETS`` and ``CREATE_BUCKET`` need an authenticated, active user; anonymous gets neither.
3. The owner of a user-owned bucket may do everything on it.
4. An account admin may do everything on every bucket of its account (user-owned or contract-owned).
5. A public-read bucket gives ``BUCKET_READ`` and ``OBJECT_READ`` to everybody, anonymous included.
6. Otherwise only grants count, never for ``BUCKET_ADMIN``:
   a ``read`` grant gives ``BUCKET_READ`` and ``OBJECT_READ``, ``read-write`` adds ``OBJECT_WRITE``. A grant
   with a non-empty prefix gives object actions only on keys starting with the prefix, and ``BUCKET_READ``
   only for listings whose prefix starts with the grant prefix (so it never reveals keys outside it).
   Grants work across accounts: that is how a bucket is shared with another contract.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from satchel.core.models import Bucket, Grant, Permission, Principal, Role, User


class Action(enum.StrEnum):
    """What a request wants to do; each S3 operation maps to exactly one of these."""

    #: Service level: ListBuckets (the answer is filtered by :func:`visible_buckets`).
    LIST_BUCKETS = "list-buckets"
    #: Service level: CreateBucket.
    CREATE_BUCKET = "create-bucket"
    #: HeadBucket, ListObjects(V2), GetBucketLocation, ListMultipartUploads.
    BUCKET_READ = "bucket-read"
    #: DeleteBucket, Get/Put/DeleteBucketCors, bucket settings (public, max link lifetime), revocation,
    #: minting links on behalf of others.
    BUCKET_ADMIN = "bucket-admin"
    #: GetObject, HeadObject, the source of a copy.
    OBJECT_READ = "object-read"
    #: PutObject, DeleteObject, multipart create/upload/complete/abort/list parts, POST uploads.
    OBJECT_WRITE = "object-write"


_SERVICE_ACTIONS = frozenset({Action.LIST_BUCKETS, Action.CREATE_BUCKET})
_PUBLIC_ACTIONS = frozenset({Action.BUCKET_READ, Action.OBJECT_READ})


@dataclass(frozen=True)
class Resource:
    """What an action is applied to.

    ``bucket`` is None for service-level actions. ``key`` is the object key for object actions and,
    for ``BUCKET_READ`` of a listing, the listing prefix (None for HeadBucket and the like).
    """

    bucket: Bucket | None
    key: str | None = None


def authorize(principal: Principal, action: Action, resource: Resource) -> bool:
    """True when ``principal`` may perform ``action`` on ``resource``; see the module docstring."""
    user = principal.user
    if user is not None and not user.active:
        return False
    if action in _SERVICE_ACTIONS:
        return user is not None
    bucket = resource.bucket
    if bucket is None:
        return False
    if user is not None and _controls(user, bucket):
        return True
    if bucket.public_read and action in _PUBLIC_ACTIONS:
        return True
    if user is None or action is Action.BUCKET_ADMIN:
        return False
    return any(
        _grant_allows(grant, action, resource.key)
        for grant in principal.grants
        if grant.user_id == user.id and grant.bucket == bucket.name and grant.bucket_id == bucket.id
    )


def visible_buckets(principal: Principal, buckets: Iterable[Bucket]) -> list[Bucket]:
    """The buckets ListBuckets shows: owned ones, the account's for an admin, and granted ones.

    Public buckets of others are not listed (as in S3: being readable does not make a bucket yours).
    """
    user = principal.active_user
    if user is None:
        return []
    granted = {(grant.bucket, grant.bucket_id) for grant in principal.grants if grant.user_id == user.id}
    return [bucket for bucket in buckets if _controls(user, bucket) or (bucket.name, bucket.id) in granted]


def _controls(user: User, bucket: Bucket) -> bool:
    """Full control: the owner of a user-owned bucket, or an admin of the bucket's account."""
    if bucket.owner_user_id is not None and bucket.owner_user_id == user.id:
        return True
    return user.role is Role.ADMIN and bucket.account_id == user.account_id


def _grant_allows(grant: Grant, action: Action, key: str | None) -> bool:
    """Only BUCKET_READ, OBJECT_READ and OBJECT_WRITE reach here: :func:`authorize` has answered
    service actions and BUCKET_ADMIN (which no grant gives) already."""
    if action is Action.OBJECT_WRITE and grant.permission is not Permission.READ_WRITE:
        return False
    if not grant.prefix:
        return True
    # A prefix grant needs a key (or listing prefix) inside it: a HeadBucket or a listing of the whole
    # bucket would reveal names outside the granted prefix.
    return key is not None and key.startswith(grant.prefix)
