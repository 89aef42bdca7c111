"""Metadata stores: pick one from the settings with :func:`open_store`."""

from __future__ import annotations

from satchel.config import Settings
from satchel.meta.sqlite import SqliteStore
from satchel.meta.store import Store


class UnusableStore(ValueError):
    """The metadata database answered and refused this node (wrong password, no such database or role,
    TLS required, a malformed URL): a configuration error that waiting does not fix, so the node does
    not start. Unlike :class:`~satchel.core.errors.ServiceUnavailable` (a database that is down), which a
    node waits out."""


#: The SQLite store's file inside the data directory.
SQLITE_FILE = "meta.sqlite3"


def store_exists(settings: Settings) -> bool:
    """Whether the store ``settings`` names was created already (the first ``satchel serve`` does it), so
    that commands which must never create one (``satchel admin``) can tell a wrong data dir from a node."""
    if settings.metadata_url == "sqlite":
        return (settings.data_dir / SQLITE_FILE).is_file()
    return True  # a database server's store exists or fails to open: it is never created by accident


def open_store(settings: Settings) -> Store:
    """The store ``settings.metadata_url`` names: ``sqlite`` keeps ``meta.sqlite3`` in the data dir; a
    ``postgresql://`` URL (libpq's form) names a database shared by every node."""
    url = settings.metadata_url
    if url == "sqlite":
        return SqliteStore(settings.data_dir / SQLITE_FILE, synchronous=settings.sqlite_synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        from satchel.meta.postgres import PostgresStore  # psycopg only loads when it is used

        return PostgresStore(url, pool_size=settings.postgres_pool_size, timeout=settings.postgres_timeout)
    raise UnusableStore(f"metadata_url must be 'sqlite' or a postgresql:// URL, not {url.split('://')[0]!r}")
