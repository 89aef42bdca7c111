"""The web console in a real headless Chromium against a real ``satchel serve``: the flows issue 12 lists.

Sign in (a wrong password first), create a bucket, upload a 50 MiB file and watch its progress reach
100 %, upload three more, share the three as view and as download links and fetch each URL with a client
that has no cookies (bytes and Content-Disposition), a 5-second link refused once expired, a share page
behind a passphrase (a wrong one first, then the download in the browser), revoke a link on the Links page,
find all of it on the Audit page, access keys and users, and the CSRF and signed-out refusals. The tests
run in file order and share one browser and one server.

Every page is photographed at desktop and phone width into the screenshot directory
(``SATCHEL_SCREENSHOTS``, default a pytest temporary directory); the paths are listed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess, eventually

WAIT = 20
BIG = 50 * 1024 * 1024
BUCKET = "console-test"
FILES = {"notes.txt": b"plain text notes\n" * 10, "pixel.png": bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a2b5e8f60000000049454e44ae426082"),
    "paper.pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    with SatchelProcess(tmp_path_factory.mktemp("console-browser") / "data").running() as process:
        yield process


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("uploads")
    out = {}
    for name, data in FILES.items():
        out[name] = folder / name
        out[name].write_bytes(data)
    out["big.bin"] = folder / "big.bin"
    with out["big.bin"].open("wb") as fh:
        for _ in range(BIG // (1024 * 1024)):
            fh.write(os.urandom(1024 * 1024))
    return out


@pytest.fixture(scope="module")
def shared() -> dict[str, Any]:
    """State handed from one step to the next (links made, their URLs)."""
    return {}


def wait(browser: webdriver.Chrome, check: Callable[[webdriver.Chrome], Any], timeout: float = WAIT) -> Any:
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(check)


def by_id(browser: webdriver.Chrome, element_id: str) -> WebElement:
    found: WebElement = wait(browser, lambda d: d.find_element(By.ID, element_id))
    return found


def severe_logs(browser: webdriver.Chrome) -> list[str]:
    entries: list[dict[str, Any]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def open_page(browser: webdriver.Chrome, server: SatchelProcess, fragment: str) -> None:
    browser.get(f"{server.endpoint}/_satchel/console/#{fragment}")


def click(browser: webdriver.Chrome, element: WebElement) -> None:
    """Click as a person would: scrolled to the middle of the view first (the dialog's header is sticky)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def share_dialog(browser: webdriver.Chrome, *, mode: str = "view", amount: int | None = None, unit: str | None = None,
                 page: bool = False, passphrase: str = "", filename: str | None = None) -> list[str]:
    """Fill the open share dialog, generate, and return the URLs it shows."""
    # The dialog opens once the bucket's ceiling is known: until then, the last dialog's closed form is there.
    mode_button = wait(browser, lambda d: (e := d.find_element(By.ID, f"share-mode-{mode}")).is_displayed() and e)
    click(browser, mode_button)
    if amount is not None:
        field = by_id(browser, "share-amount")
        field.clear()
        field.send_keys(str(amount))
    if unit is not None:
        Select(by_id(browser, "share-unit")).select_by_visible_text(unit)
    if filename is not None:
        field = by_id(browser, "share-filename")
        field.clear()
        field.send_keys(filename)
    if page:
        click(browser, by_id(browser, "share-page"))
        by_id(browser, "share-passphrase").send_keys(passphrase)
    before = shown_urls(browser)
    click(browser, by_id(browser, "share-generate"))
    urls: list[str] = wait(browser, lambda d: (now := shown_urls(d)) and now != before and now)
    return urls


def shown_urls(browser: webdriver.Chrome) -> list[str]:
    try:
        found = browser.find_elements(By.CSS_SELECTOR, "#share-results input.url")
        return [e.get_attribute("value") or "" for e in found if e.is_displayed()]
    except StaleElementReferenceException:
        return []


