"""Migration _V3 (the share right): a store made before it opens upgraded, and existing rows keep a safe meaning —
no grant gives the share right, every bucket follows the seeds' rule (``sharing = grant``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from satchel.core.models import Permission, Sharing
from satchel.meta.schema import MIGRATIONS, statements
from satchel.meta.sqlite import SqliteStore

_V3_INDEX = 2


def test_version_2_store_upgrades_without_share(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for script in MIGRATIONS[:_V3_INDEX]:
        for statement in statements(script, "sqlite"):
            conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (_V3_INDEX,))
    conn.execute("INSERT INTO accounts VALUES ('a', 'acme', 1.0)")
    conn.execute("INSERT INTO users VALUES ('u', 'a', 'bob', 'member', 'active', 1.0, NULL)")
    conn.execute("INSERT INTO buckets (name, account_id, owner_user_id, created) VALUES ('photos', 'a', NULL, 1.0)")
    conn.execute("INSERT INTO grants VALUES ('g', 'u', 'photos', 'shared/', 'read', 1.0)")
    conn.commit()
    conn.close()

    store = SqliteStore(path)
    try:
        assert store.schema_version() == len(MIGRATIONS)
        (grant,) = store.list_grants()
        assert (grant.permission, grant.prefix, grant.share) == (Permission.READ, "shared/", False)
        bucket = store.get_bucket("photos")
        assert bucket is not None and bucket.sharing is Sharing.GRANT
        # Granting again with share replaces the grant; the bucket setting changes alone.
        again = store.add_grant("u", "photos", "shared/", Permission.READ, share=True)
        assert (again.id, again.share) == ("g", True)
        assert store.update_bucket("photos", sharing=Sharing.ANY).sharing is Sharing.ANY
    finally:
        store.close()
