"""The metadata store interface: everything Satchel remembers except object bytes.

One SQL schema (``meta/schema.py``) runs on SQLite by default; a PostgreSQL implementation fills the
same interface for many stateless nodes. The interface is synchronous, and callers on the event loop
reach it only through an explicit thread hop: ``Node.write`` sends writes (which may wait for fsync or
a lock) to the writer thread, ``Node.read`` sends reads to a bounded pool of reader threads when the
store says its reads block (:attr:`Store.reads_inline` False: PostgreSQL, a network round trip each)
and runs them inline when they do not (SQLite: an in-process read of microseconds, cheaper than any
hop). Per-worker caches (``core/caches.py``) answer the hot path from memory; on PostgreSQL their
generation check runs in the change listener's thread, never on the loop. ``meta/loopguard.py``
counts (in tests: refuses) any store call still made on an event-loop thread.

Rules every implementation keeps:
- Each mutating method is one transaction: it either happens whole or not at all.
- Methods that drop object bytes (replace, delete, complete, abort) mark the affected blobs dead in the
  same transaction and return their ids; the caller deletes the files afterwards and calls
  :meth:`Store.forget_blobs`. A crash in between leaves dead rows that :meth:`Store.dead_blobs` finds
  again, so no blob leaks and no live blob is ever deleted.
- Listing is an ordered index range scan on (bucket, key): a page costs O(page), never O(bucket).
- Failures that the client caused raise ``satchel.core.errors`` classes (``NoSuchBucket``,
  ``BucketNotEmpty``, ``Conflict`` ...); anything else is a bug and propagates.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from satchel.core.completions import Completion
from satchel.core.errors import NotImplementedFeature
from satchel.core.models import (
    Account,
    AclGrant,
    AuditEvent,
    AuditQuery,
    Bucket,
    CorsRule,
    Grant,
    Link,
    ObjectRecord,
    ObjectSummary,
    ObjectVersion,
    Part,
    Permission,
    PublicAccessBlock,
    Revocation,
    Role,
    Sharing,
    Status,
    Upload,
    User,
    VersionRecord,
)
from satchel.core.par.model import Par
from satchel.meta.webhooks import ClaimedDelivery, DeliveryOutcome, DeliveryRecord, QueuedDelivery, StoredWebhook

#: Called by a write inside its transaction with the key's current record; raising aborts the write.
Precondition: TypeAlias = Callable[[ObjectRecord | None], None]


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An access key as stored: the secret stays encrypted until ``core/credentials`` decrypts it."""

    access_key_id: str
    user_id: str
    secret_ciphertext: bytes
    status: Status
    created: float


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A Swift TempAuth token as stored: only its hash, who it acts for, and until when."""

    token_hash: str
    user_id: str
    access_key_id: str
    account_id: str
    created: float
    expires: float


@dataclass(frozen=True, slots=True)
class StoredTempUrlKey:
    """A Swift TempURL key as stored: ``bucket_id`` is empty for an account key; the secret stays sealed
    until ``core/tempurlkeys`` opens it."""

    account_id: str
    bucket_id: str
    slot: int
    secret_ciphertext: bytes
    set_by: str
    set_at: float


class _Unset:
    """Marks "leave this field alone" in partial updates, where None is a meaningful value."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()

#: Runs a blocking store write off the event loop: ``Node.write`` in a server, where every write of a
#: worker goes through its one writer thread (a second thread writing on its own would only meet the
#: first at SQLite's lock, whose busy handler sleeps milliseconds between tries).
StoreWrite = Callable[..., Awaitable[Any]]


class JobLock(Protocol):
    """The election of the one process that runs a background job (lifecycle passes, GC sweeps)."""

    def held(self) -> bool:
        """True when this process holds it (taking it now, without waiting, if it is free)."""

    def release(self) -> None: ...


