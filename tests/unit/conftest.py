"""The store fixture shared by the unit tests that exercise a metadata store: each such test runs on
SQLite and on PostgreSQL (a private cluster, ``tests/conftest.py``), so what is written once in the
SQLite mixins is proven on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.meta.sqlite import SqliteStore


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every store test runs on both engines, unless its module says ``ENGINES = ("sqlite",)`` (tests of
    SQLite's own file, locking or pragmas; one test: ``@pytest.mark.sqlite_only``)."""
    if "engine" in metafunc.fixturenames:
        engines = getattr(metafunc.module, "ENGINES", ("sqlite", "postgresql"))
        if metafunc.definition.get_closest_marker("sqlite_only"):
            engines = ("sqlite",)
        metafunc.parametrize("engine", engines)


@pytest.fixture
def store(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SqliteStore]:
    if engine == "postgresql":
        from satchel.meta.postgres import PostgresStore

        s: SqliteStore = PostgresStore(request.getfixturevalue("pg_url"))
    else:
        s = SqliteStore(tmp_path / "meta.sqlite3")
    yield s
    s.close()
