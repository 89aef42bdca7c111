"""Pre-authenticated requests against a real server: every accessType x scope x method cell, listing,
escapes, expiry, deletion, the uniform refusal, use limits under concurrency, IP ranges, Range and
conditional requests, security headers and the audit trail (one event per use)."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.clients import mgmt
from tests.clients.par import UNIFORM, assert_refused, create, events, rfc3339, url
from tests.clients.server import SatchelProcess, eventually

ACCESS_TYPES = ("ObjectRead", "ObjectWrite", "ObjectReadWrite", "AnyObjectRead", "AnyObjectWrite",
                "AnyObjectReadWrite")
SCOPES = ("object", "prefix", "bucket")
BODY = b"quarterly numbers\n"
MD5_PAYLOAD = base64.b64encode(hashlib.md5(b"payload", usedforsecurity=False).digest()).decode()


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for key in ("in/a.txt", "in/b.txt", "out/c.txt", "inside.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=BODY)
    return bucket


def _object_name(scope: str) -> str | None:
    return {"object": "in/a.txt", "prefix": "in/", "bucket": None}[scope]


def _expected(access: str, scope: str, method: str, in_scope: bool) -> int:
    """The table under test, written out: what each cell must answer."""
    reads, writes = access.endswith(("Read", "ReadWrite")), access.endswith("Write")
    if method in ("DELETE", "POST") or not in_scope:
        return 404
    if method in ("GET", "HEAD"):
        return 200 if reads else 404
    return 200 if writes else 404


@pytest.mark.parametrize("access", ACCESS_TYPES)
def test_access_matrix(satchel_server: Any, s3: Any, filled: str, access: str) -> None:
    session = requests.Session()
    for scope in SCOPES:
        fields: dict[str, Any] = {"bucket": filled, "accessType": access}
        if _object_name(scope) is not None:
            fields["objectName"] = _object_name(scope)
        if not access.startswith("AnyObject") and scope == "prefix":
            continue  # an Object* PAR's objectName is one object's name, never a prefix: the object scope
        if access.startswith("AnyObject") and scope == "object":
            continue  # an AnyObject* PAR's objectName is a prefix: the prefix scope
        if not access.startswith("AnyObject") and scope == "bucket":
            body = {"name": "x", "timeExpires": rfc3339(60), **fields}
            reply = mgmt.call(satchel_server, None, "POST", "/pars", body)
            assert reply.status_code == 400 and mgmt.error_code(reply) == "InvalidArgument", (scope, reply.text)
            continue
        par = create(satchel_server, **fields)
        base = par["fullPath"]
        if scope == "object":
            assert base.endswith("/o/in/a.txt")
            targets = {True: base, False: base.replace("/o/in/a.txt", "/o/in/b.txt")}
        else:
            assert base.endswith("/o/")
            targets = {True: base + "in/a.txt", False: base + ("out/c.txt" if scope == "prefix" else "")}
        for in_scope, target in targets.items():
            if scope == "bucket" and not in_scope:
                continue  # a bucket PAR reaches every object: nothing is out of scope but other buckets
            for method in ("GET", "HEAD", "PUT", "DELETE", "POST"):
                data = BODY if method in ("PUT", "POST") else None
                reply = session.request(method, target, data=data, timeout=30)
                want = _expected(access, scope, method, in_scope)
                assert reply.status_code == want, (access, scope, method, in_scope, reply.text)
                if want == 404:
                    assert_refused(reply)
                elif method == "GET":
                    assert reply.content == BODY
        # another bucket's name in the URL: refused, whatever the PAR's rights
        other = targets[True].replace(f"/b/{filled}/", "/b/some-other-bucket/")
        assert_refused(session.get(other, timeout=30))
        # the token alone never lists unless asked for
        if scope != "object":
            assert_refused(session.get(base, timeout=30))
    # nothing was deleted through any PAR
    assert {o["Key"] for o in s3.list_objects_v2(Bucket=filled)["Contents"]} >= {"in/a.txt", "in/b.txt", "out/c.txt"}


@pytest.mark.single_node  # reads the SQLite file (on the cluster the rows are in PostgreSQL)
def test_token_shown_once_and_only_its_hash_stored(managed_server: SatchelProcess, filled: str) -> None:
    par = create(managed_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt")
    token = par["accessUri"].split("/")[2]
    assert len(token) >= 43 and par["fullPath"].endswith(par["accessUri"])
    shown = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/pars/{filled}/{par['id']}"))
    listed = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/pars?bucket={filled}"))
    for answer in (shown, listed):
        assert token not in str(answer) and "accessUri" not in str(answer) and "fullPath" not in str(answer)
    assert shown["id"] == par["id"] and shown["state"] == "active" and shown["creator"] == "root"
    time.sleep(0.4)  # the audit batch
    database = sqlite3.connect(f"file:{managed_server.data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        dump = "\n".join(database.iterdump())
    finally:
        database.close()
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_listing_in_oci_shape(satchel_server: Any, s3: Any, filled: str) -> None:
    for n in range(5):
        s3.put_object(Bucket=filled, Key=f"in/deep/{n}.txt", Body=b"x" * n)
    par = create(satchel_server, bucket=filled, accessType="AnyObjectRead", objectName="in/",
                 bucketListingAction="ListObjects")
    base = par["fullPath"]
    names = requests.get(base, timeout=30).json()
    assert names == {"objects": [{"name": k} for k in
                                 ["in/a.txt", "in/b.txt", *(f"in/deep/{n}.txt" for n in range(5))]]}
    page = requests.get(base, params={"limit": "3", "fields": "name,size,etag,md5,timeCreated"}, timeout=30).json()
    assert [o["name"] for o in page["objects"]] == ["in/a.txt", "in/b.txt", "in/deep/0.txt"]
    assert page["nextStartWith"] == "in/deep/1.txt"
    first = page["objects"][0]
    assert first["size"] == len(BODY) and set(first) == {"name", "size", "etag", "md5", "timeCreated"}
    rest = requests.get(base, params={"start": page["nextStartWith"]}, timeout=30).json()
    assert [o["name"] for o in rest["objects"]] == [f"in/deep/{n}.txt" for n in range(1, 5)]
    assert "nextStartWith" not in rest
    folded = requests.get(base, params={"delimiter": "/"}, timeout=30).json()
    assert folded == {"objects": [{"name": "in/a.txt"}, {"name": "in/b.txt"}], "prefixes": ["in/deep/"]}
    # a prefix outside the PAR's lists nothing; a wider one is narrowed to the PAR's
    assert requests.get(base, params={"prefix": "out/"}, timeout=30).json() == {"objects": []}
    assert len(requests.get(base, params={"prefix": "i"}, timeout=30).json()["objects"]) == 7
    assert [o["name"] for o in requests.get(base, params={"start": "in/b.txt"}, timeout=30).json()["objects"]][:2] \
        == ["in/b.txt", "in/deep/0.txt"]  # start is inclusive
    assert [o["name"] for o in requests.get(base, params={"startAfter": "in/b.txt", "end": "in/deep/2.txt"},
                                            timeout=30).json()["objects"]] == ["in/deep/0.txt", "in/deep/1.txt"]
    assert requests.get(base, params={"start": "in/\ue000"}, timeout=30).status_code == 200
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"fields": "name,owner"}, {"delimiter": ","}, {"bogus": "1"},
                {"prefix": "in/" + "x" * 1100}, {"start": "a\nb"}, {"limit": "5", "limit ": "6"}):
        reply = requests.get(base, params=bad, timeout=30)
        assert reply.status_code == 400 and reply.json()["code"] == "InvalidParameter", (bad, reply.text)
    # listing is off by default and never with a write-only PAR
    deny = create(satchel_server, bucket=filled, accessType="AnyObjectRead")
    assert_refused(requests.get(deny["fullPath"], timeout=30))
    reply = mgmt.call(satchel_server, None, "POST", "/pars", {"bucket": filled, "name": "w", "timeExpires": rfc3339(60),
                                                               "accessType": "AnyObjectWrite",
                                                               "bucketListingAction": "ListObjects"})
    assert reply.status_code == 400


@pytest.mark.parametrize("path", ["in/../out/c.txt", "in/%2e%2e/out/c.txt", "in%2F..%2Fout%2Fc.txt", "in/./a.txt",
                                  "out/c.txt", "in", "inside.txt", "%69n/a.txt"])
def test_prefix_escapes(satchel_server: Any, filled: str, path: str) -> None:
    par = create(satchel_server, bucket=filled, accessType="AnyObjectRead", objectName="in/")
    result = subprocess.run(["curl", "-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                             par["fullPath"] + path], capture_output=True, text=True, timeout=30, check=True)
    # %69n/a.txt is in/a.txt, encoded: the same object (decoded once, as every S3 and OCI server does)
    assert result.stdout == ("200" if path == "%69n/a.txt" else "400" if "." in path.replace(".txt", "")
                             or "%2e" in path else "404"), path


def test_uniform_refusal_for_unknown_expired_deleted(satchel_server: Any, filled: str) -> None:
    live = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt")
    short = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt",
                   timeExpires=rfc3339(1.5))
    doomed = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt")
    assert requests.get(short["fullPath"], timeout=30).status_code == 200
    assert requests.get(doomed["fullPath"], timeout=30).status_code == 200
    mgmt.ok(mgmt.call(satchel_server, None, "DELETE", f"/pars/{filled}/{doomed['id']}"))
    token = live["accessUri"].split("/")[2]
    unknown = live["fullPath"].replace(token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    time.sleep(1.6)
    answers = [requests.get(u, timeout=30) for u in (unknown, short["fullPath"], doomed["fullPath"],
                                                       live["fullPath"].replace(token, "short"))]
    # whatever else is wrong with the request: a bad query is not looked at before the token is
    answers += [requests.get(u + "?bogus=1", timeout=30) for u in (unknown, short["fullPath"], doomed["fullPath"])]
    answers += [requests.put(u, headers={"opc-multipart": "true"}, timeout=30)
                for u in (unknown, short["fullPath"], doomed["fullPath"])]
    for reply in answers:
        assert_refused(reply)
    varying = ("date", "opc-request-id")
    assert len({(r.status_code, r.content, tuple(sorted(k for k in r.headers if k.lower() not in varying)))
                for r in answers}) == 1
    shown = mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/pars/{filled}/{doomed['id']}"))
    assert shown["state"] == "deleted" and shown["timeDeleted"]
    assert mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/pars/{filled}/{short['id']}"))["state"] == "expired"
    assert requests.get(live["fullPath"], timeout=30).content == BODY


def test_max_uses_exact_under_20_concurrent_uses(satchel_server: Any, filled: str) -> None:
    par = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt", maxUses=5)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: requests.get(par["fullPath"], timeout=60), range(20)))
    ok = [r for r in replies if r.status_code == 200]
    assert len(ok) == 5 and all(r.content == BODY for r in ok)
    for reply in replies:
        if reply.status_code != 200:
            assert_refused(reply)
    shown = mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/pars/{filled}/{par['id']}"))
    assert shown["uses"] == 5 and shown["state"] == "used-up" and shown["timeLastUsed"]
    # the same for uploads: exactly N writes
    writer = create(satchel_server, bucket=filled, accessType="AnyObjectWrite", objectName="up/", maxUses=3)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        puts = list(pool.map(lambda n: requests.put(url(writer, f"up/{n}"), data=b"x", timeout=60), range(20)))
    assert sum(r.status_code == 200 for r in puts) == 3


def test_head_304_and_refusals_do_not_count(satchel_server: Any, filled: str) -> None:
    par = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt", maxUses=1)
    head = requests.head(par["fullPath"], timeout=30)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(BODY))
    etag = head.headers["ETag"]
    assert requests.get(par["fullPath"], headers={"If-None-Match": etag}, timeout=30).status_code == 304
    failed = requests.get(par["fullPath"], headers={"If-Match": '"nope"'}, timeout=30)
    assert failed.status_code == 412 and failed.json()["code"] == "IfMatchFailed"
    ranged = requests.get(par["fullPath"], headers={"Range": "bytes=0-9"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == BODY[:10]
    assert ranged.headers["Content-Range"] == f"bytes 0-9/{len(BODY)}"
    assert_refused(requests.get(par["fullPath"], timeout=30))  # the one use went to the range


def test_range_beyond_the_end_is_416(satchel_server: Any, filled: str) -> None:
    par = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt")
    reply = requests.get(par["fullPath"], headers={"Range": "bytes=1000-"}, timeout=30)
    assert reply.status_code == 416 and reply.json()["code"] == "InvalidRange"


def test_ip_range(satchel_server: Any, filled: str) -> None:
    outside = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt",
                     allowedIpRange="10.0.0.0/8")
    inside = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt",
                    allowedIpRange="127.0.0.0/8")
    assert_refused(requests.get(outside["fullPath"], timeout=30))
    assert requests.get(inside["fullPath"], timeout=30).content == BODY
    assert outside["allowedIpRange"] == "10.0.0.0/8"
    (refused,) = [e for e in _events_after_flush(satchel_server, outside["id"]) if e["action"] == "use"]
    assert refused["outcome"] == "refused" and "outside the allowed range" in refused["reason"]
    bad = mgmt.call(satchel_server, None, "POST", "/pars", {"bucket": filled, "name": "x", "timeExpires": rfc3339(60),
                                                             "accessType": "ObjectRead", "objectName": "in/a.txt",
                                                             "allowedIpRange": "not-a-range"})
    assert bad.status_code == 400


def _events_after_flush(server: Any, par_id: str) -> list[dict[str, Any]]:
    return events(server, par_id)  # the audit query flushes the worker's buffer first


def test_audit_one_event_per_use_with_reason(satchel_server: Any, filled: str) -> None:
    par = create(satchel_server, bucket=filled, accessType="AnyObjectReadWrite", objectName="in/",
                 bucketListingAction="ListObjects")
    requests.get(url(par, "in/a.txt"), timeout=30)
    requests.put(url(par, "in/new.txt"), data=b"new", timeout=30)
    requests.get(url(par, "out/c.txt"), timeout=30)
    requests.delete(url(par, "in/a.txt"), timeout=30)
    requests.get(url(par), timeout=30)
    mgmt.ok(mgmt.call(satchel_server, None, "DELETE", f"/pars/{filled}/{par['id']}"))
    mgmt.call(satchel_server, None, "DELETE", f"/pars/{filled}/{par['id']}")  # again: no second event
    requests.get(url(par, "in/a.txt"), timeout=30)
    seen = [(e["action"], e["outcome"], e["method"], e["key"], e["status"]) for e in events(satchel_server, par["id"])]
    assert seen == [
        ("mint", "allowed", None, "in/", None),
        ("use", "allowed", "GET", "in/a.txt", 200),
        ("use", "allowed", "PUT", "in/new.txt", 200),
        ("use", "refused", "GET", "out/c.txt", 404),
        ("use", "refused", "DELETE", "in/a.txt", 404),
        ("use", "allowed", "GET", "", 200),
        ("revoke", "allowed", None, "in/", None),
        ("use", "refused", "GET", "in/a.txt", 404),
    ]
    trail = events(satchel_server, par["id"])
    assert trail[1]["bytes"] == len(BODY) and trail[2]["bytes"] == 3
    assert "outside the scope" in trail[3]["reason"] and "DELETE" in trail[4]["reason"]
    assert "deleted" in trail[-1]["reason"]


def test_security_headers_and_dispositions(satchel_server: Any, s3: Any, filled: str) -> None:
    for key, kind in (("in/page.html", "text/html; charset=utf-8"), ("in/pic.svg", "image/svg+xml"),
                      ("in/feed.xml", "application/atom+xml"), ("in/photo.png", "image/png")):
        s3.put_object(Bucket=filled, Key=key, Body=b"<x/>", ContentType=kind,
                      ContentDisposition="inline")
    view = create(satchel_server, bucket=filled, accessType="AnyObjectRead", objectName="in/", mode="view")
    for key in ("in/page.html", "in/pic.svg", "in/feed.xml"):
        reply = requests.get(url(view, key), timeout=30)
        assert reply.headers["Content-Disposition"].startswith("attachment; filename=\""), key
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(url(view, "in/photo.png"), timeout=30).headers["Content-Disposition"] == "inline"
    download = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/photo.png",
                      mode="download", filename="Fotó 1.png")
    assert requests.get(download["fullPath"], timeout=30).headers["Content-Disposition"] == \
        "attachment; filename=\"Fot_ 1.png\"; filename*=UTF-8''Fot%C3%B3%201.png"
    # a write PAR cannot plant a page that runs in the browser
    writer = create(satchel_server, bucket=filled, accessType="AnyObjectReadWrite", objectName="up/")
    assert requests.put(url(writer, "up/x.html"), data=b"<script>1</script>", headers={"Content-Type": "text/html"},
                        timeout=30).status_code == 200
    assert requests.get(url(writer, "up/x.html"), timeout=30).headers["Content-Disposition"].startswith("attachment")


def test_put_stores_metadata_and_checks_md5(satchel_server: Any, s3: Any, filled: str) -> None:
    par = create(satchel_server, bucket=filled, accessType="ObjectReadWrite", objectName="in/new.bin")
    put = requests.put(par["fullPath"], data=b"payload", headers={"Content-Type": "text/plain",
                                                                   "opc-meta-project": "apollo"}, timeout=30)
    assert put.status_code == 200 and put.headers["opc-content-md5"] == MD5_PAYLOAD
    head = s3.head_object(Bucket=filled, Key="in/new.bin")
    assert head["Metadata"] == {"project": "apollo"} and head["ContentType"] == "text/plain"
    got = requests.get(par["fullPath"], timeout=30)
    assert got.content == b"payload" and got.headers["opc-meta-project"] == "apollo"
    bad = requests.put(par["fullPath"], data=b"other", headers={"Content-MD5": MD5_PAYLOAD}, timeout=30)
    assert bad.status_code == 400 and bad.json()["code"] == "UnmatchedContentMD5"
    assert s3.get_object(Bucket=filled, Key="in/new.bin")["Body"].read() == b"payload"
    unknown = requests.put(par["fullPath"] + "?uploadId=1", data=b"x", timeout=30)
    assert unknown.status_code == 400
    for name, value in (("opc-sse-customer-key", "a2V5"), ("opc-content-sha256", "x"), ("storage-tier", "Archive")):
        refused = requests.put(par["fullPath"], data=b"other", headers={name: value}, timeout=30)
        assert refused.status_code == 501 and refused.json()["code"] == "NotImplemented", name
    assert requests.get(par["fullPath"], headers={"opc-sse-customer-key": "a2V5"}, timeout=30).status_code == 501
    assert s3.get_object(Bucket=filled, Key="in/new.bin")["Body"].read() == b"payload"


def test_curl_and_wget(satchel_server: Any, filled: str, tmp_path: Path) -> None:
    par = create(satchel_server, bucket=filled, accessType="AnyObjectReadWrite", objectName="in/")
    source = tmp_path / "up.bin"
    source.write_bytes(bytes(range(256)) * 4096)
    subprocess.run(["curl", "-sf", "-T", str(source), url(par, "in/up.bin")], check=True, timeout=60)
    subprocess.run(["wget", "-q", "-O", str(tmp_path / "back.bin"), url(par, "in/up.bin")], check=True, timeout=60)
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                           url(par, "in/up.bin")], capture_output=True, text=True, timeout=60, check=True)
    assert curl.stdout == "404"


def test_bucket_with_live_pars_cannot_be_deleted(satchel_server: Any, s3: Any,
                                                 bucket_factory: Callable[..., str]) -> None:
    from botocore.exceptions import ClientError

    name = bucket_factory()
    first = create(satchel_server, bucket=name, accessType="AnyObjectRead")
    second = create(satchel_server, bucket=name, accessType="AnyObjectWrite", objectName="in/")
    create(satchel_server, bucket=name, accessType="AnyObjectRead", timeExpires=rfc3339(1))
    time.sleep(1.1)  # an expired PAR does not block
    with pytest.raises(ClientError) as refused:
        s3.delete_bucket(Bucket=name)
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["Code"] == "BucketNotEmpty" and "2 live pre-authenticated request" in error["Message"]
    for par in (first, second):
        mgmt.ok(mgmt.call(satchel_server, None, "DELETE", f"/pars/{name}/{par['id']}"))
    s3.delete_bucket(Bucket=name)
    assert_refused(requests.get(first["fullPath"], timeout=30))


def test_revoke_before_applies(satchel_server: Any, filled: str) -> None:
    """Object, prefix and bucket revocations "before a moment" refuse PARs created before it (by their exact
    creation time); PARs created afterwards work."""
    for scope, target, body in (("object", "in/a.txt", {"bucket": filled}), ("prefix", "in/", {"bucket": filled}),
                                ("bucket", filled, {})):
        old = create(satchel_server, bucket=filled, accessType="AnyObjectRead", objectName="in/")
        assert requests.get(url(old, "in/a.txt"), timeout=30).status_code == 200
        mgmt.ok(mgmt.call(satchel_server, None, "POST", "/revocations", {"scope": scope, "target": target, **body}))
        old_url = url(old, "in/a.txt")
        assert eventually(lambda: requests.get(old_url, timeout=30).status_code == 404)  # noqa: B023 - used at once
        if scope == "object":
            assert requests.get(url(old, "in/b.txt"), timeout=30).status_code == 200  # another object
        else:
            assert_refused(requests.get(url(old, "in/b.txt"), timeout=30))
        time.sleep(0.01)
        fresh = create(satchel_server, bucket=filled, accessType="AnyObjectRead", objectName="in/")
        assert requests.get(url(fresh, "in/a.txt"), timeout=30).status_code == 200, scope
        refused = [e for e in events(satchel_server, old["id"]) if e["outcome"] == "refused"]
        assert refused and f"revoked ({scope} revocation" in refused[-1]["reason"]


def test_creation_refusals(satchel_server: Any, filled: str) -> None:
    cases: list[dict[str, Any]] = [
        {"accessType": "ObjectRead"},  # no objectName
        {"accessType": "Bogus", "objectName": "a"},
        {"accessType": "ObjectRead", "objectName": "a", "timeExpires": rfc3339(-10)},
        {"accessType": "ObjectRead", "objectName": "a", "timeExpires": "tomorrow"},
        {"accessType": "ObjectRead", "objectName": "a", "timeExpires": "2030-01-01T00:00:00"},  # no zone
        {"accessType": "ObjectRead", "objectName": "a/../b"},
        {"accessType": "ObjectWrite", "objectName": "a", "mode": "download"},
        {"accessType": "ObjectRead", "objectName": "a", "filename": "x"},
        {"accessType": "ObjectRead", "objectName": "a", "maxUses": 0},
        {"accessType": "ObjectRead", "objectName": "a", "unknownField": 1},
    ]
    for case in cases:
        body = {"bucket": filled, "name": "n", "timeExpires": rfc3339(60), **case}
        reply = mgmt.call(satchel_server, None, "POST", "/pars", body)
        assert reply.status_code == 400, (case, reply.text)
    missing = mgmt.call(satchel_server, None, "POST", "/pars", {
        "bucket": "no-such-bucket-here", "name": "n", "timeExpires": rfc3339(60), "accessType": "AnyObjectRead"})
    assert missing.status_code == 404
    # far beyond SigV4's 7 days: a PAR may live for years
    years = create(satchel_server, bucket=filled, accessType="ObjectRead", objectName="in/a.txt",
                   timeExpires="2040-01-01T00:00:00Z")
    assert requests.get(years["fullPath"], timeout=30).content == BODY
    assert requests.get(years["fullPath"], timeout=30).content == BODY
    # uses without a limit are counted in the audit batch: shown within its interval
    assert eventually(lambda: mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/pars/{filled}/{years['id']}"))[
        "uses"] == 2)
    document = requests.get(satchel_server.endpoint + "/_satchel/api/openapi.json", timeout=30).json()
    assert {"post", "get"} <= set(document["paths"]["/_satchel/api/pars"])
    assert {"get", "delete"} <= set(document["paths"]["/_satchel/api/pars/{bucket}/{id}"])
    assert UNIFORM  # the documented refusal text is the one the server sends (checked in assert_refused)


def test_any_object_name_s3_allows(satchel_server: Any, s3: Any, bucket: str) -> None:
    """Names with spaces, a no-break space, private-use characters, '+', '%', '?' and '#' reach their object."""
    key = "dir/ünï cödé\u00a0x+%?#\ue000.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"odd")
    single = create(satchel_server, bucket=bucket, accessType="ObjectRead", objectName=key)
    assert requests.get(single["fullPath"], timeout=30).content == b"odd"
    prefix = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="dir/",
                    bucketListingAction="ListObjects")
    assert requests.get(url(prefix), timeout=30).json() == {"objects": [{"name": key}]}
    assert requests.get(url(prefix, quote(key)), timeout=30).content == b"odd"


def test_user_revocation_applies(managed_server: SatchelProcess, s3: Any, bucket: str,
                                 member: Callable[[], Any]) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    sharer = member()
    managed_server.grant(sharer.user, bucket, "read", share=True)
    par = create(managed_server, sharer, bucket=bucket, accessType="ObjectRead", objectName="k")
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 200)
    mgmt.ok(mgmt.call(managed_server, None, "POST", "/revocations", {"scope": "user", "target": sharer.user}))
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 404)
    # a key revocation reaches the PARs that key minted, as every other link it signed
    other = create(managed_server, sharer, bucket=bucket, accessType="ObjectRead", objectName="k")
    time.sleep(1.1)  # revocations cover what was issued before their (whole) second
    mgmt.ok(mgmt.call(managed_server, None, "POST", "/revocations",
                      {"scope": "access-key", "target": sharer.access_key}))
    assert eventually(lambda: requests.get(other["fullPath"], timeout=30).status_code == 404)


def test_bucket_may_allow_active_types_inline(satchel_server: Any, s3: Any, bucket: str,
                                              member: Callable[[], Any]) -> None:
    s3.put_object(Bucket=bucket, Key="site/index.html", Body=b"<h1>hi</h1>", ContentType="text/html")
    view = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="site/", mode="view")
    plain = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="site/")
    download = create(satchel_server, bucket=bucket, accessType="AnyObjectRead", objectName="site/", mode="download")
    policy = f"/buckets/{bucket}/par-policy"
    assert mgmt.ok(mgmt.call(satchel_server, None, "GET", policy)) == {"bucket": bucket, "inlineActiveTypes": False}
    assert requests.get(url(view, "site/index.html"), timeout=30).headers["Content-Disposition"].startswith("attach")
    stranger = member()
    refused = mgmt.call(satchel_server, stranger, "PUT", policy, {"inlineActiveTypes": True})
    assert refused.status_code == 403
    assert mgmt.call(satchel_server, None, "PUT", policy, {"inlineActiveTypes": "yes"}).status_code == 400
    assert mgmt.ok(mgmt.call(satchel_server, None, "PUT", policy, {"inlineActiveTypes": True}))["inlineActiveTypes"]
    shown = requests.get(url(view, "site/index.html"), timeout=30)
    assert shown.headers["Content-Disposition"] == "inline" and shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in requests.get(url(plain, "site/index.html"), timeout=30).headers
    saved = requests.get(url(download, "site/index.html"), timeout=30).headers["Content-Disposition"]
    assert saved.startswith("attachment")
    mgmt.ok(mgmt.call(satchel_server, None, "PUT", policy, {"inlineActiveTypes": False}))
    assert requests.get(url(view, "site/index.html"), timeout=30).headers["Content-Disposition"].startswith("attach")
