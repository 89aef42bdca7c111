"""Backups of a node: ``satchel admin backup DIR``, ``satchel admin verify DIR``, ``satchel admin restore DIR``.

A backup is a directory::

    DIR/meta.sqlite3      the metadata: one consistent snapshot, taken while the node serves
    DIR/master.key        the node master key (access-key secrets are sealed with it: keep DIR private)
    DIR/blobs/xx/yy/ID    every blob the metadata snapshot references, copied
    DIR/manifest.json     {"format": 1, "created": ..., "schema_version": ..., "blobs": {ID: [size, sha256]},
                           "source": {"metadata": ..., "blobs": ...}}   (source: informative only)

The same format whatever the node runs on (``satchel/backupsources.py`` reads each kind): a single node
(SQLite, blobs in its data dir) or a deployment of several nodes on PostgreSQL and an upstream S3 cluster,
whose backup is the single node it would be: the metadata copied from one PostgreSQL snapshot into a
SQLite file of this Satchel's schema, the blobs streamed from the upstream into ``blobs/``. So ``verify``
and ``restore`` are the same for both, a restore gives a single-node data dir, and ``satchel admin
migrate-to`` takes that back to PostgreSQL and an upstream.

Consistency: the metadata is snapshotted first, then the blobs it references are copied. Blobs are
immutable, so a copy is the blob as the snapshot knew it; what could go wrong is a blob deleted between
the snapshot and its copy (its object overwritten or deleted meanwhile). In a data dir a hold file keeps
the blob store from deleting anything while the backup runs; an upstream's blobs are deleted only
``blobs_delete_delay`` after the metadata dropped them. A blob gone all the same fails the backup,
naming it: a backup never lacks a blob its metadata references.

The bytes a blob store returns are checked as they are copied: each blob of a whole single-part,
unencrypted object (current or noncurrent version) has the MD5 its ETag says, or the backup fails naming
the object and the blob (an upstream blob overwritten with other bytes, or rotten, is never backed up as
if it were the object's). SSE objects' and multipart objects' ETags are not the MD5 of a stored blob.

``verify`` checks a backup against itself: every blob its metadata references is present, with the size
the metadata says, the SHA-256 the manifest recorded when it was copied, and (the same rule) the MD5 its
object's ETag says. Without a backup directory it checks the node's data dir: every referenced blob
present with its size, single-part objects against their ETag (MD5). ``restore`` verifies, then copies
the backup into a data directory that holds no node yet (stop the server first; start it on the restored
directory afterwards).

The master key is the node's (``master_key_file`` when set, else ``data_dir/master.key``), and the metadata
carries its check (``core/keycheck.py``): ``verify`` reports a key that does not open the check (another
node's), and ``restore`` with ``master_key_file`` set writes no key but requires the mounted one to be the
backup's, so a restored node starts only with the key its secrets were sealed with.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from satchel.core import sse
from satchel.core.keycheck import opens_check
from satchel.core.masterkey import MASTER_KEY_FILE, MasterKeyError, MasterKeyMissing, open_master_key, read_key_bytes
from satchel.meta import SQLITE_FILE

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


class BlobSource(Protocol):
    """Where the blobs of the node being backed up are read (``satchel/backupsources.py``)."""

    def where(self, blob_id: str) -> str:
        """The blob's place, for messages (a path, ``s3://bucket/key``)."""

    def copy(self, blob_id: str, target: Path) -> tuple[str, str]:
        """Write the blob to ``target`` (fsynced) and return its (SHA-256, MD5), both computed from the bytes
        written; ``FileNotFoundError`` when the source has no such blob."""


#: Writes the metadata snapshot, a SQLite file of this Satchel's schema, to the path it is given.
Snapshot = Callable[[Path], None]


