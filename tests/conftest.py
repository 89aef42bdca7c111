"""Shared by every test tier; fixtures live beside the tier that uses them (tests/clients/conftest.py),
except the private PostgreSQL cluster, which the unit and the client tiers share."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests import pgcluster
from tests.seaweedfs import seaweedfs  # noqa: F401 - the real S3 upstream (SeaweedFS), one per session


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.PgCluster]:
    """One private PostgreSQL cluster per test session (``tests/pgcluster.py``). A developer's machine
    without PostgreSQL skips; CI (``CI`` set), where ``scripts/install-test-deps.sh`` installs it, fails
    instead, so the PostgreSQL tests never silently vanish."""
    if pgcluster.bin_dir() is None:
        reason = "PostgreSQL is not installed (scripts/install-test-deps.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = pgcluster.PgCluster()
    try:
        yield cluster
    finally:
        cluster.close()


@dataclass(frozen=True)
class PgTemplate:
    """A database migrated once, and the rows its migrations left (restored by every reset)."""

    name: str
    tables: tuple[str, ...]
    rows: dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="session")
def pg_template(pg_cluster: pgcluster.PgCluster) -> PgTemplate:
    from satchel.meta.postgres import PostgresStore

    url = pg_cluster.create_database("satchel_template")
    PostgresStore(url).close()
    with psycopg.connect(url) as conn:
        tables = tuple(r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'"))
        rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}  # noqa: S608 - catalogue names
    return PgTemplate("satchel_template", tables, {t: r for t, r in rows.items() if r})


@pytest.fixture(scope="module")
def pg_module_url(pg_cluster: pgcluster.PgCluster, pg_template: PgTemplate) -> str:
    """One database per test module, cloned from the template (``CREATE DATABASE … TEMPLATE``)."""
    return pg_cluster.create_database(pgcluster.fresh_name(), pg_template.name)


@pytest.fixture
def pg_url(pg_module_url: str, pg_template: PgTemplate) -> str:
    """The module's database emptied back to the template's rows: a fresh, migrated store per test
    (one transaction of DELETEs, foreign keys set aside: milliseconds, where a clone takes ~0.1 s)."""
    with psycopg.connect(pg_module_url) as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in pg_template.tables:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - catalogue names
        for table, rows in pg_template.rows.items():
            marks = ", ".join(["%s"] * len(rows[0]))
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
    return pg_module_url
