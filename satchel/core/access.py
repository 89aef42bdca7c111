"""The one place a permission is decided.

Every front-end (S3, Swift, PAR, management API, console) and every kind of link ends in
:func:`authorize`, with the *signer* of a link as principal, loaded at *use* time. The function is pure:
the principal already carries its user and grants (``core/credentials.py`` loads and caches them), so
the same inputs always give the same answer and the rules below can be tested as a table
(``tests/unit/core/test_access.py``).

Rules, in the order they are applied:

1. A disabled user may do nothing at all: a disabled signer kills every link it signed.
2. ``LIST_BUCKETS`` needs an authenticated, active user; anonymous gets nothing at the service level.
   ``CREATE_BUCKET`` is decided on the bucket to be made: the caller must be going to control it
   (rule 4), so a member creates buckets it owns and only an account admin creates contract-owned ones.
2b. ``KEY_ADMIN`` (create, disable, delete access keys; subject: the key's user) is allowed to that user
    and to the admins of its account; ``USER_ADMIN`` (create, change, delete users, and enable a disabled
    access key, which brings its links back; subject: the user) only to the admins of the subject's
    account. Never through a link. Granting on a bucket is ``BUCKET_ADMIN``.
3. Oversight of sharing — ``LINK_ADMIN`` (see, inspect, revoke minted links), ``REVOCATION_ADMIN`` (revoke
   "before a moment", see revocations) and ``AUDIT_READ`` (read audit events) — applies to a bucket, to a
   subject user (a link's signer, a revocation's creator or target, an event's signer), or to both. It is
   allowed when the caller controls the bucket (rule 4) or *acts for* the subject: is that user, or an
   admin of that user's account. Never through a link.
4. The owner of a user-owned bucket, and every admin of the bucket's account (user-owned or
   contract-owned), may do everything on it — including sharing it through links.
5. A public-read bucket gives ``BUCKET_READ`` and ``OBJECT_READ`` to everybody, anonymous included — but
   never through a link: public reading needs no link, and public reading is no right to share (else
   anyone could mint PARs or presigned URLs on someone else's public bucket, which outlive its being
   public and, for PARs, block its deletion). A link on a public bucket needs the signer's own share
   right (rule 7), as on any other bucket. Public reading does not extend to an object's tags
   (``OBJECT_TAGS_READ``): they are the owner's bookkeeping, not the published content.
6. Otherwise only grants count, never for ``BUCKET_ADMIN``:
   a ``read`` grant gives ``BUCKET_READ``, ``OBJECT_READ`` and ``OBJECT_TAGS_READ``, ``read-write`` adds
   ``OBJECT_WRITE``. A grant
   with a non-empty prefix gives object actions only on keys starting with the prefix, and ``BUCKET_READ``
   only for listings whose prefix starts with the grant prefix (so it never reveals keys outside it).
   Grants work across accounts: that is how a bucket is shared with another contract.
7. **Sharing is a right of its own.** A principal acting *through a link* (``Principal.via_link``: a
   SigV4/SigV2 presigned URL, a minted link, a POST policy; later TempURLs and PARs) needs, on top of the
   action's own right, the signer's right to share it: owners and admins hold it (rule 4); a member holds
   it only through a grant marked ``share`` that itself allows the action — unless the bucket's
   ``sharing`` setting is ``any`` (AWS's rule: whoever may do something may sign a link for it). Why:
   IONOS lets only the bucket owner and, for contract-owned buckets, the contract's administrators
   generate presigned URLs; OCI requires ``PAR_MANAGE`` on top of the rights a PAR grants. Header-signed
   requests are unaffected.
8. Account-level settings (Swift's ``X-Account-Meta-*``): ``ACCOUNT_READ`` is for every active user of the
   account, ``ACCOUNT_ADMIN`` for its admins only; never through a link, never across accounts.
9. **Publishing** (``BUCKET_PUBLISH``: making a bucket public-read, Swift's ``X-Container-Read: .r:*``) is
   for the admins of the bucket's account only, never through a link. A public bucket is readable by
   everybody with no link, so none of what guards sharing applies to it (share right, link lifetime
   ceilings, use counting, revocation, audit of each use): a member who owns a bucket may share it through
   links, but may not take it out of all of that.
10. **Swift TempURL keys** (``TEMPURL_KEY_ADMIN``) sign TempURLs and FormPosts for a whole account or
   container: an account's keys are set (and seen) by its admins only, a container's by whoever controls
   the bucket (rule 4). Never through a link. The keys' setter is the principal of every TempURL signed
   with them, so what such a URL may do is decided by the rules above, with ``via_link``, at use time.
11. **Node administration** (``NODE_ADMIN``: list, create, see and delete accounts) is for the admins of the
   node's operator account only — the ``root`` account the first start (``satchel admin init`` or the
   first ``serve``) creates, whose id the caller passes as the resource's ``account_id``. Never through a
   link. An account's own admins may see it (``ACCOUNT_ADMIN`` on it, rule 8), not other accounts: account
   names are the node's customer list.
12. **Changing a bucket's owner** (``BUCKET_OWNER``: user-owned to contract-owned, back, or to another user
   of the bucket's account) is for the admins of the bucket's account only, never through a link, and
   never across accounts. Why not the owner too: ownership is control (rule 4); handing it to another
   member puts a bucket, and what it costs, on someone who did not ask for it, and taking a contract-owned
   bucket into one's own hands would be an escalation. Links the old owner signed are not re-signed: they
   are checked at use time against the old owner's rights, which no longer include control.
13. **Bucket policies** (``core/policy.py``; the request's facts travel on ``Principal.facts``) apply to
   the bucket's own actions (``BUCKET_READ``, ``BUCKET_ADMIN``, ``OBJECT_READ``, ``OBJECT_TAGS_READ``,
   ``OBJECT_WRITE``; a Deny also
   to ``ACL_READ`` and ``ACL_WRITE``, rule 14, which no Allow gives), after
   rule 1. An explicit **Deny** that matches refuses, whatever else would allow: ownership, admin role,
   public flag, grants, and every kind of link (the link's signer is the principal, the link's user's
   request supplies the facts, so a Deny on ``aws:SourceIp`` refuses a link used from outside the range).
   The one exception keeps a bucket governable: whoever controls it (rule 4) is never denied the policy
   operations themselves (AWS keeps these for the owning account likewise). An **Allow** that matches
   grants ``BUCKET_READ``, ``OBJECT_READ``, ``OBJECT_TAGS_READ`` and ``OBJECT_WRITE`` as a grant would (never
   ``BUCKET_ADMIN``: a
   policy shares data, not control); through a link it counts only when the bucket's ``sharing`` is
   ``any`` (rule 7: an Allow carries no share right), and an Allow to ``*`` is public reading or writing,
   which needs no link — so putting a policy with an Allow anonymous callers can match is publishing
   (``BUCKET_PUBLISH``, rule 9; ``core/bucketpolicies.py``). Under Block Public Access's
   RestrictPublicBuckets (``core/publicaccess.py``) the policy's public Allows count for nothing.
14. **S3 ACLs** (``core/acl.py``) add grants on top of the rules above (a policy's Deny still wins), never
   through a link: an ACL gives no right to share, so a link on an object readable through an ACL still
   needs its signer's share right (rule 7). A *bucket* ACL's READ gives ``BUCKET_READ`` (listing, not the
   objects: AWS's meaning), WRITE ``OBJECT_WRITE`` on every key (uploads, overwrites, deletes), READ_ACP
   ``ACL_READ`` and WRITE_ACP ``ACL_WRITE`` of the bucket's ACL, FULL_CONTROL all four. An *object* ACL
   (``Resource.acl``) gives on that object: READ ``OBJECT_READ`` (with AllUsers: the per-object public read),
   READ_ACP / WRITE_ACP its ACL, FULL_CONTROL those three. A bucket's AllUsers READ is the public flag of
   rule 5 (which also makes its objects readable, as the console, Swift's ``.r:*`` and ``satchel admin
   bucket public`` always have). Grantees: a user id, of any account (an ACL shares across contracts as a
   grant does); ``AllUsers``: everybody, anonymous included; ``AuthenticatedUsers``: any active user of *any*
   account of the node — every customer of the node, so Satchel counts it as public like AllUsers: setting
   either needs the publishing right (rule 9) and is refused under BlockPublicAcls, and IgnorePublicAcls
   (``core/publicaccess.py``) makes this function ignore both, and the public flag. ``ACL_READ`` /
   ``ACL_WRITE`` come from nothing else but control (rule 4): a grant of rule 6 gives no right to see who
   else may read, and its holder cannot hand objects to others by ACL (sharing without the share right).
   Neither works through any link, even its bucket's owner's (``ACL_NOT_THROUGH_LINK``): an ACL names who
   may act, so a presigned PutObjectAcl would hand out access outside every sharing control.
   A bucket ACL's WRITE, like a read-write grant, never gives ``OBJECT_VERSION_DELETE`` (AWS's
   s3:DeleteObjectVersion): its holder deletes by adding a marker; erasing history is the bucket's
   controller's, or a policy Allow's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from satchel.core import policy as bucket_policy
from satchel.core.errors import MalformedPolicy
from satchel.core.models import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    AclGrant,
    Bucket,
    Grant,
    Permission,
    Principal,
    Role,
    Sharing,
    User,
)
from satchel.core.publicaccess import effective


class Action(enum.StrEnum):
    """What a request wants to do; each S3 operation and management call maps to exactly one of these."""

    #: Service level: ListBuckets (the answer is filtered by :func:`visible_buckets`).
    LIST_BUCKETS = "list-buckets"
    #: CreateBucket; the resource is the bucket about to be made (its owner and account).
    CREATE_BUCKET = "create-bucket"
    #: HeadBucket, ListObjects(V2), GetBucketLocation, ListMultipartUploads, listing a prefix to mint links.
    BUCKET_READ = "bucket-read"
    #: DeleteBucket, Get/Put/DeleteBucketCors, bucket settings (public, link policy).
    BUCKET_ADMIN = "bucket-admin"
    #: Make a bucket public-read (rule 9): account admins only. Making it private again is BUCKET_ADMIN.
    BUCKET_PUBLISH = "bucket-publish"
    #: Change a bucket's owner (rule 12): account admins only.
    BUCKET_OWNER = "bucket-owner"
    #: Set, clear and see Swift TempURL keys (bucket: a container's keys; ``account_id``: the account's).
    TEMPURL_KEY_ADMIN = "tempurl-key-admin"
    #: GetObject, HeadObject, the source of a copy.
    OBJECT_READ = "object-read"
    #: GetObjectTagging and the ``x-amz-tagging-count`` of a read: as OBJECT_READ, except that a public-read
    #: bucket does not give it (rule 5; AWS's split: public READ grants s3:GetObject, not s3:GetObjectTagging).
    #: Changing tags is OBJECT_WRITE (a write of the object's metadata).
    OBJECT_TAGS_READ = "object-tags-read"
    #: PutObject, DeleteObject, multipart create/upload/complete/abort/list parts, POST uploads.
    OBJECT_WRITE = "object-write"
    #: DeleteObject / DeleteObjects naming a version (a delete marker's too): a permanent deletion, AWS's
    #: s3:DeleteObjectVersion. Only whoever controls the bucket has it, or a policy Allow naming it; no ACL
    #: grant gives it (a bucket ACL WRITE is s3:PutObject + s3:DeleteObject, as on AWS), nor an admin-made
    #: read-write grant (no AWS counterpart: conservative, a grantee can delete only by adding a marker).
    OBJECT_VERSION_DELETE = "object-version-delete"
    #: See, inspect and revoke minted links (bucket: the link's; subject: its signer).
    LINK_ADMIN = "link-admin"
    #: Revoke every link issued before a moment, and see such revocations (bucket: an object, prefix or
    #: bucket scope's bucket; subject: a key or user scope's user, or the revocation's creator).
    REVOCATION_ADMIN = "revocation-admin"
    #: Read audit events (bucket: the event's; subject: the event's signer).
    AUDIT_READ = "audit-read"
    #: Read an account's own settings and metadata (Swift account HEAD/GET); the resource's ``account_id``.
    ACCOUNT_READ = "account-read"
    #: Change them (Swift account POST): account admins only.
    ACCOUNT_ADMIN = "account-admin"
    #: List, create, see and delete accounts (rule 11); ``account_id``: the node's operator account.
    NODE_ADMIN = "node-admin"
    #: Create, disable, delete a user's access keys (subject: that user); enabling one is USER_ADMIN.
    KEY_ADMIN = "key-admin"
    #: Create, change, delete users and their grants, enable their disabled keys (subject: the user; a new
    #: one in the caller's account).
    USER_ADMIN = "user-admin"
    #: GetBucketAcl (``key`` None) / GetObjectAcl (``key``: the object, ``Resource.acl``: its ACL); rule 14.
    ACL_READ = "acl-read"
    #: PutBucketAcl / PutObjectAcl; making anything public needs ``BUCKET_PUBLISH`` too (``core/acl.py``).
    ACL_WRITE = "acl-write"


#: The refusal's message when a link's signer may do what the link does but may not share it (rule 7).
NOT_SHARED = "Access Denied: the signer of this link may not share it."
#: The refusal's message for an ACL read or write through any link (presigned URL, minted link, POST form):
#: an ACL names who may act, so setting one through a link would hand out access outside every sharing
#: control (the share right, max uses, revocation), and reading one is not what a link shares.
ACL_NOT_THROUGH_LINK = "Access Denied: ACLs cannot be read or changed through a link; use a signed request."
#: The refusal's message when the bucket policy explicitly denies the request (rule 13).
POLICY_DENIED = "Access Denied: an explicit deny in the bucket policy."

_PUBLIC_ACTIONS = frozenset({Action.BUCKET_READ, Action.OBJECT_READ})
_OVERSIGHT_ACTIONS = frozenset({Action.LINK_ADMIN, Action.REVOCATION_ADMIN, Action.AUDIT_READ})
_ACCOUNT_ACTIONS = frozenset({Action.ACCOUNT_READ, Action.ACCOUNT_ADMIN, Action.NODE_ADMIN})
_ACCOUNT_ADMIN_BUCKET_ACTIONS = frozenset({Action.BUCKET_PUBLISH, Action.BUCKET_OWNER})
_PEOPLE_ACTIONS = frozenset({Action.KEY_ADMIN, Action.USER_ADMIN})
_POLICY_GOVERNED = frozenset({Action.BUCKET_READ, Action.BUCKET_ADMIN, Action.OBJECT_READ, Action.OBJECT_TAGS_READ,
                              Action.OBJECT_WRITE, Action.OBJECT_VERSION_DELETE, Action.ACL_READ, Action.ACL_WRITE})
_POLICY_GRANTABLE = frozenset({Action.BUCKET_READ, Action.OBJECT_READ, Action.OBJECT_TAGS_READ, Action.OBJECT_WRITE,
                               Action.OBJECT_VERSION_DELETE})
#: Actions on one object: a policy sees them on the object's ARN (``arn:aws:s3:::bucket/key``).
_OBJECT_ACTIONS = frozenset({Action.OBJECT_READ, Action.OBJECT_TAGS_READ, Action.OBJECT_WRITE,
                             Action.OBJECT_VERSION_DELETE})
_ACL_ACTIONS = frozenset({Action.ACL_READ, Action.ACL_WRITE})
#: What no admin-made grant gives (only control of the bucket, an ACL or a policy).
_NO_GRANT_GIVES = _ACL_ACTIONS | {Action.BUCKET_ADMIN, Action.OBJECT_VERSION_DELETE}
#: Rule 14: what each ACL permission gives, on a bucket and on an object.
_BUCKET_ACL_GIVES: dict[str, frozenset[Action]] = {
    "READ": frozenset({Action.BUCKET_READ}),
    "WRITE": frozenset({Action.OBJECT_WRITE}),
    "READ_ACP": frozenset({Action.ACL_READ}),
    "WRITE_ACP": frozenset({Action.ACL_WRITE}),
    "FULL_CONTROL": frozenset({Action.BUCKET_READ, Action.OBJECT_WRITE, Action.ACL_READ, Action.ACL_WRITE}),
}
_OBJECT_ACL_GIVES: dict[str, frozenset[Action]] = {
    "READ": frozenset({Action.OBJECT_READ}),
    "READ_ACP": frozenset({Action.ACL_READ}),
    "WRITE_ACP": frozenset({Action.ACL_WRITE}),
    "FULL_CONTROL": frozenset({Action.OBJECT_READ, Action.ACL_READ, Action.ACL_WRITE}),
}
#: Grantees that make a grant public (``core/publicaccess.py``).
PUBLIC_GRANTEES = frozenset({ALL_USERS, AUTHENTICATED_USERS})


@dataclass(frozen=True)
class Resource:
    """What an action is applied to.

    ``bucket`` is None for service-level actions. ``key`` is the object key for object actions and,
    for ``BUCKET_READ`` of a listing, the listing prefix (None for HeadBucket and the like).
    ``subject`` is the user an oversight action concerns (see rule 3).
    """

    bucket: Bucket | None
    key: str | None = None
    subject: User | None = None
    #: The account an account-level action (rule 8) concerns.
    account_id: str | None = None
    #: The object's ACL (rule 14) for OBJECT_READ and an object's ACL_READ / ACL_WRITE.
    acl: tuple[AclGrant, ...] = ()


def authorize(principal: Principal, action: Action, resource: Resource) -> bool:
    """True when ``principal`` may perform ``action`` on ``resource``; see the module docstring."""
    user = principal.user
    if user is not None and not user.active:
        return False
    bucket = resource.bucket
    if action is Action.LIST_BUCKETS:
        return user is not None
    if action is Action.CREATE_BUCKET:
        return user is not None and bucket is not None and _controls(user, bucket)
    if action is Action.TEMPURL_KEY_ADMIN:
        return user is not None and not principal.via_link and (
            _controls(user, bucket) if bucket is not None
            else user.role is Role.ADMIN and user.account_id == resource.account_id
        )
    if action in _PEOPLE_ACTIONS:
        subject = resource.subject
        if user is None or principal.via_link or subject is None:
            return False
        if action is Action.KEY_ADMIN:
            return _acts_for(user, subject)
        return user.role is Role.ADMIN and subject.account_id == user.account_id
    if action in _ACCOUNT_ADMIN_BUCKET_ACTIONS:
        return user is not None and not principal.via_link and bucket is not None \
            and user.role is Role.ADMIN and bucket.account_id == user.account_id
    if action in _OVERSIGHT_ACTIONS:
        return user is not None and not principal.via_link and (
            (bucket is not None and _controls(user, bucket))
            or (resource.subject is not None and _acts_for(user, resource.subject))
        )
    if action in _ACCOUNT_ACTIONS:
        return user is not None and not principal.via_link and user.account_id == resource.account_id and (
            action is Action.ACCOUNT_READ or user.role is Role.ADMIN)
    if bucket is None or (action in _ACL_ACTIONS and principal.via_link):
        return False
    decision = _policy_decision(principal, action, resource) if action in _POLICY_GOVERNED else None
    if decision == "deny":
        return False
    if user is not None and _controls(user, bucket):
        return True
    ignore_public = effective(bucket).ignore_public_acls
    if decision == "allow" and action in _POLICY_GRANTABLE and (
            not principal.via_link or bucket.sharing is Sharing.ANY):
        return True
    if bucket.public_read and action in _PUBLIC_ACTIONS and not principal.via_link and not ignore_public:
        return True
    if not principal.via_link and _acl_allows(user, action, bucket, resource, ignore_public):
        return True
    if user is None or action in _NO_GRANT_GIVES:
        return False
    # Rule 7: through a link, only a grant that also gives the share right counts.
    need_share = principal.via_link and bucket.sharing is not Sharing.ANY
    return any(
        _grant_allows(grant, action, resource.key)
        for grant in principal.grants
        if grant.user_id == user.id and grant.bucket == bucket.name and grant.bucket_id == bucket.id
        and (grant.share or not need_share)
    )


def _acl_allows(user: User | None, action: Action, bucket: Bucket, resource: Resource, ignore_public: bool) -> bool:
    """Rule 14: a grant of the object's ACL (object reads and an object's ACL) or of the bucket's."""
    on_object = action is Action.OBJECT_READ or (action in _ACL_ACTIONS and resource.key is not None)
    acl, gives = (resource.acl, _OBJECT_ACL_GIVES) if on_object else (bucket.acl, _BUCKET_ACL_GIVES)
    return any(
        action in gives.get(grant.permission, ())
        and (grant.grantee == ALL_USERS or (user is not None and grant.grantee in (AUTHENTICATED_USERS, user.id)))
        and not (ignore_public and grant.grantee in PUBLIC_GRANTEES)
        for grant in acl
    )


