"""Master key, access key formats, sealing, and the credential cache against a real SQLite store."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from satchel.core import identity
from satchel.core.credentials import (
    CredentialCache,
    check_access_key_id,
    check_secret_key,
    new_access_key_id,
    new_secret_key,
    seal_secret,
    unseal_secret,
)
from satchel.core.errors import AccessDenied, InvalidAccessKeyId, InvalidArgument
from satchel.core.masterkey import (
    KEY_SIZE,
    MASTER_KEY_FILE,
    MasterKey,
    MasterKeyError,
    SealedValueError,
    load_master_key,
)
from satchel.core.models import AccessKey, Bucket, Permission, Principal, Role, Status, User
from satchel.meta.sqlite import SqliteStore
from satchel.meta.store import StoredKey


@pytest.fixture
def master_key(tmp_path: Path) -> MasterKey:
    return load_master_key(tmp_path)


@pytest.fixture
def alice(store: SqliteStore, master_key: MasterKey) -> tuple[User, AccessKey]:
    account = identity.create_account(store, "acme")
    user = identity.create_user(store, account.id, "alice", Role.MEMBER)
    return user, identity.create_access_key(store, master_key, user.id)


# --- master key ---------------------------------------------------------------------------------------
def test_master_key_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    first = load_master_key(data_dir)
    path = data_dir / MASTER_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == KEY_SIZE
    sealed = first.seal(b"secret", b"id")
    assert load_master_key(data_dir).unseal(sealed, b"id") == b"secret"
    assert [p.name for p in data_dir.iterdir()] == [MASTER_KEY_FILE]  # no temporary file left


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_master_key_with_group_or_other_access_is_refused(tmp_path: Path, mode: int) -> None:
    load_master_key(tmp_path)
    os.chmod(tmp_path / MASTER_KEY_FILE, mode)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_master_key(tmp_path)


def test_master_key_of_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / MASTER_KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"short")
    os.close(fd)
    with pytest.raises(MasterKeyError, match="corrupted"):
        load_master_key(tmp_path)
    with pytest.raises(MasterKeyError):
        MasterKey(b"x" * 16)


def test_master_key_symlink_and_directory_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(KEY_SIZE))
    os.close(fd)
    (tmp_path / "a").mkdir()
    os.symlink(target, tmp_path / "a" / MASTER_KEY_FILE)
    with pytest.raises(OSError):
        load_master_key(tmp_path / "a")
    (tmp_path / "b" / MASTER_KEY_FILE).mkdir(parents=True, mode=0o700)
    with pytest.raises((MasterKeyError, OSError)):
        load_master_key(tmp_path / "b")


def test_concurrent_first_use_yields_one_key(tmp_path: Path) -> None:
    """Worker processes starting together must agree on one key."""
    code = ("import sys; from pathlib import Path; from satchel.core.masterkey import load_master_key;"
            "print(load_master_key(Path(sys.argv[1])).seal(b'x', b'y').hex())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(6)]
    sealed = [bytes.fromhex(p.communicate(timeout=60)[0].strip()) for p in procs]
    key = load_master_key(tmp_path)
    assert all(key.unseal(s, b"y") == b"x" for s in sealed)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MASTER_KEY_FILE]


def test_master_key_repr_hides_the_key(master_key: MasterKey) -> None:
    assert "redacted" in repr(master_key)


# --- formats and sealing ----------------------------------------------------------------------------
def test_generated_ids_and_secrets() -> None:
    ids = {new_access_key_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"SK[A-Z0-9]{18}", i) for i in ids)
    secrets_ = {new_secret_key() for _ in range(200)}
    assert len(secrets_) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{40}", s) for s in secrets_)
    assert all(check_access_key_id(i) == i for i in ids)
    assert all(check_secret_key(s) == s for s in secrets_)


@pytest.mark.parametrize("bad", ["", "ab", "a/b" * 3, "AKIA:X", "has space", "x" * 129, "é" * 5])
def test_bad_imported_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        check_access_key_id(bad)


@pytest.mark.parametrize("bad", ["short", "with space inside", "x" * 129, "tab\tinside", "ünïcödé!"])
def test_bad_imported_secrets_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_secret_key(bad)
    assert bad not in str(info.value)


def test_imported_aws_style_pair_is_accepted() -> None:
    # The example pair from the AWS documentation.
    assert check_access_key_id("AKIAIOSFODNN7EXAMPLE")
    assert check_secret_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def test_sealed_secret_is_bound_to_its_key_id(master_key: MasterKey) -> None:
    sealed = seal_secret(master_key, "SKAAAA", "the-secret-value")
    assert b"the-secret-value" not in sealed
    assert sealed != seal_secret(master_key, "SKAAAA", "the-secret-value")  # fresh nonce each time
    stored = StoredKey("SKAAAA", "u", sealed, Status.ACTIVE, 0.0)
    assert unseal_secret(master_key, stored) == "the-secret-value"
    with pytest.raises(SealedValueError):
        unseal_secret(master_key, StoredKey("SKBBBB", "u", sealed, Status.ACTIVE, 0.0))
    with pytest.raises(SealedValueError):
        unseal_secret(MasterKey(os.urandom(KEY_SIZE)), stored)
    with pytest.raises(SealedValueError):
        unseal_secret(master_key, StoredKey("SKAAAA", "u", sealed[:20], Status.ACTIVE, 0.0))
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(SealedValueError):
        unseal_secret(master_key, StoredKey("SKAAAA", "u", bytes(tampered), Status.ACTIVE, 0.0))


@pytest.mark.sqlite_only  # reads the SQLite file itself
def test_store_holds_only_ciphertext(tmp_path: Path, store: SqliteStore,
                                     alice: tuple[User, AccessKey]) -> None:
    _, key = alice
    assert store.get_access_key(key.access_key_id) is not None
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("meta.sqlite3*"))
    assert key.access_key_id.encode() in raw
    assert key.secret.encode() not in raw


# --- the cache ---------------------------------------------------------------------------------------
def test_lookup_returns_key_and_principal(store: SqliteStore, master_key: MasterKey,
                                          alice: tuple[User, AccessKey]) -> None:
    user, key = alice
    account = store.get_account_by_name("acme")
    assert account is not None
    store.create_bucket(Bucket(name="b", account_id=account.id, owner_user_id=None, created=0.0))
    grant = store.add_grant(user.id, "b", "", Permission.READ)
    cache = CredentialCache(store, master_key)
    found = cache.lookup(key.access_key_id)
    assert found is not None
    got_key, principal = found
    assert got_key == key
    assert principal == Principal(user=user, access_key_id=key.access_key_id, grants=(grant,))
    assert cache.resolve(key.access_key_id) == found
    assert cache.lookup("SKNOSUCHKEY000000000") is None
    with pytest.raises(InvalidAccessKeyId):
        cache.resolve("SKNOSUCHKEY000000000")


def test_hit_reads_only_the_generation(store: SqliteStore, master_key: MasterKey,
                                       alice: tuple[User, AccessKey],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, key = alice
    cache = CredentialCache(store, master_key)
    assert cache.lookup(key.access_key_id) is not None

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit must not read keys, users or grants")

    for name in ("get_access_key", "get_user", "list_grants"):
        monkeypatch.setattr(store, name, forbidden)
    assert cache.lookup(key.access_key_id) is not None
    assert cache.principal_for_user(key.user_id).user is not None


@pytest.mark.sqlite_only  # an unwatched cache polls the generation: a round trip on PostgreSQL (the app watches it)
def test_hit_is_fast(store: SqliteStore, master_key: MasterKey, alice: tuple[User, AccessKey]) -> None:
    """Measured ~4.5 µs per hit with a generation check on every call; the bound is generous."""
    _, key = alice
    cache = CredentialCache(store, master_key)
    cache.lookup(key.access_key_id)
    rounds = 5000
    start = time.perf_counter()
    for _ in range(rounds):
        cache.lookup(key.access_key_id)
    assert (time.perf_counter() - start) / rounds < 100e-6


def test_changes_apply_on_the_next_lookup(store: SqliteStore, master_key: MasterKey,
                                          alice: tuple[User, AccessKey]) -> None:
    user, key = alice
    cache = CredentialCache(store, master_key)
    cache.resolve(key.access_key_id)

    identity.set_access_key_status(store, key.access_key_id, Status.DISABLED)
    found = cache.lookup(key.access_key_id)
    assert found is not None and not found[0].active
    with pytest.raises(InvalidAccessKeyId):
        cache.resolve(key.access_key_id)

    identity.set_access_key_status(store, key.access_key_id, Status.ACTIVE)
    identity.set_user_status(store, user.id, Status.DISABLED)
    with pytest.raises(AccessDenied):
        cache.resolve(key.access_key_id)
    assert not cache.principal_for_user(user.id).user.active  # type: ignore[union-attr]

    identity.set_user_status(store, user.id, Status.ACTIVE)
    cache.resolve(key.access_key_id)
    identity.delete_access_key(store, key.access_key_id)
    assert cache.lookup(key.access_key_id) is None


def test_grant_removal_and_user_deletion_apply_at_once(store: SqliteStore, master_key: MasterKey,
                                                        alice: tuple[User, AccessKey]) -> None:
    user, key = alice
    account = store.get_account_by_name("acme")
    assert account is not None
    store.create_bucket(Bucket(name="b", account_id=account.id, owner_user_id=None, created=0.0))
    grant = identity.add_grant(store, user.id, "b", Permission.READ_WRITE, prefix="p/")
    cache = CredentialCache(store, master_key)
    assert cache.principal_for_user(user.id).grants == (grant,)
    identity.remove_grant(store, grant.id)
    assert cache.principal_for_user(user.id).grants == ()
    found = cache.lookup(key.access_key_id)
    assert found is not None and found[1].grants == ()
    identity.delete_user(store, user.id)
    assert cache.lookup(key.access_key_id) is None
    with pytest.raises(AccessDenied):
        cache.principal_for_user(user.id)


@pytest.mark.sqlite_only  # a second process on the same SQLite file; PostgreSQL: tests/unit/meta/test_postgres.py
def test_change_from_another_process_is_seen(tmp_path: Path, store: SqliteStore, master_key: MasterKey,
                                             alice: tuple[User, AccessKey]) -> None:
    """What a worker sees when the admin CLI (another process) disables a key."""
    _, key = alice
    cache = CredentialCache(store, master_key)
    cache.resolve(key.access_key_id)
    code = ("import sys; from satchel.meta.sqlite import SqliteStore;"
            "from satchel.core.models import Status;"
            "s = SqliteStore(sys.argv[1]);"
            "s.update_access_key(sys.argv[2], status=Status.DISABLED); s.close()")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "meta.sqlite3"), key.access_key_id],
                   check=True, timeout=60)
    with pytest.raises(InvalidAccessKeyId):
        cache.resolve(key.access_key_id)


def test_recheck_interval_bounds_staleness(store: SqliteStore, master_key: MasterKey,
                                          alice: tuple[User, AccessKey]) -> None:
    _, key = alice
    now = [100.0]
    cache = CredentialCache(store, master_key, recheck_interval=0.5, monotonic=lambda: now[0])
    cache.resolve(key.access_key_id)
    identity.set_access_key_status(store, key.access_key_id, Status.DISABLED)
    now[0] += 0.4
    cache.resolve(key.access_key_id)  # still within the interval: the cached answer stands
    now[0] += 0.1
    with pytest.raises(InvalidAccessKeyId):
        cache.resolve(key.access_key_id)
    identity.set_access_key_status(store, key.access_key_id, Status.ACTIVE)
    cache.invalidate()
    cache.resolve(key.access_key_id)


def test_cache_size_is_bounded(store: SqliteStore, master_key: MasterKey,
                               alice: tuple[User, AccessKey]) -> None:
    user, _ = alice
    keys = [identity.create_access_key(store, master_key, user.id) for _ in range(5)]
    cache = CredentialCache(store, master_key, max_entries=3)
    for key in keys:
        found = cache.lookup(key.access_key_id)
        assert found is not None and found[0] == key
        assert len(cache._keys) <= 3


def test_key_whose_user_vanished_is_unknown(store: SqliteStore, master_key: MasterKey,
                                            alice: tuple[User, AccessKey],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The user deleted between reading the key and reading the user: treat the key as gone."""
    _, key = alice
    monkeypatch.setattr(store, "get_user", lambda user_id: None)
    assert CredentialCache(store, master_key).lookup(key.access_key_id) is None
