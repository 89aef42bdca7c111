"""The in-process tier: the real ASGI app (SQLite, blobs, master key in a temporary directory) driven
without sockets. One node per test module; tests name their own buckets so they stay independent."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.app.driver import InProcessApp

_NAMES = itertools.count()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    made = InProcessApp(Path(tmp_path_factory.mktemp("app")))
    yield made
    made.close()


@pytest.fixture
def bucket(app: InProcessApp) -> str:
    """A fresh bucket owned by root."""
    name = f"app-{next(_NAMES)}"
    assert app.s3("PUT", f"/{name}").status == 200
    return name


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique names for users, buckets and keys within the module's node."""
    return lambda prefix: f"{prefix}{next(_NAMES)}"
