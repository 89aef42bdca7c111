"""The master key check (core/keycheck.py) on both engines: recorded by the first start, proven by every
later one; a wrong or missing key refuses instead of sealing secrets nobody else can open."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from satchel.config import Settings
from satchel.core import identity, sse
from satchel.core.keycheck import KeyMismatch, node_master_key, opens_check, verified_master_key
from satchel.core.masterkey import KEY_SIZE, MasterKeyError, MasterKeyMissing, load_master_key
from satchel.core.models import Bucket, ObjectRecord, Role, Segment
from satchel.meta.sqlite import SqliteStore


def _write_key(path: Path, data: bytes | None = None, mode: int = 0o600) -> bytes:
    data = data if data is not None else secrets.token_bytes(KEY_SIZE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return data


def _with_a_key(store: SqliteStore, data_dir: Path) -> str:
    """A store holding one access key sealed by ``data_dir``'s key, as before the check existed."""
    account = store.create_account("acme")
    user = store.create_user(account.id, "alice", Role.MEMBER)
    return identity.create_access_key(store, load_master_key(data_dir), user.id).access_key_id


def test_first_start_creates_the_key_and_records_its_check(store: SqliteStore, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    assert store.get_key_check() is None
    key = node_master_key(store, settings)
    assert (tmp_path / "node" / "master.key").is_file()
    recorded = store.get_key_check()
    assert recorded is not None and opens_check(key, recorded)
    # Neither the key nor anything derived from it without the nonce: the check is AES-GCM output.
    assert (tmp_path / "node" / "master.key").read_bytes() not in recorded
    again = node_master_key(store, settings)  # the next start proves the same key
    assert again.unseal(key.seal(b"x", b"y"), b"y") == b"x"
    assert store.get_key_check() == recorded


def test_another_key_is_refused_with_the_file_to_copy(store: SqliteStore, tmp_path: Path) -> None:
    node_master_key(store, Settings(data_dir=tmp_path / "a"))
    _write_key(tmp_path / "b" / "master.key")
    with pytest.raises(KeyMismatch, match=r"does not match the one the metadata was sealed with; copy master\.key"):
        node_master_key(store, Settings(data_dir=tmp_path / "b"))


def test_no_key_where_the_metadata_has_a_check_is_never_created(store: SqliteStore, tmp_path: Path) -> None:
    node_master_key(store, Settings(data_dir=tmp_path / "a"))
    with pytest.raises(MasterKeyMissing, match=r"no master key .* copy master\.key from another node"):
        node_master_key(store, Settings(data_dir=tmp_path / "b"))
    assert not (tmp_path / "b" / "master.key").exists()


def test_an_explicit_key_file_is_never_created(store: SqliteStore, tmp_path: Path) -> None:
    named = tmp_path / "secrets" / "satchel.key"
    with pytest.raises(MasterKeyMissing, match=f"master_key_file {named} does not exist"):
        node_master_key(store, Settings(data_dir=tmp_path / "a", master_key_file=named))
    assert not named.exists() and store.get_key_check() is None


def test_an_explicit_key_may_be_a_read_only_symlinked_mount(store: SqliteStore, tmp_path: Path) -> None:
    # Kubernetes mounts a secret as key -> ..data/key; the target read-only (0400).
    data = _write_key(tmp_path / "mount" / "..data" / "key", mode=0o400)
    os.symlink("..data/key", tmp_path / "mount" / "key")
    settings = Settings(data_dir=tmp_path / "a", master_key_file=tmp_path / "mount" / "key")
    key = node_master_key(store, settings)
    assert not (tmp_path / "a" / "master.key").exists()
    # A node with the same bytes in its data dir is the same deployment.
    _write_key(tmp_path / "b" / "master.key", data)
    node_master_key(store, Settings(data_dir=tmp_path / "b")).unseal(key.seal(b"x", b"y"), b"y")


def test_an_explicit_key_open_to_others_is_refused(store: SqliteStore, tmp_path: Path) -> None:
    named = tmp_path / "mount" / "key"
    _write_key(named, mode=0o440)
    with pytest.raises(MasterKeyError, match="accessible by group or others"):
        node_master_key(store, Settings(data_dir=tmp_path / "a", master_key_file=named))


def test_a_store_from_before_the_check_records_it_once_the_key_opens_an_access_key(
        store: SqliteStore, tmp_path: Path) -> None:
    _with_a_key(store, tmp_path / "a")
    key = node_master_key(store, Settings(data_dir=tmp_path / "a"))
    recorded = store.get_key_check()
    assert recorded is not None and opens_check(key, recorded)


def test_a_store_from_before_the_check_refuses_a_key_that_opens_nothing(store: SqliteStore, tmp_path: Path) -> None:
    key_id = _with_a_key(store, tmp_path / "a")
    _write_key(tmp_path / "b" / "master.key")
    with pytest.raises(KeyMismatch, match=f"does not open the secret of access key {key_id}"):
        node_master_key(store, Settings(data_dir=tmp_path / "b"))
    assert store.get_key_check() is None  # no check sealed with the wrong key


def test_a_store_from_before_the_check_with_secrets_gets_no_new_key(store: SqliteStore, tmp_path: Path) -> None:
    _with_a_key(store, tmp_path / "a")
    with pytest.raises(MasterKeyMissing, match="holds secrets sealed with one"):
        node_master_key(store, Settings(data_dir=tmp_path / "b"))
    assert not (tmp_path / "b" / "master.key").exists()


def test_two_first_starts_with_different_keys_one_wins(store: SqliteStore, tmp_path: Path) -> None:
    """Both found no check; the second's insert loses to the first's, and it reads the winner's back."""
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    _write_key(a)
    _write_key(b)
    first = verified_master_key(store, a, explicit=True)
    recorded = store.get_key_check()
    assert recorded is not None
    sealed_by_b = load_master_key(tmp_path / "unused")  # any other key's check
    assert store.record_key_check(sealed_by_b.seal(b"x", b"y"), 0.0) == recorded  # first insert stands
    with pytest.raises(KeyMismatch):
        verified_master_key(store, b, explicit=True)
    assert opens_check(first, recorded)


def test_a_command_that_may_not_create_a_key_says_so(store: SqliteStore, tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing, match="this command creates none"):
        node_master_key(store, Settings(data_dir=tmp_path / "a"), create=False)
    assert not (tmp_path / "a").exists()


@pytest.mark.sqlite_only
def test_an_explicit_key_that_is_a_fifo_is_refused_without_hanging(store: SqliteStore, tmp_path: Path) -> None:
    named = tmp_path / "key.fifo"
    os.mkfifo(named, 0o600)
    with pytest.raises(MasterKeyError, match="not a regular file"):
        node_master_key(store, Settings(data_dir=tmp_path / "a", master_key_file=named))


@pytest.mark.sqlite_only
def test_an_explicit_key_this_user_cannot_read_names_the_fix(store: SqliteStore, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret mounted 0400 for another uid (the tests run as root, who reads anything: the refusal is faked)."""
    named = tmp_path / "key"
    _write_key(named, mode=0o400)

    def refused(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(MasterKeyError, match=r"cannot be read by this process \(uid \d+\): make it readable"):
        node_master_key(store, Settings(data_dir=tmp_path / "a", master_key_file=named))


def _with_an_encrypted_object(store: SqliteStore, data_dir: Path) -> None:
    """A store holding no access key but one SSE-S3 object sealed by ``data_dir``'s key, as before the check."""
    account = store.create_account("acme")
    user = store.create_user(account.id, "alice", Role.MEMBER)
    store.create_bucket(Bucket("photos", account.id, user.id, 1000.0))
    plan = sse.new_plan(load_master_key(data_dir), sse.Encrypt())
    store.put_object(ObjectRecord(bucket="photos", key="k", size=3, etag='"e"', last_modified=1.0,
                                  segments=(Segment("b" * 32, 3),), headers={sse.FIELD: plan.stored}))


def test_a_store_from_before_the_check_without_access_keys_tries_an_sse_data_key(
        store: SqliteStore, tmp_path: Path) -> None:
    _with_an_encrypted_object(store, tmp_path / "a")
    _write_key(tmp_path / "b" / "master.key")
    with pytest.raises(KeyMismatch, match="data key of an object encrypted at rest"):
        node_master_key(store, Settings(data_dir=tmp_path / "b"))
    assert store.get_key_check() is None  # no check sealed with the wrong key: the right one still starts
    key = node_master_key(store, Settings(data_dir=tmp_path / "a"))
    recorded = store.get_key_check()
    assert recorded is not None and opens_check(key, recorded)
