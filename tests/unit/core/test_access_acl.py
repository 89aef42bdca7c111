"""authorize() rule 14 (S3 ACLs) and IgnorePublicAcls as a table: principal x (bucket ACL, object ACL) x action.

Cast: ``admin`` (admin of account A), ``owner`` (member of A, owns every bucket below), ``peer`` (member of A,
no grants), ``stranger`` (member of B: another contract), ``anonymous``; ``X+link``: X through a link it signed.

Buckets (all of A, owned by ``owner``): ``plain`` (no ACL); ``pubrw`` (public-read-write: the public flag and
AllUsers WRITE); ``auth`` (authenticated-read); ``user`` (stranger READ and READ_ACP on the bucket); ``pubrw!``
and ``auth!`` as ``pubrw`` and ``auth`` under IgnorePublicAcls (their account's: it travels with the bucket).

Object ACLs (``Resource.acl`` of the key ``k``): ``-`` none, ``pub`` AllUsers READ (public-read), ``auth``
AuthenticatedUsers READ, ``user`` stranger READ and WRITE_ACP.

Columns: BR bucket-read (a listing), OR object-read, OW object-write, AR / AW the bucket's ACL read / write,
OAR / OAW the object's ACL read / write.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from satchel.core.access import Action, Resource, authorize
from satchel.core.models import (
    ALL_USERS,
    ANONYMOUS,
    AUTHENTICATED_USERS,
    AclGrant,
    Bucket,
    Principal,
    PublicAccessBlock,
    Role,
    Status,
    User,
)
from satchel.core.requestfacts import RequestFacts


def _user(uid: str, account: str, role: Role = Role.MEMBER) -> User:
    return User(id=uid, account_id=account, name=uid, role=role, status=Status.ACTIVE, created=0.0)


PRINCIPALS = {
    "admin": Principal(_user("admin", "A", Role.ADMIN)),
    "owner": Principal(_user("owner", "A")),
    "peer": Principal(_user("peer", "A")),
    "stranger": Principal(_user("stranger", "B")),
    "anonymous": ANONYMOUS,
}
PRINCIPALS.update({f"{name}+link": p.through_link() for name, p in list(PRINCIPALS.items())})

_BASE = Bucket(name="b", account_id="A", owner_user_id="owner", created=0.0)
_IGNORE = PublicAccessBlock(ignore_public_acls=True)
_PUBRW = dataclasses.replace(_BASE, public_read=True, acl=(AclGrant(ALL_USERS, "WRITE"),))
_AUTH = dataclasses.replace(_BASE, acl=(AclGrant(AUTHENTICATED_USERS, "READ"),))
BUCKETS = {
    "plain": _BASE,
    "pubrw": _PUBRW,
    "auth": _AUTH,
    "user": dataclasses.replace(_BASE, acl=(AclGrant("stranger", "READ"), AclGrant("stranger", "READ_ACP"))),
    "pubrw!": dataclasses.replace(_PUBRW, account_public_block=_IGNORE),
    "auth!": dataclasses.replace(_AUTH, account_public_block=_IGNORE),
}
OBJECT_ACLS: dict[str, tuple[AclGrant, ...]] = {
    "-": (),
    "pub": (AclGrant(ALL_USERS, "READ"),),
    "auth": (AclGrant(AUTHENTICATED_USERS, "READ"),),
    "user": (AclGrant("stranger", "READ"), AclGrant("stranger", "WRITE_ACP")),
}
#: (column, action, on the object?)
COLUMNS = (("BR", Action.BUCKET_READ, False), ("OR", Action.OBJECT_READ, True), ("OW", Action.OBJECT_WRITE, True),
           ("AR", Action.ACL_READ, False), ("AW", Action.ACL_WRITE, False), ("OAR", Action.ACL_READ, True),
           ("OAW", Action.ACL_WRITE, True))

# Y = allowed, - = denied.
TABLE = """
principal      bucket  object  BR OR OW AR AW OAR OAW
admin          plain   -       Y  Y  Y  Y  Y  Y   Y
owner          plain   -       Y  Y  Y  Y  Y  Y   Y
owner+link     plain   -       Y  Y  Y  -  -  -   -
peer           plain   -       -  -  -  -  -  -   -
peer           plain   pub     -  Y  -  -  -  -   -
peer           plain   auth    -  Y  -  -  -  -   -
peer           plain   user    -  -  -  -  -  -   -
peer+link      plain   pub     -  -  -  -  -  -   -
stranger       plain   -       -  -  -  -  -  -   -
stranger       plain   pub     -  Y  -  -  -  -   -
stranger       plain   auth    -  Y  -  -  -  -   -
stranger       plain   user    -  Y  -  -  -  -   Y
stranger+link  plain   user    -  -  -  -  -  -   -
anonymous      plain   -       -  -  -  -  -  -   -
anonymous      plain   pub     -  Y  -  -  -  -   -
anonymous      plain   auth    -  -  -  -  -  -   -
anonymous      plain   user    -  -  -  -  -  -   -
anonymous+link plain   pub     -  -  -  -  -  -   -
anonymous      pubrw   -       Y  Y  Y  -  -  -   -
anonymous+link pubrw   -       -  -  -  -  -  -   -
stranger       pubrw   -       Y  Y  Y  -  -  -   -
stranger+link  pubrw   -       -  -  -  -  -  -   -
owner          pubrw   -       Y  Y  Y  Y  Y  Y   Y
anonymous      auth    -       -  -  -  -  -  -   -
peer           auth    -       Y  -  -  -  -  -   -
stranger       auth    -       Y  -  -  -  -  -   -
stranger       user    -       Y  -  -  Y  -  -   -
stranger       user    user    Y  Y  -  Y  -  -   Y
peer           user    -       -  -  -  -  -  -   -
anonymous      pubrw!  -       -  -  -  -  -  -   -
anonymous      pubrw!  pub     -  -  -  -  -  -   -
stranger       pubrw!  auth    -  -  -  -  -  -   -
stranger       pubrw!  user    -  Y  -  -  -  -   Y
owner          pubrw!  -       Y  Y  Y  Y  Y  Y   Y
stranger       auth!   -       -  -  -  -  -  -   -
admin          auth!   -       Y  Y  Y  Y  Y  Y   Y
"""


def _cells() -> list[tuple[str, str, str, str, bool]]:
    lines = [line.split() for line in TABLE.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header[3:] == [name for name, _, _ in COLUMNS]
    return [(p, b, o, column, cell == "Y") for p, b, o, *cells in rows
            for column, cell in zip(header[3:], cells, strict=True)]


CELLS = _cells()


@pytest.mark.parametrize(("principal", "bucket", "object_acl", "column", "expected"), CELLS,
                         ids=[f"{p}-{b}-{o}-{c}" for p, b, o, c, _ in CELLS])
def test_acl_table(principal: str, bucket: str, object_acl: str, column: str, expected: bool) -> None:
    _, action, on_object = next(entry for entry in COLUMNS if entry[0] == column)
    resource = Resource(bucket=BUCKETS[bucket], key="k" if on_object else None,
                        acl=OBJECT_ACLS[object_acl] if on_object else ())
    assert authorize(PRINCIPALS[principal], action, resource) is expected


def test_a_bucket_acl_never_reads_objects_and_an_object_acl_never_lists() -> None:
    """AWS's split: a bucket's READ lists, an object's READ reads that object; neither gives the other."""
    stranger = PRINCIPALS["stranger"]
    listing_only = BUCKETS["user"]
    assert authorize(stranger, Action.BUCKET_READ, Resource(bucket=listing_only, key="any/prefix"))
    assert not authorize(stranger, Action.OBJECT_READ, Resource(bucket=listing_only, key="k"))
    assert not authorize(stranger, Action.BUCKET_READ, Resource(bucket=BUCKETS["plain"], acl=OBJECT_ACLS["user"]))


