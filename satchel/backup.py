"""Backups of a node: ``satchel admin backup DIR``, ``satchel admin verify DIR``, ``satchel admin restore DIR``.

A backup is a directory::

    DIR/meta.sqlite3      the metadata, copied with SQLite's online backup API (consistent, while serving)
    DIR/master.key        the node master key (access-key secrets are sealed with it: keep DIR private)
    DIR/blobs/xx/yy/ID    every blob the metadata snapshot references, copied
    DIR/manifest.json     {"format": 1, "created": ..., "schema_version": ..., "blobs": {ID: [size, sha256]}}

Consistency: the metadata is snapshotted first, then the blobs it references are copied. Blobs are
immutable, so a copy is the blob as the snapshot knew it; what could go wrong is a blob deleted between
the snapshot and its copy (its object overwritten or deleted meanwhile). So while a backup runs it keeps
a hold file in the blob directory, refreshed as it goes, and the blob store deletes nothing while the hold
is fresh (``LocalBlobStore.held``); the files spared are collected as orphans afterwards.

``verify`` checks a backup against itself: every blob its metadata references is present, with the size
the metadata says and the SHA-256 the manifest recorded when it was copied. Without a backup directory it
checks the node's data dir: every referenced blob present with its size, single-part objects against
their ETag (MD5). ``restore`` verifies, then
copies the backup into a data directory that holds no node yet (stop the server first; start it on the
restored directory afterwards).

The master key is the node's (``master_key_file`` when set, else ``data_dir/master.key``), and the metadata
carries its check (``core/keycheck.py``): ``verify`` reports a key that does not open the check (another
node's), and ``restore`` with ``master_key_file`` set writes no key but requires the mounted one to be the
backup's, so a restored node starts only with the key its secrets were sealed with.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from satchel.blobs.localfs import HOLD_FILE, HOLD_STALE
from satchel.core import sse
from satchel.core.keycheck import opens_check
from satchel.core.masterkey import MASTER_KEY_FILE, MasterKeyError, MasterKeyMissing, open_master_key, read_key_bytes
from satchel.meta import SQLITE_FILE
from satchel.meta.store import Store

MANIFEST = "manifest.json"
FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """Why a backup, verification or restore cannot be done (the CLI prints it and exits 1)."""


@dataclass
class BackupReport:
    blobs: int = 0
    bytes: int = 0
    #: Problems ``verify`` found: one line each, empty when the backup is whole.
    problems: list[str] = field(default_factory=list)


def blob_path(root: Path, blob_id: str) -> Path:
    return root / blob_id[0:2] / blob_id[2:4] / blob_id


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


@contextlib.contextmanager
def _hold(blob_root: Path) -> Iterator[Callable[[], None]]:
    """Keep the blob store from deleting files until the block ends; yields a refresh function."""
    hold = blob_root / HOLD_FILE
    hold.write_text(f"{os.getpid()}\n")
    last = time.monotonic()

    def refresh() -> None:
        nonlocal last
        if time.monotonic() - last > HOLD_STALE / 4:
            os.utime(hold)
            last = time.monotonic()

    try:
        yield refresh
    finally:
        with contextlib.suppress(FileNotFoundError):
            hold.unlink()


def _copy_hashing(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` (fsynced) and return its SHA-256."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup(store: Store, data_dir: Path, target: Path, key_path: Path | None = None) -> BackupReport:
    """Back up the node of ``data_dir`` (whose open store is ``store``, whose master key is ``key_path``,
    by default ``data_dir/master.key``) into the empty directory ``target``."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    _private_dir(target)
    blob_root = data_dir / "blobs"
    report = BackupReport()
    manifest: dict[str, list[int | str]] = {}
    with _hold(blob_root) as refresh:
        store.backup_to(target / SQLITE_FILE)
        shutil.copyfile(key_path or data_dir / MASTER_KEY_FILE, target / MASTER_KEY_FILE)  # a mount's mode aside
        os.chmod(target / MASTER_KEY_FILE, 0o600)
        snapshot = sqlite3.connect(target / SQLITE_FILE)
        try:
            live = snapshot.execute("SELECT blob_id, size FROM blobs WHERE state = 'live'").fetchall()
            schema_version = int(snapshot.execute("SELECT version FROM schema_version").fetchone()[0])
        finally:
            snapshot.close()
        for blob_id, size in live:
            try:
                digest = _copy_hashing(blob_path(blob_root, blob_id), blob_path(target / "blobs", blob_id))
            except FileNotFoundError:
                raise BackupError(f"blob {blob_id} is referenced but missing from {blob_root}: "
                                  "run satchel admin verify on the data dir") from None
            manifest[blob_id] = [size, digest]
            report.blobs += 1
            report.bytes += size
            refresh()
    document = {"format": FORMAT, "created": time.time(), "schema_version": schema_version, "blobs": manifest}
    (target / MANIFEST).write_text(json.dumps(document, indent=1))
    return report


