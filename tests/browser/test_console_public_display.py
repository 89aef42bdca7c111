"""The console's bucket list in a real Chromium shows what answers: a bucket whose public flag Block Public
Access's IgnorePublicAcls ignores is not "Public" but "Private (public ACL ignored)", and its settings dialog
says why; it is "Public" again when the block goes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.test_console_chromium import by_id, click, open_page, wait
from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess

BUCKET = "shown-public"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    with SatchelProcess(tmp_path_factory.mktemp("console-public") / "data").running() as process:
        yield process


def _access(browser: webdriver.Chrome, server: SatchelProcess) -> str:
    """The Access cell of the bucket's row, on a freshly loaded buckets page."""
    open_page(browser, server, "/buckets")
    browser.refresh()  # the same fragment again would not load the page anew
    row = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']"))
    return str(row.find_elements(By.TAG_NAME, "td")[2].text)


def test_an_ignored_public_acl_is_not_shown_public(browser: webdriver.Chrome, server: SatchelProcess) -> None:
    s3 = make_client(server)
    s3.create_bucket(Bucket=BUCKET, ACL="public-read")
    open_page(browser, server, "/buckets")
    by_id(browser, "login-user").send_keys("root")
    by_id(browser, "login-password").send_keys(server.password)
    by_id(browser, "login-password").submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']"))
    assert _access(browser, server) == "Public"

    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    assert _access(browser, server) == "Private (public ACL ignored)"
    click(browser, browser.find_element(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}'] td.actions button"))
    assert "IgnorePublicAcls" in by_id(browser, "bucket-public-ignored").text
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()

    s3.delete_public_access_block(Bucket=BUCKET)
    assert _access(browser, server) == "Public"
    s3.delete_bucket(Bucket=BUCKET)
