"""The management API over HTTP: its OpenAPI document, and refusals of badly signed calls."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.clients import mgmt
from tests.clients.server import ServerHandle


def signed(server: ServerHandle, method: str, path: str, body: bytes, secret: str | None = None) -> dict[str, str]:
    request = AWSRequest(method=method, url=f"{server.endpoint}/_satchel/api{path}", data=body)
    S3SigV4Auth(Credentials(server.access_key, secret or server.secret_key), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_openapi_document_describes_every_route(satchel_server: ServerHandle) -> None:
    doc = requests.get(f"{satchel_server.endpoint}/_satchel/api/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.")
    assert {"post", "get"} <= set(doc["paths"]["/_satchel/api/links"])
    assert "delete" in doc["paths"]["/_satchel/api/links/{id}"]
    assert {"/_satchel/api/revocations", "/_satchel/api/audit", "/_satchel/api/whoami"} <= set(doc["paths"])
    assert "LinkRequest" in doc["components"]["schemas"]


def test_calls_are_authenticated_and_bodies_checked(satchel_server: ServerHandle, bucket: str) -> None:
    url = f"{satchel_server.endpoint}/_satchel/api/links"
    body = json.dumps({"bucket": bucket, "keys": ["k"], "method": "PUT"}).encode()

    anonymous = requests.post(url, data=body, timeout=30)
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "AccessDenied"

    wrong_secret = requests.post(url, data=body, headers=signed(satchel_server, "POST", "/links", body, "nope"),
                                 timeout=30)
    assert wrong_secret.status_code == 403 and wrong_secret.json()["error"]["code"] == "SignatureDoesNotMatch"

    # Signed for one body, sent with another: refused before anything is minted.
    headers = signed(satchel_server, "POST", "/links", body)
    other = body.replace(b'"PUT"', b'"GET"')
    swapped = requests.post(url, data=other, headers=headers, timeout=30)
    assert swapped.status_code == 400, swapped.text
    answer: dict[str, Any] = swapped.json()["error"]
    assert answer["code"] == "XAmzContentSHA256Mismatch"
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()

    ok = requests.post(url, data=body, headers=signed(satchel_server, "POST", "/links", body), timeout=30)
    assert ok.status_code == 200 and ok.json()["links"][0]["key"] == "k"


def test_one_call_mints_a_batch_of_working_links(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    """250 objects in one call (the handler yields to the event loop every 100): answers in the order
    asked, missing objects refused one by one, every link unique and working."""
    keys = [f"batch/{i:03d} é+&.txt" for i in range(250)]
    for key in keys[::2]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    body = json.dumps({"bucket": bucket, "keys": keys, "mode": "download", "expires_in": 600}).encode()
    answer = requests.post(f"{satchel_server.endpoint}/_satchel/api/links", data=body,
                           headers=signed(satchel_server, "POST", "/links", body), timeout=60)
    assert answer.status_code == 200, answer.text
    items = answer.json()["links"]
    assert [item["key"] for item in items] == keys
    assert all(item["error"]["code"] == "NoSuchKey" for item in items[1::2])
    minted = items[::2]
    assert len({item["link"]["id"] for item in minted}) == len(minted) == 125
    with requests.Session() as session:
        for item in minted:
            got = session.get(item["url"], timeout=30)
            assert got.status_code == 200 and got.content == item["key"].encode(), item["key"]
            assert got.headers["Content-Disposition"].startswith("attachment;")


def raw_call(server: ServerHandle, method: str, path: str, body: bytes = b"") -> requests.Response:
    """``method /_satchel/api{path}`` with exactly ``body`` and ``path`` (percent-escapes kept), signed."""
    return requests.request(method, f"{server.endpoint}/_satchel/api{path}", data=body,
                            headers=signed(server, method, path, body), timeout=30)


def state(server: ServerHandle, bucket: str) -> tuple[Any, ...]:
    """What a refused call must not change: links, revocations, the bucket's policy, revoke events."""
    return (mgmt.ok(mgmt.call(server, None, "GET", f"/links?bucket={bucket}"))["links"],
            mgmt.ok(mgmt.call(server, None, "GET", "/revocations"))["revocations"],
            mgmt.ok(mgmt.call(server, None, "GET", f"/buckets/{bucket}/link-policy")),
            mgmt.ok(mgmt.call(server, None, "GET", "/audit?action=revoke"))["events"])