# --- the flows ----------------------------------------------------------------------------------------
def test_browser_at_the_root_signs_in_after_a_wrong_password(browser: webdriver.Chrome, server: SatchelProcess,
                                                             shots: Callable[[str], None]) -> None:
    browser.get(server.endpoint + "/")
    wait(browser, lambda d: d.find_element(By.ID, "login").is_displayed())
    assert browser.current_url == f"{server.endpoint}/_satchel/console/"
    shots("01-sign-in")
    by_id(browser, "login-user").send_keys("root")
    by_id(browser, "login-password").send_keys("not the password")
    by_id(browser, "login-password").submit()
    wait(browser, lambda d: "not right" in d.find_element(By.ID, "login-error").text)
    password = by_id(browser, "login-password")
    password.clear()
    password.send_keys(server.password)
    password.submit()
    wait(browser, lambda d: d.find_element(By.ID, "topbar").is_displayed())
    assert by_id(browser, "who").text == "root (admin)"
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert cookies["satchel_session"]["httpOnly"] and cookies["satchel_session"]["sameSite"] == "Strict"


def test_create_a_bucket(browser: webdriver.Chrome, shots: Callable[[str], None]) -> None:
    by_id(browser, "new-bucket").send_keys(BUCKET)
    by_id(browser, "create-bucket").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']"))
    Select(by_id(browser, "bucket-filter")).select_by_visible_text("Contract-owned")
    wait(browser, lambda d: "No buckets of this kind" in d.find_element(By.ID, "page").text)
    Select(by_id(browser, "bucket-filter")).select_by_visible_text("User-owned")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']"))
    shots("02-buckets")
    browser.find_element(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}'] button").click()  # Settings
    wait(browser, lambda d: d.find_element(By.ID, "bucket-public").is_displayed())
    by_id(browser, "bucket-ceiling").send_keys("86400")
    shots("03-bucket-settings")
    by_id(browser, "bucket-save").click()
    wait(browser, lambda d: "1 day" in d.find_element(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']").text)


def test_upload_50_mib_with_progress_to_100_percent(browser: webdriver.Chrome, server: SatchelProcess,
                                                    files: dict[str, Path], shots: Callable[[str], None]) -> None:
    browser.find_element(By.LINK_TEXT, BUCKET).click()
    wait(browser, lambda d: "empty" in d.find_element(By.ID, "listing").text)
    by_id(browser, "file-picker").send_keys(str(files["big.bin"]))
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows = browser.find_elements(By.CSS_SELECTOR, ".transfer .percent")
        if rows:
            seen.append(" ".join(rows[0].text.split()))  # the label may wrap on a narrow column
            if "done" in seen[-1] or "Failed" in seen[-1]:
                break
        time.sleep(0.02)
    assert seen and seen[-1] == "100 % — done", seen
    percents = [int(text.split()[0]) for text in seen if text.split()[0].isdigit()]
    assert percents == sorted(percents) and percents[-1] == 100  # it only moves forward, to 100
    bar = browser.find_element(By.CSS_SELECTOR, ".transfer progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(BIG)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-key='big.bin']"))
    assert "50 MiB" in browser.find_element(By.CSS_SELECTOR, "tr[data-key='big.bin']").text
    by_id(browser, "file-picker").send_keys("\n".join(str(files[name]) for name in FILES))
    wait(browser, lambda d: all(d.find_elements(By.CSS_SELECTOR, f"tr[data-key='{n}']") for n in FILES))
    # Drag and drop: the drop event a file manager's drag ends with, carrying one file.
    browser.execute_script(
        "const data = new DataTransfer();"
        "data.items.add(new File(['dropped in'], 'dropped.txt', {type: 'text/plain'}));"
        "document.getElementById('dropzone').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true,"
        " cancelable: true}));")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-key='dropped.txt']"))
    shots("04-explorer")


def test_object_details(browser: webdriver.Chrome, shots: Callable[[str], None]) -> None:
    browser.find_element(By.CSS_SELECTOR, "tr[data-key='notes.txt'] td:nth-child(2) button").click()
    wait(browser, lambda d: "ETag" in d.find_element(By.ID, "dialog").text)
    text = browser.find_element(By.ID, "dialog").text
    assert "text/plain" in text and "No minted links point at it." in text
    shots("05-object-details")
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()


