"""The management API over HTTP: its OpenAPI document, and refusals of badly signed calls."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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
