"""Access keys: how they are made, sealed at rest, and looked up on every signed request.

Key ids look like AWS's (``AKIA...``) with our own prefix: 20 characters ``SK[A-Z0-9]{18}``; secrets are
40 URL-safe base64 characters (240 random bits). Keys imported from elsewhere (``SATCHEL_ROOT_ACCESS_KEY``)
may use any id of 3-128 characters ``[A-Za-z0-9._-]`` and any secret of 8-128 printable ASCII characters,
which covers what AWS, MinIO and Ceph hand out.

Secrets are sealed with the node master key (``core/masterkey.py``), the key id as associated data.

:class:`CredentialCache` is the hot path of every signed request and of every link: a dict lookup plus a
check of :meth:`Store.generation`, the counter every change to users, keys and grants bumps. When it
moves, the whole cache is dropped, so disabling or deleting a key or a user, or removing a grant, takes
effect on the next request in every worker process (and on every node sharing the database).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
import time
from collections.abc import Callable
from typing import TypeVar

from satchel.core.errors import AccessDenied, InvalidAccessKeyId, InvalidArgument
from satchel.core.masterkey import MasterKey
from satchel.core.models import AccessKey, Principal
from satchel.meta.store import Store, StoredKey

ACCESS_KEY_PREFIX = "SK"
ACCESS_KEY_ID_LENGTH = 20
SECRET_LENGTH = 40
_ID_ALPHABET = string.ascii_uppercase + string.digits
_IMPORTED_ID = re.compile(r"[A-Za-z0-9._-]{3,128}")
_IMPORTED_SECRET = re.compile(r"[!-~]{8,128}")
_V = TypeVar("_V")

#: Default seconds between two generation checks. 0 means every lookup checks. Measured on SQLite
#: (2-core dev box): a hit costs ~4.5 µs checking every time (the check is one ~4 µs SELECT) and
#: ~0.25 µs with a 0.5 s interval; a presigned GET costs ~100-130 µs in all, so checking every time
#: costs ~3-4 % of throughput and buys revocations that apply to the very next request. Deployments
#: that prefer the throughput pass ``recheck_interval=0.5`` (revocations then apply within 0.5 s).
DEFAULT_RECHECK_INTERVAL = 0.0
#: The cache holds known keys only (unknown ids are never cached, so random ids cannot fill memory);
#: past this many entries it starts over rather than grow without bound.
MAX_ENTRIES = 10_000


def new_access_key_id() -> str:
    return ACCESS_KEY_PREFIX + "".join(
        secrets.choice(_ID_ALPHABET) for _ in range(ACCESS_KEY_ID_LENGTH - len(ACCESS_KEY_PREFIX))
    )


def new_secret_key() -> str:
    # 30 random bytes encode to exactly 40 URL-safe base64 characters, no padding.
    return secrets.token_urlsafe(30)


def check_access_key_id(access_key_id: str) -> str:
    """Validate an id supplied by an operator; raises ``InvalidArgument``."""
    if not _IMPORTED_ID.fullmatch(access_key_id):
        raise InvalidArgument("access key ids are 3-128 characters of A-Z a-z 0-9 . _ -")
    return access_key_id


def check_secret_key(secret: str) -> str:
    """Validate a secret supplied by an operator; raises ``InvalidArgument`` (never echoing it)."""
    if not _IMPORTED_SECRET.fullmatch(secret):
        raise InvalidArgument("secret keys are 8-128 printable ASCII characters without spaces")
    return secret


def seal_secret(master_key: MasterKey, access_key_id: str, secret: str) -> bytes:
    return master_key.seal(secret.encode(), access_key_id.encode())


def unseal_secret(master_key: MasterKey, stored: StoredKey) -> str:
    return master_key.unseal(stored.secret_ciphertext, stored.access_key_id.encode()).decode()


class CredentialCache:
    """Decrypted keys and principals (user + grants), valid while the store generation stands still.

    One instance per worker process. Thread-safe in the sense that matters here: entries are
    immutable and replaced whole, so a concurrent reader sees either the old or the new answer.
    """

    def __init__(
        self,
        store: Store,
        master_key: MasterKey,
        *,
        recheck_interval: float = DEFAULT_RECHECK_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._store = store
        self._master_key = master_key
        self._recheck_interval = self._default_interval = recheck_interval
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._generation: int | None = None
        self._checked_at = float("-inf")
        self._keys: dict[str, tuple[AccessKey, Principal]] = {}
        self._users: dict[str, Principal] = {}

    @property
    def master_key(self) -> MasterKey:
        """The node master key: seals TempURL keys and the secrets of keys made through the management API."""
        return self._master_key

    def lookup(self, access_key_id: str) -> tuple[AccessKey, Principal] | None:
        """The key (secret decrypted) and its user's principal, or None when no such key exists.

        Inactive keys and disabled users are returned too, so the caller can answer with the right
        error (see :meth:`resolve`).
        """
        self._refresh()
        hit = self._keys.get(access_key_id)
        if hit is not None:
            return hit
        stored = self._store.get_access_key(access_key_id)
        if stored is None:
            return None
        principal = self._user_principal(stored.user_id)
        if principal is None:
            return None  # the user was deleted between the two reads: its keys went with it
        key = AccessKey(
            access_key_id=stored.access_key_id,
            user_id=stored.user_id,
            secret=unseal_secret(self._master_key, stored),
            status=stored.status,
            created=stored.created,
        )
        entry = (key, dataclasses.replace(principal, access_key_id=stored.access_key_id))
        self._remember(self._keys, access_key_id, entry)
        return entry

    def resolve(self, access_key_id: str) -> tuple[AccessKey, Principal]:
        """Like :meth:`lookup`, but only for usable credentials.

        Raises ``InvalidAccessKeyId`` for an unknown or inactive key (what AWS answers for a
        deactivated key) and ``AccessDenied`` when the key's user is disabled.
        """
        found = self.lookup(access_key_id)
        if found is None or not found[0].active:
            raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
        user = found[1].user
        if user is None or not user.active:
            raise AccessDenied()
        return found

    def signer(self) -> SignerLookup:
        """A ``lookup_secret`` for the signature checks that remembers whose key it resolved."""
        return SignerLookup(self)

    def principal_for_user(self, user_id: str) -> Principal:
        """The current principal of a link's signer, loaded at use time.

        Raises ``AccessDenied`` when the user no longer exists. A disabled user is returned as is:
        :func:`satchel.core.access.authorize` refuses everything to it.
        """
        self._refresh()
        principal = self._user_principal(user_id)
        if principal is None:
            raise AccessDenied()
        return principal

    def expire(self) -> None:
        """Check the generation on the next lookup, whatever the interval: a write checked again when its
        body has arrived (``core/inflight.py``) must see every change committed before."""
        self._checked_at = float("-inf")

    def relax(self, interval: float | None) -> None:
        """Check at most every ``interval`` seconds (None: the constructor's again): a store that
        announces changes (PostgreSQL, ``Store.watch``) calls :meth:`expire` on each one meanwhile."""
        self._recheck_interval = self._default_interval if interval is None else interval

    def invalidate(self) -> None:
        """Drop everything now (tests; a writer in this process that cannot wait for the next check)."""
        self._keys.clear()
        self._users.clear()
        self._generation = None
        self._checked_at = float("-inf")

    def _refresh(self) -> None:
        now = self._monotonic()
        if now - self._checked_at < self._recheck_interval:
            return
        self._checked_at = now
        # Read the generation *before* any entry is loaded: an entry loaded afterwards reflects at
        # least this generation, so a change committed meanwhile is caught by the next check.
        generation = self._store.generation()
        if generation != self._generation:
            self._keys.clear()
            self._users.clear()
            self._generation = generation

    def _user_principal(self, user_id: str) -> Principal | None:
        principal = self._users.get(user_id)
        if principal is not None:
            return principal
        user = self._store.get_user(user_id)
        if user is None:
            return None
        principal = Principal(user=user, grants=tuple(self._store.list_grants(user_id=user_id)))
        self._remember(self._users, user_id, principal)
        return principal

    def _remember(self, cache: dict[str, _V], key: str, value: _V) -> None:
        if len(cache) >= self._max_entries:
            cache.clear()
        cache[key] = value


class SignerLookup:
    """Passed as ``lookup_secret`` to the verify functions of ``signing/``: they call it at the point of
    AWS's check order where an unknown key must be reported, and the caller then reads who signed."""

    __slots__ = ("_cache", "found")

    def __init__(self, cache: CredentialCache) -> None:
        self._cache = cache
        self.found: tuple[AccessKey, Principal] | None = None

    def __call__(self, access_key_id: str) -> str:
        self.found = self._cache.resolve(access_key_id)
        return self.found[0].secret

    @property
    def key(self) -> AccessKey:
        assert self.found is not None, "the signature check did not look the key up"
        return self.found[0]

    @property
    def principal(self) -> Principal:
        assert self.found is not None, "the signature check did not look the key up"
        return self.found[1]
