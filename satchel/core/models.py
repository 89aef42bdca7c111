"""Plain values shared by every layer.

Frozen dataclasses only: they cross thread and process boundaries (the writer thread, caches) and
are compared in tests, so nothing here may hold a connection, a file or a lock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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
    record: ObjectRecord | None


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

    @property
    def anonymous(self) -> bool:
        return self.user is None


ANONYMOUS = Principal(user=None)
