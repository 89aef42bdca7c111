"""Headless Chromium for the browser tier: Debian's ``chromium`` and ``chromedriver``, never a downloaded one."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


def start_chromium(user_data_dir: Path, extra_flags: Sequence[str] = (), *,
                   browser_log: bool = False, prefs: dict[str, object] | None = None) -> webdriver.Chrome:
    """A missing browser fails the test rather than skipping it, because CI installs it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if browser is None or driver_path is None:
        pytest.fail("headless Chromium is required: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", *extra_flags):
        options.add_argument(flag)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if prefs:
        options.add_experimental_option("prefs", prefs)
    # A Service with an explicit driver path keeps Selenium Manager (which downloads drivers) out of it.
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
