"""The node master key: encrypts access-key secrets at rest.

Signature verification needs the plaintext secret (HMAC is symmetric), so secrets cannot be stored as
hashes like passwords. Instead each secret is sealed with AES-256-GCM under a 32-byte key kept in
``<data_dir>/master.key`` (or the file ``master_key_file`` names), apart from the metadata database: a
copy of the database alone (a backup, a PostgreSQL dump) does not reveal any secret.

- The default file is created on first use with mode 0600, atomically (written to a private temporary
  file, then hard-linked into place), so worker processes starting together all read the same complete
  key. A file named by ``master_key_file`` is never created: it is the deployment's one key, mounted on
  every node (often a read-only secret volume), and a node without it must not invent another.
- A key file readable or writable by group or others is refused: the node does not start rather than
  keep running with a leaked key. Its owner may be another user (a secret mounted by the orchestrator)
  as long as this process can read it: 0400 or 0600, nothing for group and others.
- Whether the key is the one the metadata's secrets were sealed with is ``core/keycheck.py``'s job.
- Each sealed value is ``nonce (12 random bytes) || ciphertext || tag``, with the access key id as
  associated data, so a ciphertext copied onto another key's row does not decrypt.

Losing the file loses every access-key secret (users must create new keys); back it up separately.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_FILE = "master.key"
KEY_SIZE = 32
NONCE_SIZE = 12


class MasterKeyError(RuntimeError):
    """The master key file is unusable (unsafe permissions, wrong size): the node must not start."""


class MasterKeyMissing(MasterKeyError):
    """No key file where one was expected; never answered by making a new key."""


class SealedValueError(ValueError):
    """A sealed value does not decrypt: wrong key, corrupted data, or another row's ciphertext."""


class MasterKey:
    """Seals and opens small secrets with AES-256-GCM."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise MasterKeyError(f"master key must be {KEY_SIZE} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "MasterKey(<redacted>)"

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def unseal(self, sealed: bytes, associated_data: bytes) -> bytes:
        if len(sealed) < NONCE_SIZE + 16:
            raise SealedValueError("sealed value too short")
        try:
            return self._aead.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], associated_data)
        except InvalidTag as exc:
            raise SealedValueError("sealed value does not decrypt with this master key") from exc


def load_master_key(data_dir: Path) -> MasterKey:
    """Read ``<data_dir>/master.key``, creating it (and ``data_dir``) on first use."""
    return open_master_key(Path(data_dir) / MASTER_KEY_FILE, create=True)


def open_master_key(path: Path, *, create: bool, follow_symlinks: bool = False) -> MasterKey:
    """Read the key at ``path``; when it does not exist, create it if ``create``, else :class:`MasterKeyMissing`.

    ``follow_symlinks`` is for a path the operator named (``master_key_file``): orchestrators mount
    secrets as symlinks (Kubernetes: ``key -> ..data/key``). In the data dir a symlink stays refused."""
    try:
        return MasterKey(_read_key(path, follow_symlinks=follow_symlinks))
    except FileNotFoundError:
        if not create:
            raise MasterKeyMissing(f"no master key at {path}") from None
    _create_key(path)
    return MasterKey(_read_key(path))


def read_key_bytes(path: Path) -> bytes:
    """The raw key at ``path`` (checked like any key file), for comparing two copies without keeping either."""
    return _read_key(path, follow_symlinks=True)


def _read_key(path: Path, *, follow_symlinks: bool = False) -> bytes:
    # O_NOFOLLOW: a symlink planted in the data dir must not redirect us to another file.
    try:
        # O_NONBLOCK: a FIFO named as the key must not hang the start (it is then refused: not a regular file).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW))
    except PermissionError:
        raise MasterKeyError(
            f"{path} cannot be read by this process (uid {os.getuid()}): make it readable by the user "
            "Satchel runs as and by nobody else (owned by that uid, mode 0400 or 0600; a Docker secret: "
            "its uid and mode options)"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MasterKeyError(f"{path} is not a regular file")
        if info.st_mode & 0o077:
            raise MasterKeyError(
                f"{path} is accessible by group or others (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"refusing to use it. Fix with: chmod 600 {path} (a mounted secret, read-only here: mount it "
                "with mode 0400, owned by the user Satchel runs as)"
            )
        data = os.read(fd, KEY_SIZE + 1)
    finally:
        os.close(fd)
    if len(data) != KEY_SIZE:
        raise MasterKeyError(f"{path} holds {len(data)} bytes, expected {KEY_SIZE}: corrupted key file")
    return data


def _create_key(path: Path) -> None:
    """Write a fresh key atomically; losing a race against another process is fine."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_SIZE))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # link() fails when the name exists, so the first writer wins and nobody sees a partial file.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
