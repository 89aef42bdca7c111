"""Management of accounts, users, access keys and grants: what the admin CLI, the JSON API and the
console call. Permission checks happen in the callers (the CLI is node-local and trusted; the API runs
:func:`satchel.core.access.authorize` first); this module keeps the data valid.

Names of accounts and users are 1-64 characters ``[A-Za-z0-9][A-Za-z0-9._@+-]*`` (an email address
works); user names are unique across the node, so a login needs no account name.

Passwords (console login) are hashed with Argon2id (argon2-cffi defaults, RFC 9106 low-memory profile).

First start: :func:`bootstrap` creates the account ``root`` with the admin user ``root`` and one access
key, from ``SATCHEL_ROOT_ACCESS_KEY`` / ``SATCHEL_ROOT_SECRET_KEY`` / ``SATCHEL_ROOT_PASSWORD`` when set,
generated otherwise; whoever calls it prints the generated values once. Later starts change nothing,
even if those variables change: rotate credentials with ``satchel admin key`` instead.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from satchel.config import Settings
from satchel.core.admission import check_lifetime_ceiling
from satchel.core.credentials import (
    check_access_key_id,
    check_secret_key,
    new_access_key_id,
    new_secret_key,
    seal_secret,
)
from satchel.core.errors import AccessDenied, Conflict, InvalidArgument, NoSuchBucket, NotFound
from satchel.core.masterkey import MasterKey, open_master_key
from satchel.core.models import (
    AccessKey,
    Account,
    Bucket,
    Grant,
    Permission,
    PublicAccessBlock,
    Role,
    Sharing,
    Status,
    User,
)
from satchel.core.publicaccess import BLOCKED, effective
from satchel.meta.store import Store, StoredKey

ROOT_NAME = "root"
ENV_ROOT_ACCESS_KEY = "SATCHEL_ROOT_ACCESS_KEY"
ENV_ROOT_SECRET_KEY = "SATCHEL_ROOT_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)
ENV_ROOT_PASSWORD = "SATCHEL_ROOT_PASSWORD"  # noqa: S105 (a variable name, not a secret)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_hasher = PasswordHasher()
_dummy_hash: str | None = None


# --- accounts ---------------------------------------------------------------------------------------
def create_account(store: Store, name: str) -> Account:
    """Raises ``InvalidArgument`` (bad name) or ``Conflict`` (name taken)."""
    return store.create_account(_check_name("account", name))


def list_accounts(store: Store) -> list[Account]:
    return store.list_accounts()


def account_by_name(store: Store, name: str) -> Account:
    account = store.get_account_by_name(name)
    if account is None:
        raise NotFound(f"no account named {name!r}")
    return account


def delete_account(store: Store, account_id: str) -> None:
    """Raises ``NotFound``, or ``Conflict`` while the account has users or buckets; the node's operator
    account (:data:`ROOT_NAME`) is refused by the callers that check permissions (``core/accounts.py``)."""
    store.delete_account(account_id)


# --- users ------------------------------------------------------------------------------------------
def create_user(
    store: Store, account_id: str, name: str, role: Role = Role.MEMBER, password: str | None = None
) -> User:
    """Raises ``InvalidArgument``, ``Conflict`` (name taken) or ``NotFound`` (account)."""
    password_hash = hash_password(password) if password is not None else None
    return store.create_user(account_id, _check_name("user", name), role, password_hash)


def list_users(store: Store, account_id: str | None = None) -> list[User]:
    return store.list_users(account_id)


def user_by_name(store: Store, name: str) -> User:
    user = store.get_user_by_name(name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def user_id_for(store: Store, name_or_id: str) -> str:
    """The id of the user named ``name_or_id``, or ``name_or_id`` itself (an id, or nobody): filters
    accept either."""
    user = store.get_user_by_name(name_or_id)
    return user.id if user is not None else name_or_id


def set_user_status(store: Store, user_id: str, status: Status) -> User:
    """Disabling a user stops its keys and every link it signed at once (the generation moves)."""
    return store.update_user(user_id, status=status)


def delete_user(store: Store, user_id: str) -> None:
    """Deletes the user with its keys, grants and mint calls' webhooks; ``Conflict`` while it owns buckets."""
    store.delete_user(user_id)


