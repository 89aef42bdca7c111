"""A bucket's default encryption on SQLite: set, replaced, removed, and gone with its bucket (bound to the
bucket's id, so a name re-created by someone else inherits nothing)."""

from __future__ import annotations

from satchel.core.models import Bucket
from satchel.meta.sqlite import SqliteStore
from tests.unit.meta.conftest import World


def test_bucket_default_encryption(store: SqliteStore, world: World) -> None:
    bucket_id = world.bucket.id
    assert store.get_bucket_encryption(bucket_id) is None
    store.set_bucket_encryption(bucket_id, "AES256", 1.0)
    store.set_bucket_encryption(bucket_id, "AES256", 2.0)  # an upsert, not a second row
    assert store.get_bucket_encryption(bucket_id) == "AES256"
    store.set_bucket_encryption(bucket_id, None, 3.0)
    assert store.get_bucket_encryption(bucket_id) is None
    store.set_bucket_encryption(bucket_id, "AES256", 4.0)
    store.delete_bucket("photos")
    again = store.create_bucket(Bucket("photos", world.account.id, world.user.id, 5.0))
    assert store.get_bucket_encryption(again.id) is None
    assert store.get_bucket_encryption(bucket_id) is None  # the row went with its bucket
