"""Objects never run script under Satchel's origin, whoever wrote them and however they are opened.

The console's session lives on the same origin as every object, so an HTML object opened through a
presigned URL (or a public bucket, a TempURL, a PAR) that ran script could read the console's CSRF token
and act as whoever opened it. Every answer carrying an object's bytes is sandboxed
(``satchel/contentsafety.py``): a real Chromium renders such an object but runs none of its script.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver

from tests.browser.chromium import start_chromium
from tests.clients.par import create, url

SCRIPTED = b"<!doctype html><title>quiet</title><p id='p'>hello</p><script>document.title = 'PWNED';</script>"
#: What a browser renders as HTML although the writer chose the type: the last of several types counts.
HTML_TYPES = ("text/html", "text/plain,text/html", "image/svg+xml")


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    driver = start_chromium(tmp_path_factory.mktemp("isolation"))
    try:
        yield driver
    finally:
        driver.quit()


def _title_after_load(driver: webdriver.Chrome, address: str) -> str:
    driver.get(address)
    time.sleep(0.3)  # a script, if one ran, has run by now: it is synchronous and inline
    return str(driver.title)


@pytest.mark.parametrize("content_type", HTML_TYPES[:2])
def test_presigned_html_renders_without_script(chromium: webdriver.Chrome, s3: Any, bucket: str,
                                               content_type: str) -> None:
    s3.put_object(Bucket=bucket, Key="page.html", Body=SCRIPTED, ContentType=content_type)
    link = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "page.html"}, ExpiresIn=300)
    assert _title_after_load(chromium, link) != "PWNED"
    assert "hello" in chromium.page_source  # shown, as HTML or as text, but inert


def test_every_front_end_sandboxes_object_answers(s3: Any, bucket: str, satchel_server: Any,
                                                  tmp_path: Path) -> None:
    for number, content_type in enumerate(HTML_TYPES):
        s3.put_object(Bucket=bucket, Key=f"o{number}", Body=SCRIPTED, ContentType=content_type)
    s3.put_object(Bucket=bucket, Key="doc.pdf", Body=b"%PDF-1.4\n%%EOF\n", ContentType="application/pdf")
    s3.put_object(Bucket=bucket, Key="fake.pdf", Body=SCRIPTED, ContentType="application/pdf,text/html")
    par = create(satchel_server, bucket=bucket, accessType="AnyObjectRead")

    def policies(key: str) -> list[str | None]:
        def signed(operation: str) -> str:
            return str(s3.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": key}, ExpiresIn=300))

        answers = [requests.get(signed("get_object"), timeout=10), requests.head(signed("head_object"), timeout=10),
                   requests.get(url(par, key), timeout=10)]
        assert all(a.status_code == 200 for a in answers), [a.status_code for a in answers]
        assert all(a.headers.get("X-Content-Type-Options") == "nosniff" for a in answers)
        return [a.headers.get("Content-Security-Policy") for a in answers]

    for number in range(len(HTML_TYPES)):
        assert policies(f"o{number}") == ["sandbox"] * 3
    assert policies("fake.pdf") == ["sandbox"] * 3  # a browser reads the last type: HTML
    assert policies("doc.pdf") == [None] * 3  # Chromium's PDF viewer does not render in a sandbox
    overridden = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "doc.pdf", "ResponseContentType": "text/html"}, ExpiresIn=300)
    assert requests.get(overridden, timeout=10).headers.get("Content-Security-Policy") == "sandbox"
