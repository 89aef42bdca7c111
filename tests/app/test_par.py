"""Pre-authenticated requests in-process (``core/par/use.py`` through ``/p/``): every check of a use, in the
module's order, each refusal OCI's one ``404 NotAuthorizedOrNotFound`` and an audit event with its reason;
use limits counted once per delivered read or write and given back when a write fails."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Callable
from typing import Any

from satchel.core.models import Permission, Role
from tests.app.driver import InProcessApp, Key, Reply


def _when(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(time.time() + seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _par(app: InProcessApp, bucket: str, access: str, *, key: Key | None = None, status: int = 200,
         **fields: Any) -> dict[str, Any]:
    payload = {"bucket": bucket, "name": "test par", "accessType": access, "timeExpires": _when(600), **fields}
    made = app.api("POST", "/pars", payload, key=key)
    assert made.status == status, made.body
    found: dict[str, Any] = made.json()
    return found


def _refused(reply: Reply) -> None:
    assert reply.status == 404 and reply.code == "NotAuthorizedOrNotFound", reply.body


def _reasons(app: InProcessApp, bucket: str) -> list[str]:
    app.flush_audit()
    events = app.api("GET", "/audit", query=f"bucket={bucket}&kind=par&action=use&outcome=refused").json()["events"]
    return [str(e["reason"]).removeprefix("NotAuthorizedOrNotFound: ") for e in events]


def _put(app: InProcessApp, bucket: str, key: str, body: bytes = b"data") -> None:
    assert app.s3("PUT", f"/{bucket}/{key}", body=body).status == 200


def test_object_read_use_limit(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "one.txt", b"once")
    made = _par(app, bucket, "ObjectRead", objectName="one.txt", maxUses=1)
    got = app.follow(made["fullPath"])
    assert got.status == 200 and got.body == b"once"
    _refused(app.follow(made["fullPath"]))
    shown = app.api("GET", f"/pars/{bucket}/{made['id']}").json()
    assert (shown["uses"], shown["state"]) == (1, "used-up")
    assert _reasons(app, bucket) == ["The pre-authenticated request is used-up."]


def test_scope_method_and_listing(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "in/a.txt")
    _put(app, bucket, "out/b.txt")
    reader = _par(app, bucket, "AnyObjectRead", objectName="in/", bucketListingAction="ListObjects")
    base = reader["fullPath"]
    assert app.follow(base + "in/a.txt").body == b"data"
    listing = app.follow(base)
    assert listing.status == 200 and [o["name"] for o in listing.json()["objects"]] == ["in/a.txt"]
    assert [o["name"] for o in app.follow(base + "?prefix=i").json()["objects"]] == ["in/a.txt"]  # the PAR's
    assert app.follow(base + "?prefix=out/").json()["objects"] == []  # outside it: nothing, not an error
    _refused(app.follow(base + "out/b.txt"))
    _refused(app.follow(base + "in/new.txt", "PUT", body=b"x"))
    no_list = _par(app, bucket, "ObjectRead", objectName="in/a.txt")
    _refused(app.follow(no_list["fullPath"].rsplit("/o/", 1)[0] + "/o/"))
    writer = _par(app, bucket, "ObjectWrite", objectName="in/w.txt")
    assert app.follow(writer["fullPath"], "PUT", body=b"written").status == 200
    _refused(app.follow(writer["fullPath"]))
    other = app.follow(reader["fullPath"].replace(f"/b/{bucket}/", "/b/another-bucket/"))
    _refused(other)
    assert _reasons(app, bucket) == [
        "The object is outside the scope of the pre-authenticated request.",
        "AnyObjectRead does not allow writing.",
        "The pre-authenticated request does not allow listing.",
        "ObjectWrite does not allow reading.",
        "The URL names another namespace or bucket than the pre-authenticated request's.",
    ]


def test_ip_range_revocation_and_deletion(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "r.txt")
    fenced = _par(app, bucket, "ObjectRead", objectName="r.txt", allowedIpRange="10.0.0.0/8")
    _refused(app.follow(fenced["fullPath"]))
    _refused(app.follow(fenced["fullPath"], client=None))  # no address (a Unix socket): never inside a range
    open_par = _par(app, bucket, "ObjectRead", objectName="r.txt")
    assert app.follow(open_par["fullPath"]).status == 200
    assert app.api("POST", "/revocations", {"scope": "object", "bucket": bucket, "target": "r.txt"}).status == 200
    _refused(app.follow(open_par["fullPath"]))
    deleted = _par(app, bucket, "ObjectRead", objectName="r.txt")
    assert app.api("DELETE", f"/pars/{bucket}/{deleted['id']}").status == 200
    _refused(app.follow(deleted["fullPath"]))
    reasons = _reasons(app, bucket)
    assert reasons[:2] == ["The client address is outside the allowed range 10.0.0.0/8."] * 2
    assert reasons[2].startswith("The pre-authenticated request was revoked (object revocation")
    assert reasons[3] == "The pre-authenticated request is deleted."


def test_creator_key_and_rights(app: InProcessApp, bucket: str, unique: Callable[[str], str]) -> None:
    _put(app, bucket, "c.txt")
    name = unique("creator")
    sharer = app.user(name, Role.MEMBER, [(bucket, Permission.READ)], share=True)
    made = _par(app, bucket, "ObjectRead", objectName="c.txt", key=sharer)
    assert app.follow(made["fullPath"]).status == 200
    # The share right goes: refused, and said so; it comes back: the PAR works again.
    grant_id = app.node.store.list_grants(user_id=sharer.user_id)[0].id
    assert app.api("POST", "/grants", {"user": name, "bucket": bucket, "permission": "read"}).status == 200
    _refused(app.follow(made["fullPath"]))
    app.api("DELETE", f"/grants/{grant_id}")
    _refused(app.follow(made["fullPath"]))
    assert app.api("PUT", f"/access-keys/{sharer.access_key}", {"status": "disabled"}).status == 200
    _refused(app.follow(made["fullPath"]))
    assert app.api("DELETE", f"/users/{name}").status == 200
    _refused(app.follow(made["fullPath"]))
    reasons = _reasons(app, bucket)[-4:]
    assert reasons[0].startswith("The creator may no longer share this")
    assert reasons[1] == "The creator of the pre-authenticated request may no longer do what it grants."
    assert reasons[2] == "The access key that created the pre-authenticated request is disabled or deleted."
    assert reasons[3] == "The creator of the pre-authenticated request no longer exists."


def test_lifetime_ceiling_cuts_pars_handed_out(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "x.txt")
    capped = _par(app, bucket, "ObjectRead", objectName="x.txt")
    assert app.follow(capped["fullPath"]).status == 200
    assert app.api("PUT", f"/buckets/{bucket}/link-policy", {"max_link_lifetime": 60}).status == 200
    _refused(app.follow(capped["fullPath"]))
    [reason] = _reasons(app, bucket)
    assert "60" in reason and "lifetime" in reason, reason


def test_unknown_and_malformed_tokens(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "t.txt")
    made = _par(app, bucket, "ObjectRead", objectName="t.txt")
    token = made["accessUri"].split("/")[2]
    _refused(app.follow(made["fullPath"].replace(token, "A" * len(token))))
    _refused(app.follow(made["fullPath"].replace(token, "short")))
    _refused(app.follow(made["fullPath"].replace("/n/", "/n/x")))


def test_limited_write_given_back_when_it_fails(app: InProcessApp, bucket: str) -> None:
    made = _par(app, bucket, "ObjectWrite", objectName="w.bin", maxUses=1)
    bad = app.follow(made["fullPath"], "PUT", [("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")], b"not empty")
    assert bad.status == 400 and bad.code == "UnmatchedContentMD5", bad.body
    assert app.api("GET", f"/pars/{bucket}/{made['id']}").json()["uses"] == 0
    assert app.follow(made["fullPath"], "PUT", body=b"stored").status == 200
    assert app.s3("GET", f"/{bucket}/w.bin").body == b"stored"
    _refused(app.follow(made["fullPath"], "PUT", body=b"again"))
    unlimited = _par(app, bucket, "ObjectWrite", objectName="u.bin")
    bad = app.follow(unlimited["fullPath"], "PUT", [("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")], b"not empty")
    assert bad.status == 400 and app.s3("HEAD", f"/{bucket}/u.bin").status == 404


def test_concurrent_uses_of_a_one_time_par(app: InProcessApp, bucket: str) -> None:
    _put(app, bucket, "race.txt", b"only once")
    made = _par(app, bucket, "ObjectRead", objectName="race.txt", maxUses=1)

    async def both() -> list[Reply]:
        return list(await asyncio.gather(*(app.following(made["fullPath"]) for _ in range(4))))

    replies = app.run(both())
    assert sorted(r.status for r in replies) == [200, 404, 404, 404]
    assert [r.body for r in replies if r.status == 200] == [b"only once"]
    assert app.api("GET", f"/pars/{bucket}/{made['id']}").json()["uses"] == 1


def test_create_refusals(app: InProcessApp, bucket: str) -> None:
    for fields in ({"accessType": "ObjectEverything"}, {"timeExpires": "tomorrow"}, {"timeExpires": _when(-60)},
                   {"accessType": "ObjectRead"}, {"maxUses": 0, "objectName": "a"},
                   {"accessType": "ObjectRead", "objectName": "a", "bucketListingAction": "ListObjects"},
                   {"objectName": "a", "filename": "f"}, {"objectName": "a", "allowedIpRange": "nowhere"}):
        payload = {"bucket": bucket, "name": "p", "accessType": "ObjectRead", "timeExpires": _when(60), **fields}
        reply = app.api("POST", "/pars", payload)
        assert reply.status == 400 and reply.code == "InvalidArgument", (fields, reply.body)
    assert app.api("GET", "/pars", query=f"bucket={bucket}&active=true&limit=5").status == 200
    missing = app.api("GET", f"/pars/{bucket}/nosuchpar")
    assert missing.status == 404, missing.body
    policy = app.api("PUT", f"/buckets/{bucket}/par-policy", {"inlineActiveTypes": True})
    assert policy.status == 200 and policy.json()["inlineActiveTypes"] is True
    assert app.api("GET", f"/buckets/{bucket}/par-policy").json()["inlineActiveTypes"] is True


def test_par_made_in_a_console_session_follows_its_creator(app: InProcessApp, bucket: str,
                                                           unique: Callable[[str], str]) -> None:
    """No access key signed it: the PAR lives as long as its creator may do what it grants."""
    _put(app, bucket, "s.txt", b"session")
    name = unique("console")
    assert app.api("POST", "/users", {"name": name, "role": "member", "password": "console password 1"}).status == 200
    grant = {"user": name, "bucket": bucket, "permission": "read", "share": True}
    assert app.api("POST", "/grants", grant).status == 200
    signed_in = app.request("POST", "/_satchel/api/session", [("Content-Type", "application/json")],
                            json.dumps({"user": name, "password": "console password 1"}).encode())
    assert signed_in.status == 200, signed_in.body
    cookie = str(signed_in.header("set-cookie")).split(";", 1)[0]
    payload = {"bucket": bucket, "name": "from the console", "accessType": "ObjectRead", "objectName": "s.txt",
               "timeExpires": _when(600)}
    made = app.request("POST", "/_satchel/api/pars", [("Content-Type", "application/json"), ("Cookie", cookie),
                                                      ("X-CSRF-Token", signed_in.json()["csrf_token"])],
                       json.dumps(payload).encode())
    assert made.status == 200, made.body
    assert app.follow(made.json()["fullPath"]).body == b"session"
