"""Plain values shared by every layer.

Frozen dataclasses only: they cross thread and process boundaries (the writer thread, caches) and
are compared in tests, so nothing here may hold a connection, a file or a lock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

from satchel.core.requestfacts import RequestFacts


class Role(enum.StrEnum):
    """A user's role inside its account: admins act on every bucket of the account."""

    ADMIN = "admin"
    MEMBER = "member"


class Status(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Permission(enum.StrEnum):
    """What a grant gives on a bucket or a prefix of it."""

    READ = "read"
    READ_WRITE = "read-write"


class Sharing(enum.StrEnum):
    """Who may hand out links to a bucket's objects (see ``core/access.py``).

    ``grant`` (the default, the seeds' rule: IONOS lets only the bucket owner and the contract's admins
    presign, OCI needs ``PAR_MANAGE``): owners, account admins and members whose grant says ``share``.
    ``any`` (AWS's rule): whoever may do what the link does may sign a link for it.
    """

    GRANT = "grant"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Account:
    """The contract: owns users and contract-owned buckets."""

    id: str
    name: str
    created: float


@dataclass(frozen=True, slots=True)
class User:
    id: str
    account_id: str
    name: str
    role: Role
    status: Status
    created: float
    password_hash: str | None = None

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An S3 key pair. ``secret`` is the decrypted secret; it is never logged or rendered."""

    access_key_id: str
    user_id: str
    secret: str = field(repr=False)
    status: Status
    created: float

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


@dataclass(frozen=True, slots=True)
class Grant:
    """Read or read-write on a bucket, or on the keys under ``prefix`` when it is non-empty."""

    id: str
    user_id: str
    bucket: str
    prefix: str
    permission: Permission
    created: float
    #: The id of the bucket granted on (see :attr:`Bucket.id`). Grants are deleted with their bucket
    #: (``grants.bucket`` references ``buckets.name``); ``authorize()`` compares the id as well, so a
    #: grant cached by a worker a moment before its bucket was deleted gives nothing on a new bucket of
    #: the same name.
    bucket_id: str = ""
    #: The grantee may also hand out links for what the grant gives (the *share* right).
    share: bool = False


#: ACL grantee groups (``core/acl.py``): everybody, anonymous included; any authenticated Satchel user.
ALL_USERS = "AllUsers"
AUTHENTICATED_USERS = "AuthenticatedUsers"


@dataclass(frozen=True, slots=True)
class AclGrant:
    """One S3 ACL grant: ``grantee`` is a user id (the canonical id Satchel shows as Owner/ID) or one of
    the groups :data:`ALL_USERS`, :data:`AUTHENTICATED_USERS`; ``permission`` READ, WRITE, READ_ACP,
    WRITE_ACP or FULL_CONTROL. The owner's implicit FULL_CONTROL is never stored."""

    grantee: str
    permission: str


@dataclass(frozen=True, slots=True)
class PublicAccessBlock:
    """S3 Block Public Access flags (``core/publicaccess.py``)."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    def __or__(self, other: PublicAccessBlock) -> PublicAccessBlock:
        return PublicAccessBlock(self.block_public_acls or other.block_public_acls,
                                 self.ignore_public_acls or other.ignore_public_acls,
                                 self.block_public_policy or other.block_public_policy,
                                 self.restrict_public_buckets or other.restrict_public_buckets)


@dataclass(frozen=True, slots=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    """A bucket is user-owned when ``owner_user_id`` is set, contract-owned otherwise."""

    name: str
    account_id: str
    owner_user_id: str | None
    created: float
    public_read: bool = False
    cors: tuple[CorsRule, ...] | None = None
    #: Longest lifetime (seconds) a link to this bucket may have, enforced at use time.
    max_link_lifetime: int | None = None
    #: Immutable and random, made by the store at creation: the bucket's identity. Links, revocations,
    #: grants and audit events point at it, so a name deleted and re-created by someone else inherits
    #: none of them.
    id: str = ""
    #: Who may hand out links to this bucket's objects.
    sharing: Sharing = Sharing.GRANT
    #: When an earlier bucket released this name (set by the store at creation): links signed offline
    #: before that moment were made for the earlier bucket and are refused here.
    links_since: float | None = None
    #: The bucket policy's JSON document as PutBucketPolicy stored it (validated then; ``core/policy.py``).
    policy: str | None = None
    #: S3 ACL grants beyond the owner's and the public flag (AllUsers READ is ``public_read``).
    acl: tuple[AclGrant, ...] = ()
    #: The bucket's own Block Public Access setting (None: none set).
    public_block: PublicAccessBlock | None = None
    #: Its account's setting, loaded with the bucket (None: none set).
    account_public_block: PublicAccessBlock | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One immutable blob of an object's bytes; multipart objects have one per part, in order."""

    blob_id: str
    size: int


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    """The current version of a key.

    ``headers`` holds the stored representation headers (lower-case names: content-type,
    content-disposition, content-encoding, content-language, cache-control, expires);
    ``user_meta`` the ``x-amz-meta-*`` pairs without the prefix; ``checksums`` maps an algorithm
    name (``crc32``, ``crc32c``, ``sha1``, ``sha256``) to its base64 value, with ``-N`` suffix for
    multipart composite checksums.
    """

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float
    segments: tuple[Segment, ...]
    headers: dict[str, str] = field(default_factory=dict)
    user_meta: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    parts_count: int | None = None
    owner_user_id: str | None = None
    #: S3 ACL grants beyond the owner's (AllUsers READ is the per-object public read).
    acl: tuple[AclGrant, ...] = ()
    #: ``None`` in a bucket never versioned, ``"null"`` for a version written while versioning was
    #: suspended, else the id the version got when written (``core/versioning.py``).
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One version of a key, as the store finds it: a delete marker has no bytes (``record.size`` 0,
    no segments). ``seq`` orders a key's versions (higher is newer)."""

    record: ObjectRecord
    delete_marker: bool
    latest: bool
    seq: int


class ObjectVersion(NamedTuple):
    """A row of ListObjectVersions: a version or a delete marker."""

    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    last_modified: float
    owner_user_id: str | None


class ObjectSummary(NamedTuple):
    """What a listing shows of an object. Listing pages read only these columns: decoding each
    row's segments, headers, metadata and checksums into a full :class:`ObjectRecord` was half the
    cost of a 1000-key page. A tuple, not a dataclass: built a thousand times per page."""

    key: str
    size: int
    etag: str
    last_modified: float
    owner_user_id: str | None


@dataclass(frozen=True, slots=True)
class Upload:
    """An in-progress multipart upload."""

    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner_user_id: str | None
    headers: dict[str, str] = field(default_factory=dict)
    user_meta: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    #: The ACL the object gets at completion (CreateMultipartUpload's x-amz-acl / x-amz-grant-*).
    acl: tuple[AclGrant, ...] = ()


@dataclass(frozen=True, slots=True)
class Part:
    upload_id: str
    part_number: int
    size: int
    etag: str
    blob_id: str
    last_modified: float
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One row of a listing page: either an object or a common prefix (``record`` is None)."""

    key: str
    record: ObjectSummary | None


@dataclass(frozen=True, slots=True)
class ListPage:
    entries: tuple[ListEntry, ...]
    is_truncated: bool
    #: The last key or common prefix returned; the next page starts strictly after it.
    next_marker: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. ``user`` is None for anonymous requests.

    For a request made through a link, ``user`` is the link's *signer*, loaded fresh at use time, so a
    disabled or deleted signer cannot act through old links.
    """

    user: User | None
    access_key_id: str | None = None
    grants: tuple[Grant, ...] = ()
    #: The request arrived through a link (presigned URL, minted link, POST policy ...): on top of the
    #: action's own right, ``authorize()`` then requires the signer's right to *share* it.
    via_link: bool = False
    #: What bucket policy conditions may ask about the request (``core/requestfacts.py``), set once per
    #: request by the front-end; None where no request is behind the check.
    facts: RequestFacts | None = None

    @property
    def anonymous(self) -> bool:
        return self.user is None

    def through_link(self) -> Principal:
        """The same signer, acting through a link it signed."""
        return Principal(self.user, self.access_key_id, self.grants, True, self.facts)

    def signer(self) -> Principal:
        """The same user acting directly (header-signed), not through a link."""
        return Principal(self.user, self.access_key_id, self.grants, False, self.facts)

    def with_facts(self, facts: RequestFacts | None) -> Principal:
        """The same principal, with the request's facts for bucket policy conditions."""
        return Principal(self.user, self.access_key_id, self.grants, self.via_link, facts)

    @property
    def active_user(self) -> User | None:
        """The user, unless anonymous or disabled: management acts only for an active user."""
        return self.user if self.user is not None and self.user.active else None


ANONYMOUS = Principal(user=None)


class LinkKind(enum.StrEnum):
    """Every way a link can be made; each ends in the same authorize() call and audit event."""

    S3V4 = "s3v4"
    S3V2 = "s3v2"
    POST = "post"
    TEMPURL = "tempurl"
    PAR = "par"
    #: Swift TempURLs and FormPosts (signed with an account or container TempURL key).
    SWIFT = "swift"


@dataclass(slots=True)
class Link:
    """A link Satchel minted and keeps in its registry (revocable one by one, use-counted).

    ``key`` is set for object links. Offline-signed URLs are not in the registry; they are still
    checked (signature, expiry, signer's rights, revocations) and audited.

    Not frozen, like :class:`AuditEvent` and for the same reason: a mint call builds up to a
    thousand, and the frozen ``__init__`` cost three times as much. Nothing mutates one; the
    registry row is the truth.
    """

    id: str
    kind: LinkKind
    user_id: str
    access_key_id: str | None
    bucket: str
    key: str | None
    method: str
    created: float
    expires: float
    max_uses: int | None = None
    uses: int = 0
    last_used: float | None = None
    revoked: float | None = None
    #: ``view`` (inline) or ``download`` (attachment); None when the link sets no disposition.
    mode: str | None = None
    filename: str | None = None
    #: The bucket the link was minted for; it never works on another bucket of the same name.
    bucket_id: str | None = None
    #: The object version the link serves (versioning): the same bytes after the key is overwritten.
    version_id: str | None = None

    def state(self, now: float) -> str:
        """``revoked``, ``expired``, ``used-up`` or ``active``, as the management API reports it."""
        if self.revoked is not None:
            return "revoked"
        if now > self.expires:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used-up"
        return "active"


class RevocationScope(enum.StrEnum):
    OBJECT = "object"
    PREFIX = "prefix"
    BUCKET = "bucket"
    ACCESS_KEY = "access-key"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Revocation:
    """Every link in ``scope`` issued before ``before`` is refused from now on.

    ``target`` names the scope's subject: the key (object), the prefix, the bucket name, the access key
    id or the user id; ``bucket`` is set for object and prefix scopes. ``bucket_id`` is the id of the
    bucket the object, prefix and bucket scopes were made for: they cover that bucket only, never a
    later bucket of the same name.
    """

    id: str
    scope: RevocationScope
    target: str
    bucket: str | None
    before: float
    created: float
    created_by: str | None = None
    bucket_id: str | None = None

    def covers(
        self, *, bucket_id: str | None, key: str | None, access_key_id: str | None, user_id: str | None
    ) -> bool:
        if self.scope is RevocationScope.USER:
            return user_id == self.target
        if self.scope is RevocationScope.ACCESS_KEY:
            return access_key_id == self.target
        if bucket_id is None or bucket_id != self.bucket_id:
            return False
        if self.scope is RevocationScope.BUCKET:
            return True
        if key is None:
            return False
        if self.scope is RevocationScope.OBJECT:
            return key == self.target
        return key.startswith(self.target)


@dataclass(slots=True)
class AuditEvent:
    """One link minted, used (allowed or refused), or revoked.

    Not frozen, unlike the other records: a mint call builds a thousand of these, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) doubled what each one cost.
    """

    time: float
    action: str
    outcome: str
    kind: str | None = None
    link_id: str | None = None
    user_id: str | None = None
    access_key_id: str | None = None
    bucket: str | None = None
    key: str | None = None
    method: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    status: int | None = None
    bytes: int | None = None
    reason: str | None = None
    request_id: str | None = None
    id: str = ""
    #: The bucket the event is about, by identity: who may read it follows the bucket, not its name.
    bucket_id: str | None = None
    #: The object version the request or link named (versioning), if any.
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    since: float | None = None
    until: float | None = None
    #: The id of the bucket (the *current* bucket of a name the caller gave: see ``Bucket.id``).
    bucket_id: str | None = None
    key_prefix: str | None = None
    user_id: str | None = None
    kind: str | None = None
    outcome: str | None = None
    action: str | None = None
    link_id: str | None = None
    #: Visibility: events signed by one of these users *or* about one of these buckets, by bucket id
    #: (None: no limit).
    visible_users: tuple[str, ...] | None = None
    visible_bucket_ids: tuple[str, ...] | None = None
    limit: int = 1000
