"""Account and container metadata and usage, as Swift shows them (``X-Account-Meta-*``,
``X-Container-Meta-*``, object counts and bytes), each behind ``authorize()``.

Container metadata is kept by bucket *id*: a bucket name deleted and created again starts with none.
What each name may be (and which names are secrets kept elsewhere, such as the TempURL keys) is the
front-end's business; here names are opaque lower-case strings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from satchel.core.access import Action, Resource, authorize, lists_some_prefix
from satchel.core.buckets import bucket_for
from satchel.core.errors import AccessDenied
from satchel.core.models import Account, Bucket, Principal
from satchel.core.node import Node

ACCOUNT = "account"
CONTAINER = "container"
#: Swift's default ``max_meta_overall_size``: names and values of one account or container together.
MAX_META_BYTES = 4096
#: Swift's ``max_meta_count``: items of one account or container, those stored and those set together
#: (``constraints.check_metadata`` is applied to the merged metadata).
MAX_META_COUNT = 90
#: Object counts and bytes cost one aggregate over the bucket's rows (O(bucket)); every listing page and
#: HEAD reports them, so each worker reuses a bucket's figures for this long. Swift's own container
#: counts lag writes too (its container updates are asynchronous).
USAGE_TTL = 1.0
_USAGE_ENTRIES = 10_000
_usage: dict[str, tuple[float, int, int]] = {}


def _require_account(principal: Principal, action: Action, account: Account) -> None:
    if not authorize(principal, action, Resource(bucket=None, account_id=account.id)):
        raise AccessDenied()


def account_metadata(node: Node, principal: Principal, account: Account) -> dict[str, str]:
    _require_account(principal, Action.ACCOUNT_READ, account)
    return node.store.get_swift_metadata(ACCOUNT, account.id)


async def update_account_metadata(
    node: Node, principal: Principal, account: Account, changes: Mapping[str, str | None]
) -> dict[str, str]:
    """Set (value) or remove (None) account metadata: account admins only."""
    _require_account(principal, Action.ACCOUNT_ADMIN, account)
    if not changes:
        return await node.read(node.store.get_swift_metadata, ACCOUNT, account.id)
    result: dict[str, str] = await node.write(node.store.update_swift_metadata, ACCOUNT, account.id, changes,
                                              max_bytes=MAX_META_BYTES, max_count=MAX_META_COUNT)
    return result


def container_metadata(
    node: Node, principal: Principal, name: str, prefix: str | None = None, *, head: bool = False
) -> tuple[Bucket, dict[str, str] | None]:
    """The bucket (BUCKET_READ of ``prefix``, the listing's) and its metadata, or None for the metadata
    when the caller may read only part of the bucket (a prefix grant): it describes the whole bucket.

    ``head``: a container HEAD, which clients (rclone) send before anything else; a caller who may list
    some prefix of the bucket gets it (without metadata), as the account listing already shows it."""
    found = node.bucket(name) if head else None
    if found is not None and not authorize(principal, Action.BUCKET_READ, Resource(bucket=found)) \
            and lists_some_prefix(principal, found):
        return found, None
    bucket = bucket_for(node, principal, name, Action.BUCKET_READ, prefix)
    if not authorize(principal, Action.BUCKET_READ, Resource(bucket=bucket)):
        return bucket, None
    return bucket, node.store.get_swift_metadata(CONTAINER, bucket.id)


async def update_container_metadata(
    node: Node, principal: Principal, name: str, changes: Mapping[str, str | None]
) -> dict[str, str]:
    """Set (value) or remove (None) container metadata: whoever controls the bucket."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if not changes:
        return await node.read(node.store.get_swift_metadata, CONTAINER, bucket.id)
    result: dict[str, str] = await node.write(node.store.update_swift_metadata, CONTAINER, bucket.id, changes,
                                              max_bytes=MAX_META_BYTES, max_count=MAX_META_COUNT)
    return result


def usage(node: Node, principal: Principal, bucket: Bucket) -> tuple[int, int] | None:
    """(objects, bytes) of a bucket; None when the principal may not read all of it (a prefix grant): the
    figures would tell about keys outside its prefix."""
    if not authorize(principal, Action.BUCKET_READ, Resource(bucket=bucket)):
        return None
    now = time.monotonic()
    cached = _usage.get(bucket.id)
    if cached is not None and now - cached[0] < USAGE_TTL:
        return cached[1], cached[2]
    count, used = node.store.bucket_usage(bucket.name)
    if len(_usage) >= _USAGE_ENTRIES:
        _usage.clear()
    _usage[bucket.id] = (now, count, used)
    return count, used
