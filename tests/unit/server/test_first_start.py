"""A node that opened its store after PostgreSQL came back and lost the race to make the root account waits
for the winner's key before it turns ready (server.first_start): root's first request must not get
InvalidAccessKeyId from it meanwhile, which no client retries."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from satchel.config import Settings
from satchel.core import identity
from satchel.core.identity import ROOT_NAME
from satchel.core.masterkey import load_master_key
from satchel.core.models import Role
from satchel.meta.sqlite import SqliteStore
from satchel.server import first_start


def test_the_loser_of_the_root_race_waits_for_the_winners_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    store = SqliteStore(tmp_path / "meta.sqlite3")
    try:
        first_start(store, settings)  # a fresh store: this start makes root (and the key check)
        root = store.get_account_by_name(ROOT_NAME)
        assert root is not None
        winner = store.list_users(root.id)[0]
        for key in store.list_access_keys(winner.id):
            store.delete_access_key(key.access_key_id)
        # As if another process had made root's user a moment ago and were about to make its key.
        key_made = threading.Event()

        def winner_finishes() -> None:
            time.sleep(0.4)
            identity.create_access_key(store, load_master_key(settings.data_dir), winner.id)
            key_made.set()

        finisher = threading.Thread(target=winner_finishes)
        began = time.monotonic()
        finisher.start()
        first_start(store, settings)  # bootstrap finds root's user: None, then waits for the key
        waited = time.monotonic() - began
        finisher.join()
        assert key_made.is_set() and waited >= 0.35, waited
        assert [u.role for u in store.list_users(root.id)] == [Role.ADMIN]
    finally:
        store.close()

