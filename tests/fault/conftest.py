"""Fixtures of the fault tier: a server of the test's own, which it may kill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.server import SatchelProcess, external_server


@pytest.fixture
def server(tmp_path: Path) -> Any:
    if external_server() is not None:
        pytest.skip("needs a satchel process started by the harness (SATCHEL_TEST_ENDPOINT is set)")
    proc = SatchelProcess(tmp_path / "data")
    proc.start()
    yield proc
    proc.stop()