def verify(directory: Path) -> BackupReport:
    """Check a backup: metadata readable, master key present, and every blob its metadata references
    present with the size the metadata says and the SHA-256 of the manifest."""
    try:
        document = json.loads((directory / MANIFEST).read_text())
        manifest: dict[str, list[int | str]] = document["blobs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{directory} holds no readable backup manifest: {exc}") from None

    def expected(blob_id: str, size: int) -> tuple[str, str] | str:
        recorded = manifest.get(blob_id)
        if recorded is None:
            return "referenced but not in the manifest"
        if recorded[0] != size:
            return f"the manifest says {recorded[0]} bytes, the metadata {size}"
        return "sha256", str(recorded[1])

    return _check(directory, expected, "the SHA-256 recorded at backup")


def verify_node(data_dir: Path, key_path: Path | None = None) -> BackupReport:
    """Check a node's data dir the same way: every referenced blob present with its size, and the MD5
    of every single-part object (its ETag) — the one digest the metadata keeps per blob."""
    etags: dict[str, str] = {}
    with _read_only(data_dir / SQLITE_FILE) as meta:
        # Noncurrent versions too (versioning), where the schema has them (a data dir not yet migrated has not).
        versioned = meta.execute("SELECT 1 FROM sqlite_master WHERE name = 'object_versions'").fetchone()
        query = "SELECT segments, etag, headers FROM objects"
        if versioned:
            query += " UNION ALL SELECT segments, etag, headers FROM object_versions"
        for segments, etag, headers in meta.execute(query):
            blobs = json.loads(segments)
            plain = etag.strip('"')
            # An encrypted blob's MD5 is its plaintext's: checking it needs the key (SSE-C: the customer's).
            if len(blobs) == 1 and "-" not in plain and not sse.is_encrypted(json.loads(headers)):
                etags[blobs[0][0]] = plain

    def expected(blob_id: str, size: int) -> tuple[str, str] | None:
        return ("md5", etags[blob_id]) if blob_id in etags else None

    return _check(data_dir, expected, "the MD5 its object's ETag says", key_path)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    try:
        yield conn
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    finally:
        conn.close()


def _check(directory: Path, expected: Callable[[str, int], tuple[str, str] | str | None],
           digest_name: str, key_path: Path | None = None) -> BackupReport:
    """Every live blob of ``directory``'s metadata: present in ``directory/blobs``, of its size, with the
    digest ``expected`` gives (algorithm, hex), if any; a string from ``expected`` is a problem."""
    report = BackupReport()
    with _read_only(directory / SQLITE_FILE) as meta:
        if meta.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            report.problems.append(f"{SQLITE_FILE} fails SQLite's integrity check")
        if (problem := _key_problem(key_path or directory / MASTER_KEY_FILE, meta)) is not None:
            report.problems.append(problem)
        live = meta.execute("SELECT blob_id, size FROM blobs WHERE state = 'live'").fetchall()
    for blob_id, size in live:
        path = blob_path(directory / "blobs", blob_id)
        want = expected(blob_id, size)
        if isinstance(want, str):
            report.problems.append(f"blob {blob_id}: {want}")
        elif not path.is_file():
            report.problems.append(f"blob {blob_id}: missing")
        elif not sse.stored_size_fits(path, size):
            report.problems.append(f"blob {blob_id}: {path.stat().st_size} bytes, the metadata says {size}")
        elif want is not None and want[0] == "md5" and path.stat().st_size != size:
            report.problems.append(f"blob {blob_id}: encrypted, but its object's metadata says it is not")
        elif want is not None and _digest(path, want[0]) != want[1]:
            report.problems.append(f"blob {blob_id}: its content does not match {digest_name}")
        else:
            report.blobs += 1
            report.bytes += size
    return report


