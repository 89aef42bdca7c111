"""Error cases and option handling, in-process with click's CliRunner."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import satchel.server
from satchel.blobs.digests import Hasher
from satchel.blobs.localfs import LocalBlobStore
from satchel.cli.main import cli
from satchel.config import Settings
from satchel.core.masterkey import MASTER_KEY_FILE
from satchel.core.models import Bucket, ObjectRecord, Segment
from satchel.meta.sqlite import SqliteStore


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("SATCHEL_"):
            monkeypatch.delenv(name)
    path = tmp_path / "data"
    monkeypatch.setenv("SATCHEL_DATA_DIR", str(path))
    monkeypatch.setenv("SATCHEL_ROOT_PASSWORD", "root-password-1")
    return path


@pytest.fixture
def store(data_dir: Path) -> Iterator[SqliteStore]:
    ok("admin", "init")
    invoke("admin", "account", "create", "acme")
    s = SqliteStore(data_dir / "meta.sqlite3")
    yield s
    s.close()


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, prog_name="satchel")


def fails(*args: str, match: str, code: int = 1, stdin: str | None = None) -> Result:
    result = invoke(*args, stdin=stdin)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert match in result.stderr
    return result


def ok(*args: str, stdin: str | None = None) -> Result:
    result = invoke(*args, stdin=stdin)
    assert result.exit_code == 0, result.stderr
    return result


def test_unknown_names(store: SqliteStore) -> None:
    fails("admin", "user", "create", "u", "--account", "nope", match="no account named 'nope'")
    fails("admin", "user", "list", "--account", "nope", match="no account named 'nope'")
    fails("admin", "bucket", "list", "--account", "nope", match="no account named 'nope'")
    for verb in ("disable", "enable", "delete"):
        fails("admin", "user", verb, "ghost", match="no user named 'ghost'")
        fails("admin", "key", verb, "SKGHOST", match="no access key 'SKGHOST'")
    fails("admin", "key", "create", "ghost", match="no user named 'ghost'")
    fails("admin", "key", "list", "ghost", match="no user named 'ghost'")
    fails("admin", "grant", "add", "ghost", "b", "--permission", "read", match="no user named 'ghost'")
    fails("admin", "grant", "list", "--user", "ghost", match="no user named 'ghost'")
    fails("admin", "grant", "remove", "g-ghost", match="no grant with id 'g-ghost'")
    fails("admin", "bucket", "public", "on", "nob", match="bucket does not exist (BucketName: nob)")


def test_duplicates(store: SqliteStore) -> None:
    fails("admin", "account", "create", "acme", match="Error:")
    ok("admin", "user", "create", "u1", "--account", "acme")
    fails("admin", "user", "create", "u1", "--account", "root", match="Error:")


def test_grant_on_missing_bucket(store: SqliteStore) -> None:
    ok("admin", "user", "create", "u1", "--account", "acme")
    fails("admin", "grant", "add", "u1", "nob", "--permission", "read", match="BucketName: nob")


def test_invalid_input(store: SqliteStore) -> None:
    fails("admin", "account", "create", "bad name", match="account names are")
    fails("admin", "user", "create", "u", "--account", "acme", "--password", "short", match="passwords are")
    fails("admin", "user", "create", "u", "--account", "acme", "--password", "long-enough-1",
          "--password-stdin", match="not both", code=2, stdin="other-password\n")
    fails("admin", "user", "create", "u", "--account", "acme", "--role", "owner", match="owner", code=2)
    fails("admin", "grant", "add", "root", "b", "--permission", "write", match="write", code=2)
    fails("admin", "grant", "add", "root", "b", match="--permission", code=2)
    fails("admin", "bucket", "public", "maybe", "b", match="maybe", code=2)
    assert invoke("admin", "user", "list", "--json").stdout.count('"name"') == 1


def test_password_option(store: SqliteStore) -> None:
    created = json.loads(ok("admin", "user", "create", "pw", "--account", "acme", "--password", "long-enough-1",
                            "--json").stdout)
    assert created["password"] is True
    user = store.get_user_by_name("pw")
    assert user is not None and user.password_hash is not None
    assert "long-enough-1" not in user.password_hash


def test_delete_user_owning_a_bucket_is_refused(store: SqliteStore) -> None:
    user = json.loads(ok("admin", "user", "create", "owner", "--account", "acme", "--json").stdout)
    store.create_bucket(Bucket(name="mine", account_id=user["account_id"], owner_user_id=user["id"],
                               created=0.0))
    fails("admin", "user", "delete", "owner", match="owns buckets")
    assert store.get_user_by_name("owner") is not None


def test_unsafe_master_key_stops_every_command(store: SqliteStore, data_dir: Path) -> None:
    os.chmod(data_dir / MASTER_KEY_FILE, 0o644)
    fails("admin", "account", "list", match="chmod 600")
    fails("admin", "key", "create", "root", match="chmod 600")


def test_bad_config_file(data_dir: Path, tmp_path: Path) -> None:
    fails("--config", str(tmp_path / "missing.toml"), "admin", "account", "list", match="cannot load settings")
    bad = tmp_path / "bad.toml"
    bad.write_text("no_such_setting = 1\n")
    fails("admin", "account", "list", "--config", str(bad), match="unknown settings: no_such_setting")


def test_unopenable_store(tmp_path: Path, data_dir: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fails("admin", "account", "list", "--data-dir", str(blocker), match="Error:", code=2)
    fails("admin", "account", "list", "--data-dir", str(blocker / "sub"), match="no Satchel node in")
    fails("admin", "init", "--data-dir", str(blocker / "sub"), match="cannot open the metadata store")


def test_empty_listing_says_so(store: SqliteStore) -> None:
    assert "(no grants)" in ok("admin", "grant", "list").stdout
    assert json.loads(ok("admin", "grant", "list", "--json").stdout) == []


async def _write_blob(data_dir: Path, data: bytes) -> tuple[str, Path]:
    blobs = LocalBlobStore(data_dir / "blobs")
    try:
        async with blobs.writer(Hasher()) as writer:
            await writer.write(data)
            await writer.commit()
        return writer.blob_id, blobs.path(writer.blob_id)
    finally:
        blobs.close()


def test_gc_deletes_dead_blobs(store: SqliteStore, data_dir: Path) -> None:
    acme = store.get_account_by_name("acme")
    assert acme is not None
    store.create_bucket(Bucket(name="b", account_id=acme.id, owner_user_id=None, created=0.0))
    blob_id, path = asyncio.run(_write_blob(data_dir, b"abc"))
    store.put_object(ObjectRecord(bucket="b", key="k", size=3, etag='"x"', last_modified=0.0,
                                  segments=(Segment(blob_id, 3),)))
    assert json.loads(ok("admin", "gc", "--json").stdout) == {"dead_deleted": 0, "orphans_deleted": 0}
    assert path.exists()  # live: untouched
    assert store.delete_object("b", "k") == [blob_id]
    report = json.loads(ok("admin", "gc", "--json").stdout)
    assert report == {"dead_deleted": 1, "orphans_deleted": 0}
    assert store.dead_blobs() == [] and not path.exists()
    assert "Garbage collection done" in ok("admin", "gc").stdout


def test_gc_spares_unfinished_writes_unless_told_no_upload_runs(store: SqliteStore, data_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary file hours old may be a slow upload's (max_upload_seconds is 6 h): kept by default, even
    with no orphan grace; ``--write-grace 0`` (every node stopped) removes it."""
    tmp = data_dir / "blobs" / "tmp" / ("7" * 32)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(b"half an upload")
    old = time.time() - 2 * 3600
    os.utime(tmp, (old, old))
    monkeypatch.setenv("SATCHEL_ORPHAN_GRACE", "0")
    ok("admin", "gc")
    assert tmp.exists()
    ok("admin", "gc", "--write-grace", "0")
    assert not tmp.exists()


def test_serve_passes_flags_over_env_and_config(data_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []
    monkeypatch.setattr(satchel.server, "run", seen.append)
    config = tmp_path / "satchel.toml"
    config.write_text('port = 9100\nregion = "eu-west-1"\nworkers = 3\n')
    monkeypatch.setenv("SATCHEL_PORT", "9200")
    ok("serve", "--config", str(config), "--host", "127.0.0.2", "--workers", "2",
       "--domain", "s3.example.test", "--public-url", "https://s3.example.test")
    ok("--data-dir", str(tmp_path / "other"), "serve", "--port", "9300")
    first, second = seen
    assert (first.host, first.port, first.workers, first.region) == ("127.0.0.2", 9200, 2, "eu-west-1")
    assert (first.domain, first.public_url, first.data_dir) == ("s3.example.test", "https://s3.example.test",
                                                                data_dir)
    assert (second.port, second.data_dir, second.workers) == (9300, tmp_path / "other", 1)
    fails("serve", "--workers", "0", match="workers must be positive, not 0", code=1)
