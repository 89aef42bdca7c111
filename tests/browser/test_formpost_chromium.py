"""A real HTML form, signed for Swift FormPost, filled in and submitted by headless Chromium: the browser
posts ``multipart/form-data`` to Satchel, follows the 303 back to the page's origin with ``status=201``, and
the file is in the container, byte-exact.

The page comes from another loopback port (another origin): a plain form submission needs no CORS.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import os
import secrets
import time
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_presign_chromium import PAGE_TIMEOUT, _Page, chromium, page_server  # noqa: F401
from tests.clients.server import SatchelProcess
from tests.clients.test_swift_tempurl import Swift

FORM = """<!doctype html>
<html><head><meta charset="utf-8"><title>upload</title></head><body>
<form id="form" action="%(action)s" method="POST" enctype="multipart/form-data">
  <input type="hidden" name="redirect" value="%(redirect)s" />
  <input type="hidden" name="max_file_size" value="%(size)d" />
  <input type="hidden" name="max_file_count" value="1" />
  <input type="hidden" name="expires" value="%(expires)d" />
  <input type="hidden" name="signature" value="%(signature)s" />
  <input type="file" id="file" name="file1" />
  <input type="submit" id="send" value="Upload" />
</form></body></html>"""


def test_chromium_submits_a_formpost_form(chromium: webdriver.Chrome,  # noqa: F811 - fixtures by name
                                          page_server: tuple[ThreadingHTTPServer, type[_Page]],  # noqa: F811
                                          managed_server: SatchelProcess, s3: Any, tmp_path: Path) -> None:
    server, handler = page_server
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    container = f"fp-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=container)
    key = secrets.token_urlsafe(24)
    Swift(managed_server, "root", managed_server.root.secret_key).run("post", "-m", f"Temp-URL-Key:{key}", container)
    path, redirect = f"/v1/AUTH_root/{container}/browser/", f"{origin}/done"
    size, expires = 200_000, int(time.time()) + 300
    signature = hmac.new(key.encode(), f"{path}\n{redirect}\n{size}\n1\n{expires}".encode(), hashlib.sha256).hexdigest()
    handler.body = (FORM % {"action": html.escape(managed_server.endpoint + path), "redirect": html.escape(redirect),
                            "size": size, "expires": expires, "signature": signature}).encode()
    upload = tmp_path / "photo from browser.bin"
    upload.write_bytes(os.urandom(150_000))
    try:
        chromium.set_page_load_timeout(PAGE_TIMEOUT)
        chromium.get(f"{origin}/upload.html")
        chromium.find_element("id", "file").send_keys(str(upload))
        chromium.find_element("id", "send").click()
        WebDriverWait(chromium, PAGE_TIMEOUT).until(lambda d: d.current_url.startswith(f"{origin}/done"))
        assert "status=201" in chromium.current_url, chromium.current_url
        stored = s3.get_object(Bucket=container, Key="browser/photo from browser.bin")["Body"].read()
        assert stored == upload.read_bytes()
    finally:
        for entry in s3.list_objects_v2(Bucket=container).get("Contents", []):
            s3.delete_object(Bucket=container, Key=entry["Key"])
        s3.delete_bucket(Bucket=container)
