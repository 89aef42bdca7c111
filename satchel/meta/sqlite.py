"""The SQLite metadata store: one file shared by every worker process of a node.

``sqlite_db.py`` holds the connection and transaction rules (one connection per thread, WAL,
``BEGIN IMMEDIATE``); ``sqlite_objects.py`` the object, multipart and blob-bookkeeping half of the
:class:`Store` interface; this module the identity half (accounts, users, keys, grants, buckets).

Reads are autocommit single statements through the connection's statement cache, building frozen
dataclasses straight from row tuples (``meta/rows.py``): about 10 µs for ``get_object``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import time
from contextlib import AbstractContextManager
from typing import Any

from satchel.core.errors import BucketNotEmpty, Conflict, NoSuchBucket, NotFound
from satchel.core.models import Account, Bucket, CorsRule, Grant, Permission, Role, Sharing, Status, User
from satchel.meta import rows
from satchel.meta.sqlite_acl import SqliteAcl
from satchel.meta.sqlite_completions import SqliteCompletions
from satchel.meta.sqlite_console import SqliteConsole
from satchel.meta.sqlite_db import SqliteDatabase
from satchel.meta.sqlite_keycheck import SqliteKeyCheck
from satchel.meta.sqlite_objects import SqliteObjects
from satchel.meta.sqlite_par import LIVE_PARS, SqlitePars
from satchel.meta.sqlite_sharing import SqliteSharing
from satchel.meta.sqlite_sse import SqliteSse
from satchel.meta.sqlite_swift import SqliteSwift
from satchel.meta.sqlite_tagging import SqliteTagging, drop_bucket_settings
from satchel.meta.sqlite_tempurl import SqliteTempUrlKeys
from satchel.meta.sqlite_versioning import SqliteVersioning
from satchel.meta.sqlite_webhooks import SqliteWebhooks, delete_user_link_webhooks, drop_user_link_deliveries
from satchel.meta.store import UNSET, Store, StoredKey, _Unset

# Statement heads, built once. Only the column lists of ``meta/rows.py`` (code constants, never input)
# are interpolated; every value travels as a bound parameter.
_ACCOUNTS = f"SELECT {rows.ACCOUNT_COLUMNS} FROM accounts"  # noqa: S608
_USERS = f"SELECT {rows.USER_COLUMNS} FROM users"  # noqa: S608
_KEYS = f"SELECT {rows.KEY_COLUMNS} FROM access_keys"  # noqa: S608
_GRANTS = f"SELECT {rows.GRANT_COLUMNS} FROM grants"  # noqa: S608
_BUCKETS = rows.BUCKET_SELECT
_INSERT_ACCOUNT = rows.insert("accounts", rows.ACCOUNT_COLUMNS)
_INSERT_USER = rows.insert("users", rows.USER_COLUMNS)
_INSERT_KEY = rows.insert("access_keys", rows.KEY_COLUMNS)
_INSERT_BUCKET = rows.insert("buckets", rows.BUCKET_COLUMNS)
_UPSERT_GRANT = rows.insert("grants", rows.GRANT_COLUMNS) + (
    " ON CONFLICT (user_id, bucket, prefix) DO UPDATE SET permission = excluded.permission, share = excluded.share"
)


class SqliteStore(SqliteAcl, SqliteObjects, SqliteSharing, SqlitePars, SqliteSwift, SqliteTempUrlKeys, SqliteConsole,
                  SqliteWebhooks, SqliteCompletions, SqliteSse, SqliteTagging, SqliteVersioning, SqliteKeyCheck,
                  Store):
    """:class:`Store` on one SQLite file (``<data_dir>/meta.sqlite3``)."""

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: str = "FULL", busy_timeout: float = 10.0
    ) -> None:
        self._db = SqliteDatabase(path, synchronous=synchronous, busy_timeout=busy_timeout)
        self.path = self._db.path

    def close(self) -> None:
        self._db.close()

    def group(self) -> AbstractContextManager[object]:
        return self._db.group()

    def schema_version(self) -> int:
        return self._db.schema_version()

    def generation(self) -> int:
        row = self._db.conn().execute("SELECT value FROM generation WHERE id = 1").fetchone()
        return int(row[0])

    # --- accounts and users ----------------------------------------------------------------------
    def create_account(self, name: str) -> Account:
        account = Account(secrets.token_hex(16), name, time.time())
        with self._db.transaction() as c:
            if c.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"An account named {name!r} already exists.")
            c.execute(_INSERT_ACCOUNT,
                      (account.id, account.name, account.created))
        return account

    def get_account(self, account_id: str) -> Account | None:
        row = self._db.conn().execute(
            _ACCOUNTS + " WHERE id = ?", (account_id,)
        ).fetchone()
        return rows.account(row) if row else None

    def get_account_by_name(self, name: str) -> Account | None:
        row = self._db.conn().execute(
            _ACCOUNTS + " WHERE name = ?", (name,)
        ).fetchone()
        return rows.account(row) if row else None

    def list_accounts(self) -> list[Account]:
        return [rows.account(r) for r in self._fetch_all(
            _ACCOUNTS + " ORDER BY name")]

    def delete_account(self, account_id: str) -> None:
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone():
                raise NotFound(f"No account with id {account_id!r}.")
            users = c.execute("SELECT COUNT(*) FROM users WHERE account_id = ?", (account_id,)).fetchone()[0]
            owned = c.execute("SELECT COUNT(*) FROM buckets WHERE account_id = ?", (account_id,)).fetchone()[0]
            if users or owned:
                raise Conflict(f"The account still has {users} user(s) and {owned} bucket(s): delete them first.")
            c.execute("DELETE FROM swift_metadata WHERE scope = 'account' AND owner_id = ?", (account_id,))
            c.execute("DELETE FROM tempurl_keys WHERE account_id = ?", (account_id,))
            c.execute("DELETE FROM acl_account_blocks WHERE account_id = ?", (account_id,))
            c.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
            c.execute(rows.BUMP_GENERATION)

    def create_user(
        self, account_id: str, name: str, role: Role, password_hash: str | None = None
    ) -> User:
        user = User(secrets.token_hex(16), account_id, name, Role(role), Status.ACTIVE, time.time(),
                    password_hash)
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone():
                raise NotFound(f"No account with id {account_id!r}.")
            if c.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"A user named {name!r} already exists.")
            c.execute(
                _INSERT_USER,
                (user.id, user.account_id, user.name, user.role.value, user.status.value, user.created,
                 user.password_hash),
            )
            c.execute(rows.BUMP_GENERATION)
        return user

    def get_user(self, user_id: str) -> User | None:
        row = self._db.conn().execute(_USERS + " WHERE id = ?", (user_id,)).fetchone()
        return rows.user(row) if row else None

    def get_user_by_name(self, name: str) -> User | None:
        row = self._db.conn().execute(_USERS + " WHERE name = ?", (name,)).fetchone()
        return rows.user(row) if row else None

    def list_users(self, account_id: str | None = None) -> list[User]:
        if account_id is None:
            found = self._fetch_all(_USERS + " ORDER BY name")
        else:
            found = self._fetch_all(
                _USERS + " WHERE account_id = ? ORDER BY name", (account_id,))
        return [rows.user(r) for r in found]

    def update_user(
        self,
        user_id: str,
        *,
        status: Status | _Unset = UNSET,
        role: Role | _Unset = UNSET,
        password_hash: str | _Unset | None = UNSET,
    ) -> User:
        changes: dict[str, Any] = {}
        if not isinstance(status, _Unset):
            changes["status"] = Status(status).value
        if not isinstance(role, _Unset):
            changes["role"] = Role(role).value
        if not isinstance(password_hash, _Unset):
            changes["password_hash"] = password_hash
        with self._db.transaction() as c:
            self._update(c, "users", "id", user_id, changes, NotFound(f"No user with id {user_id!r}."))
            if changes.get("status") == Status.DISABLED.value:  # its Swift tokens die with it, for good
                c.execute("DELETE FROM swift_tokens WHERE user_id = ?", (user_id,))
                drop_user_link_deliveries(c, user_id)  # nor are its links' webhooks told anything more
            row = c.execute(_USERS + " WHERE id = ?", (user_id,)).fetchone()
        return rows.user(row)

    def delete_user(self, user_id: str) -> None:
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise NotFound(f"No user with id {user_id!r}.")
            if c.execute("SELECT 1 FROM buckets WHERE owner_user_id = ? LIMIT 1", (user_id,)).fetchone():
                raise Conflict("The user still owns buckets: delete or hand them over first.")
            c.execute("DELETE FROM access_keys WHERE user_id = ?", (user_id,))
            c.execute("DELETE FROM grants WHERE user_id = ?", (user_id,))
            delete_user_link_webhooks(c, user_id)
            c.execute("DELETE FROM users WHERE id = ?", (user_id,))
            c.execute(rows.BUMP_GENERATION)

    @staticmethod
    def _update(
        c: sqlite3.Connection, table: str, id_column: str, id_value: str, changes: dict[str, Any],
        missing: Exception,
    ) -> None:
        """Apply a partial update (column names come from code, never from input) and bump the
        generation; raise ``missing`` when the row does not exist."""
        if not c.execute(f"SELECT 1 FROM {table} WHERE {id_column} = ?", (id_value,)).fetchone():  # noqa: S608
            raise missing
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            c.execute(f"UPDATE {table} SET {assignments} WHERE {id_column} = ?",  # noqa: S608
                      (*changes.values(), id_value))
        c.execute(rows.BUMP_GENERATION)

    # --- access keys -----------------------------------------------------------------------------
    def create_access_key(self, user_id: str, access_key_id: str, secret_ciphertext: bytes) -> StoredKey:
        key = StoredKey(access_key_id, user_id, bytes(secret_ciphertext), Status.ACTIVE, time.time())
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise NotFound(f"No user with id {user_id!r}.")
            if c.execute("SELECT 1 FROM access_keys WHERE access_key_id = ?", (access_key_id,)).fetchone():
                raise Conflict("That access key id is taken.")
            c.execute(
                _INSERT_KEY,
                (key.access_key_id, key.user_id, key.secret_ciphertext, key.status.value, key.created),
            )
            c.execute(rows.BUMP_GENERATION)
        return key

    def get_access_key(self, access_key_id: str) -> StoredKey | None:
        row = self._db.conn().execute(
            _KEYS + " WHERE access_key_id = ?", (access_key_id,)
        ).fetchone()
        return rows.stored_key(row) if row else None

    def list_access_keys(self, user_id: str | None = None) -> list[StoredKey]:
        order = " ORDER BY created, access_key_id"
        if user_id is None:
            found = self._fetch_all(_KEYS + order)
        else:
            found = self._fetch_all(_KEYS + " WHERE user_id = ?" + order,
                                    (user_id,))
        return [rows.stored_key(r) for r in found]

    def update_access_key(
        self,
        access_key_id: str,
        *,
        status: Status | _Unset = UNSET,
    ) -> StoredKey:
        changes: dict[str, Any] = {}
        if not isinstance(status, _Unset):
            changes["status"] = Status(status).value
        with self._db.transaction() as c:
            self._update(c, "access_keys", "access_key_id", access_key_id, changes,
                         NotFound("No such access key."))
            if changes.get("status") == Status.DISABLED.value:  # its Swift tokens die with it, for good
                c.execute("DELETE FROM swift_tokens WHERE access_key_id = ?", (access_key_id,))
            row = c.execute(_KEYS + " WHERE access_key_id = ?",
                            (access_key_id,)).fetchone()
        return rows.stored_key(row)

    def delete_access_key(self, access_key_id: str) -> None:
        with self._db.transaction() as c:
            if c.execute("DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,)).rowcount == 0:
                raise NotFound("No such access key.")
            c.execute(rows.BUMP_GENERATION)

    # --- grants ----------------------------------------------------------------------------------
    def add_grant(self, user_id: str, bucket: str, prefix: str, permission: Permission, share: bool = False) -> Grant:
        with self._db.transaction() as c:
            if not c.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise NotFound(f"No user with id {user_id!r}.")
            # A grant on a bucket that does not exist yet would silently apply to whoever creates it.
            found = c.execute("SELECT id FROM buckets WHERE name = ?", (bucket,)).fetchone()
            if not found:
                raise NoSuchBucket(BucketName=bucket)
            c.execute(
                _UPSERT_GRANT,
                (secrets.token_hex(16), user_id, bucket, prefix, Permission(permission).value, time.time(),
                 found[0], int(share)),
            )
            row = c.execute(
                _GRANTS + " WHERE user_id = ? AND bucket = ? AND prefix = ?",
                (user_id, bucket, prefix),
            ).fetchone()
            c.execute(rows.BUMP_GENERATION)
        return rows.grant(row)

    def list_grants(self, user_id: str | None = None, bucket: str | None = None) -> list[Grant]:
        where: list[str] = []
        params: list[str] = []
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if bucket is not None:
            where.append("bucket = ?")
            params.append(bucket)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return [rows.grant(r) for r in self._fetch_all(
            _GRANTS + clause + " ORDER BY bucket, prefix, user_id", params)]

    def remove_grant(self, grant_id: str) -> None:
        with self._db.transaction() as c:
            if c.execute("DELETE FROM grants WHERE id = ?", (grant_id,)).rowcount == 0:
                raise NotFound("No such grant.")
            c.execute(rows.BUMP_GENERATION)

    # --- buckets ---------------------------------------------------------------------------------
    def create_bucket(self, bucket: Bucket) -> Bucket:
        """The bucket gets its identity here (unless the caller chose one): random, never reused."""
        if not bucket.id:
            bucket = dataclasses.replace(bucket, id=secrets.token_hex(16))
        with self._db.transaction() as c:
            if c.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket.name,)).fetchone():
                raise Conflict(f"A bucket named {bucket.name!r} already exists.")
            if not c.execute("SELECT 1 FROM accounts WHERE id = ?", (bucket.account_id,)).fetchone():
                raise NotFound(f"No account with id {bucket.account_id!r}.")
            if bucket.owner_user_id is not None and not c.execute(
                "SELECT 1 FROM users WHERE id = ?", (bucket.owner_user_id,)
            ).fetchone():
                raise NotFound(f"No user with id {bucket.owner_user_id!r}.")
            released = c.execute("SELECT released FROM bucket_names WHERE name = ?", (bucket.name,)).fetchone()
            if released is not None:
                bucket = dataclasses.replace(bucket, links_since=released[0])
            c.execute(_INSERT_BUCKET, rows.bucket_params(bucket))
            c.execute(rows.BUMP_GENERATION)
        return bucket

    def get_bucket(self, name: str) -> Bucket | None:
        row = self._db.conn().execute(_BUCKETS + " WHERE name = ?", (name,)).fetchone()
        return rows.bucket(row) if row else None

    def list_buckets(self, account_id: str | None = None) -> list[Bucket]:
        if account_id is None:
            found = self._fetch_all(_BUCKETS + " ORDER BY name")
        else:
            found = self._fetch_all(
                _BUCKETS + " WHERE account_id = ? ORDER BY name", (account_id,))
        return [rows.bucket(r) for r in found]

    def update_bucket(
        self,
        name: str,
        *,
        public_read: bool | _Unset = UNSET,
        cors: tuple[CorsRule, ...] | _Unset | None = UNSET,
        max_link_lifetime: int | _Unset | None = UNSET,
        sharing: Sharing | _Unset = UNSET,
        policy: str | _Unset | None = UNSET,
    ) -> Bucket:
        changes: dict[str, Any] = {}
        if not isinstance(policy, _Unset):
            changes["policy"] = policy
        if not isinstance(public_read, _Unset):
            changes["public_read"] = int(public_read)
        if not isinstance(cors, _Unset):
            changes["cors"] = rows.dump_cors(cors)
        if not isinstance(max_link_lifetime, _Unset):
            changes["max_link_lifetime"] = max_link_lifetime
        if not isinstance(sharing, _Unset):
            changes["sharing"] = Sharing(sharing).value
        with self._db.transaction() as c:
            self._update(c, "buckets", "name", name, changes, NoSuchBucket(BucketName=name))
            row = c.execute(_BUCKETS + " WHERE name = ?", (name,)).fetchone()
        return rows.bucket(row)

    def set_bucket_owner(self, name: str, owner_user_id: str | None) -> Bucket:
        with self._db.transaction() as c:
            found = c.execute("SELECT account_id FROM buckets WHERE name = ?", (name,)).fetchone()
            if not found:
                raise NoSuchBucket(BucketName=name)
            if owner_user_id is not None:
                user = c.execute("SELECT account_id FROM users WHERE id = ?", (owner_user_id,)).fetchone()
                if not user:
                    raise NotFound(f"No user with id {owner_user_id!r}.")
                if user[0] != found[0]:
                    raise Conflict("A bucket's owner is a user of the bucket's account.")
            c.execute("UPDATE buckets SET owner_user_id = ? WHERE name = ?", (owner_user_id, name))
            c.execute(rows.BUMP_GENERATION)
            row = c.execute(_BUCKETS + " WHERE name = ?", (name,)).fetchone()
        return rows.bucket(row)

    def delete_bucket(self, name: str, now: float | None = None) -> list[str]:
        with self._db.transaction() as c:
            found = c.execute("SELECT id FROM buckets WHERE name = ?", (name,)).fetchone()
            if not found:
                raise NoSuchBucket(BucketName=name)
            if (c.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone()
                    or c.execute("SELECT 1 FROM object_versions WHERE bucket = ? LIMIT 1", (name,)).fetchone()):
                raise BucketNotEmpty(BucketName=name)
            live = c.execute(LIVE_PARS, (found[0], time.time() if now is None else now)).fetchone()[0]
            if live:  # OCI: a bucket with pre-authenticated requests cannot be deleted
                raise BucketNotEmpty(f"The bucket has {live} live pre-authenticated request(s); delete them first "
                                     "(satchel par list / satchel par delete).", BucketName=name)
            # Unfinished multipart uploads do not keep a bucket alive (S3 deletes them with it): their parts'
            # blobs die in this transaction, for the collector.
            dead = self._drop_uploads(c, name, time.time())
            # Grants die with their bucket (grants.bucket references buckets.name); links, revocations and
            # audit rows stay, bound to this bucket's id, which no later bucket of the same name has.
            c.execute("DELETE FROM grants WHERE bucket = ?", (name,))
            # TempURL keys are secrets: they go with their container (rows are bound to its id anyway).
            c.execute("DELETE FROM tempurl_keys WHERE bucket_id = (SELECT id FROM buckets WHERE name = ?)", (name,))
            # So does its Swift container metadata, whichever front-end deletes it (S3, Swift, management API).
            c.execute("DELETE FROM swift_metadata WHERE scope = 'container' AND owner_id = ?", (found[0],))
            c.execute("DELETE FROM versioning_buckets WHERE bucket_id = ?", (found[0],))
            c.execute("DELETE FROM sse_bucket_defaults WHERE bucket_id = ?", (found[0],))  # encryption at rest
            drop_bucket_settings(c, found[0])  # its tags and lifecycle rules
            c.execute("DELETE FROM buckets WHERE name = ?", (name,))
            # Offline links name the bucket, not its id: the next bucket of this name refuses those issued
            # before now (``Bucket.links_since``).
            c.execute("INSERT INTO bucket_names (name, released) VALUES (?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET released = excluded.released",
                      (name, time.time() if now is None else now))
            c.execute(rows.BUMP_GENERATION)
        return dead
