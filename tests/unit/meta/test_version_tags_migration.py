"""Migration _V20: object tags become per version. Before it every key's tags were its current version's,
kept under ``'null'``; its statements move them under the current version's own id, and drop tags left
over a delete marker (no version owns them). (Run by hand on a store put back in the old layout: the
merge may order other migrations after this one.)"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from satchel.core.models import Account, Bucket, Role
from satchel.meta.schema import _V20, MIGRATIONS, statements
from satchel.meta.sqlite import SqliteStore

from .conftest import record

V1 = "1" * 32


def test_tags_of_a_store_made_before_v20_move_to_their_version(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    store = SqliteStore(path)
    account: Account = store.create_account("acme")
    user = store.create_user(account.id, "alice", Role.MEMBER)
    store.create_bucket(Bucket("photos", account.id, user.id, 1000.0))
    store.put_object(record("plain", "a" * 32), tags=[("k", "plain")])
    store.set_bucket_versioning("photos", "Enabled")
    store.put_object(replace(record("versioned", "b" * 32), version_id=V1), tags=[("k", "v1")])
    store.put_object(replace(record("gone", "c" * 32), version_id="2" * 32))
    store.close()
    # Back to the layout before _V20: every tag under 'null', one left behind a delete marker.
    conn = sqlite3.connect(path)
    conn.execute("UPDATE tagging_objects SET version_id = 'null'")
    conn.execute("INSERT INTO tagging_objects VALUES ('photos', 'gone', 'null', 'stale', 'x', 0)")
    conn.execute("DELETE FROM objects WHERE key = 'gone'")
    for statement in statements(_V20, "sqlite"):
        if not statement.startswith("ALTER TABLE"):  # the column it adds is there already
            conn.execute(statement)
    conn.commit()
    conn.close()

    store = SqliteStore(path)
    try:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.get_object_tags("photos", "versioned") == (("k", "v1"),)
        assert store.get_object_tags("photos", "versioned", V1) == (("k", "v1"),)
        assert store.get_object_tags("photos", "versioned", "null") is None
        assert store.get_object_tags("photos", "plain") == (("k", "plain"),)
        left = sqlite3.connect(path).execute("SELECT count(*) FROM tagging_objects WHERE key = 'gone'").fetchone()
        assert left == (0,)
    finally:
        store.close()