def set_password(store: Store, user_id: str, password: str | None) -> User:
    """Sets (or with None removes) the console password."""
    return store.update_user(user_id, password_hash=hash_password(password) if password is not None else None)


def hash_password(password: str) -> str:
    return _hasher.hash(_check_password(password))


def verify_password(user: User, password: str) -> bool:
    """True when ``password`` is the user's. Does not look at the user's status (the caller does)."""
    global _dummy_hash
    stored = user.password_hash
    if stored is None:
        # Spend the same time as a real check, so response times do not reveal which users have a
        # password.
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        stored, password = _dummy_hash, password + "\x00never"
    try:
        return _hasher.verify(stored, password) and user.password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# --- access keys ------------------------------------------------------------------------------------
def create_access_key(
    store: Store,
    master_key: MasterKey,
    user_id: str,
    *,
    access_key_id: str | None = None,
    secret: str | None = None,
) -> AccessKey:
    """Creates a key for the user; the returned value holds the plaintext secret, shown only once.

    ``access_key_id`` / ``secret`` import an existing pair; by default both are generated.
    """
    if store.get_user(user_id) is None:
        raise NotFound(f"no user with id {user_id!r}")
    key_id = check_access_key_id(access_key_id) if access_key_id is not None else new_access_key_id()
    plain = check_secret_key(secret) if secret is not None else new_secret_key()
    if store.get_access_key(key_id) is not None:
        raise Conflict(f"access key {key_id} already exists")
    stored = store.create_access_key(user_id, key_id, seal_secret(master_key, key_id, plain))
    return AccessKey(
        access_key_id=stored.access_key_id,
        user_id=stored.user_id,
        secret=plain,
        status=stored.status,
        created=stored.created,
    )


def list_access_keys(store: Store, user_id: str | None = None) -> list[StoredKey]:
    """Keys without their secrets (still sealed): listings never show a secret."""
    return store.list_access_keys(user_id)


def access_key(store: Store, access_key_id: str) -> StoredKey:
    stored = store.get_access_key(access_key_id)
    if stored is None:
        raise NotFound(f"no access key {access_key_id!r}")
    return stored


def set_access_key_status(store: Store, access_key_id: str, status: Status) -> StoredKey:
    return store.update_access_key(access_key_id, status=status)


def delete_access_key(store: Store, access_key_id: str) -> None:
    store.delete_access_key(access_key_id)


# --- grants and bucket settings ---------------------------------------------------------------------
def add_grant(
    store: Store, user_id: str, bucket: str, permission: Permission, prefix: str = "", *, share: bool = False
) -> Grant:
    """Raises ``NotFound`` (user) or ``NoSuchBucket``. Granting again replaces the permission and the
    share right. ``share``: the grantee may also hand out links (presigned URLs, minted links, POST
    policies) for what the grant gives; without it, links it signs are refused at use."""
    if store.get_user(user_id) is None:
        raise NotFound(f"no user with id {user_id!r}")
    if store.get_bucket(bucket) is None:
        raise NoSuchBucket(BucketName=bucket)
    return store.add_grant(user_id, bucket, prefix, permission, share)


def list_grants(store: Store, user_id: str | None = None, bucket: str | None = None) -> list[Grant]:
    return store.list_grants(user_id=user_id, bucket=bucket)


def remove_grant(store: Store, grant_id: str) -> None:
    store.remove_grant(grant_id)


