"""The console's way into the management API, over HTTP against a real server: sign-in sessions (cookie
attributes, CSRF on every state change, idle and absolute expiry, throttled failures), the calls the
console adds (buckets, objects, uploads, keys, users, grants, share pages) and who may make them, the
share page's passphrase, and the OpenAPI document's shapes.

The expiry tests run against a server of their own with short session limits (idle 2 s, absolute 5 s),
set through a settings file, so no test waits longer than a few seconds; the others use limits a loaded
CI machine cannot outlast between two calls. Both have a low failure limit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.clients.mgmt import call, error_code, ok
from tests.clients.server import Credentials, SatchelProcess, eventually

TIMEOUT = 30
IDLE, LIFETIME, FAILURES = 2, 5, 3
SETTINGS = f"""
console_session_idle = 600
console_session_lifetime = 3600
console_max_failures = {FAILURES}
console_throttle_window = 60
console_lockout = 60
max_par_lifetime = 2592000
"""


def serve(tmp_path_factory: pytest.TempPathFactory, name: str, settings: str) -> Iterator[SatchelProcess]:
    """A server with its own data directory and a settings file."""
    base = tmp_path_factory.mktemp(name)
    config = base / "satchel.toml"
    config.write_text(settings)
    with SatchelProcess(base / "data", extra_args=("--config", str(config))).running() as process:
        yield process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    yield from serve(tmp_path_factory, "console-api", SETTINGS)


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    """Sessions idle after IDLE seconds and ending LIFETIME seconds after sign-in."""
    limits = SETTINGS.replace("console_session_idle = 600", f"console_session_idle = {IDLE}").replace(
        "console_session_lifetime = 3600", f"console_session_lifetime = {LIFETIME}")
    yield from serve(tmp_path_factory, "console-api-short", limits)


class Console:
    """A browser-like client: the session cookie in a jar, the CSRF token sent on changes."""

    def __init__(self, server: SatchelProcess) -> None:
        self.server = server
        self.http = requests.Session()
        self.csrf: str | None = None

    def url(self, path: str) -> str:
        return f"{self.server.endpoint}/_satchel/api{path}"

    def sign_in(self, user: str, password: str) -> requests.Response:
        reply = self.http.post(self.url("/session"), json={"user": user, "password": password}, timeout=TIMEOUT)
        if reply.status_code == 200:
            self.csrf = reply.json()["csrf_token"]
        return reply

    def __call__(self, method: str, path: str, body: Any = None, *, csrf: bool = True,
                 headers: dict[str, str] | None = None, data: bytes | None = None) -> requests.Response:
        sent = dict(headers or {})
        if csrf and self.csrf:
            sent["X-CSRF-Token"] = self.csrf
        return self.http.request(method, self.url(path), json=body, data=data, headers=sent, timeout=TIMEOUT)


def _user(server: SatchelProcess, name: str, role: str = "member") -> tuple[Credentials, str]:
    """A user with a console password (made through the API by root) and an access key (the CLI)."""
    password = f"pw-{name}-0123456789"
    root = Console(server)
    assert root.sign_in("root", server.password).status_code == 200
    ok(root("POST", "/users", {"name": name, "role": role, "password": password}))
    out = json.loads(server.admin("key", "create", name, "--json"))
    return Credentials(out["access_key_id"], out["secret_access_key"], user=name), password


@pytest.fixture
def root(server: SatchelProcess) -> Console:
    console = Console(server)
    assert console.sign_in("root", server.password).status_code == 200
    return console


def test_sign_in_sets_a_strict_http_only_cookie_and_the_session_answers(server: SatchelProcess) -> None:
    console = Console(server)
    assert console("GET", "/session").json()["signed_in"] is False
    reply = console.sign_in("root", server.password)
    assert reply.status_code == 200, reply.text
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("satchel_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; under TLS (https public_url) it is Secure
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40
    session = ok(console("GET", "/session"))
    assert session["signed_in"] and session["user"] == "root" and session["csrf_token"] == console.csrf
    assert ok(console("GET", "/whoami"))["user"] == "root"
    out = console("DELETE", "/session")
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]
    replayed = requests.get(console.url("/whoami"), headers={"Cookie": f"satchel_session={token}"}, timeout=TIMEOUT)
    assert replayed.status_code == 401  # the session ended on the server, not only in the browser
    # The store keeps a hash of the cookie, never the cookie.
    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("meta.sqlite3*"))
    assert token.encode() not in stored


def test_every_change_needs_the_csrf_token_and_this_origin(root: Console) -> None:
    name = f"csrf-{time.time_ns() % 10**9}"
    missing = root("POST", "/buckets", {"name": name}, csrf=False)
    assert missing.status_code == 403 and "CSRF" in missing.json()["error"]["message"]
    wrong = root("POST", "/buckets", {"name": name}, csrf=False, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    other_site = root("POST", "/buckets", {"name": name}, headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    fetch_site = root("POST", "/buckets", {"name": name}, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch_site.status_code == 403
    assert root("GET", "/buckets").json()["buckets"] == [b for b in root("GET", "/buckets").json()["buckets"]
                                                           if b["name"] != name]
    made = root("POST", "/buckets", {"name": name}, headers={"Origin": root.server.endpoint})
    assert made.status_code == 200, made.text
    for method, path in (("DELETE", f"/buckets/{name}"), ("DELETE", "/session")):
        assert root(method, path, csrf=False).status_code == 403
    assert ok(root("DELETE", f"/buckets/{name}"))["done"] is True


def test_sign_in_from_another_site_or_as_a_form_is_refused(server: SatchelProcess) -> None:
    url = f"{server.endpoint}/_satchel/api/session"
    form = requests.post(url, data={"user": "root", "password": server.password}, timeout=TIMEOUT)
    assert form.status_code == 403 and "Set-Cookie" not in form.headers
    cross = requests.post(url, json={"user": "root", "password": server.password},
                          headers={"Origin": "https://evil.example"}, timeout=TIMEOUT)
    assert cross.status_code == 403 and "Set-Cookie" not in cross.headers


def test_idle_sessions_expire(short: SatchelProcess) -> None:
    console = Console(short)
    assert console.sign_in("root", short.password).status_code == 200
    assert console("GET", "/whoami").status_code == 200
    time.sleep(IDLE + 0.3)
    expired = console("GET", "/whoami")
    assert expired.status_code == 401 and error_code(expired) == "NotSignedIn"
    assert "expired" in expired.json()["error"]["message"]
    assert console("GET", "/session").json()["signed_in"] is False


def test_sessions_end_at_their_absolute_expiry_even_when_busy(short: SatchelProcess) -> None:
    console = Console(short)
    signed_in = console.sign_in("root", short.password)
    assert signed_in.status_code == 200
    cookie = {"Cookie": signed_in.headers["Set-Cookie"].split(";")[0]}  # sent even once the browser would drop it
    started = time.monotonic()
    while time.monotonic() - started < LIFETIME - 1:
        assert console("GET", "/whoami").status_code == 200  # never idle for long
        time.sleep(0.8)
    time.sleep(max(0.0, LIFETIME + 0.3 - (time.monotonic() - started)))
    assert requests.get(console.url("/whoami"), headers=cookie, timeout=TIMEOUT).status_code == 401


def test_failed_sign_ins_are_throttled_per_user(server: SatchelProcess) -> None:
    creds, _ = _user(server, f"thr{time.time_ns() % 10**8}")
    console = Console(server)
    for _ in range(FAILURES):
        wrong = console.sign_in(creds.user, "not-the-password")
        assert wrong.status_code == 403 and "not right" in wrong.json()["error"]["message"]
    locked = console.sign_in(creds.user, "not-the-password")
    assert locked.status_code == 429 and error_code(locked) == "TooManyAttempts"
    assert "Try again in" in locked.json()["error"]["message"]
    # Another user from the same address is not locked by these (the address limit is higher).
    assert Console(server).sign_in("root", server.password).status_code == 200


def test_api_calls_are_decided_by_authorize_for_sessions_too(server: SatchelProcess, root: Console) -> None:
    member, _ = _user(server, f"mem{time.time_ns() % 10**8}")
    bucket = f"own-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    # SigV4 still works beside sessions, for the same calls.
    assert ok(call(server, None, "GET", "/buckets"))["buckets"]
    as_member = call(server, member, "GET", f"/buckets/{bucket}/objects")
    assert as_member.status_code == 403
    assert call(server, member, "DELETE", f"/buckets/{bucket}").status_code == 403
    assert call(server, member, "POST", "/users", {"name": "intruder"}).status_code == 403
    assert call(server, member, "GET", "/access-keys?user=root").status_code == 403
    assert call(server, member, "POST", "/grants", {"user": member.user, "bucket": bucket,
                                                    "permission": "read"}).status_code == 403
    assert call(server, member, "DELETE", "/session").status_code == 400  # only sessions sign out
    # A member manages its own keys.
    mine = ok(call(server, member, "GET", "/access-keys"))["access_keys"]
    assert [k["access_key_id"] for k in mine] == [member.access_key]
    # The root admin grants; the member then reads.
    grant = ok(root("POST", "/grants", {"user": member.user, "bucket": bucket, "permission": "read"}))
    assert eventually(lambda: call(server, member, "GET", f"/buckets/{bucket}/objects").status_code == 200)
    ok(root("DELETE", f"/grants/{grant['id']}"))
    # Granted a prefix only: the bucket list says which, and only that prefix can be listed.
    grant = ok(root("POST", "/grants", {"user": member.user, "bucket": bucket, "permission": "read",
                                        "prefix": "shared/"}))
    assert eventually(lambda: [b["grant_prefixes"] for b in ok(call(server, member, "GET", "/buckets"))["buckets"]
                               if b["name"] == bucket] == [["shared/"]])
    assert call(server, member, "GET", f"/buckets/{bucket}/objects").status_code == 403
    listed = call(server, member, "GET", f"/buckets/{bucket}/objects?prefix=shared%2F")
    assert listed.status_code == 200, listed.text
    ok(root("DELETE", f"/grants/{grant['id']}"))
    ok(root("DELETE", f"/buckets/{bucket}"))


def test_objects_upload_list_details_download_delete(root: Console) -> None:
    bucket = f"obj-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    for key in ("a/one.txt", "a/two.txt", "b/three.txt", "top.txt"):
        stored = ok(root("PUT", f"/buckets/{bucket}/upload?key={key}", data=key.encode(),
                         headers={"Content-Type": "text/plain"}))
        assert stored["key"] == key and stored["size"] == len(key)
    top = ok(root("GET", f"/buckets/{bucket}/objects"))
    assert top["folders"] == ["a/", "b/"] and [o["key"] for o in top["objects"]] == ["top.txt"]
    first = ok(root("GET", f"/buckets/{bucket}/objects?prefix=a/&limit=1"))
    assert [o["key"] for o in first["objects"]] == ["a/one.txt"] and first["continuation"]
    second = ok(root("GET", f"/buckets/{bucket}/objects?prefix=a/&limit=1&continuation={first['continuation']}"))
    assert [o["key"] for o in second["objects"]] == ["a/two.txt"] and second["continuation"] is None
    found = ok(root("GET", f"/buckets/{bucket}/objects?prefix=a/&search=tw"))
    assert [o["key"] for o in found["objects"]] == ["a/two.txt"]
    assert root("GET", f"/buckets/{bucket}/objects?continuation=%%%").status_code == 400
    got = root("GET", f"/buckets/{bucket}/download?key=a/one.txt")
    assert got.content == b"a/one.txt" and got.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="one.txt"' in got.headers["Content-Disposition"]
    refused = ok(root("POST", f"/buckets/{bucket}/uploads?key=x")) and root("DELETE", f"/buckets/{bucket}")
    assert refused.status_code == 409 and error_code(refused) == "BucketNotEmpty"
    for key in ("a/one.txt", "a/two.txt", "b/three.txt", "top.txt"):
        ok(root("DELETE", f"/buckets/{bucket}/object?key={key}"))


def test_multipart_upload_through_the_api(root: Console) -> None:
    bucket = f"mp-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    created = ok(root("POST", f"/buckets/{bucket}/uploads?key=big.bin&content_type=application/x-test"))
    part_size = created["part_size"]
    data = bytes(range(256)) * ((part_size + 1000) // 256 + 1)
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), 1):
        part = ok(root("PUT", f"/buckets/{bucket}/uploads/{created['upload_id']}?key=big.bin&part={number}",
                       data=data[start:start + part_size]))
        parts.append(part)
    done = ok(root("POST", f"/buckets/{bucket}/uploads/{created['upload_id']}/complete?key=big.bin",
                   {"parts": parts}))
    assert done["size"] == len(data) and done["etag"].endswith(f"-{len(parts)}")
    assert root("GET", f"/buckets/{bucket}/download?key=big.bin").content == data
    details = ok(root("GET", f"/buckets/{bucket}/object?key=big.bin"))
    assert details["content_type"] == "application/x-test"
    # An aborted upload is gone, and the bucket can then be emptied and deleted.
    other = ok(root("POST", f"/buckets/{bucket}/uploads?key=gone.bin"))
    ok(root("DELETE", f"/buckets/{bucket}/uploads/{other['upload_id']}?key=gone.bin"))
    ok(root("DELETE", f"/buckets/{bucket}/object?key=big.bin"))
    ok(root("DELETE", f"/buckets/{bucket}"))


def test_share_page_passphrase_is_throttled_and_audited(server: SatchelProcess, root: Console) -> None:
    bucket = f"sp-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    ok(root("PUT", f"/buckets/{bucket}/upload?key=doc.txt", data=b"secret words",
            headers={"Content-Type": "text/plain"}))
    minted = ok(root("POST", "/links", {"bucket": bucket, "keys": ["doc.txt"], "mode": "download", "expires_in": 300}))
    link = minted["links"][0]["link"]
    page = ok(root("POST", "/shares", {"link_id": link["id"], "passphrase": "correct horse"}))
    url = page["url"]
    assert "/s/" in url and link["id"] not in url
    locked = requests.get(url, timeout=TIMEOUT)
    assert locked.status_code == 200 and "passphrase" in locked.text and "secret words" not in locked.text
    assert "Content-Security-Policy" in locked.headers and "script-src 'self'" in locked.headers[
        "Content-Security-Policy"]
    assert requests.get(url + "/file", timeout=TIMEOUT, allow_redirects=False).status_code == 200  # the form again
    for _ in range(FAILURES):
        assert requests.post(url, data={"passphrase": "wrong guess"}, timeout=TIMEOUT).status_code == 403
    throttled = requests.post(url, data={"passphrase": "correct horse"}, timeout=TIMEOUT)
    assert throttled.status_code == 429  # even the right one, while locked
    events = ok(root("GET", f"/audit?bucket={bucket}&action=share-passphrase"))["events"]
    assert len(events) == FAILURES + 1 and all(e["outcome"] == "refused" for e in events)
    assert [e["reason"] for e in events][-1] == "share page: too many wrong passphrases"


def test_share_page_without_passphrase_downloads_through_the_link(root: Console) -> None:
    bucket = f"sq-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    ok(root("PUT", f"/buckets/{bucket}/upload?key=pic.png", data=b"\x89PNG....", headers={"Content-Type": "image/png"}))
    minted = ok(root("POST", "/links", {"bucket": bucket, "keys": ["pic.png"], "mode": "download", "expires_in": 300,
                                        "max_uses": 1}))
    link_id = minted["links"][0]["link"]["id"]
    url = ok(root("POST", "/shares", {"link_id": link_id}))["url"]
    shown = requests.get(url, timeout=TIMEOUT)
    assert shown.status_code == 200 and "pic.png" in shown.text and "<img" not in shown.text  # one use: no preview
    got = requests.get(url + "/file", timeout=TIMEOUT)
    assert got.status_code == 200 and got.content == b"\x89PNG...."
    assert got.headers["Content-Disposition"].startswith("attachment")
    again = requests.get(url + "/file", timeout=TIMEOUT)
    assert again.status_code in (403, 410)  # the one use is spent: the link refuses, or the page says so
    uses = [e for e in ok(root("GET", f"/audit?bucket={bucket}&link_id={link_id}"))["events"] if e["action"] == "use"]
    assert [e["outcome"] for e in uses][:1] == ["allowed"]
    views = ok(root("GET", f"/audit?bucket={bucket}&action=share-view"))["events"]
    assert views and views[0]["link_id"] == link_id


def test_keys_and_users_through_the_api(server: SatchelProcess, root: Console) -> None:
    name = f"u{time.time_ns() % 10**8}"
    made = ok(root("POST", "/users", {"name": name, "role": "member", "password": "long enough pw"}))
    assert made["has_password"] is True and made["role"] == "member"
    member = Console(server)
    assert member.sign_in(name, "long enough pw").status_code == 200
    assert member("POST", "/users", {"name": f"x{name}"}).status_code == 403
    key = ok(member("POST", "/access-keys", {}))
    assert key["secret_access_key"] and key["user"] == name
    assert ok(member("GET", "/access-keys"))["access_keys"][0]["secret_access_key"] is None
    assert ok(member("PUT", f"/access-keys/{key['access_key_id']}", {"status": "disabled"}))["status"] == "disabled"
    assert member("PUT", "/access-keys/SATCHELNOSUCHKEY0000", {"status": "disabled"}).status_code == 403
    ok(member("DELETE", f"/access-keys/{key['access_key_id']}"))
    ok(root("PUT", f"/users/{name}", {"password": "another long pw"}))
    assert member("GET", "/whoami").status_code == 401  # a new password signs the user out everywhere
    assert member.sign_in(name, "another long pw").status_code == 200
    ok(root("PUT", f"/users/{name}", {"status": "disabled"}))
    assert eventually(lambda: member("GET", "/whoami").status_code == 401)  # a disabled user's sessions end
    assert root("PUT", "/users/root", {"status": "disabled"}).status_code == 403  # not yourself
    ok(root("DELETE", f"/users/{name}"))


def test_openapi_shapes_match_the_answers(server: SatchelProcess, root: Console) -> None:
    doc = requests.get(f"{server.endpoint}/_satchel/api/openapi.json", timeout=TIMEOUT).json()
    schemas = doc["components"]["schemas"]
    paths = doc["paths"]
    assert paths["/_satchel/api/session"]["post"]["security"] == []
    assert paths["/_satchel/api/buckets/{bucket}/upload"]["put"]["requestBody"]["content"].keys() == {
        "application/octet-stream"}
    assert "session" in doc["components"]["securitySchemes"]

    def same(answer: dict[str, Any], schema: str) -> None:
        assert set(answer) == set(schemas[schema]["properties"]), schema

    same(ok(root("GET", "/session")), "Session")
    same(ok(root("GET", "/capabilities")), "Capabilities")
    for kind in ok(root("GET", "/capabilities"))["link_kinds"]:
        assert set(kind) == set(schemas["Capabilities"]["properties"]["link_kinds"]["items"]["properties"])
    caps = {kind["kind"]: kind for kind in ok(root("GET", "/capabilities"))["link_kinds"]}
    assert list(caps) == ["s3v4", "s3v2", "swift", "par"]
    assert caps["par"]["max_lifetime"] == 2592000 and caps["par"]["endpoint"] == "/pars" and caps["par"]["ip_range"]
    assert caps["s3v4"]["max_lifetime"] == caps["swift"]["max_lifetime"] == 7 * 86400
    assert not caps["swift"]["max_uses"] and not caps["swift"]["ip_range"]
    bucket = f"doc-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    same(ok(root("GET", "/buckets"))["buckets"][0], "BucketEntry")
    same(ok(root("PUT", f"/buckets/{bucket}/upload?key=k", data=b"x")), "Object")
    same(ok(root("GET", f"/buckets/{bucket}/objects")), "ObjectList")
    same(ok(root("GET", f"/buckets/{bucket}/object?key=k")), "ObjectDetails")
    same(ok(root("GET", "/access-keys"))["access_keys"][0], "AccessKey")
    same(ok(root("GET", "/users"))["users"][0], "User")
    same(ok(root("PUT", f"/buckets/{bucket}/settings", {"public_read": False})), "BucketEntry")
    same(ok(root("DELETE", f"/buckets/{bucket}/object?key=k")), "Done")
    ok(root("DELETE", f"/buckets/{bucket}"))


def test_a_container_tempurl_key_set_from_the_console_signs_swift_links(server: SatchelProcess, root: Console) -> None:
    """No key: the swift kind says how to set one; the console's call sets a random one (never shown),
    only for whoever controls the bucket; then a TempURL minted by the links call delivers the bytes."""
    bucket = f"tk-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    ok(root("PUT", f"/buckets/{bucket}/upload?key=doc.txt", data=b"tempurl bytes"))
    spec = {"bucket": bucket, "keys": ["doc.txt"], "kind": "swift", "expires_in": 600, "mode": "download"}
    refused = root("POST", "/links", spec)
    assert refused.status_code == 400 and "you set none" in refused.json()["error"]["message"]
    member, _ = _user(server, f"tk{time.time_ns() % 10**8}")
    assert call(server, member, "PUT", f"/buckets/{bucket}/tempurl-key", {}).status_code == 403
    assert root("PUT", f"/buckets/{bucket}/tempurl-key", {"slot": 3}).status_code == 400
    assert root("PUT", f"/buckets/{bucket}/tempurl-key", {"slot": 1}, csrf=False).status_code == 403
    answer = ok(root("PUT", f"/buckets/{bucket}/tempurl-key", {}))
    assert set(answer) == {"bucket", "scope", "slot", "set_at"} and answer["slot"] == 1
    doc = requests.get(f"{server.endpoint}/_satchel/api/openapi.json", timeout=TIMEOUT).json()
    assert set(answer) == set(doc["components"]["schemas"]["TempUrlKey"]["properties"])
    (made,) = ok(root("POST", "/links", spec))["links"]
    got = requests.get(made["url"], timeout=TIMEOUT)
    assert got.status_code == 200 and got.content == b"tempurl bytes"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="doc.txt"')
    events = ok(root("GET", f"/audit?bucket={bucket}&action=tempurl-key"))["events"]
    assert [e["reason"] for e in events] == ["container key slot 1 set"]
    ok(root("DELETE", f"/buckets/{bucket}/object?key=doc.txt"))
    ok(root("DELETE", f"/buckets/{bucket}"))


def test_unauthenticated_browser_root_goes_to_the_console(server: SatchelProcess) -> None:
    browser = requests.get(server.endpoint + "/", headers={"Accept": "text/html,application/xhtml+xml"},
                           allow_redirects=False, timeout=TIMEOUT)
    assert browser.status_code == 302 and browser.headers["Location"] == "/_satchel/console/"
    s3_client = requests.get(server.endpoint + "/", allow_redirects=False, timeout=TIMEOUT)
    assert s3_client.status_code == 403  # an S3 ListBuckets without credentials, as before
    page = requests.get(server.endpoint + "/_satchel/console/", timeout=TIMEOUT)
    assert page.status_code == 200 and "<script type=\"module\"" in page.text and "<script>" not in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert requests.get(server.endpoint + "/_satchel/console/nope.js", timeout=TIMEOUT).status_code == 404
