"""What a pre-authenticated request is: a scope, an access type, a lifetime, Satchel's extras.

Field names follow OCI's ``CreatePreauthenticatedRequestDetails`` where OCI has the field (name,
accessType, objectName, bucketListingAction, timeExpires); ``max_uses``, ``mode``/``filename`` and
``ip_range`` are Satchel's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AccessType(enum.StrEnum):
    """OCI's six access types. ``Object*`` reach exactly ``objectName``; ``AnyObject*`` every object of
    the bucket, or every object whose name starts with ``objectName`` when one is given (a prefix)."""

    OBJECT_READ = "ObjectRead"
    OBJECT_WRITE = "ObjectWrite"
    OBJECT_READ_WRITE = "ObjectReadWrite"
    ANY_OBJECT_READ = "AnyObjectRead"
    ANY_OBJECT_WRITE = "AnyObjectWrite"
    ANY_OBJECT_READ_WRITE = "AnyObjectReadWrite"

    @property
    def reads(self) -> bool:
        return self.value.endswith("Read") or self.value.endswith("ReadWrite")

    @property
    def writes(self) -> bool:
        return self.value.endswith("Write")

    @property
    def any_object(self) -> bool:
        return self.value.startswith("AnyObject")


class ListingAction(enum.StrEnum):
    """OCI's ``bucketListingAction``: ``ListObjects`` only means something for AnyObjectRead and
    AnyObjectReadWrite (Satchel refuses it elsewhere rather than ignore it)."""

    DENY = "Deny"
    LIST_OBJECTS = "ListObjects"


@dataclass(slots=True)
class Par:
    """One pre-authenticated request as stored. The token itself is never here: only its hash.

    Not frozen, like ``Link``: nothing mutates one, the row is the truth.
    """

    id: str
    token_hash: str
    name: str
    #: The creator: every use is decided by ``authorize()`` with this user (through a link) as principal.
    user_id: str
    #: OCI's namespace: the name of the account (contract) owning the bucket at creation.
    namespace: str
    bucket: str
    bucket_id: str
    #: The object (Object* types) or the prefix (AnyObject* types); None: the whole bucket.
    object_name: str | None
    access_type: AccessType
    listing: ListingAction
    created: float
    expires: float
    max_uses: int | None = None
    uses: int = 0
    last_used: float | None = None
    deleted: float | None = None
    #: ``view`` (inline) or ``download`` (attachment with ``filename``); None: inline, except active types.
    mode: str | None = None
    filename: str | None = None
    #: The client addresses allowed to use it, one CIDR (IPv4 or IPv6); None: any.
    ip_range: str | None = None
    #: The access key that minted it (revoking, disabling or deleting the key stops it); None: minted
    #: without a key (a console session): bound to its creator only.
    access_key_id: str | None = None

    def state(self, now: float) -> str:
        """``deleted``, ``expired``, ``used-up`` or ``active``."""
        if self.deleted is not None:
            return "deleted"
        if now > self.expires:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used-up"
        return "active"

    def in_scope(self, key: str) -> bool:
        """Whether ``key`` is an object this PAR reaches (method aside)."""
        if not self.access_type.any_object:
            return key == self.object_name
        return key.startswith(self.object_name or "")

    @property
    def can_list(self) -> bool:
        return self.listing is ListingAction.LIST_OBJECTS and self.access_type.reads and self.access_type.any_object
