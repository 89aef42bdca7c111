"""Swift TempURL keys: who may set them, how they are kept, and whose rights a TempURL carries.

Two slots per account (``X-Account-Meta-Temp-URL-Key`` and ``-Key-2``) and two per container
(``X-Container-Meta-Temp-URL-Key`` and ``-Key-2``); a TempURL or FormPost signed with any of them is
accepted (Swift tries them all), so a key is rotated without breaking live URLs: set the new key in the
free slot, hand out new URLs, then clear the old slot — which is also the bulk revocation of every
TempURL signed with it.

- **Who sets them**: ``authorize(TEMPURL_KEY_ADMIN)`` — an account's keys its admins, a container's keys
  whoever controls the bucket (owner, account admins). Whoever may not set a key never sees it either.
- **Kept sealed** with the node master key (like access-key secrets), the account, bucket id and slot
  as associated data, so a ciphertext moved to another row does not open. Never logged; audit events
  say which slot changed, never the value.
- **A TempURL is only as strong as whoever set the key.** Swift lets anyone holding a URL act as the
  account; here the key remembers who set it, and every use of a TempURL acts as *that user*, through
  a link (the share right, ``Principal.via_link``), with read or write re-checked by ``authorize()`` at
  use time: a setter who was disabled, deleted, demoted from admin or lost the bucket's grant (or its
  share right) takes every URL signed with the key down.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from satchel.core.access import Action, Resource, authorize
from satchel.core.caches import GenerationGate
from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.masterkey import MasterKey, SealedValueError
from satchel.core.models import AuditEvent, Bucket, LinkKind, Principal
from satchel.meta.store import Store, StoredTempUrlKey

if TYPE_CHECKING:
    from satchel.core.node import Node

#: Slot numbers and the metadata name (after ``X-Account-Meta-`` / ``X-Container-Meta-``) of each.
SLOTS = {1: "Temp-URL-Key", 2: "Temp-URL-Key-2"}
#: Swift's ``MAX_META_VALUE_LENGTH``: a key is a metadata value.
MAX_KEY_LENGTH = 256
#: Shortest key accepted: a TempURL is as guessable as its key.
MIN_KEY_LENGTH = 8
#: The audit action of a key change.
AUDIT_ACTION = "tempurl-key"


class KeyScope(enum.StrEnum):
    ACCOUNT = "account"
    CONTAINER = "container"


@dataclass(frozen=True, slots=True)
class TempUrlKey:
    """One opened key. ``secret`` is the plaintext; it is never logged or rendered to anyone who may not
    set it."""

    scope: KeyScope
    account_id: str
    #: Empty for an account key.
    bucket_id: str
    slot: int
    secret: bytes = field(repr=False)
    #: The user whose rights every URL signed with this key carries.
    set_by: str
    set_at: float

    @property
    def meta_name(self) -> str:
        return SLOTS[self.slot]


def slot_for(meta_name: str) -> int | None:
    """The slot of a metadata name (``Temp-URL-Key-2`` → 2; case-insensitive), None for other names."""
    lower = meta_name.lower()
    return next((slot for slot, name in SLOTS.items() if name.lower() == lower), None)


def _associated(account_id: str, bucket_id: str, slot: int) -> bytes:
    return f"tempurl-key\n{account_id}\n{bucket_id}\n{slot}".encode()


def check_key(value: str) -> bytes:
    """A key as a client sets it: 8-256 printable characters (UTF-8)."""
    # Printable excludes lone surrogates (category Cs), so the encoding cannot fail.
    if not MIN_KEY_LENGTH <= len(value) <= MAX_KEY_LENGTH or not value.isprintable():
        raise InvalidArgument(f"A TempURL key is {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} printable characters.")
    return value.encode("utf-8")


def may_set(principal: Principal, account_id: str, bucket: Bucket | None) -> bool:
    """``TEMPURL_KEY_ADMIN`` on the container (``bucket``) or, without one, on the account."""
    return authorize(principal, Action.TEMPURL_KEY_ADMIN, Resource(bucket=bucket, account_id=account_id))


class TempUrlKeyCache:
    """Opened keys per (account, bucket id), per worker, dropped when the store generation moves (every
    key change bumps it): a cleared slot stops working on every worker within ``GENERATION_TTL``."""

    def __init__(self, store: Store, gate: GenerationGate, master_key: MasterKey, *, max_entries: int = 10_000) -> None:
        self._store = store
        self._gate = gate
        self._master_key = master_key
        self._generation = -1
        self._items: dict[tuple[str, str], tuple[TempUrlKey, ...]] = {}
        self._max = max_entries

    def keys(self, account_id: str, bucket: Bucket | None) -> tuple[TempUrlKey, ...]:
        """The account's keys, then the container's (Swift's order)."""
        generation = self._gate.current()
        if generation != self._generation:
            self._items.clear()
            self._generation = generation
        ids = ("", bucket.id) if bucket is not None else ("",)
        found = {bucket_id: self._items.get((account_id, bucket_id)) for bucket_id in ids}
        missing = [bucket_id for bucket_id, keys in found.items() if keys is None]
        if missing:
            loaded: dict[str, list[TempUrlKey]] = {bucket_id: [] for bucket_id in missing}
            for stored in self._store.list_tempurl_keys(account_id, missing):
                loaded[stored.bucket_id].append(self._open(stored))
            if len(self._items) + len(missing) > self._max:
                self._items.clear()
            for bucket_id, keys in loaded.items():
                found[bucket_id] = self._items[(account_id, bucket_id)] = tuple(keys)
        return tuple(key for bucket_id in ids for key in found[bucket_id] or ())

    def seal(self, account_id: str, bucket_id: str, slot: int, secret: bytes) -> bytes:
        return self._master_key.seal(secret, _associated(account_id, bucket_id, slot))

    def _open(self, stored: StoredTempUrlKey) -> TempUrlKey:
        try:
            secret = self._master_key.unseal(stored.secret_ciphertext,
                                             _associated(stored.account_id, stored.bucket_id, stored.slot))
        except SealedValueError:
            secret = b""  # a row that does not open (another master key): no signature matches an empty key
        scope = KeyScope.CONTAINER if stored.bucket_id else KeyScope.ACCOUNT
        return TempUrlKey(scope, stored.account_id, stored.bucket_id, stored.slot, secret, stored.set_by,
                          stored.set_at)


@dataclass(frozen=True, slots=True)
class KeyChange:
    """One slot to set (``value``) or clear (``value`` None), as parsed from a POST's headers."""

    slot: int
    value: str | None


async def change_keys(node: Node, principal: Principal, *, account_id: str, bucket: Bucket | None,
                      changes: Sequence[KeyChange], client_ip: str | None = None, user_agent: str | None = None,
                      request_id: str | None = None) -> None:
    """Set or clear slots of the account's (``bucket`` None) or the container's keys, all or nothing:
    AccessDenied unless :func:`may_set`, InvalidArgument for a key that is not one, before any change.
    Each change is one audit event (which slot, by whom; never the value)."""
    if not changes:
        return
    if not may_set(principal, account_id, bucket):
        raise AccessDenied("Only account administrators set account TempURL keys, and only whoever controls "
                           "a container sets its keys.")
    user = principal.active_user
    assert user is not None  # may_set needs one
    if any(change.slot not in SLOTS for change in changes):
        raise InvalidArgument("TempURL keys have slots 1 and 2.")
    secrets = {change.slot: check_key(change.value) for change in changes if change.value is not None}
    bucket_id = bucket.id if bucket is not None else ""
    cache = node.tempurl_keys
    now = node.clock.now()
    for change in changes:
        if change.value is None:
            await node.write(node.store.delete_tempurl_key, account_id, bucket_id, change.slot)
        else:
            sealed = cache.seal(account_id, bucket_id, change.slot, secrets[change.slot])
            await node.write(node.store.put_tempurl_key,
                             StoredTempUrlKey(account_id, bucket_id, change.slot, sealed, user.id, now))
        scope = "container" if bucket is not None else "account"
        node.audit.record(AuditEvent(
            time=now, action=AUDIT_ACTION, outcome="allowed", kind=LinkKind.SWIFT.value, user_id=user.id,
            bucket=bucket.name if bucket is not None else None, bucket_id=bucket.id if bucket is not None else None,
            method="POST", client_ip=client_ip, user_agent=user_agent, request_id=request_id,
            reason=f"{scope} key slot {change.slot} {'cleared' if change.value is None else 'set'}",
        ))


def shown_keys(node: Node, principal: Principal, account_id: str, bucket: Bucket | None) -> dict[str, str]:
    """Metadata name → key of the account's (``bucket`` None) or the container's own keys, for a HEAD/GET
    of it — only to whoever may set them (Swift's ``swift_owner_headers``); empty for anyone else."""
    if not may_set(principal, account_id, bucket):
        return {}
    keys = node.tempurl_keys.keys(account_id, bucket)
    wanted = KeyScope.CONTAINER if bucket is not None else KeyScope.ACCOUNT
    return {key.meta_name: key.secret.decode("utf-8", "replace") for key in keys if key.scope is wanted}


def setter(node: Node, key: TempUrlKey) -> Principal:
    """The principal a TempURL signed with ``key`` acts as: the user who set it, loaded now, through a
    link. AccessDenied when that user no longer exists."""
    return node.credentials.principal_for_user(key.set_by).through_link()


def current_setter(node: Node, key: TempUrlKey, bucket: Bucket | None) -> Principal:
    """:func:`setter` of ``key`` as it is set now, for a TempURL or FormPost write checked again when its
    body has arrived (``core/inflight.py``): AccessDenied when the slot was cleared or given another value
    meanwhile (the URL's signature no longer verifies), as a request starting now would be refused."""
    for now in node.tempurl_keys.keys(key.account_id, bucket):
        if (now.bucket_id, now.slot) == (key.bucket_id, key.slot) and hmac.compare_digest(now.secret, key.secret):
            return setter(node, now)
    raise AccessDenied("The TempURL key that signed this request was changed or removed.")
