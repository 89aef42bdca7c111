"""Bucket policy operations: put, get, delete, status. The language itself is ``core/policy.py``.

Who may do these is ``authorize()``'s decision (``BUCKET_ADMIN``: whoever controls the bucket, as for
grants, which a named Allow is). A policy with an Allow that anonymous callers can match lets people in
without a link: that is publishing, so it also needs ``BUCKET_PUBLISH`` (account admins only, rule 9), or
a member who owns a bucket could take it out of everything that guards sharing. The document is validated
in full before it is stored, and stored as given, so GetBucketPolicy returns what was put — except that
user ARNs in principals are resolved to the users' unique ids (``policy.resolve``, as AWS), which
GetBucketPolicy shows as ARNs again while the users exist. A public policy
(``policy.is_public``) is refused under Block Public Access's BlockPublicPolicy (``core/publicaccess.py``).
"""

from __future__ import annotations

from satchel.core import policy
from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.errors import AccessDenied, NoSuchBucketPolicy
from satchel.core.models import Principal
from satchel.core.node import Node
from satchel.core.publicaccess import POLICY_BLOCKED, effective


async def put_policy(node: Node, principal: Principal, name: str, document: bytes) -> None:
    """Validate and store; MalformedPolicy (nothing changed) names what is wrong."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    parsed = policy.parse(document, name)
    if policy.is_public(parsed) and effective(bucket).block_public_policy:
        raise AccessDenied(POLICY_BLOCKED)  # AWS's answer under BlockPublicPolicy
    if policy.opens_to_anonymous(parsed):
        bucket_for(node, principal, name, Action.BUCKET_PUBLISH)
    resolved = policy.resolve(document.decode("utf-8"), name, _user_by_name(node), _user_by_id(node))
    await node.write(node.store.update_bucket, name, policy=resolved)


def get_policy(node: Node, principal: Principal, name: str) -> str:
    """As stored, but with the user principals resolved at PUT time shown as their users' ARNs again (a
    deleted user's as its unique id), as AWS shows them."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if bucket.policy is None:
        raise NoSuchBucketPolicy(BucketName=name)
    return policy.display(bucket.policy, _user_by_id(node))


def _user_by_name(node: Node) -> policy.UserByName:
    def find(account_id: str, user_name: str) -> str | None:
        user = node.store.get_user_by_name(user_name)
        return user.id if user is not None and user.account_id == account_id else None
    return find


def _user_by_id(node: Node) -> policy.UserById:
    def find(user_id: str) -> tuple[str, str] | None:
        user = node.store.get_user(user_id)
        return (user.account_id, user.name) if user is not None else None
    return find


async def delete_policy(node: Node, principal: Principal, name: str) -> None:
    """Idempotent, as AWS: deleting a policy the bucket does not have answers 204 too."""
    bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    await node.write(node.store.update_bucket, name, policy=None)


def policy_is_public(node: Node, principal: Principal, name: str) -> bool:
    """GetBucketPolicyStatus: NoSuchBucketPolicy without a policy, as AWS."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if bucket.policy is None:
        raise NoSuchBucketPolicy(BucketName=name)
    return policy.is_public(policy.compiled(bucket.policy, bucket.name))
