"""Metadata stores: pick one from the settings with :func:`open_store`."""

from __future__ import annotations

from satchel.config import Settings
from satchel.meta.sqlite import SqliteStore
from satchel.meta.store import Store


def open_store(settings: Settings) -> Store:
    """The store ``settings.metadata_url`` names: ``sqlite`` keeps ``meta.sqlite3`` in the data dir."""
    url = settings.metadata_url
    if url == "sqlite":
        return SqliteStore(settings.data_dir / "meta.sqlite3", synchronous=settings.sqlite_synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        raise ValueError("metadata_url: the PostgreSQL store is not built yet; use 'sqlite'")
    raise ValueError(f"metadata_url must be 'sqlite' or a postgresql:// URL, not {url.split('://')[0]!r}")