def _policy_decision(principal: Principal, action: Action, resource: Resource) -> bucket_policy.Decision | None:
    """Rule 13: what the bucket's policy says of this request, if it has one."""
    bucket = resource.bucket
    assert bucket is not None
    if bucket.policy is None:
        return None
    facts = principal.facts
    name = bucket_policy.iam_action(action.value, facts.operation if facts is not None else None)
    user = principal.user
    if name in bucket_policy.POLICY_ACTIONS and user is not None and _controls(user, bucket):
        return None
    object_level = action in _OBJECT_ACTIONS or (
        action in _ACL_ACTIONS and resource.key is not None)
    arn = f"arn:aws:s3:::{bucket.name}/{resource.key or ''}" if object_level else f"arn:aws:s3:::{bucket.name}"
    caller = bucket_policy.Caller(user.id, user.account_id, user.name) if user is not None else bucket_policy.Caller()
    try:
        compiled = bucket_policy.compiled(bucket.policy, bucket.name)
    except MalformedPolicy:  # stored before a stricter check: refuse rather than ignore what it says
        return "deny"
    return bucket_policy.evaluate(compiled, bucket_policy.Query(name, arn, caller, facts),
                                  restrict_public=effective(bucket).restrict_public_buckets)


def denied_by_policy(principal: Principal, action: Action, resource: Resource) -> bool:
    """The bucket's policy explicitly denies this (rule 13): what a refusal should say, for the client and the
    audit trail, since no grant or ownership can answer it."""
    user = principal.user
    return action in _POLICY_GOVERNED and resource.bucket is not None and (user is None or user.active) \
        and _policy_decision(principal, action, resource) == "deny"


