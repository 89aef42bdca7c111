"""The console's quality bar in a real Chromium: every control has a label, focus is visible, a person signs
in and reaches the buckets page with the keyboard alone (Tab, typing, Enter), and at a phone's width the
page fits without sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import DESKTOP, PHONE
from tests.clients.server import SatchelProcess

WAIT = 20
#: A control a person can reach but no label names, for Chromium's accessibility tree: [] when all are named.
UNLABELLED = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                 && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map((e) => e.outerHTML.slice(0, 120));
"""
#: What marks the focused element: its outline or box shadow (the stylesheet's focus ring).
FOCUS_RING = """
const style = getComputedStyle(document.activeElement);
return [document.activeElement.id, style.outlineStyle !== 'none' || style.boxShadow !== 'none'];
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    with SatchelProcess(tmp_path_factory.mktemp("console-keyboard") / "data").running() as process:
        yield process


def test_sign_in_by_keyboard_with_labelled_controls_and_visible_focus(browser: webdriver.Chrome,
                                                                      server: SatchelProcess) -> None:
    browser.delete_all_cookies()
    browser.get(server.endpoint + "/_satchel/console/")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
    assert browser.execute_script(UNLABELLED) == []
    keys = ActionChains(browser)
    for _ in range(10):  # Tab from the page's start to the user name field: no mouse anywhere
        keys.send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.get_attribute("id") == "login-user":
            break
    assert browser.execute_script(FOCUS_RING) == ["login-user", True]
    keys.send_keys("root", Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "login-password"
    keys.send_keys(server.password, Keys.ENTER).perform()
    wait.until(lambda d: d.find_element(By.ID, "topbar").is_displayed())
    wait.until(lambda d: d.find_elements(By.ID, "new-bucket"))
    assert browser.execute_script(UNLABELLED) == []
    browser.set_window_size(*PHONE)
    try:
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        assert overflow <= 0, f"the buckets page is {overflow}px wider than a phone's screen"
    finally:
        browser.set_window_size(*DESKTOP)
