"""The management API's console calls in-process (SigV4-signed, as a script would make them): buckets,
objects, uploads, keys, users, grants, shares and TempURL keys — what each changes, and each refusal's code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from satchel.core.models import Permission, Role
from tests.app.driver import InProcessApp, Reply


def _bad(reply: Reply, status: int, code: str) -> None:
    assert (reply.status, reply.code) == (status, code), reply.body


def _raw(app: InProcessApp, method: str, path: str, body: bytes, headers: tuple[tuple[str, str], ...] = (),
         **kwargs: object) -> Reply:
    return app.request(method, "/_satchel/api" + path, headers, body, key=app.root, **kwargs)  # type: ignore[arg-type]


def test_objects_upload_list_details_download_delete(app: InProcessApp, bucket: str) -> None:
    up = _raw(app, "PUT", f"/buckets/{bucket}/upload?key=docs/r%C3%A9sum%C3%A9.txt", b"hello",
              (("Content-Type", "text/plain"),))
    assert up.status == 200, up.body
    assert up.json()["size"] == 5 and up.json()["content_type"] == "text/plain"
    for name in ("docs/a.txt", "docs/b.txt", "top.txt"):
        assert _raw(app, "PUT", f"/buckets/{bucket}/upload?key={name}", b"x").status == 200

    root = app.api("GET", f"/buckets/{bucket}/objects").json()
    assert root["folders"] == ["docs/"] and [o["key"] for o in root["objects"]] == ["top.txt"]
    page = app.api("GET", f"/buckets/{bucket}/objects", query="prefix=docs/&limit=2").json()
    assert [o["key"] for o in page["objects"]] == ["docs/a.txt", "docs/b.txt"] and page["continuation"]
    rest = app.api("GET", f"/buckets/{bucket}/objects",
                   query=f"prefix=docs/&limit=2&continuation={page['continuation']}").json()
    assert [o["key"] for o in rest["objects"]] == ["docs/résumé.txt"] and rest["continuation"] is None
    found = app.api("GET", f"/buckets/{bucket}/objects", query="prefix=docs/&search=b").json()
    assert [o["key"] for o in found["objects"]] == ["docs/b.txt"]
    flat = app.api("GET", f"/buckets/{bucket}/objects", query="delimiter=").json()
    assert len(flat["objects"]) == 4 and flat["folders"] == []

    _bad(app.api("GET", f"/buckets/{bucket}/objects", query="continuation=!!!"), 400, "InvalidArgument")
    _bad(app.api("GET", f"/buckets/{bucket}/objects", query="delimiter=ab"), 400, "InvalidArgument")

    app.api("POST", "/links", {"bucket": bucket, "keys": ["top.txt"]})
    details = app.api("GET", f"/buckets/{bucket}/object", query="key=top.txt").json()
    assert details["size"] == 1 and len(details["links"]) == 1 and details["links"][0]["key"] == "top.txt"
    _bad(app.api("GET", f"/buckets/{bucket}/object"), 400, "InvalidArgument")
    _bad(app.api("GET", f"/buckets/{bucket}/object", query="key=missing"), 404, "NoSuchKey")

    got = app.api("GET", f"/buckets/{bucket}/download", query="key=docs/r%C3%A9sum%C3%A9.txt")
    assert got.status == 200 and got.body == b"hello"
    assert got.header("content-disposition") == (
        "attachment; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt")
    assert got.header("x-content-type-options") == "nosniff"

    assert app.api("DELETE", f"/buckets/{bucket}/object", query="key=top.txt").json() == {"done": True}
    assert app.s3("GET", f"/{bucket}/top.txt").status == 404
    _bad(app.api("DELETE", f"/buckets/{bucket}"), 409, "BucketNotEmpty")


def test_upload_refusals(app: InProcessApp, bucket: str) -> None:
    _bad(_raw(app, "PUT", f"/buckets/{bucket}/upload?key=a", b"x", (("Content-Type", "text/\x01"),)), 400,
         "InvalidArgument")
    _bad(_raw(app, "PUT", f"/buckets/{bucket}/upload?key=a", b"abc", payload="0" * 64), 400,
         "XAmzContentSHA256Mismatch")
    _bad(_raw(app, "PUT", f"/buckets/{bucket}/upload", b"x"), 400, "InvalidArgument")
    _bad(_raw(app, "PUT", "/buckets/no-such-bucket-here/upload?key=a", b"x"), 404, "NoSuchBucket")
    assert app.s3("GET", f"/{bucket}/a").status == 404


def test_multipart_upload(app: InProcessApp, bucket: str) -> None:
    made = app.api("POST", f"/buckets/{bucket}/uploads", query="key=big.bin&content_type=application/x-big")
    assert made.status == 200, made.body
    upload_id = made.json()["upload_id"]
    part1, part2 = b"a" * (5 * 1024 * 1024), b"tail"
    one = _raw(app, "PUT", f"/buckets/{bucket}/uploads/{upload_id}?key=big.bin&part=1", part1)
    two = _raw(app, "PUT", f"/buckets/{bucket}/uploads/{upload_id}?key=big.bin&part=2", part2)
    assert one.status == two.status == 200, (one.body, two.body)
    _bad(_raw(app, "PUT", f"/buckets/{bucket}/uploads/{upload_id}?key=big.bin&part=x", b"x"), 400,
         "InvalidArgument")
    _bad(app.api("POST", f"/buckets/{bucket}/uploads/{upload_id}/complete", {"parts": [{"part": 1}]},
                 query="key=big.bin"), 400, "InvalidArgument")
    done = app.api("POST", f"/buckets/{bucket}/uploads/{upload_id}/complete",
                   {"parts": [{"part": 1, "etag": one.json()["etag"]}, {"part": 2, "etag": two.json()["etag"]}]},
                   query="key=big.bin")
    assert done.status == 200 and done.json()["size"] == len(part1) + len(part2), done.body
    stored = app.s3("GET", f"/{bucket}/big.bin")
    assert hashlib.sha256(stored.body).digest() == hashlib.sha256(part1 + part2).digest()
    assert stored.header("content-type") == "application/x-big"

    other = app.api("POST", f"/buckets/{bucket}/uploads", query="key=gone.bin").json()["upload_id"]
    assert app.api("DELETE", f"/buckets/{bucket}/uploads/{other}", query="key=gone.bin").json() == {"done": True}
    _bad(app.api("DELETE", f"/buckets/{bucket}/uploads/{other}", query="key=gone.bin"), 404, "NoSuchUpload")


def test_buckets_settings_and_delete(app: InProcessApp, unique: Callable[[str], str]) -> None:
    name = unique("cons-")
    assert app.api("POST", "/buckets", {"name": name}).status == 200
    listed = app.api("GET", "/buckets", query="owner=user").json()["buckets"]
    entry = next(b for b in listed if b["name"] == name)
    assert entry["admin"] is True and entry["public_read"] is False
    assert all(b["name"] != name for b in app.api("GET", "/buckets", query="owner=account").json()["buckets"])
    _bad(app.api("GET", "/buckets", query="owner=nobody"), 400, "InvalidArgument")

    public = app.api("PUT", f"/buckets/{name}/settings", {"public_read": True})
    assert public.status == 200 and public.json()["public_read"] is True
    assert app.request("GET", f"/{name}?list-type=2").status == 200  # anonymous listing now
    _bad(app.api("PUT", f"/buckets/{name}/settings", {"public_read": "yes"}), 400, "InvalidArgument")
    assert app.api("DELETE", f"/buckets/{name}").json() == {"done": True}
    _bad(app.api("DELETE", f"/buckets/{name}"), 404, "NoSuchBucket")


def test_capabilities_and_session_without_cookie(app: InProcessApp) -> None:
    caps = app.api("GET", "/capabilities").json()
    assert {k["kind"] for k in caps["link_kinds"]} >= {"s3v4"}
    assert caps["part_size"] == 8 * 1024 * 1024
    assert app.request("GET", "/_satchel/api/session").json()["signed_in"] is False
    _bad(app.api("DELETE", "/session"), 400, "InvalidRequest")  # SigV4 has no session to end
    refused = app.request("POST", "/_satchel/api/session", [("Content-Type", "text/plain")],
                          b'{"user": "root", "password": "x"}')
    _bad(refused, 403, "AccessDenied")


def test_keys_users_grants(app: InProcessApp, bucket: str, unique: Callable[[str], str]) -> None:
    name = unique("person")
    made = app.api("POST", "/users", {"name": name, "role": "member", "password": "long enough pass"})
    assert made.status == 200 and made.json()["has_password"] is True, made.body
    _bad(app.api("POST", "/users", {"name": name}), 409, "Conflict")
    _bad(app.api("POST", "/users", {"name": unique("p"), "role": "king"}), 400, "InvalidArgument")
    assert name in [u["name"] for u in app.api("GET", "/users").json()["users"]]

    key = app.api("POST", "/access-keys", {"user": name}).json()
    assert key["user"] == name and key["secret_access_key"]
    keys = app.api("GET", "/access-keys", query=f"user={name}").json()["access_keys"]
    assert [k["access_key_id"] for k in keys] == [key["access_key_id"]] and keys[0]["secret_access_key"] is None
    assert any(k["user"] == name for k in app.api("GET", "/access-keys", query="user=*").json()["access_keys"])

    grant = app.api("POST", "/grants", {"user": name, "bucket": bucket, "permission": "read", "share": True})
    assert grant.status == 200 and grant.json()["share"] is True, grant.body
    _bad(app.api("POST", "/grants", {"user": name, "bucket": bucket, "permission": "own"}), 400, "InvalidArgument")
    assert grant.json()["id"] in [g["id"] for g in app.api("GET", "/grants").json()["grants"]]
    disabled = app.api("PUT", f"/access-keys/{key['access_key_id']}", {"status": "disabled"})
    assert disabled.json()["status"] == "disabled"
    _bad(app.api("PUT", f"/access-keys/{key['access_key_id']}", {"status": "paused"}), 400, "InvalidArgument")

    changed = app.api("PUT", f"/users/{name}", {"role": "admin", "status": "disabled"}).json()
    assert (changed["role"], changed["status"]) == ("admin", "disabled")
    _bad(app.api("PUT", f"/users/{name}", {"password": 7}), 400, "InvalidArgument")
    assert app.api("DELETE", f"/grants/{grant.json()['id']}").json() == {"done": True}
    assert app.api("DELETE", f"/access-keys/{key['access_key_id']}").json() == {"done": True}
    assert app.api("DELETE", f"/users/{name}").json() == {"done": True}
    _bad(app.api("DELETE", f"/users/{name}"), 403, "AccessDenied")  # an unknown name is not told apart


def test_member_may_not_administer(app: InProcessApp, bucket: str, unique: Callable[[str], str]) -> None:
    member = app.user(unique("plain"), Role.MEMBER, [(bucket, Permission.READ)])
    _bad(app.api("POST", "/users", {"name": unique("x")}, key=member), 403, "AccessDenied")
    _bad(app.api("PUT", f"/buckets/{bucket}/settings", {"public_read": True}, key=member), 403, "AccessDenied")
    _bad(app.api("PUT", f"/buckets/{bucket}/tempurl-key", {}, key=member), 403, "AccessDenied")
    users = app.api("GET", "/users", key=member).json()["users"]
    assert [u["id"] for u in users] == [member.user_id]
    visible = app.api("GET", "/buckets", key=member).json()["buckets"]
    assert [(b["name"], b["admin"], b["grant_prefixes"]) for b in visible] == [(bucket, False, [""])]


def test_tempurl_key_and_shares(app: InProcessApp, bucket: str) -> None:
    set_key = app.api("PUT", f"/buckets/{bucket}/tempurl-key", {"slot": 2})
    assert set_key.status == 200 and set_key.json()["slot"] == 2 and "key" not in set_key.json()
    assert b"set_at" in set_key.body
    _bad(app.api("PUT", f"/buckets/{bucket}/tempurl-key", {"slot": 3}), 400, "InvalidArgument")
    _bad(app.api("PUT", "/buckets/no-such-bucket-here/tempurl-key", {}), 404, "NoSuchBucket")

    assert app.s3("PUT", f"/{bucket}/shared.txt", body=b"share me").status == 200
    [minted] = app.api("POST", "/links", {"bucket": bucket, "keys": ["shared.txt"]}).json()["links"]
    share = app.api("POST", "/shares", {"link_id": minted["link"]["id"], "passphrase": "open sesame please"})
    assert share.status == 200 and share.json()["passphrase"] is True, share.body
    assert share.json()["url"].startswith(f"{app.settings.endpoint}/s/")
    _bad(app.api("POST", "/shares", {"link_id": "0" * 32}), 404, "NotFound")
    _bad(app.api("POST", "/shares", {}), 400, "InvalidArgument")