def test_a_disabled_grantee_gets_nothing_from_an_acl() -> None:
    disabled = Principal(dataclasses.replace(_user("stranger", "B"), status=Status.DISABLED))
    resource = Resource(bucket=BUCKETS["plain"], key="k", acl=OBJECT_ACLS["user"])
    assert not authorize(disabled, Action.OBJECT_READ, resource)


def test_ignore_public_acls_of_the_bucket_itself_hides_the_public_flag() -> None:
    """The bucket's own flag works as its account's does (``core/publicaccess.effective``)."""
    ignored = dataclasses.replace(BUCKETS["pubrw"], public_block=_IGNORE)
    assert not authorize(ANONYMOUS, Action.OBJECT_READ, Resource(bucket=ignored, key="k"))
    assert not authorize(ANONYMOUS, Action.OBJECT_WRITE, Resource(bucket=ignored, key="k"))
    blocked_only = dataclasses.replace(BUCKETS["pubrw"], public_block=PublicAccessBlock(block_public_acls=True))
    assert authorize(ANONYMOUS, Action.OBJECT_READ, Resource(bucket=blocked_only, key="k"))


def test_restrict_public_buckets_voids_a_public_policy_not_its_denies() -> None:
    """RestrictPublicBuckets (rule 13 under ``core/publicaccess.py``): the policy's public Allows count for
    nothing; a Deny of the same policy still refuses even the owner."""
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/locked/*"}]})
    public = dataclasses.replace(_BASE, policy=document)
    restricted = dataclasses.replace(public, account_public_block=PublicAccessBlock(restrict_public_buckets=True))
    assert authorize(ANONYMOUS, Action.OBJECT_READ, Resource(bucket=public, key="k"))
    assert not authorize(ANONYMOUS, Action.OBJECT_READ, Resource(bucket=restricted, key="k"))
    assert authorize(PRINCIPALS["owner"], Action.OBJECT_READ, Resource(bucket=restricted, key="k"))
    assert not authorize(PRINCIPALS["owner"], Action.OBJECT_WRITE, Resource(bucket=restricted, key="locked/x"))


def test_a_policy_deny_reaches_acls() -> None:
    """Explicit Deny wins over every grant, link and ACL (rule 13 before 14): even the owner's ACL operations."""
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": ["s3:PutObjectAcl", "s3:GetBucketAcl"],
         "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret"}]})
    bucket = dataclasses.replace(_BASE, policy=document)

    def owner(operation: str) -> Principal:
        return dataclasses.replace(PRINCIPALS["owner"], facts=RequestFacts(now=0.0, operation=operation))

    assert not authorize(owner("PutObjectAcl"), Action.ACL_WRITE, Resource(bucket=bucket, key="k"))
    assert authorize(owner("GetObjectAcl"), Action.ACL_READ, Resource(bucket=bucket, key="k"))  # not denied
    assert not authorize(owner("GetBucketAcl"), Action.ACL_READ, Resource(bucket=bucket))
    assert not authorize(ANONYMOUS, Action.OBJECT_READ, Resource(bucket=bucket, key="secret", acl=OBJECT_ACLS["pub"]))
    assert authorize(ANONYMOUS, Action.OBJECT_READ, Resource(bucket=bucket, key="other", acl=OBJECT_ACLS["pub"]))