def test_folders_breadcrumbs_pages_and_search(browser: webdriver.Chrome, server: SatchelProcess,
                                             shots: Callable[[str], None]) -> None:
    s3 = make_client(server)
    for n in range(205):
        s3.put_object(Bucket=BUCKET, Key=f"many/k-{n:03d}", Body=b"x")
    browser.refresh()
    folder = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "tr.folder a"))
    assert folder.text == "many/"
    folder.click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-key]")) == 200)
    crumbs = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".crumbs a")]
    assert crumbs == ["Buckets", BUCKET, "many"]
    assert browser.find_element(By.CSS_SELECTOR, ".crumbs a[aria-current=page]").text == "many"
    by_id(browser, "more").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-key]")) == 205)
    assert not browser.find_elements(By.ID, "more")
    by_id(browser, "search").send_keys("k-20")
    by_id(browser, "search").submit()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-key]")) == 5)
    assert {e.get_attribute("data-key") for e in browser.find_elements(By.CSS_SELECTOR, "tr[data-key]")} == {
        f"many/k-{n}" for n in range(200, 205)}
    shots("06-search-in-folder")
    browser.find_element(By.CSS_SELECTOR, ".crumbs li:nth-child(2) a").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-key='notes.txt']"))


def test_cancel_a_multipart_upload(browser: webdriver.Chrome, server: SatchelProcess, files: dict[str, Path],
                                   tmp_path: Path) -> None:
    """Uploads throttled to 4 MiB/s (DevTools network emulation), so the cancel lands mid-way."""
    other = tmp_path / "cancelled.bin"
    shutil.copyfile(files["big.bin"], other)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 4 * 1024 * 1024})
    try:
        by_id(browser, "file-picker").send_keys(str(other))
        row = "//div[@data-name='cancelled.bin']"
        wait(browser, lambda d: int(d.find_element(By.XPATH, f"{row}/span[@class='percent']").text.split()[0]) > 0)
        browser.find_element(By.XPATH, f"{row}/button").click()
        wait(browser, lambda d: d.find_element(By.XPATH, f"{row}/span[@class='percent']").text == "Cancelled")
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    time.sleep(0.5)
    browser.refresh()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-key='big.bin']"))
    assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-key='cancelled.bin']")
    s3 = make_client(server)
    assert eventually(lambda: not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads"))  # aborted, parts freed


def _select(browser: webdriver.Chrome, names: list[str]) -> None:
    for name in names:
        box = browser.find_element(By.CSS_SELECTOR, f"input[type=checkbox][data-key='{name}']")
        if not box.is_selected():
            box.click()


def test_share_three_objects_as_view_and_download_links(browser: webdriver.Chrome, shots: Callable[[str], None],
                                                        shared: dict[str, Any]) -> None:
    names = sorted(FILES)
    _select(browser, names)
    by_id(browser, "share-selected").click()
    kinds = [o.get_attribute("value") for o in Select(by_id(browser, "share-kind")).options]
    assert kinds == ["s3v4", "s3v2", "swift", "par"]  # what /capabilities lists
    assert "This bucket's links live at most 1 day." in by_id(browser, "share-cap").text
    browser.find_element(By.XPATH, "//div[@class='presets']/button[text()='7 days']").click()
    click(browser, by_id(browser, "share-generate"))
    wait(browser, lambda d: "at most 1 day" in d.find_element(By.ID, "share-error").text)
    click(browser, browser.find_element(By.XPATH, "//div[@class='presets']/button[text()='1 hour']"))
    views = share_dialog(browser, mode="view")
    assert len(views) == 3
    by_id(browser, "share-copy-all").click()
    shots("07-share-dialog")
    downloads_ = share_dialog(browser, mode="download")
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()
    for name, url in zip(names, views, strict=True):
        got = requests.get(url, timeout=30)  # a client with no cookies: only the URL
        assert got.status_code == 200 and got.content == FILES[name]
        assert got.headers["Content-Disposition"] == "inline"
    for name, url in zip(names, downloads_, strict=True):
        got = requests.get(url, timeout=30)
        assert got.status_code == 200 and got.content == FILES[name]
        assert got.headers["Content-Disposition"].startswith(f'attachment; filename="{name}"')
    shared["view_urls"] = views


def test_a_five_second_link_is_refused_after_expiry(browser: webdriver.Chrome) -> None:
    browser.find_element(By.CSS_SELECTOR, "tr[data-key='notes.txt'] td.actions button").click()  # Share
    start = time.monotonic()
    (url,) = share_dialog(browser, amount=5, unit="seconds")
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()
    fresh = requests.get(url, timeout=30)
    assert fresh.status_code == 200, (time.monotonic() - start, fresh.text)
    time.sleep(max(0.0, 6.2 - (time.monotonic() - start)))
    expired = requests.get(url, timeout=30)
    assert expired.status_code == 403 and "expired" in expired.text.lower()


def test_passphrase_share_page_fails_once_then_downloads(browser: webdriver.Chrome, server: SatchelProcess,
                                                         downloads: Path, shots: Callable[[str], None],
                                                         shared: dict[str, Any]) -> None:
    _select(browser, [])
    browser.find_element(By.CSS_SELECTOR, "tr[data-key='pixel.png'] td.actions button").click()
    (url,) = share_dialog(browser, mode="download", page=True, passphrase="open sesame 42", filename="my-pixel.png")
    assert url.startswith(f"{server.endpoint}/s/")
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()
    console = browser.current_url
    browser.get(url)
    by_id(browser, "passphrase").send_keys("wrong words")
    by_id(browser, "passphrase").submit()
    wait(browser, lambda d: "not right" in d.find_element(By.TAG_NAME, "main").text)
    shots("08-share-page-locked")
    by_id(browser, "passphrase").send_keys("open sesame 42")
    by_id(browser, "passphrase").submit()
    download = by_id(browser, "download")
    assert browser.find_element(By.TAG_NAME, "h1").text == "my-pixel.png"
    assert "image/png" in browser.find_element(By.TAG_NAME, "main").text
    shots("09-share-page")
    download.click()
    target = downloads / "my-pixel.png"  # the name chosen in the dialog
    wait(browser, lambda _d: target.exists() and target.read_bytes() == FILES["pixel.png"])
    shared["share_url"] = url
    browser.get(console)


def test_revoke_a_link_on_the_links_page(browser: webdriver.Chrome, server: SatchelProcess,
                                         shots: Callable[[str], None], shared: dict[str, Any]) -> None:
    open_page(browser, server, "/links")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-link]"))
    shots("10-links")
    url = shared["view_urls"][0]
    link_id = url.split("x-amz-satchel-link-id=")[1].split("&")[0]
    browser.find_element(By.CSS_SELECTOR, f"tr[data-link='{link_id}'] button.danger").click()
    by_id(browser, "confirm-yes").click()
    wait(browser, lambda d: "revoked" in d.find_element(By.CSS_SELECTOR, f"tr[data-link='{link_id}']").text)
    assert requests.get(url, timeout=30).status_code == 403
    # "Revoke all links to this object issued before now": paper.pdf's view link stops working too.
    paper = shared["view_urls"][sorted(FILES).index("paper.pdf")]
    assert requests.get(paper, timeout=30).status_code == 200
    Select(by_id(browser, "revoke-scope")).select_by_visible_text("Object")
    by_id(browser, "revoke-bucket").send_keys(BUCKET)
    by_id(browser, "revoke-target").send_keys("paper.pdf")
    by_id(browser, "revoke-before").click()
    by_id(browser, "confirm-yes").click()
    wait(browser, lambda d: not d.find_element(By.ID, "dialog").is_displayed())
    refused = requests.get(paper, timeout=30)
    assert refused.status_code == 403 and "revoked" in refused.text.lower()


