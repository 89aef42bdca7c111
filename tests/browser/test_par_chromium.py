"""A real Chromium downloads through pre-authenticated requests: a download-mode PAR saves the file under
its name, and an HTML file shared with a *view* PAR is saved too, never rendered (no script under
Satchel's origin)."""

from __future__ import annotations

import subprocess
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


XSS_BODY = (b"<html><head><title>pwned</title></head><body>"
            b"<script>document.title='ran'</script></body></html>")
#: Content-Types a browser reads as text/html (it takes the last type of a comma-separated list).
SMUGGLED_TYPES = ("text/plain,text/html", "*/*,text/html", 'text/plain;a=",",text/html')


def test_comma_content_types_are_refused_on_put_and_never_rendered(
        downloader: tuple[webdriver.Chrome, Path], satchel_server: Any, s3: Any, bucket: str) -> None:
    driver, folder = downloader
    writer = create(satchel_server, bucket=bucket, accessType="AnyObjectWrite", objectName="xss/")
    for content_type in SMUGGLED_TYPES:
        put = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H",
                              f"Content-Type: {content_type}", "--data-binary", "x", url(writer, "xss/put.txt")],
                             capture_output=True, text=True, timeout=30, check=True)
        assert put.stdout == "400", content_type
    reader = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="xss/")
    for number, content_type in enumerate(SMUGGLED_TYPES):
        name = f"invoice{number}.txt"
        s3.put_object(Bucket=bucket, Key=f"xss/{name}", Body=XSS_BODY, ContentType=content_type)
        driver.get(url(reader, f"xss/{name}"))
        assert _saved(folder, name) == XSS_BODY  # downloaded, never rendered
        assert driver.title not in ("pwned", "ran")
    s3.put_object(Bucket=bucket, Key="xss/plain.txt", Body=b"just text", ContentType="text/plain; charset=utf-8")
    driver.get(url(reader, "xss/plain.txt"))
    assert "just text" in driver.page_source  # an allow-listed type is still shown inline