def _key_problem(key_path: Path, meta: sqlite3.Connection) -> str | None:
    """Why the master key at ``key_path`` cannot open ``meta``'s secrets, if it cannot (``core/keycheck.py``)."""
    try:
        key = open_master_key(key_path, create=False, follow_symlinks=True)
    except MasterKeyMissing:
        return f"{key_path.name} is missing: the access keys could not be read"
    except (MasterKeyError, OSError) as exc:
        return f"{key_path.name} cannot be used: {exc}"
    if meta.execute("SELECT 1 FROM sqlite_master WHERE name = 'node_key_check'").fetchone() is None:
        return None  # metadata from before the check
    row = meta.execute("SELECT sealed FROM node_key_check WHERE id = 1").fetchone()
    if row is not None and not opens_check(key, bytes(row[0])):
        return (f"{key_path.name} is not the master key this metadata was sealed with: the access keys, "
                "SSE-S3 objects, webhook and TempURL keys could not be read")
    return None


def restore(directory: Path, data_dir: Path, key_file: Path | None = None) -> BackupReport:
    """Verify the backup in ``directory``, then copy it into ``data_dir``, which must hold no node.

    ``key_file`` (the ``master_key_file`` setting): the restored node reads its key there, which must then
    be the backup's already (a mounted secret is not written to); without it the key goes to the data dir."""
    report = verify(directory)
    if report.problems:
        raise BackupError(f"the backup in {directory} is damaged ({len(report.problems)} problems): "
                          + "; ".join(report.problems[:5]))
    if (data_dir / SQLITE_FILE).exists() or (data_dir / MASTER_KEY_FILE).exists():
        raise BackupError(f"{data_dir} already holds a node: restore into a new data directory")
    if key_file is not None:
        _same_key(directory / MASTER_KEY_FILE, key_file)
    _private_dir(data_dir)
    if key_file is None:
        shutil.copy2(directory / MASTER_KEY_FILE, data_dir / MASTER_KEY_FILE)
        os.chmod(data_dir / MASTER_KEY_FILE, 0o600)
    if (directory / "blobs").is_dir():  # a node without objects was backed up without a blobs/ directory
        shutil.copytree(directory / "blobs", data_dir / "blobs", dirs_exist_ok=True)
    # The metadata last: a data dir with meta.sqlite3 is a node, so an interrupted restore is not one.
    shutil.copy2(directory / SQLITE_FILE, data_dir / f"{SQLITE_FILE}.restoring")
    os.chmod(data_dir / f"{SQLITE_FILE}.restoring", 0o600)
    os.replace(data_dir / f"{SQLITE_FILE}.restoring", data_dir / SQLITE_FILE)
    return report


def _same_key(backed_up: Path, key_file: Path) -> None:
    try:
        same = read_key_bytes(key_file) == read_key_bytes(backed_up)
    except FileNotFoundError:
        raise BackupError(f"master_key_file {key_file} does not exist: copy {backed_up} there (mode 0600 or "
                          "0400) before restoring, or unset master_key_file to restore the key into the data dir"
                          ) from None
    except (MasterKeyError, OSError) as exc:
        raise BackupError(f"cannot compare master_key_file with the backup's key: {exc}") from None
    if not same:
        raise BackupError(f"master_key_file {key_file} is not the backup's master key ({backed_up}): the restored "
                          "node could open none of its secrets. Install the backup's key there, or unset "
                          "master_key_file to restore the key into the data dir; nothing was restored")
