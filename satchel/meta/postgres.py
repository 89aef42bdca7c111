"""The PostgreSQL metadata store: one database shared by every node (``metadata_url = postgresql://…``).

It is the SQLite store's SQL on another database object (``meta/postgres_db.py``): the same mixins,
the same migrations, so every store method written for SQLite (and portable, see ``meta/schema.py``)
works here too. Only what has no portable form is overridden.
"""

from __future__ import annotations

from pathlib import Path

from satchel.core.errors import NotImplementedFeature
from satchel.meta.postgres_db import Gate, JobLock, PostgresDatabase
from satchel.meta.sqlite import SqliteStore


class PostgresStore(SqliteStore):
    """:class:`~satchel.meta.store.Store` on a PostgreSQL database."""

    #: Every read is a round trip: ``Node.read`` runs them in reader threads, off the event loop.
    reads_inline = False

    def __init__(self, url: str, *, pool_size: int = 10, timeout: float = 3.0) -> None:
        # Not SqliteStore.__init__: no file. The mixins only use ``self._db``.
        self.database = PostgresDatabase(url, pool_size=pool_size, timeout=timeout)
        self._db = self.database  # type: ignore[assignment]
        self.url = url

    def job_lock(self, job: str) -> JobLock:
        return self.database.job_lock(job)

    def watch(self, gate: Gate) -> None:
        self.database.watch(gate)

    def backup_to(self, target: Path) -> None:
        # `satchel admin backup` reads a PostgreSQL store from one snapshot (backupsources.postgres_snapshot).
        raise NotImplementedFeature("A PostgreSQL metadata store is not a file: it is backed up from one "
                                    "snapshot (satchel.backupsources.postgres_snapshot).")
