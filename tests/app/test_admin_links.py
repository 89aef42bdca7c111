"""The management API's link, revocation, audit and bucket-policy routes in-process: each request shape's
refusals with their exact codes, and the effects of the accepted ones as S3 then sees them."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from satchel.core.models import Permission, Role
from tests.app.driver import InProcessApp, Reply


def _put(app: InProcessApp, bucket: str, key: str, body: bytes = b"data") -> None:
    assert app.s3("PUT", f"/{bucket}/{key}", body=body).status == 200


def _bad(reply: Reply, status: int, code: str) -> None:
    assert (reply.status, reply.code) == (status, code), reply.body
    assert reply.json()["error"]["request_id"] == reply.header("x-amz-request-id")


def test_mint_list_show_revoke_and_use(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "a.txt", b"alpha")
    _put(app, bucket, "dir/b.txt", b"beta")
    minted = app.api("POST", "/links", {"bucket": bucket, "keys": ["a.txt"], "max_uses": 2, "mode": "download",
                                        "filename": "saved.txt", "expires_in": 600})
    assert minted.status == 200, minted.body
    [link] = minted.json()["links"]
    got = app.follow(link["url"])
    assert got.status == 200 and got.body == b"alpha"
    assert got.header("content-disposition") == "attachment; filename=\"saved.txt\"; filename*=UTF-8''saved.txt"
    assert app.follow(link["url"]).status == 200
    spent = app.follow(link["url"])
    assert (spent.status, spent.code) == (403, "AccessDenied")

    shown = app.api("GET", f"/links/{link['link']['id']}").json()
    assert (shown["uses"], shown["max_uses"], shown["state"]) == (2, 2, "used-up")
    listed = app.api("GET", "/links", query=f"bucket={bucket}&active=false&limit=10").json()
    assert [entry["id"] for entry in listed["links"]] == [link["link"]["id"]]
    assert app.api("GET", "/links", query=f"bucket={bucket}&active=true").json()["links"] == []

    by_prefix = app.api("POST", "/links", {"bucket": bucket, "prefix": "dir/", "kind": "s3v2", "mode": "view"})
    [dir_link] = by_prefix.json()["links"]
    assert dir_link["link"]["key"] == "dir/b.txt"
    view = app.follow(dir_link["url"])
    assert view.body == b"beta" and view.header("content-disposition") == "inline"
    revoked = app.api("DELETE", f"/links/{dir_link['link']['id']}")
    assert revoked.status == 200 and revoked.json()["state"] == "revoked"
    again = app.api("DELETE", f"/links/{dir_link['link']['id']}")  # idempotent: the first time is kept
    assert again.status == 200 and again.json()["revoked"] == revoked.json()["revoked"]
    assert app.follow(dir_link["url"]).status == 403

    app.flush_audit()
    events = app.api("GET", "/audit", query=f"bucket={bucket}&action=use&outcome=refused&limit=5").json()["events"]
    assert {e["link_id"] for e in events} == {link["link"]["id"], dir_link["link"]["id"]}
    assert all(e["outcome"] == "refused" for e in events)
    minted_events = app.api("GET", "/audit", query=f"link_id={link['link']['id']}&action=mint").json()["events"]
    assert len(minted_events) == 1


@pytest.mark.parametrize(("payload", "code"), [
    ({"bucket": "x", "keys": [""]}, "InvalidArgument"),
    ({"bucket": "x", "keys": ["a"], "kind": "s3v3"}, "InvalidArgument"),
    ({"bucket": "x", "keys": ["a"], "filename": "f"}, "InvalidArgument"),
    ({"bucket": "x", "keys": "a"}, "InvalidArgument"),
    ({"bucket": "x", "keys": ["a"], "max_uses": True}, "InvalidArgument"),
    ({"bucket": "x", "colour": "red"}, "InvalidArgument"),
    ({"keys": ["a"]}, "InvalidArgument"),
    ({"bucket": "x", "keys": ["a"], "method": "POST"}, "InvalidArgument"),
    ({"bucket": "x"}, "InvalidArgument"),
    ({"bucket": "x", "keys": [f"k{n}" for n in range(1001)]}, "InvalidArgument"),
])
def test_mint_refuses_bad_requests(app: InProcessApp, bucket: str, payload: dict[str, object], code: str) -> None:
    if payload.get("bucket") == "x":
        payload = {**payload, "bucket": bucket}  # a bucket that exists: the request itself is what is wrong
    _bad(app.api("POST", "/links", payload), 400, code)


@pytest.mark.parametrize("body", [b"[]", b"{", b'{"bucket": "a", "bucket": "b"}', b"\xff", b'"text"'])
def test_bodies_that_are_no_json_object(app: InProcessApp, body: bytes) -> None:
    reply = app.request("POST", "/_satchel/api/links", [("Content-Type", "application/json")], body, key=app.root)
    assert reply.status == 400 and reply.code in ("InvalidArgument", "MalformedJSON"), reply.body


def test_mint_for_missing_bucket_and_object(app: InProcessApp, bucket: str) -> None:
    _bad(app.api("POST", "/links", {"bucket": "no-such-bucket-here", "keys": ["a"]}), 404, "NoSuchBucket")
    missing = app.api("POST", "/links", {"bucket": bucket, "keys": ["nothing"]})
    assert missing.status == 200
    assert missing.json()["links"] == [{"key": "nothing", "error": {
        "code": "NoSuchKey", "message": "The specified key does not exist."}}]


def test_link_lookups_that_fail(app: InProcessApp) -> None:
    _bad(app.api("GET", "/links/0123456789abcdef"), 404, "NotFound")
    _bad(app.api("DELETE", "/links/0123456789abcdef"), 404, "NotFound")
    _bad(app.api("GET", "/links", query="limit=0"), 400, "InvalidArgument")
    _bad(app.api("GET", "/links", query="active=maybe"), 400, "InvalidArgument")
    _bad(app.api("GET", "/links", query="limit=1&limit=2"), 400, "InvalidArgument")
    _bad(app.api("GET", "/links", query="colour=red"), 400, "InvalidArgument")
    assert app.api("GET", "/links", query="bucket=no-such-bucket-here").json() == {"links": []}


def test_revocations(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "r.txt")
    [link] = app.api("POST", "/links", {"bucket": bucket, "keys": ["r.txt"]}).json()["links"]
    assert app.follow(link["url"]).status == 200
    made = app.api("POST", "/revocations", {"scope": "object", "bucket": bucket, "target": "r.txt"})
    assert made.status == 200, made.body
    assert made.json()["scope"] == "object" and made.json()["target"] == "r.txt"
    assert app.follow(link["url"]).code == "AccessDenied"
    listed = app.api("GET", "/revocations").json()["revocations"]
    assert made.json()["id"] in [r["id"] for r in listed]

    _bad(app.api("POST", "/revocations", {"scope": "galaxy", "target": "x"}), 400, "InvalidArgument")
    _bad(app.api("POST", "/revocations", {"scope": "bucket", "target": bucket, "bucket": bucket}), 400,
         "InvalidArgument")
    _bad(app.api("POST", "/revocations", {"scope": "bucket", "target": bucket, "before": 5}), 400,
         "InvalidArgument")
    _bad(app.api("POST", "/revocations", {"scope": "bucket", "target": bucket, "before": time.time() + 10 ** 9}),
         400, "InvalidArgument")
    _bad(app.api("POST", "/revocations", {"scope": "bucket", "target": "no-such-bucket-here"}), 404,
         "NoSuchBucket")


def test_audit_query_refusals(app: InProcessApp) -> None:
    _bad(app.api("GET", "/audit", query="since=yesterday"), 400, "InvalidArgument")
    _bad(app.api("GET", "/audit", query="until=inf"), 400, "InvalidArgument")
    _bad(app.api("GET", "/audit", query="limit=10001"), 400, "InvalidArgument")
    assert app.api("GET", "/audit", query="since=0&until=1").json()["events"] == []


def test_link_policy(app: InProcessApp, bucket: str) -> None:
    assert app.api("GET", f"/buckets/{bucket}/link-policy").json()["max_link_lifetime"] is None
    changed = app.api("PUT", f"/buckets/{bucket}/link-policy", {"max_link_lifetime": 60, "sharing": "any"})
    assert changed.status == 200 and changed.json()["max_link_lifetime"] == 60
    assert changed.json()["sharing"] == "any"
    _put(app, bucket, "p.txt")
    too_long = app.api("POST", "/links", {"bucket": bucket, "keys": ["p.txt"], "expires_in": 3600})
    assert too_long.status == 400 and too_long.code == "InvalidArgument"
    _bad(app.api("PUT", f"/buckets/{bucket}/link-policy", {"sharing": "everyone"}), 400, "InvalidArgument")
    _bad(app.api("PUT", f"/buckets/{bucket}/link-policy", {"max_link_lifetime": 0}), 400, "InvalidArgument")
    _bad(app.api("GET", "/buckets/no-such-bucket-here/link-policy"), 404, "NoSuchBucket")


def test_create_bucket(app: InProcessApp, unique: Callable[[str], str]) -> None:
    name = unique("made-")
    made = app.api("POST", "/buckets", {"name": name, "owner": "account"})
    assert made.status == 200 and made.json()["owner"] == "account", made.body
    _bad(app.api("POST", "/buckets", {"name": name}), 409, "BucketAlreadyOwnedByYou")
    _bad(app.api("POST", "/buckets", {"name": "Bad_Name"}), 400, "InvalidBucketName")
    _bad(app.api("POST", "/buckets", {"name": unique("x-"), "owner": "nobody"}), 400, "InvalidArgument")
    member = app.user(unique("member"))
    _bad(app.api("POST", "/buckets", {"name": unique("acct-"), "owner": "account"}, key=member), 403,
         "AccessDenied")


def test_member_sees_and_manages_only_what_it_may(app: InProcessApp, bucket: str,
                                                  unique: Callable[[str], str]) -> None:
    _put(app, bucket, "m.txt")
    reader = app.user(unique("reader"), Role.MEMBER, [(bucket, Permission.READ)])
    refused = app.api("POST", "/links", {"bucket": bucket, "keys": ["m.txt"]}, key=reader)
    [entry] = refused.json()["links"]
    assert entry["error"]["code"] == "AccessDenied" and "share" in entry["error"]["message"]
    [root_link] = app.api("POST", "/links", {"bucket": bucket, "keys": ["m.txt"]}).json()["links"]
    _bad(app.api("DELETE", f"/links/{root_link['link']['id']}", key=reader), 404, "NotFound")
    _bad(app.api("GET", f"/buckets/{bucket}/link-policy", key=reader), 403, "AccessDenied")
    assert app.api("GET", "/whoami", key=reader).json()["role"] == "member"


def test_routing_and_authentication_refusals(app: InProcessApp) -> None:
    unsigned = app.request("GET", "/_satchel/api/whoami")
    _bad(unsigned, 403, "AccessDenied")
    _bad(app.api("GET", "/no/such/route"), 404, "NotFound")
    _bad(app.api("PATCH", "/links"), 405, "MethodNotAllowed")
    _bad(app.api("GET", "/links/%ff"), 400, "InvalidArgument")
    document = app.request("GET", "/_satchel/api/openapi.json")
    assert document.status == 200 and "/_satchel/api/links" in document.json()["paths"]
    head = app.request("HEAD", "/_satchel/api/openapi.json")
    assert head.status == 200 and head.body == b""
    big = app.request("POST", "/_satchel/api/links", [("Content-Type", "application/json")],
                      b"{" + b" " * (1024 * 1024 + 1) + b"}", key=app.root)
    _bad(big, 413, "EntityTooLarge")


def test_unsigned_payload_and_wrong_body_hash(app: InProcessApp) -> None:
    body = b'{"bucket": "x", "keys": ["a"]}'
    unsigned = app.request("POST", "/_satchel/api/links", [], body, key=app.root, payload="UNSIGNED-PAYLOAD")
    _bad(unsigned, 400, "InvalidRequest")
    wrong = app.request("POST", "/_satchel/api/links", [], body, key=app.root, payload="0" * 64)
    assert wrong.status == 400 and wrong.code in ("XAmzContentSHA256Mismatch", "BadDigest"), wrong.body
    streaming = app.request("POST", "/_satchel/api/links", [("Content-Encoding", "aws-chunked")], body, key=app.root,
                            payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert streaming.status == 400, streaming.body
    # A GET has no body to swap: UNSIGNED-PAYLOAD is fine there.
    whoami = app.request("GET", "/_satchel/api/whoami", key=app.root, payload="UNSIGNED-PAYLOAD")
    assert whoami.status == 200 and whoami.json()["user"] == "root"