def test_bodies_that_are_not_sane_json_are_refused(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    """Before: each of these answered 500 (OverflowError, UnicodeEncodeError, RecursionError) and the
    huge max_uses got as far as the store. Now: 400 InvalidArgument and nothing changes."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    before = state(satchel_server, bucket)
    name = json.dumps(bucket)

    def mint(fields: str) -> str:
        return f'{{"bucket": {name}, "keys": ["k"], {fields}}}'

    calls = [
        ("POST", "/links", mint('"max_uses": 99999999999999999999999')),
        ("POST", "/links", mint('"max_uses": 18446744073709551615')),
        ("POST", "/links", mint('"max_uses": 1000000001')),
        ("POST", "/links", mint('"expires_in": 18446744073709551615')),
        ("POST", "/links", f'{{"bucket": {name}, "keys": ["\\ud800"]}}'),
        ("POST", "/links", mint('"mode": "download", "filename": "\\u0000\\ud800"')),
        ("POST", "/links", "[" * 100000 + "]" * 100000),
        ("POST", "/links", '{"a":' * 5000 + "1" + "}" * 5000),
        ("POST", "/revocations", '{"scope": "user", "target": "\\ud800"}'),
        ("POST", "/revocations", f'{{"scope": "object", "target": "\\udc00", "bucket": {name}}}'),
        ("PUT", f"/buckets/{bucket}/link-policy", '{"max_link_lifetime": 99999999999999999999999}'),
        ("PUT", f"/buckets/{bucket}/link-policy", '{"max_link_lifetime": 9223372036854775808}'),
        ("PUT", f"/buckets/{bucket}/link-policy", '{"max_link_lifetime": 3153600001}'),
        ("PUT", f"/buckets/{bucket}/link-policy", '{"max_link_lifetime": 0}'),
        ("GET", "/audit?since=1e400", ""),
        ("GET", "/audit?until=nan", ""),
    ]
    for method, path, body in calls:
        reply = raw_call(satchel_server, method, path, body.encode())
        assert reply.status_code == 400, (path, body[:80], reply.text)
        assert mgmt.error_code(reply) == "InvalidArgument", (path, body[:80])
    assert state(satchel_server, bucket) == before


@pytest.mark.parametrize("path", ["/links/%ED%A0%80", "/links/%FF", "/buckets/%FF/link-policy"])
def test_paths_that_are_not_utf8_are_refused(satchel_server: ServerHandle, path: str) -> None:
    for method in ("GET", "DELETE", "PUT"):
        reply = raw_call(satchel_server, method, path, b"{}")
        assert reply.status_code == 400 and mgmt.error_code(reply) == "InvalidArgument", (method, path)


@pytest.mark.parametrize("before", ["1e400", "1e308", "-1e308", "1e26", "0", "-1", "946684799", "NOW+HOUR"])
def test_revocation_times_out_of_range_are_refused(satchel_server: ServerHandle, s3: Any, bucket: str,
                                                   before: str) -> None:
    """Before: 1e308 was stored, then the call answered 500 without its audit event; 1e400 (stored as
    infinity) listed as null and refused every link minted afterwards; 0 meant now. Now: a time from
    2000-01-01 to now plus the server's longest link lifetime (a week here), else 400 and nothing
    stored."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    state_before = state(satchel_server, bucket)
    value = before.replace("NOW+HOUR", str(int(time.time()) + 7 * 86400 + 3600))
    body = b'{"scope": "object", "target": "k", "bucket": "%s", "before": %s}' % (bucket.encode(), value.encode())
    reply = raw_call(satchel_server, "POST", "/revocations", body)
    assert reply.status_code == 400 and mgmt.error_code(reply) == "InvalidArgument", reply.text
    assert state(satchel_server, bucket) == state_before
    minted = mgmt.ok(mgmt.call(satchel_server, None, "POST", "/links", {"bucket": bucket, "keys": ["k"]}))
    assert requests.get(minted["links"][0]["url"], timeout=30).status_code == 200


def test_revocation_times_in_range_are_kept(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for moment in (946684800, time.time() - 60, time.time() + 3600):
        made = mgmt.ok(mgmt.call(satchel_server, None, "POST", "/revocations",
                                 {"scope": "object", "target": "k", "bucket": bucket, "before": moment}))
        assert made["before"] == moment
    minted = mgmt.ok(mgmt.call(satchel_server, None, "POST", "/links", {"bucket": bucket, "keys": ["k"]}))
    assert requests.get(minted["links"][0]["url"], timeout=30).status_code == 403  # dated ahead: until then


def _signed_unsigned_payload(server: ServerHandle, method: str, path: str, body: bytes) -> dict[str, str]:
    """Headers signed as a client that leaves the body out of the signature (``UNSIGNED-PAYLOAD``)."""
    request = AWSRequest(method=method, url=f"{server.endpoint}/_satchel/api{path}", data=body,
                         headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_the_signature_must_cover_the_body(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    """Issue 9 (cli, point 3): with UNSIGNED-PAYLOAD, headers seen once (a proxy log) could be replayed for
    15 minutes with any body — mint links, revoke. A call with a body must sign its SHA-256."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    before = state(satchel_server, bucket)
    seen = json.dumps({"bucket": bucket, "keys": ["k"]}).encode()
    replays = [("POST", "/links", seen), ("POST", "/links", json.dumps({"bucket": bucket, "prefix": ""}).encode()),
               ("POST", "/revocations", json.dumps({"scope": "bucket", "target": bucket}).encode()),
               ("PUT", f"/buckets/{bucket}/link-policy", b'{"sharing": "any"}'),
               ("PUT", f"/buckets/{bucket}/link-policy", b"")]
    for method, path, body in replays:
        headers = _signed_unsigned_payload(satchel_server, method, path, seen)
        reply = requests.request(method, f"{satchel_server.endpoint}/_satchel/api{path}", data=body,
                                 headers=headers, timeout=30)
        assert reply.status_code == 400, (path, reply.text)
        assert mgmt.error_code(reply) == "InvalidRequest" and "UNSIGNED-PAYLOAD" in reply.text
    assert state(satchel_server, bucket) == before
    # A call without a body has nothing to swap: an SDK that never signs payloads can still read.
    whoami = requests.get(f"{satchel_server.endpoint}/_satchel/api/whoami", timeout=30,
                          headers=_signed_unsigned_payload(satchel_server, "GET", "/whoami", b""))
    assert whoami.status_code == 200, whoami.text


def test_ambiguous_requests_are_refused(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    """Issue 9 (cli, point 3): a name given twice (JSON or query), a field or parameter the call does not
    take, a number or flag that is not plainly one: 400 InvalidArgument, never a guess, and nothing changes."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    before = state(satchel_server, bucket)
    name = json.dumps(bucket)
    calls = [
        ("POST", "/links", f'{{"bucket": "nosuchbucket", "bucket": {name}, "keys": ["k"]}}'),
        ("POST", "/links", f'{{"bucket": {name}, "keys": ["k"], "max_uses": 5, "max_uses": null}}'),
        ("POST", "/revocations", f'{{"scope": "bucket", "target": {name}, "target": "other"}}'),
        ("POST", "/links", f'{{"bucket": {name}, "keys": ["k"], "filename": "a.txt"}}'),
        ("POST", "/links", f'{{"bucket": {name}, "keys": ["k"], "mode": "view", "filename": "a.txt"}}'),
        ("POST", "/revocations", f'{{"scope": "user", "target": "root", "bucket": {name}}}'),
        ("POST", "/revocations", f'{{"scope": "bucket", "target": {name}, "bucket": {name}}}'),
        ("PUT", f"/buckets/{bucket}/link-policy", '{"sharing": "grant", "sharing": "any"}'),
        ("GET", "/revocations?limit=abc", ""),
        ("GET", "/links?limit=abc", ""),
        ("GET", f"/links?bucket={bucket}&bucket=other", ""),
        ("GET", "/links?active=maybe", ""),
        ("GET", "/links?colour=blue", ""),
        ("GET", "/audit?limit=5&limit=6", ""),
        ("GET", "/audit?since=%EF%BC%91", ""),  # full-width 1: float() would read it
        ("GET", "/audit?until=1_000", ""),
        ("GET", "/audit?since=%201", ""),
        ("GET", "/whoami?x=1", ""),
    ]
    for method, path, body in calls:
        reply = raw_call(satchel_server, method, path, body.encode())
        assert reply.status_code == 400, (path, body, reply.text)
        assert mgmt.error_code(reply) == "InvalidArgument", (path, body)
    assert state(satchel_server, bucket) == before
    for path in ("/links?active=true", "/links?active=false", "/audit?since=1.5e9&limit=2"):
        assert raw_call(satchel_server, "GET", path).status_code == 200, path
    # An empty body is an empty object: a link-policy PUT that changes nothing.
    assert raw_call(satchel_server, "PUT", f"/buckets/{bucket}/link-policy").status_code == 200
