"""The console's other link kinds in a real headless Chromium against a real ``satchel serve``: pre-authenticated
requests (one object from the dialog, a folder with listing, an upload-only folder), Swift TempURLs (the
dialog sets the missing container key), PARs on the Links page (listed, deleted, then refused) and on the
Audit page, and a bucket delete refused while a PAR is live, with the server's reason on screen.

Every URL is fetched with a client that has no cookies. The dialog is photographed with each kind at desktop
and phone width into the screenshot directory the console tests use (``SATCHEL_SCREENSHOTS``). The tests run
in file order and share one browser and one server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.test_console_chromium import by_id, click, open_page, severe_logs, share_dialog, wait
from tests.clients.boto import make_client
from tests.clients.mgmt import call, ok
from tests.clients.server import SatchelProcess

BUCKET = "links-test"
HELD = "held-by-par"
REPORT = bytes(range(256)) * 40
DOCS = {"docs/a.txt": b"first document\n", "docs/b.txt": b"second document\n"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    with SatchelProcess(tmp_path_factory.mktemp("console-links") / "data").running() as process:
        s3 = make_client(process)
        for name in (BUCKET, HELD):
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=BUCKET, Key="report.bin", Body=REPORT, ContentType="application/octet-stream")
        for key, body in DOCS.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="text/plain")
        yield process


@pytest.fixture(scope="module")
def shared() -> dict[str, Any]:
    return {}


def _share(browser: webdriver.Chrome, kind: str, *, max_uses: int | None = None, ip_range: str | None = None,
           **fill: Any) -> list[str]:
    """Pick the kind in the freshly opened dialog, fill it (share_dialog) and return the URLs."""
    kinds = wait(browser, lambda d: (e := d.find_element(By.ID, "share-kind")).is_displayed() and e)
    Select(kinds).select_by_value(kind)
    if max_uses is not None:
        by_id(browser, "share-max-uses").send_keys(str(max_uses))
    if ip_range is not None:
        by_id(browser, "share-ip").send_keys(ip_range)
    return share_dialog(browser, **fill)


def _close(browser: webdriver.Chrome) -> None:
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()
    wait(browser, lambda d: not d.find_element(By.ID, "dialog").is_displayed())


def _share_row(browser: webdriver.Chrome, key: str) -> None:
    click(browser, wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-key='{key}'] td.actions button")))


def test_sign_in(browser: webdriver.Chrome, server: SatchelProcess) -> None:
    open_page(browser, server, "/buckets")
    by_id(browser, "login-user").send_keys("root")
    by_id(browser, "login-password").send_keys(server.password)
    by_id(browser, "login-password").submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']"))


def test_the_dialog_offers_every_kind(browser: webdriver.Chrome, server: SatchelProcess,
                                      shots: Callable[[str], None]) -> None:
    open_page(browser, server, f"/b/{BUCKET}/")
    _share_row(browser, "report.bin")
    kinds = wait(browser, lambda d: (e := d.find_element(By.ID, "share-kind")).is_displayed() and e)
    assert [o.get_attribute("value") for o in Select(kinds).options] == ["s3v4", "s3v2", "swift", "par"]
    assert "at most 7 days" in by_id(browser, "share-cap").text
    shots("20-share-dialog-s3")
    Select(kinds).select_by_value("swift")
    assert by_id(browser, "share-ip").get_attribute("disabled") is not None  # TempURLs carry no IP range
    assert by_id(browser, "share-max-uses").get_attribute("disabled") is not None  # nor a use count
    assert by_id(browser, "share-page").get_attribute("disabled") is not None
    shots("21-share-dialog-swift")
    Select(kinds).select_by_value("par")
    assert "no maximum lifetime" in by_id(browser, "share-cap").text  # max_par_lifetime 0, no bucket ceiling
    assert by_id(browser, "share-ip").get_attribute("disabled") is None
    shots("22-share-dialog-par")
    _close(browser)


def test_a_par_from_the_dialog_outlives_7_days_and_downloads_without_cookies(
        browser: webdriver.Chrome, shots: Callable[[str], None], shared: dict[str, Any]) -> None:
    _share_row(browser, "report.bin")
    (url,) = _share(browser, "par", max_uses=5, ip_range="127.0.0.0/8", mode="download", amount=30, unit="days",
                    filename="Report 2026.bin")
    assert "/p/" in url and url.endswith("/o/report.bin")
    assert by_id(browser, "share-once").is_displayed()
    shots("23-share-dialog-par-url")
    _close(browser)
    got = requests.get(url, timeout=30)  # no cookies: only the URL
    assert got.status_code == 200 and got.content == REPORT
    assert got.headers["Content-Disposition"].startswith('attachment; filename="Report 2026.bin"')
    shared["par_url"] = url
    # An IP range that is not this client's: the PAR is made, and refused when used.
    _share_row(browser, "report.bin")
    (far,) = _share(browser, "par", ip_range="203.0.113.0/24")
    _close(browser)
    assert requests.get(far, timeout=30).status_code in (403, 404)


def test_a_folder_par_reads_and_lists_and_an_upload_only_par_writes(
        browser: webdriver.Chrome, server: SatchelProcess, shots: Callable[[str], None]) -> None:
    open_page(browser, server, f"/b/{BUCKET}/docs/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-key='docs/a.txt']"))
    click(browser, by_id(browser, "share-folder"))
    kinds = wait(browser, lambda d: (e := d.find_element(By.ID, "share-kind")).is_displayed() and e)
    assert [o.get_attribute("value") for o in Select(kinds).options] == ["par"]
    click(browser, by_id(browser, "share-listing"))
    shots("24-share-dialog-folder-par")
    (url,) = share_dialog(browser, amount=10, unit="minutes")
    _close(browser)
    assert url.endswith("/o/")
    for key, body in DOCS.items():
        got = requests.get(url + key, timeout=30)
        assert got.status_code == 200 and got.content == body
    listed = requests.get(url, timeout=30)
    assert listed.status_code == 200 and {o["name"] for o in listed.json()["objects"]} == set(DOCS)
    assert requests.get(url + "report.bin", timeout=30).status_code in (403, 404)  # outside the folder
    # Upload only: the link adds a file and reads nothing.
    click(browser, by_id(browser, "share-folder"))
    click(browser, wait(browser, lambda d: (e := d.find_element(By.ID, "share-access-write")).is_displayed() and e))
    assert by_id(browser, "share-mode-view").get_attribute("disabled") is not None
    (drop,) = share_dialog(browser, amount=10, unit="minutes")
    _close(browser)
    assert requests.put(drop + "docs/new.txt", data=b"dropped off", timeout=30).status_code == 200
    assert requests.get(drop + "docs/new.txt", timeout=30).status_code in (403, 404)
    assert make_client(server).get_object(Bucket=BUCKET, Key="docs/new.txt")["Body"].read() == b"dropped off"
    # The object's details list the folder's PARs among the links that reach it.
    click(browser, browser.find_element(By.CSS_SELECTOR, "tr[data-key='docs/a.txt'] td:nth-child(2) button"))
    wait(browser, lambda d: "par (AnyObjectWrite)" in d.find_element(By.ID, "dialog").text)
    assert "par (AnyObjectRead)" in by_id(browser, "dialog").text
    _close(browser)


def test_a_swift_tempurl_after_setting_the_container_key_from_the_dialog(
        browser: webdriver.Chrome, server: SatchelProcess, shots: Callable[[str], None]) -> None:
    open_page(browser, server, f"/b/{BUCKET}/")
    _share_row(browser, "report.bin")
    Select(wait(browser, lambda d: (e := d.find_element(By.ID, "share-kind")).is_displayed() and e)).select_by_value(
        "swift")
    click(browser, by_id(browser, "share-mode-download"))
    click(browser, by_id(browser, "share-generate"))
    wait(browser, lambda d: "you set none" in d.find_element(By.ID, "share-error").text)
    assert "swift post -m Temp-URL-Key" in by_id(browser, "share-error").text  # how to set one by hand
    shots("25-share-dialog-swift-no-key")
    click(browser, by_id(browser, "share-set-key"))  # sets a random key, then generates again
    url = wait(browser, lambda d: [e.get_attribute("value") for e in
                                   d.find_elements(By.CSS_SELECTOR, "#share-results input.url")])[0]
    assert "/v1/" in url and "temp_url_sig=" in url and by_id(browser, "share-error").text == ""
    _close(browser)
    got = requests.get(url, timeout=30)
    assert got.status_code == 200 and got.content == REPORT
    assert got.headers["Content-Disposition"].startswith('attachment; filename="report.bin"')


def test_pars_on_the_links_page_deleted_then_refused(browser: webdriver.Chrome, server: SatchelProcess,
                                                     shots: Callable[[str], None], shared: dict[str, Any]) -> None:
    open_page(browser, server, "/links")
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#pars-list tr[data-par]"))
    assert len(rows) == 4  # the object's, the far one's, the folder's, the upload-only one
    text = by_id(browser, "pars-list").text
    for expected in (f"{BUCKET}/report.bin", f"{BUCKET}/docs/* (folder)", "upload only", "read any object (may list)",
                     "from 127.0.0.0/8", "1 / 5", "root", "active"):
        assert expected in text, expected
    shots("26-links-with-pars")
    url = shared["par_url"]
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#pars-list tr[data-par]")
               if "1 / 5" in r.text)
    par_id = row.get_attribute("data-par")
    click(browser, row.find_element(By.CSS_SELECTOR, "button.danger"))
    click(browser, by_id(browser, "confirm-yes"))
    wait(browser, lambda d: "deleted" in d.find_element(By.CSS_SELECTOR, f"tr[data-par='{par_id}']").text)
    assert requests.get(url, timeout=30).status_code in (403, 404)


def test_the_audit_page_finds_the_par_and_swift_events(browser: webdriver.Chrome, server: SatchelProcess,
                                                       shots: Callable[[str], None]) -> None:
    open_page(browser, server, "/audit")
    kinds = wait(browser, lambda d: (e := d.find_element(By.ID, "audit-kind")).is_displayed() and e)
    assert {"par", "swift"} <= {o.get_attribute("value") for o in Select(kinds).options}
    Select(kinds).select_by_value("par")
    click(browser, browser.find_element(By.CSS_SELECTOR, ".filters button[type=submit]"))
    wait(browser, lambda d: "revoke" in d.find_element(By.ID, "audit-list").text)
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit-list tr[data-event]")]
    assert all(" par " in f" {r} " for r in rows)
    joined = "\n".join(rows)
    for expected in ("mint", "use", "revoke", "allowed", "refused", "pre-authenticated request deleted",
                     "The pre-authenticated request is deleted"):
        assert expected in joined, expected
    shots("27-audit-par")
    Select(by_id(browser, "audit-kind")).select_by_value("swift")
    click(browser, browser.find_element(By.CSS_SELECTOR, ".filters button[type=submit]"))
    wait(browser, lambda d: "tempurl-key" in d.find_element(By.ID, "audit-list").text)
    assert "mint" in by_id(browser, "audit-list").text


def test_a_bucket_with_a_live_par_is_not_deleted_and_says_why(browser: webdriver.Chrome, server: SatchelProcess,
                                                              shots: Callable[[str], None]) -> None:
    ok(call(server, None, "PUT", f"/buckets/{HELD}/link-policy", {"max_link_lifetime": 86400}))
    open_page(browser, server, f"/b/{HELD}/")
    click(browser, wait(browser, lambda d: (e := d.find_element(By.ID, "share-folder")).is_displayed() and e))
    assert "Share bucket" in by_id(browser, "share-folder").text
    # A PAR has no server cap here, but the bucket's ceiling caps it too, and the dialog says so.
    assert "This bucket's links live at most 1 day." in wait(
        browser, lambda d: (e := d.find_element(By.ID, "share-cap")).is_displayed() and e).text
    click(browser, browser.find_element(By.XPATH, "//div[@class='presets']/button[text()='7 days']"))
    click(browser, by_id(browser, "share-generate"))
    wait(browser, lambda d: "at most 1 day" in d.find_element(By.ID, "share-error").text)
    share_dialog(browser, amount=1, unit="hours")
    _close(browser)
    open_page(browser, server, "/buckets")
    row = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-bucket='{HELD}']"))
    click(browser, row.find_element(By.CSS_SELECTOR, "button.danger"))
    click(browser, by_id(browser, "confirm-yes"))
    wait(browser, lambda d: "pre-authenticated request" in d.find_element(By.ID, "dialog").text)
    shots("28-bucket-delete-refused-live-par")
    assert "delete them first" in by_id(browser, "dialog").text  # the server's reason, unchanged
    assert HELD in [b["Name"] for b in make_client(server).list_buckets()["Buckets"]]


def test_no_console_errors(browser: webdriver.Chrome) -> None:
    # Deliberate refusals: the swift mint without a key (400) and the bucket delete (409).
    deliberate = ("/_satchel/api/links - Failed to load resource: the server responded with a status of 400",
                  f"/_satchel/api/buckets/{HELD} - Failed to load resource: the server responded with a status of 409")
    assert [m for m in severe_logs(browser) if not any(d in m for d in deliberate)] == []
