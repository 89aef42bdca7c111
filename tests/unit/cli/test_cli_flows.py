"""The admin CLI as operators run it: a real ``satchel`` process on a temporary data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satchel.core.credentials import CredentialCache
from satchel.core.errors import InvalidAccessKeyId
from satchel.core.identity import verify_password
from satchel.core.masterkey import load_master_key
from satchel.core.models import Bucket
from satchel.meta.sqlite import SqliteStore

SATCHEL = Path(sys.executable).with_name("satchel")
ROOT_ENV = {
    "SATCHEL_ROOT_ACCESS_KEY": "AKIAIOSFODNN7EXAMPLE",
    "SATCHEL_ROOT_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SATCHEL_ROOT_PASSWORD": "root-password-1",
}


def _env(data_dir: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    if data_dir is not None:
        env["SATCHEL_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run(data_dir: Path | None, *args: str, stdin: str | None = None, ok: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(SATCHEL), *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env=env if env is not None else _env(data_dir, **ROOT_ENV))
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def run_json(data_dir: Path, *args: str, stdin: str | None = None) -> Any:
    return json.loads(run(data_dir, "admin", *args, "--json", stdin=stdin).stdout)


@pytest.fixture
def fresh_dir(tmp_path: Path) -> Path:
    """A data dir that holds no node yet."""
    return tmp_path / "data"


@pytest.fixture
def data_dir(fresh_dir: Path) -> Path:
    """A node made by ``satchel admin init`` with the root credentials of ROOT_ENV."""
    run(fresh_dir, "admin", "init")
    return fresh_dir


def _store(data_dir: Path) -> SqliteStore:
    return SqliteStore(data_dir / "meta.sqlite3")


def test_console_script_and_module_entry_points(data_dir: Path) -> None:
    assert SATCHEL.exists(), "install the package in the venv: .venv/bin/pip install -e ."
    assert "admin" in run(None, "--help").stdout
    module = subprocess.run([sys.executable, "-m", "satchel", "admin", "--help"], capture_output=True,
                            text=True, timeout=60, env=_env(None))
    assert module.returncode == 0 and "account" in module.stdout


def test_admin_never_creates_a_node_implicitly(fresh_dir: Path, tmp_path: Path) -> None:
    for args in (("account", "create", "acme"), ("user", "list"), ("gc",)):
        proc = run(fresh_dir, "admin", *args, ok=False)
        assert proc.returncode == 1 and proc.stdout == ""
        # It names the directory it looked at and every way to name the right one.
        assert f"no Satchel node in {fresh_dir}" in proc.stderr
        for way in ("--data-dir", "SATCHEL_DATA_DIR", "--config", "satchel admin init"):
            assert way in proc.stderr
    assert not fresh_dir.exists()
    # The relative default (./satchel-data) in another directory: the same refusal, nothing created there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([str(SATCHEL), "admin", "account", "create", "acme"], capture_output=True, text=True,
                          timeout=60, cwd=elsewhere, env=_env(None, **ROOT_ENV))
    assert proc.returncode == 1 and f"no Satchel node in {elsewhere / 'satchel-data'}" in proc.stderr
    assert list(elsewhere.iterdir()) == []


def test_init_bootstraps_root_from_env(fresh_dir: Path) -> None:
    data_dir = fresh_dir
    proc = run(data_dir, "admin", "init", "--json")
    assert json.loads(proc.stdout)["accounts"] == 1
    assert [a["name"] for a in run_json(data_dir, "account", "list")] == ["root"]
    # The notice goes to stderr (stdout stays valid JSON) and repeats no secret that was provided.
    assert "AKIAIOSFODNN7EXAMPLE" in proc.stderr
    assert ROOT_ENV["SATCHEL_ROOT_SECRET_KEY"] not in proc.stderr + proc.stdout
    assert ROOT_ENV["SATCHEL_ROOT_PASSWORD"] not in proc.stderr + proc.stdout
    again = run(data_dir, "admin", "init")
    assert again.stderr == "" and "Satchel node in" in again.stdout
    users = run_json(data_dir, "user", "list")
    assert [(u["name"], u["role"], u["password"]) for u in users] == [("root", "admin", True)]


def test_init_prints_generated_secrets_once(fresh_dir: Path) -> None:
    data_dir = fresh_dir
    proc = run(data_dir, "admin", "init", env=_env(data_dir))
    lines = dict(line.split(":", 1) for line in proc.stderr.splitlines() if " : " in line)
    fields = {k.strip(): v.strip() for k, v in lines.items()}
    store = _store(data_dir)
    try:
        cache = CredentialCache(store, load_master_key(data_dir))
        key, principal = cache.resolve(fields["Access key id"])
        assert key.secret == fields["Secret access key"]
        assert principal.user is not None and verify_password(principal.user, fields["Password (root)"])
    finally:
        store.close()
    assert run(data_dir, "admin", "user", "list", env=_env(data_dir)).stderr == ""


def test_accounts_users_keys_grants_buckets(data_dir: Path) -> None:
    acme = run_json(data_dir, "account", "create", "acme")
    assert acme["name"] == "acme"
    assert {a["name"] for a in run_json(data_dir, "account", "list")} == {"root", "acme"}

    alice = run_json(data_dir, "user", "create", "alice", "--account", "acme", "--role", "admin")
    bob = run_json(data_dir, "user", "create", "bob", "--account", "acme", "--password-stdin",
                   stdin="bob-password-1\n")
    assert (alice["role"], alice["password"], bob["role"], bob["password"]) == ("admin", False, "member", True)
    assert [u["name"] for u in run_json(data_dir, "user", "list", "--account", "acme")] == ["alice", "bob"]

    created = run_json(data_dir, "key", "create", "bob")
    assert set(created) == {"access_key_id", "secret_access_key"}
    key_id = created["access_key_id"]
    keys = run_json(data_dir, "key", "list", "bob")
    assert [(k["access_key_id"], k["user"], k["status"]) for k in keys] == [(key_id, "bob", "active")]
    assert created["secret_access_key"] not in run(data_dir, "admin", "key", "list").stdout

    store = _store(data_dir)
    try:
        # The secret printed once is the one the server will verify signatures with; a key disabled by
        # the CLI (another process) stops working for a running cache at once.
        cache = CredentialCache(store, load_master_key(data_dir))
        key, principal = cache.resolve(key_id)
        assert key.secret == created["secret_access_key"]
        assert principal.user is not None and verify_password(principal.user, "bob-password-1")
        assert run_json(data_dir, "key", "disable", key_id)["status"] == "disabled"
        with pytest.raises(InvalidAccessKeyId):
            cache.resolve(key_id)
        assert run_json(data_dir, "key", "enable", key_id)["status"] == "active"
        cache.resolve(key_id)

        store.create_bucket(Bucket(name="photos", account_id=acme["id"], owner_user_id=alice["id"], created=0.0))
        grant = run_json(data_dir, "grant", "add", "bob", "photos", "--prefix", "shared/",
                         "--permission", "read-write")
        assert (grant["user"], grant["bucket"], grant["prefix"], grant["permission"]) == (
            "bob", "photos", "shared/", "read-write")
        assert [g.id for g in cache.principal_for_user(bob["id"]).grants] == [grant["id"]]
        assert [g["id"] for g in run_json(data_dir, "grant", "list", "--user", "bob")] == [grant["id"]]
        assert run_json(data_dir, "grant", "list", "--bucket", "other") == []
        run_json(data_dir, "grant", "remove", grant["id"])
        assert cache.principal_for_user(bob["id"]).grants == ()

        buckets = run_json(data_dir, "bucket", "list")
        assert [(b["name"], b["owner"], b["account"], b["public_read"]) for b in buckets] == [
            ("photos", "alice", "acme", False)]
        assert run_json(data_dir, "bucket", "public", "on", "photos")["public_read"] is True
        bucket = store.get_bucket("photos")
        assert bucket is not None and bucket.public_read
        assert run_json(data_dir, "bucket", "public", "off", "photos")["public_read"] is False

        assert run_json(data_dir, "user", "disable", "bob")["status"] == "disabled"
        assert principal.user is not None
        assert not cache.principal_for_user(bob["id"]).user.active  # type: ignore[union-attr]
        assert run_json(data_dir, "user", "enable", "bob")["status"] == "active"
        run_json(data_dir, "key", "delete", key_id)
        assert cache.lookup(key_id) is None
        run_json(data_dir, "user", "delete", "bob")
        assert store.get_user_by_name("bob") is None
    finally:
        store.close()


def test_tables_for_people(data_dir: Path) -> None:
    run(data_dir, "admin", "account", "create", "acme")
    run(data_dir, "admin", "user", "create", "carol", "--account", "acme")
    out = run(data_dir, "admin", "user", "list").stdout
    assert "carol" in out and "member" in out and "Name" in out
    created = run(data_dir, "admin", "key", "create", "carol").stdout
    assert "shown only this once" in created
    secret = next(line.split()[-1] for line in created.splitlines() if "secret_access_key" in line)
    assert len(secret) == 40


def test_data_dir_flag_at_any_level_beats_env(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    env = _env(c, **ROOT_ENV)
    for made in (a, b, c):
        run(made, "admin", "init")
    run(None, "--data-dir", str(a), "admin", "account", "create", "in-a", env=env)
    run(None, "admin", "--data-dir", str(b), "account", "create", "in-b", env=env)
    run(None, "--data-dir", str(c), "admin", "account", "create", "in-c", "--data-dir", str(a), env=env)
    run(None, "admin", "account", "create", "in-env", env=env)
    names = {d.name: {x["name"] for x in run_json(d, "account", "list")} for d in (a, b, c)}
    assert names == {"a": {"root", "in-a", "in-c"}, "b": {"root", "in-b"}, "c": {"root", "in-env"}}


def test_config_file_sets_the_data_dir(tmp_path: Path) -> None:
    config = tmp_path / "satchel.toml"
    config.write_text(f'data_dir = "{tmp_path / "from-config"}"\n')
    run(None, "admin", "--config", str(config), "init", env=_env(None, **ROOT_ENV))
    run(None, "admin", "--config", str(config), "account", "create", "cfg", env=_env(None, **ROOT_ENV))
    assert (tmp_path / "from-config" / "meta.sqlite3").exists()


def test_errors_exit_1_with_a_message_on_stderr(data_dir: Path) -> None:
    proc = run(data_dir, "admin", "user", "create", "dave", "--account", "nope", ok=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no account named 'nope'" in proc.stderr
