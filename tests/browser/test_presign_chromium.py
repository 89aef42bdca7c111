"""A real browser uploads through a presigned POST and reads back through a presigned GET, cross-origin.

A page served from another loopback port (so another origin) runs ``fetch`` in headless Chromium: it posts
the boto3 ``generate_presigned_post`` form with a Blob as the file, PUTs a second object through a presigned
PUT URL (a non-simple request, so the browser sends a CORS preflight first), then fetches both back through
presigned GET URLs. The bucket's CORS rules must let every one of those responses reach the script.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``) and
selenium; a missing browser fails the test rather than skipping it, because CI installs it.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.chromium import start_chromium
from tests.clients.server import ServerHandle

PAGE_TIMEOUT = 30

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>running</title></head>
<body><pre id="result"></pre>
<script id="cfg" type="application/json">%(config)s</script>
<script>
const cfg = JSON.parse(document.getElementById("cfg").textContent);
const toBytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const toB64 = (buf) => { let s = ""; new Uint8Array(buf).forEach((b) => { s += String.fromCharCode(b); });
                         return btoa(s); };
async function run() {
  const out = {origin: location.origin};
  try {
    const form = new FormData();
    for (const [name, value] of Object.entries(cfg.post.fields)) form.append(name, value);
    form.append("file", new Blob([toBytes(cfg.post_b64)], {type: "application/octet-stream"}), "from-browser.bin");
    const posted = await fetch(cfg.post.url, {method: "POST", body: form});
    out.post = {status: posted.status, body: await posted.text(), etag: posted.headers.get("ETag")};

    const put = await fetch(cfg.put_url, {method: "PUT", body: new Blob([toBytes(cfg.put_b64)]),
                                          headers: {"Content-Type": "text/plain"}});
    out.put = {status: put.status, etag: put.headers.get("ETag")};

    out.get = [];
    for (const url of cfg.get_urls) {
      const got = await fetch(url);
      out.get.push({status: got.status, b64: toB64(await got.arrayBuffer()),
                    type: got.headers.get("Content-Type")});
    }
  } catch (err) {
    out.error = String(err);
  }
  document.getElementById("result").textContent = JSON.stringify(out);
  document.title = "done";
}
run();
</script></body></html>
"""


class _Page(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def page_server() -> Iterator[tuple[ThreadingHTTPServer, type[_Page]]]:
    handler = type("PageHandler", (_Page,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()


def _run_page(chromium: webdriver.Chrome, origin: str, handler: type[_Page], config: dict[str, Any]) -> Any:
    handler.body = (PAGE % {"config": json.dumps(config).replace("</", "<\\/")}).encode()
    chromium.set_page_load_timeout(PAGE_TIMEOUT)
    chromium.get(f"{origin}/upload.html?{os.urandom(4).hex()}")
    WebDriverWait(chromium, PAGE_TIMEOUT).until(lambda d: d.title == "done")
    result = json.loads(chromium.find_element("id", "result").text)
    assert result["origin"] == origin
    return result


def _page_config(signer: Any, bucket: str, posted: bytes, put: bytes) -> dict[str, Any]:
    form = signer.generate_presigned_post(
        Bucket=bucket, Key="browser/${filename}", Fields={"success_action_status": "201"},
        Conditions=[["content-length-range", 1, 1024 * 1024], {"success_action_status": "201"}], ExpiresIn=300)
    return {
        "post": form,
        "post_b64": base64.b64encode(posted).decode(),
        "put_url": signer.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "browser/put.txt", "ContentType": "text/plain"},
            ExpiresIn=300),
        "put_b64": base64.b64encode(put).decode(),
        "get_urls": [
            signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
            for key in ("browser/from-browser.bin", "browser/put.txt")
        ],
    }


def _cors(origin: str) -> dict[str, Any]:
    return {"CORSRules": [{"AllowedOrigins": [origin], "AllowedMethods": ["POST", "GET", "PUT"],
                           "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]}


def test_browser_presigned_post_put_and_get_under_cors(
    chromium: webdriver.Chrome, page_server: tuple[ThreadingHTTPServer, type[_Page]], s3_factory: Any, s3: Any,
    bucket: str, satchel_server: ServerHandle,
) -> None:
    server, handler = page_server
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    assert origin != satchel_server.endpoint
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=_cors(origin))
    posted, put = os.urandom(50_000), b"put from a page"
    result = _run_page(chromium, origin, handler, _page_config(s3_factory(signature_version="s3v4"), bucket,
                                                               posted, put))

    assert "error" not in result, result
    assert result["post"]["status"] == 201, result
    assert "<Key>browser/from-browser.bin</Key>" in result["post"]["body"], result
    assert result["post"]["etag"], result  # readable only because the rule exposes it
    assert result["put"]["status"] == 200, result
    assert [g["status"] for g in result["get"]] == [200, 200], result
    assert base64.b64decode(result["get"][0]["b64"]) == posted
    assert base64.b64decode(result["get"][1]["b64"]) == put
    assert result["get"][1]["type"] == "text/plain"

    assert s3.get_object(Bucket=bucket, Key="browser/from-browser.bin")["Body"].read() == posted
    stored = s3.get_object(Bucket=bucket, Key="browser/put.txt")
    assert stored["Body"].read() == put
    assert stored["ContentType"] == "text/plain"


def test_browser_blocked_without_a_matching_cors_rule(
    chromium: webdriver.Chrome, page_server: tuple[ThreadingHTTPServer, type[_Page]], s3_factory: Any, s3: Any,
    bucket: str,
) -> None:
    """The same page, with a rule for another origin: the browser must not let the script read the answer."""
    server, handler = page_server
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=_cors("https://elsewhere.example"))
    result = _run_page(chromium, origin, handler, _page_config(s3_factory(signature_version="s3v4"), bucket,
                                                               b"posted", b"put"))
    assert "Failed to fetch" in result.get("error", ""), result
    assert "post" not in result, result
    assert s3.list_objects_v2(Bucket=bucket, Prefix="browser/put.txt").get("KeyCount") == 0
