"""A real Chromium downloads through pre-authenticated requests: a download-mode PAR saves the file under
its name, and an HTML file shared with a *view* PAR is saved too, never rendered (no script under
Satchel's origin)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from tests.browser.chromium import start_chromium
from tests.clients.par import create, url

WAIT = 20.0


@pytest.fixture
def downloader(tmp_path: Path) -> Iterator[tuple[webdriver.Chrome, Path]]:
    folder = tmp_path / "downloads"
    folder.mkdir()
    driver = start_chromium(tmp_path / "profile", prefs={"download.default_directory": str(folder),
                                                         "download.prompt_for_download": False})
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    try:
        yield driver, folder
    finally:
        driver.quit()


def _saved(folder: Path, name: str) -> bytes:
    deadline = time.monotonic() + WAIT
    target = folder / name
    while time.monotonic() < deadline:
        if target.exists() and not list(folder.glob("*.crdownload")):
            return target.read_bytes()
        time.sleep(0.1)
    pytest.fail(f"{name} was not downloaded; the folder holds {sorted(p.name for p in folder.iterdir())}")


def test_chromium_downloads_through_pars(downloader: tuple[webdriver.Chrome, Path], satchel_server: Any, s3: Any,
                                         bucket: str) -> None:
    driver, folder = downloader
    data = bytes(range(256)) * 1000
    s3.put_object(Bucket=bucket, Key="share/data.bin", Body=data, ContentType="application/octet-stream")
    s3.put_object(Bucket=bucket, Key="share/page.html", ContentType="text/html",
                  Body=b"<html><head><title>pwned</title></head><body><script>document.title='ran'</script></body>")
    download = create(satchel_server, bucket=bucket, accessType="ObjectRead", objectName="share/data.bin",
                      mode="download", filename="report.bin")
    driver.get(download["fullPath"])
    assert _saved(folder, "report.bin") == data
    view = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="share/", mode="view")
    driver.get(url(view, "share/page.html"))
    assert b"<script>" in _saved(folder, "page.html")
    assert driver.title not in ("pwned", "ran")  # saved, never rendered
