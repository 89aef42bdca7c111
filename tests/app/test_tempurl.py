"""Swift TempURLs in-process (``swift/tempurl.py``): URLs signed by swiftclient's ``generate_temp_url`` with a
container key set through Swift, each refusal Swift's ``401 Temp URL invalid`` (or the header's 400), and
exactly one audit event per use, allowed or refused, with its reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from swiftclient.utils import generate_temp_url

from satchel.core.models import Role
from tests.app.driver import InProcessApp, Key, Reply

INVALID = b"401 Unauthorized: Temp URL invalid\n"
TEMPURL_KEY = "container-tempurl-key-for-tests"


def _token(app: InProcessApp, user: str, secret: str) -> str:
    reply = app.request("GET", "/auth/v1.0", [("X-Auth-User", f"root:{user}"), ("X-Auth-Key", secret)])
    assert reply.status == 200, reply.body
    token = reply.header("x-auth-token")
    assert token
    return token


@pytest.fixture
def container(app: InProcessApp, bucket: str) -> Iterator[str]:
    """A bucket with a TempURL key (set by root through Swift) and two objects."""
    token = _token(app, "root", app.root.secret)
    posted = app.request("POST", f"/v1/AUTH_root/{bucket}",
                         [("X-Auth-Token", token), ("X-Container-Meta-Temp-URL-Key", TEMPURL_KEY)])
    assert posted.status == 204, posted.body
    assert app.s3("PUT", f"/{bucket}/docs/a.txt", [("x-amz-meta-secret", "private")], b"alpha").status == 200
    assert app.s3("PUT", f"/{bucket}/big.bin", body=b"b" * 300_000).status == 200
    yield bucket


def _url(bucket: str, obj: str, method: str = "GET", seconds: int = 300, key: str = TEMPURL_KEY,
         **kwargs: object) -> str:
    return str(generate_temp_url(f"/v1/AUTH_root/{bucket}/{obj}", seconds, key, method, **kwargs))


def _events(app: InProcessApp, bucket: str) -> list[dict[str, object]]:
    app.flush_audit()
    query = f"bucket={bucket}&kind=swift&action=use"
    found: list[dict[str, object]] = app.api("GET", "/audit", query=query).json()["events"]
    return found


def _invalid(reply: Reply, head: bool = False) -> None:
    assert reply.status == 401 and reply.body == (b"" if head else INVALID), reply.body
    assert reply.header("www-authenticate") == 'Swift realm="AUTH_root"'


def test_get_and_head(app: InProcessApp, container: str) -> None:
    got = app.request("GET", _url(container, "docs/a.txt"))
    assert got.status == 200 and got.body == b"alpha"
    assert got.header("content-disposition") == 'attachment; filename="a.txt"; filename*=UTF-8\'\'a.txt'
    assert got.header("expires") is not None and got.header("x-object-meta-secret") is None
    inline = app.request("GET", _url(container, "docs/a.txt") + "&inline")
    assert inline.status == 200 and inline.header("content-disposition") == "inline"
    named = app.request("GET", _url(container, "docs/a.txt") + "&filename=" + quote("report final.txt"))
    assert named.header("content-disposition") == 'attachment; filename="report final.txt"; ' \
                                                  "filename*=UTF-8''report%20final.txt"
    head = app.request("HEAD", _url(container, "docs/a.txt", "HEAD"))
    assert head.status == 200 and head.body == b"" and head.header("content-length") == "5"
    big = app.request("GET", _url(container, "big.bin"))
    assert big.status == 200 and len(big.body) == 300_000
    events = _events(app, container)
    assert [(e["outcome"], e["status"]) for e in events] == [("allowed", 200)] * 5
    assert events[-1]["bytes"] == 300_000 and events[-2]["bytes"] == 0


def test_put_and_refused_headers(app: InProcessApp, container: str) -> None:
    url = _url(container, "up.txt", "PUT")
    put = app.request("PUT", url, [("X-Timestamp", "1")], b"uploaded")
    assert put.status == 201, put.body
    assert app.s3("GET", f"/{container}/up.txt").body == b"uploaded"
    copy = app.request("PUT", url, [("X-Copy-From", f"{container}/docs/a.txt")], b"")
    assert copy.status == 400 and b"X-Copy-From" in copy.body
    events = _events(app, container)
    assert [(e["outcome"], e["status"]) for e in events] == [("allowed", 201), ("refused", 400)]
    assert str(events[-1]["reason"]).startswith("TempUrlHeaderNotAllowed")


def test_refusals_are_401_and_audited(app: InProcessApp, container: str) -> None:
    good = _url(container, "docs/a.txt")
    _invalid(app.request("GET", good.replace("temp_url_sig=", "temp_url_sig=0")))
    _invalid(app.request("GET", _url(container, "docs/a.txt", key="another key")))
    _invalid(app.request("PUT", good, body=b"x"))  # a GET URL does not write
    _invalid(app.request("DELETE", good))
    _invalid(app.request("GET", f"/v1/AUTH_root/{container}/docs/a.txt?temp_url_expires=1"))
    expired = _url(container, "docs/a.txt", seconds=int(time.time()) - 60, absolute=True)
    _invalid(app.request("GET", expired))
    elsewhere = generate_temp_url(f"/v1/AUTH_root/{container}/docs/a.txt", 300, TEMPURL_KEY, "GET",
                                  ip_range="10.0.0.0/8")
    _invalid(app.request("GET", elsewhere))
    events = _events(app, container)
    assert len(events) == 7 and all(e["outcome"] == "refused" and e["status"] == 401 for e in events)
    assert all(str(e["reason"]).startswith("TempUrlInvalid") for e in events)


def test_prefix_url(app: InProcessApp, container: str) -> None:
    url = str(generate_temp_url(f"/v1/AUTH_root/{container}/docs/", 300, TEMPURL_KEY, "GET", prefix=True))
    inside = url.replace(f"{container}/docs/", f"{container}/docs/a.txt", 1)
    assert app.request("GET", inside).body == b"alpha"
    _invalid(app.request("GET", url.replace(f"{container}/docs/", f"{container}/big.bin", 1)))


def test_unknown_account_and_bad_paths(app: InProcessApp, container: str) -> None:
    url = _url(container, "docs/a.txt").replace("AUTH_root", "AUTH_nobody")
    reply = app.request("GET", url)
    assert reply.status == 401 and reply.header("www-authenticate") == 'Swift realm="AUTH_nobody"'
    not_text = app.request("GET", f"/v1/AUTH_root/{container}/%FF?temp_url_sig=00&temp_url_expires=1")
    assert not_text.status == 412, not_text.body
    for path, status in ((f"/v1/AUTH_root/%FF{container}/o", 412), ("/v1/AUTH_root/a%00b/o", 412),
                         ("/v1/AUTH_root", 401)):
        refused = app.request("GET", f"{path}?temp_url_sig=00&temp_url_expires=1")
        assert refused.status == status, (path, refused.body)
    events = _events(app, container)
    assert [(e["status"], str(e["reason"]).split(":")[0]) for e in events] == [(412, "TempUrlInvalid")]


def test_conditional_missing_and_revoked(app: InProcessApp, container: str) -> None:
    url = _url(container, "docs/a.txt")
    etag = app.request("HEAD", _url(container, "docs/a.txt", "HEAD")).header("etag")
    assert etag
    assert app.request("GET", url, [("If-None-Match", etag)]).status == 304
    missing = app.request("GET", _url(container, "docs/none.txt"))
    assert missing.status == 404
    assert app.api("POST", "/revocations", {"scope": "bucket", "target": container}).status == 200
    _invalid(app.request("GET", url))
    events = _events(app, container)
    assert [e["status"] for e in events[-3:]] == [304, 404, 401]
    assert str(events[-1]["reason"]).startswith("TempUrlInvalid")


def test_setter_who_lost_the_right(app: InProcessApp, container: str, unique: Callable[[str], str]) -> None:
    name = unique("setter")
    member: Key = app.user(name, Role.ADMIN)
    token = _token(app, name, member.secret)
    set_key = app.request("POST", f"/v1/AUTH_root/{container}",
                          [("X-Auth-Token", token), ("X-Container-Meta-Temp-URL-Key-2", "member key here")])
    assert set_key.status == 204, set_key.body
    url = _url(container, "docs/a.txt", key="member key here")
    assert app.request("GET", url).body == b"alpha"
    assert app.api("PUT", f"/users/{name}", {"role": "member"}).status == 200  # no longer controls the bucket
    _invalid(app.request("GET", url))
    last = _events(app, container)[-1]
    assert last["user"] == name
    assert "setter may not" in str(last["reason"])