def test_the_audit_page_shows_mints_uses_refusals_and_revocations(browser: webdriver.Chrome, server: SatchelProcess,
                                                                  shots: Callable[[str], None]) -> None:
    open_page(browser, server, "/audit")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-event]"))
    text = browser.find_element(By.ID, "audit-list").text
    for expected in ("mint", "use", "revoke", "share-passphrase", "share-view", "allowed", "refused", "expired"):
        assert expected in text, expected
    Select(by_id(browser, "audit-outcome")).select_by_visible_text("refused")
    browser.find_element(By.CSS_SELECTOR, ".filters button[type=submit]").click()
    wait(browser, lambda d: "allowed" not in d.find_element(By.ID, "audit-list").text)
    shots("11-audit")
    by_id(browser, "audit-export").click()


def test_access_keys_and_users(browser: webdriver.Chrome, server: SatchelProcess,
                               shots: Callable[[str], None]) -> None:
    open_page(browser, server, "/keys")
    by_id(browser, "create-key").click()
    secret = by_id(browser, "new-secret")
    assert len(secret.get_attribute("value") or "") >= 30
    shots("12-new-access-key")
    browser.find_element(By.CSS_SELECTOR, "#dialog button[value=close]").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-key-id]")) == 2)
    shots("13-access-keys")
    open_page(browser, server, "/users")
    by_id(browser, "new-user").send_keys("carol")
    by_id(browser, "new-user-password").send_keys("carol's password")
    by_id(browser, "new-user").submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-user='carol']"))
    by_id(browser, "grant-user").send_keys("carol")
    by_id(browser, "grant-bucket").send_keys(BUCKET)
    by_id(browser, "grant-user").submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-grant='carol:{BUCKET}:']"))
    shots("14-users-and-grants")