def lists_some_prefix(principal: Principal, bucket: Bucket) -> bool:
    """The principal may list at least part of ``bucket`` (a listing of some prefix of its own grants):
    what lets a prefix grant's holder see that the bucket exists (Swift's container HEAD), no more."""
    user = principal.active_user
    return user is not None and any(
        authorize(principal, Action.BUCKET_READ, Resource(bucket=bucket, key=grant.prefix))
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


def _acts_for(user: User, subject: User) -> bool:
    """``user`` is ``subject``, or an administrator of ``subject``'s account."""
    return subject.id == user.id or (user.role is Role.ADMIN and subject.account_id == user.account_id)


def _grant_allows(grant: Grant, action: Action, key: str | None) -> bool:
    """Only BUCKET_READ, OBJECT_READ, OBJECT_TAGS_READ and OBJECT_WRITE reach here: :func:`authorize` has answered
    service actions, oversight and BUCKET_ADMIN (which no grant gives) already."""
    if action is Action.OBJECT_WRITE and grant.permission is not Permission.READ_WRITE:
        return False
    if not grant.prefix:
        return True
    # A prefix grant needs a key (or listing prefix) inside it: a HeadBucket or a listing of the whole
    # bucket would reveal names outside the granted prefix.
    return key is not None and key.startswith(grant.prefix)
