"""One master key per deployment: every start (a node, an admin command) proves its key against the metadata.

The metadata holds secrets sealed by the master key (access-key secrets, SSE-S3 data keys, webhook and
TempURL keys) but the key itself lives apart, in a file on each node (``core/masterkey.py``). A node
started with another key, or none, used to make a new one and go on: it could open none of those secrets
and, worse, sealed new ones no other node could open. So the metadata keeps a *check*, a constant sealed
by the key (AES-256-GCM with a random nonce: neither the key nor anything that helps guess it), in the
one-row ``node_key_check`` table:

- The first start records it. Two nodes racing on a fresh database each insert theirs; the first insert
  wins, and the other node, reading back the winner's check, refuses (its key is another).
- Every later start opens it with its key: a key that does not open it stops the start with a message
  naming the file to copy.
- A missing key is created only where nothing needs the old one: the default ``data_dir/master.key`` on a
  fresh store (no check, no access key). A file named by ``master_key_file`` is never created.
- A store from before the check (no row yet) gets one only after the key opened one of its access keys
  and one of its SSE-S3 data keys (whichever it holds), so an upgrade cannot seal the check with a wrong key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from satchel.config import Settings
from satchel.core import sse
from satchel.core.masterkey import MasterKey, MasterKeyError, MasterKeyMissing, SealedValueError, open_master_key
from satchel.meta.store import Store

#: What the check seals, and the associated data binding it to its table (no other sealed value opens as it).
_CHECK_PLAINTEXT = b"satchel master key check 1"
_CHECK_AAD = b"node_key_check"


class KeyMismatch(MasterKeyError):
    """This node's master key is not the one the metadata's secrets were sealed with."""


def seal_check(key: MasterKey) -> bytes:
    return key.seal(_CHECK_PLAINTEXT, _CHECK_AAD)


def opens_check(key: MasterKey, sealed: bytes) -> bool:
    try:
        return key.unseal(sealed, _CHECK_AAD) == _CHECK_PLAINTEXT
    except SealedValueError:
        return False


def node_master_key(store: Store, settings: Settings, *, create: bool = True) -> MasterKey:
    """This node's master key, proven against ``store``'s check (recorded now when there is none).

    ``create``: whether a missing default key may be made (a fresh node's first start, ``admin init``);
    an explicit ``master_key_file`` is never created either way."""
    return verified_master_key(store, settings.master_key_path, explicit=settings.master_key_file is not None,
                               create=create)


def verified_master_key(store: Store, path: Path, *, explicit: bool, create: bool = True,
                        now: Callable[[], float] = time.time) -> MasterKey:
    recorded = store.get_key_check()
    try:
        key = open_master_key(path, create=False, follow_symlinks=explicit)
    except MasterKeyMissing:
        key = _create_if_allowed(store, path, explicit=explicit, create=create, recorded=recorded)
    if recorded is None:
        _try_on_a_secret(store, key, path)
        recorded = store.record_key_check(seal_check(key), now())
    if not opens_check(key, recorded):
        raise KeyMismatch(mismatch(path))
    return key


def mismatch(path: Path) -> str:
    return (f"this node's master key ({path}) does not match the one the metadata was sealed with; copy "
            f"{path.name} from another node of this deployment (or from the backup of this metadata) to {path}, "
            "mode 0600 or 0400, or point master_key_file (SATCHEL_MASTER_KEY_FILE) at the deployment's key file. "
            "Nothing was changed.")


def explicit_missing(path: Path) -> str:
    return (f"master_key_file {path} does not exist: copy the deployment's master key there (the file "
            "master.key of another node, mode 0600 or 0400); a key named by master_key_file is never created")


def _create_if_allowed(store: Store, path: Path, *, explicit: bool, create: bool,
                       recorded: bytes | None) -> MasterKey:
    if explicit:
        raise MasterKeyMissing(explicit_missing(path))
    if recorded is not None or store.sample_sealed_secret() is not None:
        raise MasterKeyMissing(
            f"this node has no master key ({path} is missing) but the metadata holds secrets sealed with one: "
            f"copy {path.name} from another node of this deployment (or from the backup of this metadata) to "
            f"{path}, mode 0600, or set master_key_file (SATCHEL_MASTER_KEY_FILE) to the deployment's key "
            "file. A new key would open none of them, so none was made.")
    if not create:
        raise MasterKeyMissing(f"no master key at {path}, and this command creates none")
    return open_master_key(path, create=True)


def _try_on_a_secret(store: Store, key: MasterKey, path: Path) -> None:
    """A store older than the check: record one only if the key opens what it holds sealed — an access key,
    and an SSE-S3 object's data key (a store may have objects encrypted at rest and no access key left)."""
    sample = store.sample_sealed_secret()
    if sample is not None:
        access_key_id, sealed = sample
        try:
            key.unseal(sealed, access_key_id.encode())
        except SealedValueError:
            raise KeyMismatch(mismatch(path) + f" (it does not open the secret of access key {access_key_id})") \
                from None
    headers = store.sample_sse_headers()
    if headers is not None and not sse.opens_stored_key(key, json.loads(headers)):
        raise KeyMismatch(mismatch(path) + " (it does not open the data key of an object encrypted at rest)")
