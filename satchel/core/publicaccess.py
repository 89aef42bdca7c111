"""Block Public Access: S3's guard against making anything public, per bucket and per account.

A bucket's effective setting is its own flags OR its account's (AWS ORs the account's, the bucket's and — for
an access point — the access point's; Satchel has no access points). What each flag does:

- ``BlockPublicAcls``: a request that would *set* a public ACL (a grant to AllUsers or AuthenticatedUsers, a
  public canned ACL, the admin's ``bucket public``, Swift's ``X-Container-Read: .r:*``) is refused with 403
  AccessDenied, as on AWS; public ACLs already in place stay (and keep working unless ``IgnorePublicAcls``).
- ``IgnorePublicAcls``: ``authorize()`` ignores public ACLs and the bucket's public flag (``core/access.py``
  rule 14), so nothing public in them is readable or writable by the public any more; they stay stored, and
  work again when the flag goes.
- ``BlockPublicPolicy``: PutBucketPolicy of a public policy (``policy.is_public``) is refused with 403
  AccessDenied (``core/bucketpolicies.py``); a policy already in place stays.
- ``RestrictPublicBuckets``: ``authorize()`` evaluates the bucket's policy without its public Allows (rule 13);
  its Denies and its other Allows still apply.

Who sets them: a bucket's, whoever controls the bucket (``BUCKET_ADMIN``); an account's, its admins
(``ACCOUNT_ADMIN``: the management API's ``/v1/accounts/{name}/public-access-block`` and
``satchel admin public-access-block``). A bucket's own setting cannot loosen its account's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from satchel.core.models import Bucket, PublicAccessBlock

if TYPE_CHECKING:
    from satchel.core.node import Node

NONE = PublicAccessBlock()
#: The refusal of a request that would make something public under BlockPublicAcls (AWS: 403 AccessDenied).
BLOCKED = "Access Denied: Block Public Access (BlockPublicAcls) forbids making this public."
#: The refusal of a public bucket policy under BlockPublicPolicy (AWS: 403 AccessDenied).
POLICY_BLOCKED = "Access Denied: Block Public Access (BlockPublicPolicy) forbids a public bucket policy."


#: The flags' names in the management API's JSON and the CLI's rows (``PublicAccessBlock``'s fields).
FIELDS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")


def describe(account: str, block: PublicAccessBlock | None) -> dict[str, object]:
    """An account's setting as the management API and ``satchel admin public-access-block`` show it."""
    shown = block or NONE
    return {"account": account, "configured": block is not None, **{name: getattr(shown, name) for name in FIELDS}}


def effective(bucket: Bucket) -> PublicAccessBlock:
    """The flags in force on ``bucket``: its own OR its account's (both travel with the cached bucket)."""
    return (bucket.public_block or NONE) | (bucket.account_public_block or NONE)


def public_in_force(bucket: Bucket) -> bool:
    """Whether the bucket's public flag (AllUsers READ) answers: set, and not ignored under IgnorePublicAcls.
    What a front-end shows as "public" (Swift's ``X-Container-Read: .r:*``, the console's badge), so that
    nothing is shown public that does not answer publicly."""
    return bucket.public_read and not effective(bucket).ignore_public_acls


def public_acl_ignored(bucket: Bucket) -> bool:
    """The bucket's public flag is set but IgnorePublicAcls keeps it from answering (it works again when the
    flag goes): worth telling whoever manages the bucket."""
    return bucket.public_read and effective(bucket).ignore_public_acls


def effective_block(node: Node, bucket: Bucket | str) -> PublicAccessBlock:
    """The flags in force on a bucket (by name, through the per-worker cache, or as loaded), for code that
    holds a name rather than a loaded bucket. A missing bucket blocks nothing (its callers answer NoSuchBucket
    themselves)."""
    found = node.bucket(bucket) if isinstance(bucket, str) else bucket
    return effective(found) if found is not None else NONE