class Store(abc.ABC):
    """Metadata of accounts, users, keys, grants, buckets, objects and multipart uploads."""

    #: Whether a read is cheap enough to run on the event loop (``Node.read`` runs it inline). True for
    #: an in-process database; False for one across a network, whose reads hop to reader threads.
    reads_inline: bool = True

    # --- lifecycle -------------------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    def job_lock(self, job: str) -> JobLock | None:
        """The deployment-wide election for background ``job`` (``lifecycle``, ``gc``) on a store that
        several nodes share (PostgreSQL: an advisory lock); None on a store of one node (SQLite), whose
        jobs elect a runner among its own processes, or need none."""
        return None

    def group(self) -> contextlib.AbstractContextManager[object]:
        """Commit the writes this thread makes inside as one transaction where the backend can.

        Each write still happens whole or not at all on its own (a savepoint); they only share the
        commit, so a burst of small writes pays for one fsync. If that commit fails, none of them
        happened. The default commits each write on its own.
        """
        return contextlib.nullcontext()

    @abc.abstractmethod
    def generation(self) -> int:
        """A counter bumped by every change to users, keys, grants and bucket settings.

        Caches of credentials and grants compare it (cheaply) to know when to reload, so a revoked key
        or grant stops working on every worker and node at once.
        """

    def watch(self, gate: Any) -> None:
        """Have ``gate`` (a :class:`~satchel.core.caches.GenerationGate`) expired whenever any worker or
        node commits a change, where the backend can announce changes (PostgreSQL: LISTEN/NOTIFY).
        The default does nothing: the gate polls :meth:`generation`."""
        return

    # --- accounts and users ----------------------------------------------------------------------
    @abc.abstractmethod
    def create_account(self, name: str) -> Account:
        """Raises ``Conflict`` when the name is taken."""

    @abc.abstractmethod
    def get_account(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    def get_account_by_name(self, name: str) -> Account | None: ...

    @abc.abstractmethod
    def list_accounts(self) -> list[Account]: ...

    @abc.abstractmethod
    def delete_account(self, account_id: str) -> None:
        """Deletes an account with its Swift account metadata and TempURL keys. Raises ``NotFound``;
        ``Conflict`` while it still has users or buckets (the message says which)."""

    @abc.abstractmethod
    def create_user(
        self, account_id: str, name: str, role: Role, password_hash: str | None = None
    ) -> User:
        """User names are unique across the node. Raises ``Conflict`` or ``NotFound`` (account)."""

    @abc.abstractmethod
    def get_user(self, user_id: str) -> User | None: ...

    def user_name(self, user_id: str) -> str:
        """What listings and the management API show for a user id: the user's name, or the id
        itself once the user is gone."""
        user = self.get_user(user_id)
        return user.name if user is not None else user_id

    @abc.abstractmethod
    def get_user_by_name(self, name: str) -> User | None: ...

    @abc.abstractmethod
    def list_users(self, account_id: str | None = None) -> list[User]: ...

    @abc.abstractmethod
    def update_user(
        self,
        user_id: str,
        *,
        status: Status | _Unset = UNSET,
        role: Role | _Unset = UNSET,
        password_hash: str | None | _Unset = UNSET,
    ) -> User:
        """Raises ``NotFound``. Disabling also drops, in the same transaction, the user's Swift tokens and
        what its mint calls' webhooks still had to send."""

    @abc.abstractmethod
    def delete_user(self, user_id: str) -> None:
        """Deletes the user with its keys, grants and mint calls' webhooks (with their queued and dead
        deliveries), in one transaction. Raises ``NotFound``; ``Conflict`` while the user still owns buckets."""

    # --- access keys -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_access_key(self, user_id: str, access_key_id: str, secret_ciphertext: bytes) -> StoredKey: ...

    @abc.abstractmethod
    def get_access_key(self, access_key_id: str) -> StoredKey | None: ...

    @abc.abstractmethod
    def list_access_keys(self, user_id: str | None = None) -> list[StoredKey]: ...

    @abc.abstractmethod
    def update_access_key(
        self,
        access_key_id: str,
        *,
        status: Status | _Unset = UNSET,
    ) -> StoredKey:
        """Raises ``NotFound``."""

    @abc.abstractmethod
    def delete_access_key(self, access_key_id: str) -> None:
        """Raises ``NotFound``."""

    # --- grants ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_grant(self, user_id: str, bucket: str, prefix: str, permission: Permission, share: bool = False) -> Grant:
        """Adding the same (user, bucket, prefix) again replaces the permission and the share right."""

    @abc.abstractmethod
    def list_grants(self, user_id: str | None = None, bucket: str | None = None) -> list[Grant]: ...

    @abc.abstractmethod
    def remove_grant(self, grant_id: str) -> None:
        """Raises ``NotFound``."""

    # --- buckets ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_bucket(self, bucket: Bucket) -> Bucket:
        """Stores the bucket and returns it as stored: with a fresh random ``id`` unless it has one, and
        ``links_since`` set to when an earlier bucket released the name (if one did). Raises ``Conflict``
        when the name exists (the service tells owner from stranger)."""

    @abc.abstractmethod
    def get_bucket(self, name: str) -> Bucket | None: ...

    @abc.abstractmethod
    def list_buckets(self, account_id: str | None = None) -> list[Bucket]:
        """Ordered by name."""

    @abc.abstractmethod
    def update_bucket(
        self,
        name: str,
        *,
        public_read: bool | _Unset = UNSET,
        cors: tuple[CorsRule, ...] | None | _Unset = UNSET,
        max_link_lifetime: int | None | _Unset = UNSET,
        sharing: Sharing | _Unset = UNSET,
        policy: str | None | _Unset = UNSET,
    ) -> Bucket:
        """Raises ``NoSuchBucket``. ``policy``: a bucket policy document already validated (None deletes it)."""

    @abc.abstractmethod
    def set_bucket_owner(self, name: str, owner_user_id: str | None) -> Bucket:
        """Makes the bucket user-owned by ``owner_user_id``, or contract-owned with None. Raises
        ``NoSuchBucket``, ``NotFound`` (user) or ``Conflict`` (the user is in another account: a bucket never
        changes account)."""

    @abc.abstractmethod
    def delete_bucket(self, name: str, now: float | None = None) -> list[str]:
        """Raises ``NoSuchBucket``; ``BucketNotEmpty`` while objects remain, or while pre-authenticated
        requests of the bucket are still usable (its message says how many). Unfinished multipart uploads
        go with the bucket, as in S3: their parts' blobs are marked dead in the same transaction and their
        ids returned (for ``release_blobs``). Records when the name was released (``now``, default the wall
        clock), for the next bucket of the name."""

    # --- objects ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_object(self, bucket: str, key: str) -> ObjectRecord | None: ...

    @abc.abstractmethod
    def existing_keys(self, bucket: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` name an object: one query per few hundred keys, not one per key, for
        minting links to a thousand objects at once."""

    @abc.abstractmethod
    def put_object(self, record: ObjectRecord, precondition: Precondition | None = None, *,
                   bucket_id: str | None = None, tags: Sequence[tuple[str, str]] = ()) -> list[str]:
        """Makes ``record`` the current version of its key, atomically.

        ``precondition`` is called inside the transaction with the record being replaced (None when
        the key is new); what it raises aborts the write (conditional writes: If-Match ...).

        ``bucket_id`` is the identity of the bucket the write was authorised against (core always
        passes it): the write happens only while the bucket named ``record.bucket`` is still that
        one. Between authorisation and commit a body may take minutes, the bucket may be deleted and
        its name taken by another account; without the check the object would land in theirs.

        ``tags`` become the object's tags in the same transaction, replacing the old version's.

        Registers the record's segments as live blobs; marks the replaced version's blobs dead and
        returns their ids. Raises ``NoSuchBucket`` when the bucket vanished meanwhile or its name now
        belongs to another bucket (then the caller deletes the new blobs).
        """

    @abc.abstractmethod
    def delete_object(self, bucket: str, key: str, precondition: Precondition | None = None, *,
                      bucket_id: str | None = None, marker: str | None = None,
                      owner_user_id: str | None = None) -> list[str]:
        """Removes the key if present; returns the ids of the blobs now dead (empty when absent).
        ``precondition`` as for :meth:`put_object`, with the record being removed; with ``bucket_id``,
        ``NoSuchBucket`` unless the bucket of that name is still that one (as for :meth:`put_object`).
        In a versioned bucket ``marker`` is the id of the delete marker that becomes the key's latest
        version (made by ``owner_user_id``): the current version is kept, noncurrent."""

    # --- versioning (``meta/sqlite_versioning.py``) -------------------------------------------------
    # ``put_object`` / ``complete_upload`` take the version id of the record, ``delete_object`` a delete
    # marker's id (``marker``); each checks it fits the bucket's state in its transaction and raises
    # ``VersioningChanged`` (nothing written) when it does not. A store without versioning answers
    # every bucket as never versioned and refuses to change that.
    def bucket_versioning(self, bucket: str) -> str:
        """``Enabled``, ``Suspended``, or ``""`` for a bucket whose versioning was never enabled."""
        return ""

    def set_bucket_versioning(self, bucket: str, state: str, *, bucket_id: str | None = None) -> None:
        raise NotImplementedFeature("This metadata store does not implement versioning.")

    def get_object_version(self, bucket: str, key: str, version_id: str | None) -> VersionRecord | None:
        """Version ``version_id`` of a key (``"null"`` names the null version); ``None``: the latest,
        which may be a delete marker."""
        record = self.get_object(bucket, key)
        if record is None or version_id not in (None, "null"):
            return None
        return VersionRecord(record, False, True, 1 << 62)

    def delete_object_version(self, bucket: str, key: str, version_id: str, *, bucket_id: str | None = None,
                              expect: Callable[[VersionRecord, int], bool] | None = None,
                              ) -> tuple[VersionRecord | None, list[str]]:
        """Remove one version for good (its blobs die); the newest remaining one becomes current unless
        it is a delete marker. Returns what was removed (``None``: no such version) and the dead blobs.
        ``expect(version, newer noncurrent versions)``, checked inside the transaction, raises
        ``PreconditionFailed`` (nothing removed) when it says no: the version is no longer what the caller
        saw (lifecycle's conditional deletes)."""
        raise NotImplementedFeature("This metadata store does not implement versioning.")

    def list_object_versions(self, bucket: str, *, prefix: str = "", key_marker: str | None = None,
                             version_id_marker: str | None = None, limit: int = 1000) -> list[ObjectVersion]:
        """Versions and delete markers by key, newest first, after the (key, version id) marker."""
        raise NotImplementedFeature("This metadata store does not implement versioning.")

    @abc.abstractmethod
    def list_objects(
        self, bucket: str, *, prefix: str = "", after: str | None = None, limit: int = 1000
    ) -> list[ObjectSummary]:
        """Objects whose key starts with ``prefix`` and sorts strictly after ``after``, by key
        (binary order of UTF-8, as S3 sorts), at most ``limit`` of them: what a listing shows."""

    # --- multipart uploads -----------------------------------------------------------------------
    @abc.abstractmethod
    def create_upload(self, upload: Upload, *, bucket_id: str | None = None,
                      tags: Sequence[tuple[str, str]] = ()) -> Upload:
        """Raises ``NoSuchBucket`` unless the bucket exists (and is ``bucket_id``, as for :meth:`put_object`).
        ``tags`` are kept with the upload and become the object's at :meth:`complete_upload`."""

    @abc.abstractmethod
    def get_upload(self, bucket: str, upload_id: str) -> Upload | None: ...

    @abc.abstractmethod
    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        limit: int = 1000,
    ) -> list[Upload]:
        """Ordered by (key, initiated, upload_id); starts after (key_marker, upload_id_marker)."""

    @abc.abstractmethod
    def put_part(self, part: Part) -> list[str]:
        """Stores or replaces a part; returns the replaced part's blob ids (now dead).

        Raises ``NoSuchUpload`` when the upload was completed or aborted meanwhile.
        """

    @abc.abstractmethod
    def list_parts(self, upload_id: str, *, after: int = 0, limit: int = 10000) -> list[Part]:
        """Parts with a number greater than ``after``, ordered by number."""

    @abc.abstractmethod
    def complete_upload(
        self, upload_id: str, record: ObjectRecord, precondition: Precondition | None = None, *,
        bucket_id: str | None = None, remember: Completion | None = None,
    ) -> list[str]:
        """Publishes ``record`` (whose segments are some of the upload's part blobs) and ends the
        upload, in one transaction. Blobs of unused parts and of the replaced object die; their ids
        are returned. Raises ``NoSuchUpload``. ``precondition`` and ``bucket_id`` as for
        :meth:`put_object`. ``remember``: recorded in the same transaction, for :meth:`completed_upload`
        (completions older than ``COMPLETION_MEMORY`` are pruned then)."""

    @abc.abstractmethod
    def completed_upload(self, upload_id: str) -> Completion | None:
        """What completing ``upload_id`` published, while it is remembered (``core/completions.py``)."""

    @abc.abstractmethod
    def abort_upload(self, upload_id: str) -> list[str]:
        """Ends the upload; returns its part blobs (now dead). Raises ``NoSuchUpload``."""

    # --- tagging and lifecycle (meta/sqlite_tagging.py) ------------------------------------------
    @abc.abstractmethod
    def get_object_tags(self, bucket: str, key: str, version_id: str | None = None
                        ) -> tuple[tuple[str, str], ...] | None:
        """The tags of the current version (or of the version ``version_id``) in their order; None when there
        is no such object or data version."""

    @abc.abstractmethod
    def count_object_tags(self, bucket: str, key: str, version_id: str | None = None) -> int:
        """How many tags version ``version_id`` has (None: the null version)."""

    @abc.abstractmethod
    def set_object_tags(self, bucket: str, key: str, tags: tuple[tuple[str, str], ...], *,
                        bucket_id: str | None = None, version_id: str | None = None) -> bool:
        """Replace the tags of an existing object's current version (or of its version ``version_id``; its
        record is untouched); False when there is no such object or data version. ``bucket_id`` as for
        :meth:`put_object`."""

    @abc.abstractmethod
    def get_bucket_tags(self, bucket_id: str) -> tuple[tuple[str, str], ...]: ...

    @abc.abstractmethod
    def set_bucket_tags(self, bucket_id: str, tags: tuple[tuple[str, str], ...]) -> None:
        """Replace the bucket's tags; an empty set removes them."""

    @abc.abstractmethod
    def get_lifecycle(self, bucket_id: str) -> str | None:
        """The bucket's lifecycle rules as stored (JSON, ``core/lifecycle.py``); None when it has none."""

    @abc.abstractmethod
    def set_lifecycle(self, bucket_id: str, rules: str | None) -> None:
        """Store the bucket's lifecycle rules; None deletes them. Bumps the generation (a bucket setting)."""

    @abc.abstractmethod
    def lifecycle_buckets(self) -> list[tuple[str, str, str]]:
        """(name, id, rules) of every bucket that has lifecycle rules, by name."""

    @abc.abstractmethod
    def abandoned_uploads(self, initiated_before: float, limit: int = 1000) -> list[str]:
        """Ids of uploads of any bucket started before ``initiated_before``, oldest first."""

    # --- blob bookkeeping ------------------------------------------------------------------------
    @abc.abstractmethod
    def live_blobs(self) -> Iterator[tuple[str, int]]:
        """(blob id, size) of every blob an object or a part references: what a backup must hold."""

    @abc.abstractmethod
    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole store at ``target``, taken while the store is in use."""

    @abc.abstractmethod
    def dead_blobs(self, limit: int = 1000) -> list[str]:
        """Blobs marked dead and not yet forgotten: the garbage collector deletes their files."""

    @abc.abstractmethod
    def forget_blobs(self, blob_ids: Iterable[str]) -> None:
        """Drops the rows of dead blobs whose files are gone."""

    @abc.abstractmethod
    def known_blobs(self, blob_ids: Sequence[str]) -> set[str]:
        """Which of these ids have a row (live or dead): files with none are crash orphans."""

    # --- sharing: link registry, revocations, audit ------------------------------------------------
    @abc.abstractmethod
    def create_links(self, links: Sequence[Link], events: Sequence[AuditEvent] = ()) -> None:
        """Registers minted links and appends their mint events, all in one transaction: a link that
        exists (and so works) always has its mint event, even across a crash."""

    @abc.abstractmethod
    def get_link(self, link_id: str) -> Link | None: ...

    @abc.abstractmethod
    def list_links(
        self,
        *,
        user_ids: Sequence[str] | None = None,
        bucket_id: str | None = None,
        key_prefix: str | None = None,
        active_at: float | None = None,
        limit: int = 1000,
    ) -> list[Link]:
        """Newest first. ``user_ids`` limits to links signed by those users; ``bucket_id`` to links
        minted for that bucket (by identity, never by name); ``active_at`` to links still usable at
        that moment (not revoked, not expired, uses left)."""

    @abc.abstractmethod
    def revoke_link(self, link_id: str, at: float) -> Link:
        """Marks the link revoked (idempotent: the first revocation time stays). Raises ``NotFound``."""

    @abc.abstractmethod
    def consume_link(self, link_id: str, now: float) -> Link | None:
        """Counts one use, atomically, only while the link is usable; returns it after the count, or
        None when it was revoked, expired or had no uses left (one-time links stay exact under
        concurrency and across processes)."""

    @abc.abstractmethod
    def give_back_link_use(self, link_id: str) -> None:
        """Takes back one counted use (a write refused after it was counted), atomically, never below 0."""

    @abc.abstractmethod
    def sight_link(self, fingerprint: str, now: float, expires: float) -> float:
        """When the URL named by ``fingerprint`` was first seen: ``now`` on its first sighting (which is
        recorded until ``expires``). Rows of expired URLs are pruned in the same transaction."""

    @abc.abstractmethod
    def count_link_uses(self, uses: Mapping[str, tuple[int, float]]) -> None:
        """Adds batched use counts (link id → (uses, last used)) for links and pre-authenticated requests
        without a use limit."""

    @abc.abstractmethod
    def add_revocation(self, revocation: Revocation) -> Revocation:
        """Bumps the generation: every node reloads its revocation list."""

    @abc.abstractmethod
    def list_revocations(self) -> list[Revocation]: ...

    @abc.abstractmethod
    def add_audit_events(self, events: Sequence[AuditEvent], deliveries: Sequence[QueuedDelivery] = (), *,
                         queue_max: int = 0, user_max: int = 0, account_max: int | None = None,
                         uses: Mapping[str, tuple[int, float]] | None = None, once: bool = False) -> int:
        """Appends events (ids are assigned here when empty, and set on the events; an id already stored
        is skipped) and, in the same transaction, adds ``uses`` (as :meth:`count_link_uses`) and queues
        ``deliveries``. ``once``: nothing at all when the first event is stored already (a batch tried
        again after a COMMIT whose answer was lost: its uses are not counted twice). Queues ``deliveries``
        while fewer than ``queue_max`` are pending, fewer than
        ``account_max`` (None: unbounded) of the users of their creator's account, and fewer than ``user_max``
        of their endpoint's creator (``QueuedDelivery.creator``), refused uses at most half of each share
        (none for a mint call's endpoint that is gone or whose creator is not an active user); how many
        were dropped because the queue (or the account's or creator's share) was full
        (the newest are dropped: what is queued keeps its order)."""

    @abc.abstractmethod
    def prune_audit(self, before: float, limit: int = 10000) -> int:
        """Deletes up to ``limit`` of the oldest events older than ``before``; how many it deleted."""

    @abc.abstractmethod
    def export_audit(self, since: float | None, until: float | None, after: tuple[float, str] | None = None,
                     limit: int = 1000) -> list[AuditEvent]:
        """Every event in [since, until), in (time, id) order, starting after ``after`` — for an operator's
        export, unfiltered by who may read what."""

    @abc.abstractmethod
    def query_audit(self, query: AuditQuery) -> list[AuditEvent]:
        """The newest ``query.limit`` events within the filters (as ``tail`` would), oldest first."""

    # --- pre-authenticated requests (``core/par/``) ----------------------------------------------------
    @abc.abstractmethod
    def create_par(self, par: Par, event: AuditEvent, *, max_live_per_user: int = 1 << 62) -> str | None:
        """Stores the PAR with its creation event, in one transaction, only while its bucket (by id) still
        exists and its creator has fewer than ``max_live_per_user`` usable PARs (checked in the same
        statement): None when stored, else why not (``"bucket"``: deleted meanwhile; ``"cap"``)."""

    @abc.abstractmethod
    def par_by_token_hash(self, token_hash: str) -> Par | None: ...

    @abc.abstractmethod
    def get_par(self, par_id: str) -> Par | None: ...

    @abc.abstractmethod
    def list_pars(self, *, bucket_id: str | None = None, user_ids: Sequence[str] | None = None,
                  object_prefix: str | None = None, active_at: float | None = None, limit: int = 1000) -> list[Par]:
        """Newest first; ``object_prefix`` limits to PARs whose objectName starts with it; ``active_at`` to
        PARs usable at that moment (not deleted, not expired, uses left)."""

    @abc.abstractmethod
    def delete_par(self, par_id: str, at: float) -> Par:
        """Marks the PAR deleted (idempotent: the first time stays). Raises ``NotFound``."""

    @abc.abstractmethod
    def consume_par(self, par_id: str, now: float) -> Par | None:
        """Counts one use, atomically, only while the PAR is usable (not deleted, not expired, uses left);
        the PAR after the count, or None (so of N concurrent uses of a PAR with k uses left, exactly k
        succeed, across processes)."""

    @abc.abstractmethod
    def live_par_count(self, bucket_id: str, now: float) -> int:
        """PARs of the bucket still usable (not deleted, not expired, uses left): those block its deletion."""

    # --- S3 ACLs and Block Public Access (``core/acl.py``, ``core/publicaccess.py``) ---------------------
    @abc.abstractmethod
    def set_bucket_acl(self, name: str, acl: tuple[AclGrant, ...], public_read: bool) -> Bucket:
        """Replace a bucket's ACL grants and its public flag (AllUsers READ) in one transaction."""

    @abc.abstractmethod
    def set_bucket_public_block(self, name: str, block: PublicAccessBlock | None) -> Bucket: ...

    @abc.abstractmethod
    def get_account_public_block(self, account_id: str) -> PublicAccessBlock | None: ...

    @abc.abstractmethod
    def set_account_public_block(self, account_id: str, block: PublicAccessBlock | None) -> None:
        """Set or (None) delete an account's flags; bumps the generation (buckets carry them)."""

    @abc.abstractmethod
    def set_object_acl(self, bucket: str, key: str, etag: str, last_modified: float,
                       acl: tuple[AclGrant, ...], version_id: str | None = None) -> None:
        """Replace the ACL of that version of the object (ETag and date); NoSuchKey when it is not current.
        With ``version_id``: of that version, current or not (NoSuchVersion when it is gone or changed)."""

    @abc.abstractmethod
    def par_inline_active(self, bucket_id: str) -> bool:
        """Whether the bucket lets PARs show active types (HTML, SVG, XML) inline; False unless set."""

    @abc.abstractmethod
    def set_par_inline_active(self, bucket_id: str, allowed: bool) -> None: ...

    @abc.abstractmethod
    def give_back_par_use(self, par_id: str) -> None:
        """Takes back one counted use (a write that failed after it was counted), atomically, never below 0."""

    @abc.abstractmethod
    def record_par_upload(self, upload_id: str, par_id: str, now: float, max_open: int) -> bool:
        """Records that ``upload_id`` was started through ``par_id`` (only that PAR may continue it), only
        while the PAR has fewer than ``max_open`` open uploads (one statement): False beyond the cap."""

    @abc.abstractmethod
    def par_upload_owner(self, upload_id: str) -> str | None:
        """The PAR an upload was started through; None for an upload started otherwise (S3)."""

    @abc.abstractmethod
    def par_open_uploads(self, par_id: str) -> list[str]:
        """Ids of the PAR's uploads not yet committed or aborted."""
    # --- Swift: TempAuth tokens, account and container metadata ------------------------------------
    @abc.abstractmethod
    def create_swift_token(self, token: StoredToken, *, now: float, max_per_key: int) -> None:
        """Stores a token. Expired tokens are pruned in the same transaction, and the key's oldest
        tokens beyond ``max_per_key`` are deleted (a client logging in in a loop cannot grow the table).
        Raises ``NotFound`` when the key or user vanished meanwhile."""

    @abc.abstractmethod
    def get_swift_token(self, token_hash: str) -> StoredToken | None: ...

    @abc.abstractmethod
    def get_swift_metadata(self, scope: str, owner_id: str) -> dict[str, str]:
        """``scope`` is ``account`` (owner: account id) or ``container`` (owner: bucket id)."""

    @abc.abstractmethod
    def update_swift_metadata(
        self, scope: str, owner_id: str, changes: Mapping[str, str | None], *, max_bytes: int,
        max_count: int | None = None,
    ) -> dict[str, str]:
        """Sets (value) or removes (None) names in one transaction and returns the result. Raises
        ``MetadataTooLarge`` when names and values together would exceed ``max_bytes``, or the names
        ``max_count``, once applied to what is stored (nothing changes)."""

    @abc.abstractmethod
    def delete_swift_metadata(self, scope: str, owner_id: str) -> None: ...

    @abc.abstractmethod
    def bucket_usage(self, bucket: str) -> tuple[int, int]:
        """(object count, bytes) of a bucket: what Swift reports as X-Container-Object-Count and
        -Bytes-Used. One aggregate over the bucket's rows (O(bucket), unlike listings)."""

    @abc.abstractmethod
    def content_types(self, bucket: str, keys: Sequence[str]) -> dict[str, str]:
        """The stored Content-Type of each of ``keys`` that has one (a listing page's JSON and XML
        entries), in a few queries rather than one per key."""

    # --- Swift TempURL keys ------------------------------------------------------------------------
    @abc.abstractmethod
    def put_tempurl_key(self, key: StoredTempUrlKey) -> None:
        """Sets (or replaces) one slot's key; bumps the generation, so every worker reloads its keys."""

    @abc.abstractmethod
    def delete_tempurl_key(self, account_id: str, bucket_id: str, slot: int) -> bool:
        """Clears one slot; whether it held a key. Bumps the generation."""

    @abc.abstractmethod
    def list_tempurl_keys(self, account_id: str, bucket_ids: Sequence[str]) -> list[StoredTempUrlKey]:
        """The keys of the account (``bucket_id`` "") and of these buckets, by bucket id then slot."""

    # --- encryption at rest (core/sse.py) ---------------------------------------------------------
    @abc.abstractmethod
    def get_bucket_encryption(self, bucket_id: str) -> str | None:
        """The bucket's default SSE algorithm (``AES256``), None when it has none."""

    @abc.abstractmethod
    def set_bucket_encryption(self, bucket_id: str, algorithm: str | None, now: float) -> None:
        """Set (or, with None, remove) the bucket's default SSE algorithm."""

    # --- the master key check (core/keycheck.py) --------------------------------------------------
    @abc.abstractmethod
    def get_key_check(self) -> bytes | None:
        """The value sealed by the deployment's master key, None until a node recorded it."""

    @abc.abstractmethod
    def record_key_check(self, sealed: bytes, now: float) -> bytes:
        """Record ``sealed`` unless a check is there already (another node won); the check now recorded."""

    @abc.abstractmethod
    def sample_sealed_secret(self) -> tuple[str, bytes] | None:
        """One access key's (id, sealed secret), to try a key on a store whose check is not recorded yet."""

    @abc.abstractmethod
    def sample_sse_headers(self) -> str | None:
        """The stored headers (JSON text) of one object or version encrypted at rest, SSE-S3 preferred: its
        sealed data key tries a key too, on a store without access keys."""

    # --- link notifications (webhooks; records in meta/webhooks.py) ------------------------------
    @abc.abstractmethod
    def put_webhook(self, webhook: StoredWebhook, link_ids: Sequence[str] = ()) -> None:
        """Stores an endpoint: a bucket's replaces its previous one (whose queued deliveries go with it); a mint
        call's is attached to ``link_ids``."""

    @abc.abstractmethod
    def get_bucket_webhook(self, bucket_id: str) -> StoredWebhook | None: ...

    @abc.abstractmethod
    def delete_bucket_webhook(self, bucket_id: str) -> StoredWebhook | None:
        """Removes the bucket's endpoint and its queued and dead deliveries; the removed one, if any."""

    @abc.abstractmethod
    def webhook_targets(self, bucket_ids: Sequence[str], link_ids: Sequence[str]
                        ) -> tuple[dict[str, StoredWebhook], dict[str, StoredWebhook]]:
        """The endpoints of these buckets (by bucket id) and of these links (by link id)."""

    @abc.abstractmethod
    def webhook_due(self, now: float) -> bool:
        """Whether a pending delivery is due and unclaimed (a cheap read before claiming)."""

    @abc.abstractmethod
    def claim_webhook_deliveries(self, claim: str, *, now: float, lease: float, limit: int,
                                 per_endpoint: int = 2**31, per_user: int = 2**31) -> list[ClaimedDelivery]:
        """Takes up to ``limit`` due deliveries nobody holds (or whose lease ended) for ``claim`` until
        ``now + lease``: in one write transaction, so two workers never take the same one. Fairly: never more
        than ``per_endpoint`` held at once (by any worker) for one endpoint nor ``per_user`` for the endpoints
        one user set, the next slot to the user with the fewest under way, one per endpoint before a second
        for any (round-robin), and within an endpoint first tries before retries."""

    @abc.abstractmethod
    def cap_webhook_retries(self, latest: float) -> int:
        """Brings every pending delivery planned after ``latest`` forward to it (a lowered
        ``webhook_retry_max_delay`` applies to what was queued before); how many."""

    @abc.abstractmethod
    def finish_webhook_deliveries(self, outcomes: Sequence[DeliveryOutcome], *, dead_max: int) -> None:
        """Settles claimed deliveries (only while still held by their claim); keeps at most ``dead_max`` dead
        ones per bucket, the bucket's oldest removed first (another bucket's failures never evict them)."""

    @abc.abstractmethod
    def count_link_webhooks(self, user_id: str) -> int:
        """How many mint-call webhooks ``user_id`` set that are still kept (``webhook_max_per_user``)."""

    @abc.abstractmethod
    def webhook_queue_depth(self) -> tuple[int, int]:
        """(pending, dead) deliveries."""

    @abc.abstractmethod
    def list_webhook_deliveries(self, bucket_id: str, state: str, limit: int) -> list[DeliveryRecord]:
        """A bucket's deliveries in ``state``, oldest first."""

    @abc.abstractmethod
    def prune_webhooks(self, now: float, limit: int) -> int:
        """Removes up to ``limit`` endpoints nothing can notify any more (a mint call's whose links all expired
        or were revoked; a deleted bucket's) and that have nothing pending; how many."""

    # --- web console (sessions, share pages, throttling of failed tries) -------------------------
    @abc.abstractmethod
    def create_session(self, session: StoredSession) -> None: ...

    @abc.abstractmethod
    def get_session(self, token_hash: str) -> StoredSession | None: ...

    @abc.abstractmethod
    def touch_session(self, token_hash: str, last_seen: float) -> None:
        """Records a request's time (idle expiry counts from it)."""

    @abc.abstractmethod
    def delete_sessions(self, token_hash: str | None = None, *, expired_at: float | None = None,
                        user_id: str | None = None) -> None:
        """Deletes one session, with ``expired_at`` every session whose absolute expiry has passed, with
        ``user_id`` every session of that user."""

    @abc.abstractmethod
    def create_share(self, share: StoredShare, limit: int) -> bool:
        """Stores a share page unless its link has ``limit`` pages already (False then), in one
        transaction: parallel requests cannot pass the cap together."""

    @abc.abstractmethod
    def get_share(self, id_hash: str) -> StoredShare | None: ...

    @abc.abstractmethod
    def throttled_until(self, subject: str) -> float | None:
        """Until when tries for ``subject`` are refused (None: not locked now or ever)."""

    @abc.abstractmethod
    def reserve_attempt(self, subjects: Sequence[tuple[str, int]], now: float, window: float,
                        lockout: float) -> float | None:
        """Counts one try for each ``(subject, limit)`` BEFORE it is checked, in one transaction, and returns
        until when tries are refused when a subject is locked (then nothing is counted). The ``limit``-th
        try in a window is still admitted and locks the subject for ``lockout`` seconds, so a burst of
        parallel guesses gets at most ``limit`` of them checked. A right try clears or releases its count."""

    @abc.abstractmethod
    def release_attempt(self, subject: str) -> None:
        """Gives back one reserved try (a right one) without forgetting the others."""

    @abc.abstractmethod
    def clear_failures(self, subject: str) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A console sign-in. ``token_hash`` is the SHA-256 of the cookie; the cookie itself is never stored."""

    token_hash: str
    user_id: str
    created: float
    last_seen: float
    expires: float


@dataclass(frozen=True, slots=True)
class StoredShare:
    """A share page in front of a minted link; ``id_hash`` is the SHA-256 of the id in its URL."""

    id_hash: str
    link_id: str
    passphrase_hash: str | None
    created: float
    created_by: str | None
