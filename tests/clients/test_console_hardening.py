"""Attack findings on the web console, against a real server: parallel guesses under the sign-in and
share-page throttles, share pages of dead links, several session cookies, unbounded sessions and pages.

Each test here failed before its fix."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.clients.mgmt import ok
from tests.clients.server import SatchelProcess, eventually
from tests.clients.test_console_api import Console, serve

TIMEOUT = 60
FAILURES = 4
BURST, RIGHT = 40, 35
SETTINGS = f"""
console_max_failures = {FAILURES}
console_throttle_window = 600
console_lockout = 600
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    yield from serve(tmp_path_factory, "console-hardening", SETTINGS)


@pytest.fixture
def root(server: SatchelProcess) -> Console:
    console = Console(server)
    assert console.sign_in("root", server.password).status_code == 200
    return console


def _burst(send: object, right: str) -> dict[int, int]:
    """``BURST`` tries at once, the right one at ``RIGHT``: the status of each."""
    assert callable(send)
    with ThreadPoolExecutor(BURST) as pool:
        codes = list(pool.map(lambda i: send(right if i == RIGHT else f"wrong-guess-{i:02d}-xx"), range(BURST)))
    return dict(enumerate(codes))


def test_parallel_sign_ins_check_at_most_the_limit(server: SatchelProcess, root: Console) -> None:
    name, password = f"victim{time.time_ns() % 10**6}", "victim-password-0123"
    ok(root("POST", "/users", {"name": name, "role": "member", "password": password}))
    url = f"{server.endpoint}/_satchel/api/session"

    def send(guess: str) -> int:
        return requests.post(url, json={"user": name, "password": guess}, timeout=TIMEOUT).status_code

    codes = _burst(send, password)
    checked = [i for i, code in codes.items() if code != 429]
    assert len(checked) <= FAILURES, codes
    assert codes[RIGHT] == 429 or RIGHT in checked  # refused, unless it was among the few checked
    assert set(codes.values()) <= {200, 403, 429}


def test_parallel_share_passphrases_check_at_most_the_limit(root: Console) -> None:
    bucket = f"burst-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    ok(root("PUT", f"/buckets/{bucket}/upload?key=doc.txt", data=b"secret words",
            headers={"Content-Type": "text/plain"}))
    link = ok(root("POST", "/links", {"bucket": bucket, "keys": ["doc.txt"], "expires_in": 300}))["links"][0]["link"]
    url = ok(root("POST", "/shares", {"link_id": link["id"], "passphrase": "right-passphrase"}))["url"]

    def send(guess: str) -> int:
        return requests.post(url, data={"passphrase": guess}, allow_redirects=False, timeout=TIMEOUT).status_code

    codes = _burst(send, "right-passphrase")
    checked = [i for i, code in codes.items() if code != 429]
    assert len(checked) <= FAILURES, codes
    assert codes[RIGHT] == 429 or RIGHT in checked
    assert set(codes.values()) <= {303, 403, 429}


def test_a_request_with_two_session_cookies_is_not_signed_in(server: SatchelProcess, root: Console) -> None:
    token = root.http.cookies["satchel_session"]
    url = root.url("/whoami")
    assert requests.get(url, headers={"Cookie": f"satchel_session={token}"}, timeout=TIMEOUT).status_code == 200
    anonymous = requests.get(url, timeout=TIMEOUT).status_code
    assert anonymous in (401, 403)
    for cookie in (f"satchel_session={token}; satchel_session=tossed",
                   f"satchel_session=tossed; satchel_session={token}",
                   f"satchel_session={token}; satchel_session={token}"):
        assert requests.get(url, headers={"Cookie": cookie}, timeout=TIMEOUT).status_code == anonymous, cookie
    assert requests.get(root.url("/session"), headers={"Cookie": f"satchel_session={token}; satchel_session=x"},
                        timeout=TIMEOUT).json()["signed_in"] is False


def test_a_user_keeps_at_most_twenty_live_sessions(server: SatchelProcess, root: Console) -> None:
    name, password = f"many{time.time_ns() % 10**6}", "many-password-0123456"
    ok(root("POST", "/users", {"name": name, "role": "member", "password": password}))
    consoles = []
    for _ in range(25):
        console = Console(server)
        assert console.sign_in(name, password).status_code == 200
        consoles.append(console)
    live = [c("GET", "/whoami").status_code == 200 for c in consoles]
    assert live == [False] * 5 + [True] * 20  # the oldest end first