def set_bucket_public(store: Store, bucket: str, public: bool) -> Bucket:
    """Public-read: anyone, anonymous included, may list the bucket and read its objects. Refused under
    BlockPublicAcls (the bucket's or its account's: ``core/publicaccess.py``), from the node's shell too."""
    if public:
        found = store.get_bucket(bucket)
        if found is None:
            raise NoSuchBucket(BucketName=bucket)
        if effective(found).block_public_acls:
            raise AccessDenied(BLOCKED)
    return store.update_bucket(bucket, public_read=public)


def set_account_public_block(store: Store, account_name: str, block: PublicAccessBlock | None) -> None:
    """An account's Block Public Access flags (None: delete them), from the node's shell."""
    store.set_account_public_block(account_by_name(store, account_name).id, block)


def set_bucket_link_lifetime(store: Store, bucket: str, seconds: int | None) -> Bucket:
    """The longest lifetime a link to this bucket may have, enforced when links are used (None: only
    the server-wide ceiling applies)."""
    check_lifetime_ceiling(seconds)
    return store.update_bucket(bucket, max_link_lifetime=seconds)


def set_bucket_sharing(store: Store, bucket: str, sharing: Sharing) -> Bucket:
    """Who may hand out links to the bucket: ``grant`` (owners, admins, grants with ``share``) or ``any``
    (whoever may do what the link does, as on AWS)."""
    return store.update_bucket(bucket, sharing=sharing)


def list_buckets(store: Store, account_id: str | None = None) -> list[Bucket]:
    return store.list_buckets(account_id)


# --- first start ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BootstrapResult:
    """What the first start created; the ``generated_*`` flags say which values nobody knows yet."""

    account: Account
    user: User
    access_key_id: str
    secret_access_key: str = field(repr=False)
    password: str = field(repr=False)
    generated_access_key_id: bool
    generated_secret_access_key: bool
    generated_password: bool


def bootstrap(
    store: Store, settings: Settings, env: Mapping[str, str], *, master_key: MasterKey | None = None
) -> BootstrapResult | None:
    """Create the root account, user and key on first start; None when the node is set up already.

    Safe against several processes starting at once (one wins, the others get None) and resumes a
    first start that crashed after creating the account but before its user.
    """
    key_id = env.get(ENV_ROOT_ACCESS_KEY) or None
    secret = env.get(ENV_ROOT_SECRET_KEY) or None
    password = env.get(ENV_ROOT_PASSWORD) or None
    # Validate everything before writing anything, so a bad variable leaves no half-made node.
    if key_id is not None:
        check_access_key_id(key_id)
    if secret is not None:
        check_secret_key(secret)
    if password is not None:
        _check_password(password)

    account = _root_account_to_fill(store)
    if account is None:
        return None
    generated_password = password is None
    if password is None:
        password = secrets.token_urlsafe(18)
    try:
        user = store.create_user(account.id, ROOT_NAME, Role.ADMIN, hash_password(password))
    except Conflict:
        return None
    if master_key is None:
        master_key = open_master_key(settings.master_key_path, create=settings.master_key_file is None)
    key = create_access_key(store, master_key, user.id, access_key_id=key_id, secret=secret)
    return BootstrapResult(
        account=account,
        user=user,
        access_key_id=key.access_key_id,
        secret_access_key=key.secret,
        password=password,
        generated_access_key_id=key_id is None,
        generated_secret_access_key=secret is None,
        generated_password=generated_password,
    )


def _root_account_to_fill(store: Store) -> Account | None:
    if not store.list_accounts():
        try:
            return store.create_account(ROOT_NAME)
        except Conflict:
            return None  # another process is bootstrapping right now
    root = store.get_account_by_name(ROOT_NAME)
    if root is None or store.list_users(root.id):
        return None
    return root


def _check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidArgument(
            f"passwords are {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )
    return password


def _check_name(kind: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"{kind} names are 1-64 characters of A-Z a-z 0-9 . _ @ + - starting with a letter or digit"
        )
    return name
