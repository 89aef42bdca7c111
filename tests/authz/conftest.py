"""One populated server for every authorization matrix of the package (populating it is most of their time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.authz.test_matrix import Matrix, populate
from tests.clients.server import SatchelProcess


@pytest.fixture(scope="package")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    server = SatchelProcess(tmp_path_factory.mktemp("authz") / "data")
    server.start()
    try:
        yield populate(server)
    finally:
        server.stop()
