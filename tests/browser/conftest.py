"""Fixtures for the browser tier: the client tier's real server and boto3 clients, plus headless Chromium.

The server fixtures are the client tier's own (tests/clients/conftest.py), imported so both tiers start and
reach ``satchel serve`` the same way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tests.browser.chromium import start_chromium
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
#: The console tests' window sizes: a desktop and a phone's width.
DESKTOP, PHONE = (1280, 900), (390, 844)


# --- the console tests' browser (one per test module), its downloads and screenshots --------------------
@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[webdriver.Chrome]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium"), [f"--window-size={DESKTOP[0]},{DESKTOP[1]}"],
                            browser_log=True)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory, browser: webdriver.Chrome) -> Callable[[str], None]:
    folder = Path(os.environ.get("SATCHEL_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            browser.set_window_size(width, height)
            time.sleep(0.2)  # let the layout settle at the new width
            path = folder / f"{name}-{label}.png"
            browser.save_screenshot(str(path))
            SCREENSHOTS.append(path)
        browser.set_window_size(*DESKTOP)

    return shoot



def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS:
        terminalreporter.section("console screenshots")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path))
