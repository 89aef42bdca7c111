"""Management operations and first-start bootstrap against a real SQLite store."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from satchel.config import Settings
from satchel.core import identity
from satchel.core.credentials import CredentialCache
from satchel.core.errors import Conflict, InvalidArgument, NoSuchBucket, NotFound
from satchel.core.masterkey import MasterKey, load_master_key
from satchel.core.models import Account, Bucket, Permission, Role, Status
from satchel.meta.sqlite import SqliteStore


@pytest.fixture
def master_key(tmp_path: Path) -> MasterKey:
    return load_master_key(tmp_path)


@pytest.fixture
def acme(store: SqliteStore) -> Account:
    return identity.create_account(store, "acme")


def _bucket(store: SqliteStore, account: Account, name: str, owner: str | None = None) -> Bucket:
    return store.create_bucket(Bucket(name=name, account_id=account.id, owner_user_id=owner, created=0.0))


# --- accounts and users -----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "-lead", ".x", "a b", "a/b", "x" * 65, "ümlaut"])
def test_bad_names_are_refused(store: SqliteStore, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        identity.create_account(store, bad)
    account = identity.create_account(store, "ok")
    with pytest.raises(InvalidArgument):
        identity.create_user(store, account.id, bad)


def test_accounts(store: SqliteStore) -> None:
    a = identity.create_account(store, "acme")
    b = identity.create_account(store, "beta.corp")
    with pytest.raises(Conflict):
        identity.create_account(store, "acme")
    assert {x.name for x in identity.list_accounts(store)} == {"acme", "beta.corp"}
    assert identity.account_by_name(store, "acme") == a
    assert identity.account_by_name(store, "beta.corp") == b
    with pytest.raises(NotFound):
        identity.account_by_name(store, "nope")


def test_users(store: SqliteStore, acme: Account) -> None:
    other = identity.create_account(store, "other")
    alice = identity.create_user(store, acme.id, "alice@example.com", Role.ADMIN)
    bob = identity.create_user(store, other.id, "bob")
    assert alice.role is Role.ADMIN and bob.role is Role.MEMBER and alice.active
    with pytest.raises(Conflict):
        identity.create_user(store, other.id, "alice@example.com")  # unique across the node
    with pytest.raises(NotFound):
        identity.create_user(store, "no-such-account", "carol")
    assert [u.name for u in identity.list_users(store, acme.id)] == ["alice@example.com"]
    assert {u.name for u in identity.list_users(store)} == {"alice@example.com", "bob"}
    assert identity.user_by_name(store, "bob") == bob
    with pytest.raises(NotFound):
        identity.user_by_name(store, "carol")

    assert identity.set_user_status(store, bob.id, Status.DISABLED).status is Status.DISABLED
    assert identity.set_user_status(store, bob.id, Status.ACTIVE).active
    identity.delete_user(store, bob.id)
    with pytest.raises(NotFound):
        identity.user_by_name(store, "bob")
    with pytest.raises(NotFound):
        identity.delete_user(store, bob.id)


def test_user_owning_a_bucket_cannot_be_deleted(store: SqliteStore, acme: Account) -> None:
    alice = identity.create_user(store, acme.id, "alice")
    _bucket(store, acme, "alices", owner=alice.id)
    with pytest.raises(Conflict):
        identity.delete_user(store, alice.id)


def test_passwords(store: SqliteStore, acme: Account) -> None:
    alice = identity.create_user(store, acme.id, "alice", password="correct horse")
    assert alice.password_hash is not None and "correct horse" not in alice.password_hash
    assert alice.password_hash.startswith("$argon2id$")
    assert identity.verify_password(alice, "correct horse")
    assert not identity.verify_password(alice, "correct horsE")
    assert not identity.verify_password(alice, "")

    with pytest.raises(InvalidArgument):
        identity.create_user(store, acme.id, "bob", password="short")
    with pytest.raises(InvalidArgument):
        identity.set_password(store, alice.id, "x" * 1025)

    changed = identity.set_password(store, alice.id, "battery staple")
    assert identity.verify_password(changed, "battery staple")
    assert not identity.verify_password(changed, "correct horse")

    removed = identity.set_password(store, alice.id, None)
    assert removed.password_hash is None
    assert not identity.verify_password(removed, "battery staple")
    # A user without a password never matches, not even the dummy hash's input.
    assert not identity.verify_password(removed, "")

    broken = dataclasses.replace(alice, password_hash="not-a-hash")
    assert not identity.verify_password(broken, "correct horse")


# --- access keys ------------------------------------------------------------------------------------
def test_access_keys(store: SqliteStore, master_key: MasterKey, acme: Account) -> None:
    alice = identity.create_user(store, acme.id, "alice")
    key = identity.create_access_key(store, master_key, alice.id)
    assert key.access_key_id.startswith("SK") and len(key.secret) == 40 and key.active
    assert key.secret not in repr(key)

    imported = identity.create_access_key(store, master_key, alice.id, access_key_id="AKIAIOSFODNN7EXAMPLE",
                                          secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    cache = CredentialCache(store, master_key)
    found = cache.lookup("AKIAIOSFODNN7EXAMPLE")
    assert found is not None and found[0].secret == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with pytest.raises(Conflict):
        identity.create_access_key(store, master_key, alice.id, access_key_id="AKIAIOSFODNN7EXAMPLE")
    with pytest.raises(NotFound):
        identity.create_access_key(store, master_key, "no-such-user")
    with pytest.raises(InvalidArgument):
        identity.create_access_key(store, master_key, alice.id, secret="short")

    listed = identity.list_access_keys(store, alice.id)
    assert {k.access_key_id for k in listed} == {key.access_key_id, imported.access_key_id}
    assert all(key.secret.encode() not in k.secret_ciphertext for k in listed)
    assert identity.access_key(store, key.access_key_id).user_id == alice.id
    with pytest.raises(NotFound):
        identity.access_key(store, "SKNOPE")

    disabled = identity.set_access_key_status(store, key.access_key_id, Status.DISABLED)
    assert disabled.status is Status.DISABLED
    identity.delete_access_key(store, key.access_key_id)
    with pytest.raises(NotFound):
        identity.delete_access_key(store, key.access_key_id)
    with pytest.raises(NotFound):
        identity.set_access_key_status(store, key.access_key_id, Status.ACTIVE)


# --- grants and buckets -----------------------------------------------------------------------------
def test_grants(store: SqliteStore, acme: Account) -> None:
    alice = identity.create_user(store, acme.id, "alice")
    bob = identity.create_user(store, acme.id, "bob")
    _bucket(store, acme, "photos")
    _bucket(store, acme, "docs")
    with pytest.raises(NoSuchBucket):
        identity.add_grant(store, alice.id, "missing", Permission.READ)
    with pytest.raises(NotFound):
        identity.add_grant(store, "no-such-user", "photos", Permission.READ)

    g1 = identity.add_grant(store, alice.id, "photos", Permission.READ)
    g2 = identity.add_grant(store, alice.id, "docs", Permission.READ_WRITE, prefix="team/")
    g3 = identity.add_grant(store, bob.id, "photos", Permission.READ_WRITE)
    assert (g2.prefix, g2.permission) == ("team/", Permission.READ_WRITE)
    assert set(identity.list_grants(store, user_id=alice.id)) == {g1, g2}
    assert set(identity.list_grants(store, bucket="photos")) == {g1, g3}
    assert identity.list_grants(store, user_id=bob.id, bucket="docs") == []

    upgraded = identity.add_grant(store, alice.id, "photos", Permission.READ_WRITE)
    assert upgraded.permission is Permission.READ_WRITE
    assert len(identity.list_grants(store, user_id=alice.id, bucket="photos")) == 1

    identity.remove_grant(store, g3.id)
    assert identity.list_grants(store, user_id=bob.id) == []
    with pytest.raises(NotFound):
        identity.remove_grant(store, g3.id)


def test_grants_die_with_their_bucket(store: SqliteStore, acme: Account) -> None:
    """A bucket re-created under the same name by someone else must not inherit old grants."""
    alice = identity.create_user(store, acme.id, "alice")
    _bucket(store, acme, "shared")
    identity.add_grant(store, alice.id, "shared", Permission.READ)
    store.delete_bucket("shared")
    _bucket(store, acme, "shared")
    assert identity.list_grants(store, user_id=alice.id) == []


def test_bucket_public_and_list(store: SqliteStore, acme: Account) -> None:
    other = identity.create_account(store, "other")
    _bucket(store, acme, "b1")
    _bucket(store, other, "b2")
    assert identity.set_bucket_public(store, "b1", True).public_read
    assert not identity.set_bucket_public(store, "b1", False).public_read
    with pytest.raises(NoSuchBucket):
        identity.set_bucket_public(store, "nope", True)
    assert [b.name for b in identity.list_buckets(store)] == ["b1", "b2"]
    assert [b.name for b in identity.list_buckets(store, other.id)] == ["b2"]


# --- bootstrap ----------------------------------------------------------------------------------------
def test_bootstrap_generates_everything_once(tmp_path: Path, store: SqliteStore) -> None:
    settings = Settings(data_dir=tmp_path)
    result = identity.bootstrap(store, settings, {})
    assert result is not None
    assert result.generated_access_key_id and result.generated_secret_access_key and result.generated_password
    assert result.account.name == "root" and result.user.name == "root" and result.user.role is Role.ADMIN
    assert result.secret_access_key not in repr(result) and result.password not in repr(result)
    # The generated credentials work: the key decrypts with the node's master key, the password verifies.
    cache = CredentialCache(store, load_master_key(tmp_path))
    key, principal = cache.resolve(result.access_key_id)
    assert key.secret == result.secret_access_key and principal.user == result.user
    assert identity.verify_password(identity.user_by_name(store, "root"), result.password)

    assert identity.bootstrap(store, settings, {}) is None
    assert len(identity.list_accounts(store)) == 1 and len(identity.list_access_keys(store)) == 1


def test_bootstrap_takes_credentials_from_env(tmp_path: Path, store: SqliteStore) -> None:
    env = {identity.ENV_ROOT_ACCESS_KEY: "AKIAIOSFODNN7EXAMPLE",
           identity.ENV_ROOT_SECRET_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           identity.ENV_ROOT_PASSWORD: "hunter2hunter2"}
    result = identity.bootstrap(store, Settings(data_dir=tmp_path), env)
    assert result is not None
    assert not (result.generated_access_key_id or result.generated_secret_access_key
                or result.generated_password)
    assert result.access_key_id == "AKIAIOSFODNN7EXAMPLE"
    cache = CredentialCache(store, load_master_key(tmp_path))
    assert cache.resolve("AKIAIOSFODNN7EXAMPLE")[0].secret == env[identity.ENV_ROOT_SECRET_KEY]
    assert identity.verify_password(identity.user_by_name(store, "root"), "hunter2hunter2")
    # Changing the variables later changes nothing.
    assert identity.bootstrap(store, Settings(data_dir=tmp_path), {identity.ENV_ROOT_PASSWORD: "x" * 10}) is None


def test_bootstrap_partial_env_generates_the_rest(tmp_path: Path, store: SqliteStore) -> None:
    result = identity.bootstrap(store, Settings(data_dir=tmp_path), {identity.ENV_ROOT_ACCESS_KEY: "rootkey"})
    assert result is not None
    assert result.access_key_id == "rootkey" and not result.generated_access_key_id
    assert result.generated_secret_access_key and result.generated_password


@pytest.mark.parametrize("env", [
    {identity.ENV_ROOT_ACCESS_KEY: "a/b"},
    {identity.ENV_ROOT_SECRET_KEY: "short"},
    {identity.ENV_ROOT_PASSWORD: "short"},
])
def test_bootstrap_with_bad_env_creates_nothing(tmp_path: Path, store: SqliteStore, env: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument):
        identity.bootstrap(store, Settings(data_dir=tmp_path), env)
    assert identity.list_accounts(store) == []


def test_bootstrap_does_nothing_on_a_node_set_up_otherwise(tmp_path: Path, store: SqliteStore) -> None:
    identity.create_account(store, "acme")
    assert identity.bootstrap(store, Settings(data_dir=tmp_path), {}) is None
    assert identity.list_users(store) == []


def test_bootstrap_resumes_after_a_crash_between_account_and_user(tmp_path: Path, store: SqliteStore) -> None:
    root = identity.create_account(store, "root")
    result = identity.bootstrap(store, Settings(data_dir=tmp_path), {})
    assert result is not None and result.account == root


def test_bootstrap_loses_races_quietly(tmp_path: Path, store: SqliteStore, master_key: MasterKey,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process creates the account or the user between our check and our write."""
    real_create_account = store.create_account

    def racing_create_account(name: str) -> Account:
        real_create_account(name)
        return real_create_account(name)  # the second create is ours, and conflicts

    monkeypatch.setattr(store, "create_account", racing_create_account)
    assert identity.bootstrap(store, Settings(data_dir=tmp_path), {}, master_key=master_key) is None
    monkeypatch.undo()

    root = identity.account_by_name(store, "root")
    identity.create_user(store, root.id, "root", Role.ADMIN)  # the other process won the user too
    real_list_users = store.list_users
    monkeypatch.setattr(store, "list_users", lambda account_id=None: [])
    assert identity.bootstrap(store, Settings(data_dir=tmp_path), {}, master_key=master_key) is None
    monkeypatch.setattr(store, "list_users", real_list_users)
    assert identity.list_access_keys(store) == []