def test_no_console_errors_then_csrf_and_sign_out_refusals(browser: webdriver.Chrome, server: SatchelProcess) -> None:
    # Chromium logs every 4xx answer as a network error: the wrong password's 403 and the wrong passphrase's
    # 403 page were asked for by the tests above. Nothing else may appear: no script error, no other refusal.
    deliberate = ("/_satchel/api/session - Failed to load resource: the server responded with a status of 403",
                  "/s/")
    errors = [m for m in severe_logs(browser) if not any(d in m for d in deliberate)]
    assert errors == []
    status = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/_satchel/api/buckets', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({name: 'no-csrf-here'})}).then(r => done(r.status));")
    assert status == 403
    by_id(browser, "sign-out").click()
    wait(browser, lambda d: d.find_element(By.ID, "login").is_displayed())
    assert "signed out" in by_id(browser, "login-error").text
    status = browser.execute_async_script(
        "const done = arguments[0]; fetch('/_satchel/api/buckets').then(r => done(r.status));")
    assert status == 403  # no session, no signature


def test_a_member_sees_what_its_grant_gives(browser: webdriver.Chrome, server: SatchelProcess,
                                            shots: Callable[[str], None]) -> None:
    """carol (made on the Users page, granted read on the bucket without the share right) signs in."""
    by_id(browser, "login-user").clear()
    by_id(browser, "login-user").send_keys("carol")
    by_id(browser, "login-password").send_keys("carol's password")
    by_id(browser, "login-password").submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']"))
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-bucket='{BUCKET}']")
    assert "granted" in row.text and not row.find_elements(By.TAG_NAME, "button")  # no settings, no delete
    assert not by_id(browser, "nav-users").is_displayed()
    assert [o.text for o in Select(by_id(browser, "new-bucket-owner")).options] == ["Me (user-owned)"]
    shots("15-member-buckets")
    row.find_element(By.TAG_NAME, "a").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-key='notes.txt']"))
    browser.find_element(By.CSS_SELECTOR, "tr[data-key='notes.txt'] td.actions button").click()
    by_id(browser, "share-generate")
    click(browser, by_id(browser, "share-generate"))
    wait(browser, lambda d: "access keys" in d.find_element(By.ID, "share-error").text)
    shots("16-member-share-refused")