def test_a_link_has_at_most_a_hundred_share_pages(root: Console) -> None:
    bucket = f"pages-{time.time_ns() % 10**9}"
    ok(root("POST", "/buckets", {"name": bucket}))
    ok(root("PUT", f"/buckets/{bucket}/upload?key=a.txt", data=b"a"))
    link = ok(root("POST", "/links", {"bucket": bucket, "keys": ["a.txt"], "expires_in": 300}))["links"][0]["link"]
    for _ in range(100):
        ok(root("POST", "/shares", {"link_id": link["id"]}))
    refused = root("POST", "/shares", {"link_id": link["id"]})
    assert refused.status_code == 409 and "100 share pages" in refused.json()["error"]["message"]


def _member_share(server: SatchelProcess, root: Console) -> tuple[str, str, str, str, str]:
    """A member with a read-and-share grant on a bucket of root's, signed in, and a share page of a link
    it minted: (member's name, bucket, its access key id, grant id, page URL)."""
    tag = time.time_ns() % 10**9
    name, password, bucket = f"sharer{tag}", "sharer-password-0123", f"dead-{tag}"
    ok(root("POST", "/users", {"name": name, "role": "member", "password": password}))
    key_id = json.loads(server.admin("key", "create", name, "--json"))["access_key_id"]
    ok(root("POST", "/buckets", {"name": bucket}))
    ok(root("PUT", f"/buckets/{bucket}/upload?key=conf/salary.txt", data=b"1234", headers={"Content-Type": "text/x"}))
    grant = ok(root("POST", "/grants", {"user": name, "bucket": bucket, "permission": "read", "share": True}))
    member = Console(server)
    assert member.sign_in(name, password).status_code == 200
    link = ok(member("POST", "/links", {"bucket": bucket, "keys": ["conf/salary.txt"], "expires_in": 300}))
    url = ok(member("POST", "/shares", {"link_id": link["links"][0]["link"]["id"]}))["url"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    assert requests.get(url + "/file", timeout=TIMEOUT).content == b"1234"
    return name, bucket, key_id, grant["id"], url


def _dead(url: str) -> bool:
    page = requests.get(url, timeout=TIMEOUT)
    file = requests.get(url + "/file", allow_redirects=False, timeout=TIMEOUT)
    return page.status_code == 410 and "salary" not in page.text and "text/x" not in page.text \
        and file.status_code == 410 and "Location" not in file.headers


def _alive(url: str) -> bool:
    return requests.get(url, timeout=TIMEOUT).status_code == 200


def test_share_page_dies_with_a_prefix_revocation(server: SatchelProcess, root: Console) -> None:
    _, bucket, _, _, url = _member_share(server, root)
    ok(root("POST", "/revocations", {"scope": "prefix", "bucket": bucket, "target": "conf/"}))
    assert eventually(lambda: _dead(url))
    events = ok(root("GET", f"/audit?bucket={bucket}&action=share-view"))["events"]
    assert events[-1]["outcome"] == "refused" and "revok" in events[-1]["reason"]
    assert not [e for e in ok(root("GET", f"/audit?bucket={bucket}&action=use"))["events"]
                if e["outcome"] == "allowed" and e["time"] > events[-1]["time"]]


def test_share_page_dies_with_the_signers_key_user_or_grant(server: SatchelProcess, root: Console) -> None:
    user, _, key_id, _, url = _member_share(server, root)
    ok(root("PUT", f"/access-keys/{key_id}", {"status": "disabled"}))
    assert eventually(lambda: _dead(url))
    ok(root("PUT", f"/access-keys/{key_id}", {"status": "active"}))
    assert eventually(lambda: _alive(url))
    ok(root("PUT", f"/users/{user}", {"status": "disabled"}))
    assert eventually(lambda: _dead(url))
    ok(root("PUT", f"/users/{user}", {"status": "active"}))
    assert eventually(lambda: _alive(url))
    _, _, _, grant_id, other = _member_share(server, root)
    ok(root("DELETE", f"/grants/{grant_id}"))
    assert eventually(lambda: _dead(other))


def test_a_member_cannot_enable_its_key_an_admin_disabled(server: SatchelProcess, root: Console) -> None:
    user, _, key_id, _, url = _member_share(server, root)
    member = Console(server)
    assert member.sign_in(user, "sharer-password-0123").status_code == 200
    ok(root("PUT", f"/access-keys/{key_id}", {"status": "disabled"}))
    refused = member("PUT", f"/access-keys/{key_id}", {"status": "active"})
    assert refused.status_code == 403, refused.text
    assert eventually(lambda: _dead(url))  # its links stay dead
    ok(member("PUT", f"/access-keys/{key_id}", {"status": "disabled"}))  # disabling its own key: still its call
    ok(root("PUT", f"/access-keys/{key_id}", {"status": "active"}))  # the admin can
    assert eventually(lambda: _alive(url))
    ok(member("PUT", f"/access-keys/{key_id}", {"status": "disabled"}))
    assert member("PUT", f"/access-keys/{key_id}", {"status": "active"}).status_code == 403