class Digests:
    """The SHA-256 and MD5 of bytes as they stream past (one pass)."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.md5.update(chunk)

    def hexdigests(self) -> tuple[str, str]:
        return self.sha256.hexdigest(), self.md5.hexdigest()


def copy_hashing(source: Path, target: Path) -> tuple[str, str]:
    """Copy ``source`` to ``target`` (fsynced) and return its (SHA-256, MD5)."""
    digests = Digests()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digests.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digests.hexdigests()


def _digests(path: Path, algorithms: list[str]) -> list[str]:
    digests = [hashlib.new(algorithm, usedforsecurity=False) for algorithm in algorithms]
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            for digest in digests:
                digest.update(chunk)
    return [digest.hexdigest() for digest in digests]


@dataclass(frozen=True)
class ObjectMd5:
    """A blob that is the whole of a single-part, unencrypted object: the MD5 its ETag says, and which object."""

    md5: str
    bucket: str
    key: str
    version_id: str | None = None

    def name(self) -> str:
        return f"{self.bucket}/{self.key}" + (f" (version {self.version_id})" if self.version_id else "")


def object_md5s(meta: sqlite3.Connection) -> dict[str, ObjectMd5]:
    """The MD5 the metadata knows for each blob: that of a single-part, unencrypted object's ETag, current
    version or noncurrent (an encrypted blob's MD5 is its plaintext's, a multipart ETag no blob's MD5)."""
    known: dict[str, ObjectMd5] = {}
    # Noncurrent versions too (versioning), where the schema has them (a data dir not yet migrated has not).
    versioned = meta.execute("SELECT 1 FROM sqlite_master WHERE name = 'object_versions'").fetchone()
    query = f"SELECT bucket, key, {'version_id' if versioned else 'NULL'}, segments, etag, headers FROM objects"  # noqa: S608
    if versioned:
        query += " UNION ALL SELECT bucket, key, version_id, segments, etag, headers FROM object_versions"
    for bucket, key, version_id, segments, etag, headers in meta.execute(query):
        blobs = json.loads(segments)
        plain = str(etag).strip('"')
        if len(blobs) == 1 and "-" not in plain and not sse.is_encrypted(json.loads(headers)):
            known[blobs[0][0]] = ObjectMd5(plain, bucket, key, version_id)
    return known


def backup(snapshot: Snapshot, blobs: BlobSource, master_key: Path, target: Path, *,
           referenced_now: Callable[[str], bool], source: dict[str, str] | None = None, parallel: int = 1,
           progress: Callable[[str], None] = lambda _line: None) -> BackupReport:
    """Back up a node into the empty directory ``target``: the metadata ``snapshot`` writes, the
    ``master_key`` file, every blob the snapshot references (read from ``blobs``), then the manifest.

    A blob the snapshot references but ``blobs`` lacks fails the backup (no manifest is written, so
    nothing can mistake the directory for a backup); ``referenced_now`` (the live metadata, asked
    again) tells the two reasons apart in the message: the blob was deleted after the snapshot (live
    traffic replaced its object, and the store's grace before deleting ran out), or the store lost it.
    ``parallel`` blobs are copied at a time (an upstream's latency, not its bandwidth, bounds one at a
    time, and a backup must finish within ``blobs_delete_delay``)."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    if not master_key.is_file():
        raise BackupError(f"the master key {master_key} is missing: without it a backup's access keys and "
                          "SSE-S3 objects could not be read")
    _private_dir(target)
    (target / "blobs").mkdir()  # restore copies it, blobs or none
    report = BackupReport()
    manifest: dict[str, list[int | str]] = {}
    snapshot(target / SQLITE_FILE)
    shutil.copyfile(master_key, target / MASTER_KEY_FILE)  # a mounted secret's mode aside
    os.chmod(target / MASTER_KEY_FILE, 0o600)
    with _read_only(target / SQLITE_FILE) as meta:
        # A key that does not open the snapshot's check would make a backup nothing can restore: refuse it
        # before copying a single blob, as every admin command that opens the key does.
        if (problem := _key_problem(master_key, meta)) is not None:
            raise BackupError(f"{problem} ({master_key}); no backup was written: run it with the deployment's "
                              "key (master_key_file, or master.key in the data dir)")
        live = meta.execute("SELECT blob_id, size FROM blobs WHERE state = 'live' ORDER BY blob_id").fetchall()
        schema_version = int(meta.execute("SELECT version FROM schema_version").fetchone()[0])
        md5s = object_md5s(meta)
    with contextlib.closing(_copied(blobs, live, target / "blobs", parallel)) as copies:
        for number, (blob_id, size, copied) in enumerate(copies, 1):
            _add(report, manifest, blobs, blob_id, size, copied, target, referenced_now, md5s.get(blob_id))
            if number % 1000 == 0 or number == len(live):
                progress(f"blobs: {number}/{len(live)} ({report.bytes} bytes)")
    document = {"format": FORMAT, "created": time.time(), "schema_version": schema_version, "blobs": manifest,
                **({"source": source} if source else {})}
    (target / MANIFEST).write_text(json.dumps(document, indent=1))
    return report


def _add(report: BackupReport, manifest: dict[str, list[int | str]], blobs: BlobSource, blob_id: str, size: int,
         copied: concurrent.futures.Future[tuple[str, str]], target: Path, referenced_now: Callable[[str], bool],
         etag: ObjectMd5 | None) -> None:
    """Record one blob's copy, or fail the backup with why it could not be made."""
    path = blob_path(target / "blobs", blob_id)
    try:
        digest, md5 = copied.result()
    except FileNotFoundError:
        raise BackupError(_missing(blob_id, blobs.where(blob_id), referenced_now(blob_id), target)) from None
    if not sse.stored_size_fits(path, size):
        raise BackupError(f"blob {blob_id} ({blobs.where(blob_id)}): {path.stat().st_size} bytes, the metadata "
                          f"says {size}: the blob store is damaged; {target} holds no backup")
    if etag is not None and md5 != etag.md5:
        raise BackupError(f"blob {blob_id} ({blobs.where(blob_id)}) of {etag.name()}: its content (MD5 {md5}) "
                          f"does not match the object's ETag {etag.md5}: the blob store holds other bytes than "
                          f"were written (tampered with, or damaged); {target} holds no backup")
    manifest[blob_id] = [size, digest]
    report.blobs += 1
    report.bytes += size


def _copied(blobs: BlobSource, live: list[tuple[str, int]], root: Path, parallel: int,
            ) -> Generator[tuple[str, int, concurrent.futures.Future[tuple[str, str]]], None, None]:
    """Each blob's copy, in order, with at most ``2 * parallel`` under way (a window, not the whole
    list: a deployment may hold millions); those not started yet are cancelled if the caller stops."""
    window: collections.deque[tuple[str, int, concurrent.futures.Future[tuple[str, str]]]] = collections.deque()
    pool = concurrent.futures.ThreadPoolExecutor(max(1, parallel), thread_name_prefix="satchel-backup")
    try:
        for blob_id, size in live:
            window.append((blob_id, size, pool.submit(blobs.copy, blob_id, blob_path(root, blob_id))))
            if len(window) >= 2 * parallel:
                yield window.popleft()
        while window:
            yield window.popleft()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _missing(blob_id: str, where: str, referenced: bool, target: Path) -> str:
    if referenced:
        why = ("the metadata still references it: the blob store lost it (run `satchel admin verify` on a "
               "single node; on an upstream, check the bucket)")
    else:
        why = ("its object was overwritten or deleted while the backup ran, and the blob deleted since: the "
               "backup took longer than the blob store keeps deleted blobs (blobs_delete_delay); raise "
               "blobs_delete_delay above the backup's duration and back up again")
    return f"blob {blob_id} is referenced by the snapshot but missing from {where}: {why}. {target} holds no backup"


def verify(directory: Path) -> BackupReport:
    """Check a backup: metadata readable, master key present, and every blob its metadata references
    present with the size the metadata says, the SHA-256 of the manifest and, for a single-part
    unencrypted object's, the MD5 its ETag says (a backup whose blob and manifest were both rewritten)."""
    try:
        document = json.loads((directory / MANIFEST).read_text())
        manifest: dict[str, list[int | str]] = document["blobs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{directory} holds no readable backup manifest: {exc}") from None

    with _read_only(directory / SQLITE_FILE) as meta:
        etags = object_md5s(meta)

    def expected(blob_id: str, size: int) -> dict[str, str] | str:
        recorded = manifest.get(blob_id)
        if recorded is None:
            return "referenced but not in the manifest"
        if recorded[0] != size:
            return f"the manifest says {recorded[0]} bytes, the metadata {size}"
        return {"sha256": str(recorded[1])} | ({"md5": etags[blob_id].md5} if blob_id in etags else {})

    return _check(directory, expected)


def verify_node(data_dir: Path, key_path: Path | None = None) -> BackupReport:
    """Check a node's data dir the same way: every referenced blob present with its size, and the MD5
    of every single-part object (its ETag) — the one digest the metadata keeps per blob."""
    with _read_only(data_dir / SQLITE_FILE) as meta:
        etags = object_md5s(meta)

    def expected(blob_id: str, size: int) -> dict[str, str] | None:
        return {"md5": etags[blob_id].md5} if blob_id in etags else None

    return _check(data_dir, expected, key_path)


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


_DIGEST_NAMES = {"sha256": "the SHA-256 recorded at backup", "md5": "the MD5 its object's ETag says"}


def _check(directory: Path, expected: Callable[[str, int], dict[str, str] | str | None],
           key_path: Path | None = None) -> BackupReport:
    """Every live blob of ``directory``'s metadata: present in ``directory/blobs``, of its size, with the
    digests ``expected`` gives ({algorithm: hex}), if any; a string from ``expected`` is a problem."""
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
        elif want is not None and "md5" in want and path.stat().st_size != size:
            report.problems.append(f"blob {blob_id}: encrypted, but its object's metadata says it is not")
        elif want and (wrong := _mismatch(path, want)) is not None:
            report.problems.append(f"blob {blob_id}: its content does not match {_DIGEST_NAMES[wrong]}")
        else:
            report.blobs += 1
            report.bytes += size
    return report


def _mismatch(path: Path, want: dict[str, str]) -> str | None:
    """The first algorithm of ``want`` whose digest of ``path`` is not the one wanted, if any."""
    algorithms = list(want)
    for algorithm, got in zip(algorithms, _digests(path, algorithms), strict=True):
        if got != want[algorithm]:
            return algorithm
    return None


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
