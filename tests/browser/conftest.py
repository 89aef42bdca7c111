"""Fixtures for the browser tier: the client tier's real server and boto3 clients, plus headless Chromium.

The server fixtures are the client tier's own (tests/clients/conftest.py), imported so both tiers start and
reach ``satchel serve`` the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.conftest import (  # noqa: F401 - fixtures are found by name
    bucket,
    bucket_factory,
    managed_server,
    s3,
    s3_factory,
    satchel_server,
)

#: Screenshots the console tests saved (tests/browser/test_console_chromium.py), listed after the run.
SCREENSHOTS: list[Path] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS:
        terminalreporter.section("console screenshots")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path))
