"""The Swift API's status codes and headers, through swiftclient's Python API (and raw HTTP where a
client library would hide them), as the Swift API reference gives them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import swiftclient.client as swift_api
from swiftclient.exceptions import ClientException

from tests.clients.server import ServerHandle
from tests.clients.swift import SwiftUser, empty_container, root_user, unique_container


@pytest.fixture
def root(satchel_server: ServerHandle) -> SwiftUser:
    return root_user(satchel_server)


@pytest.fixture
def conn(root: SwiftUser) -> swift_api.Connection:
    return root.connection()


@pytest.fixture
def container(conn: swift_api.Connection) -> Iterator[str]:
    name = unique_container()
    conn.put_container(name)
    yield name
    empty_container(conn, name)


def _status(fn: Any, *args: Any, **kwargs: Any) -> int:
    """The status of a call that should fail."""
    with pytest.raises(ClientException) as caught:
        fn(*args, **kwargs)
    status = caught.value.http_status
    assert status is not None
    return int(status)


def _response(conn: swift_api.Connection, fn: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    getattr(conn, fn)(*args, response_dict=out, **kwargs)
    return out


def test_auth(root: SwiftUser) -> None:
    answer = requests.get(f"{root.server.endpoint}/auth/v1.0", timeout=10,
                          headers={"X-Auth-User": root.auth_user, "X-Auth-Key": root.key})
    assert answer.status_code == 200
    token = answer.headers["X-Auth-Token"]
    assert token.startswith("AUTH_tk") and answer.headers["X-Storage-Token"] == token
    assert answer.headers["X-Storage-Url"] == f"{root.server.endpoint}/v1/AUTH_root"
    assert 0 < int(answer.headers["X-Auth-Token-Expires"]) <= 86400
    # tempauth's other spelling of the credentials
    again = requests.get(f"{root.server.endpoint}/auth/v1.0", timeout=10,
                         headers={"X-Storage-User": root.auth_user, "X-Storage-Pass": root.key})
    assert again.status_code == 200 and again.headers["X-Auth-Token"] != token
    for user, key in ((root.auth_user, root.key + "x"), ("root:nobody", root.key), ("other:root", root.key),
                      ("root", root.key), (root.auth_user, "")):
        refused = requests.get(f"{root.server.endpoint}/auth/v1.0", timeout=10,
                               headers={"X-Auth-User": user, "X-Auth-Key": key})
        assert refused.status_code == 401, user
        assert "X-Auth-Token" not in refused.headers
    assert requests.put(f"{root.server.endpoint}/auth/v1.0", timeout=10).status_code == 405


def test_container_lifecycle_statuses(conn: swift_api.Connection) -> None:
    name = unique_container()
    assert _response(conn, "put_container", name)["status"] == 201
    assert _response(conn, "put_container", name)["status"] == 202
    conn.put_object(name, "k", b"x")
    assert _status(conn.delete_container, name) == 409
    conn.delete_object(name, "k")
    assert _response(conn, "delete_container", name)["status"] == 204
    assert _status(conn.delete_container, name) == 404
    assert _status(conn.head_container, name) == 404
    assert _status(conn.put_container, "Not_A_Bucket") == 400
    assert _status(conn.put_container, "auth") == 400  # reserved: /auth/v1.0 is TempAuth


def test_object_statuses(conn: swift_api.Connection, container: str) -> None:
    body = b"hello world"
    md5 = hashlib.md5(body).hexdigest()  # noqa: S324 - Swift's ETag
    put = _response(conn, "put_object", container, "o", body, etag=md5, content_type="text/plain",
                    headers={"X-Object-Meta-Color": "blue", "Content-Disposition": "attachment"})
    assert put["status"] == 201 and put["headers"]["etag"] == md5
    assert _status(conn.put_object, container, "bad", body, etag="0" * 32) == 422
    assert _status(conn.head_object, container, "bad") == 404  # nothing was stored

    head = conn.head_object(container, "o")
    assert head["etag"] == md5 and head["content-length"] == str(len(body))
    assert head["content-type"] == "text/plain" and head["x-object-meta-color"] == "blue"
    assert head["content-disposition"] == "attachment" and head["accept-ranges"] == "bytes"

    headers, got = conn.get_object(container, "o", headers={"Range": "bytes=6-"})
    assert got == b"world" and headers["content-range"] == "bytes 6-10/11"
    assert _status(conn.get_object, container, "o", headers={"Range": "bytes=50-60"}) == 416
    assert _status(conn.get_object, container, "o", headers={"If-None-Match": md5}) == 304
    assert _status(conn.get_object, container, "o", headers={"If-Match": '"nope"'}) == 412
    headers, got = conn.get_object(container, "o", headers={"If-Match": md5})
    assert got == body
    assert _status(conn.get_object, container, "o", headers={"If-Modified-Since": headers["last-modified"]}) == 304
    assert _status(conn.put_object, container, "o", b"new", headers={"If-None-Match": "*"}) == 412
    assert _status(conn.put_object, container, "o", b"new", headers={"If-None-Match": md5}) == 400

    post = _response(conn, "post_object", container, "o", headers={"X-Object-Meta-Size": "big"})
    assert post["status"] == 202
    head = conn.head_object(container, "o")
    assert head["x-object-meta-size"] == "big" and "x-object-meta-color" not in head
    assert head["content-type"] == "text/plain" and head["etag"] == md5

    assert _response(conn, "delete_object", container, "o")["status"] == 204
    assert _status(conn.delete_object, container, "o") == 404
    assert _status(conn.get_object, container, "o") == 404
    assert _status(conn.get_object, "no-such-container-here", "o") == 404


def test_chunked_upload_and_content_type_guess(conn: swift_api.Connection, container: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"<html>"
        yield b"x" * 70_000
        yield b"</html>"

    conn.put_object(container, "page.html", chunks())  # no Content-Length: chunked transfer
    headers, got = conn.get_object(container, "page.html")
    assert got == b"<html>" + b"x" * 70_000 + b"</html>"
    assert headers["content-type"] == "text/html"  # guessed from the name, as Swift does


def test_copy(conn: swift_api.Connection, container: str) -> None:
    conn.put_object(container, "src", b"copy me", content_type="text/x-src",
                    headers={"X-Object-Meta-A": "1", "X-Object-Meta-B": "2"})
    put = _response(conn, "put_object", container, "dst", b"", headers={"X-Copy-From": f"/{container}/src",
                                                                          "X-Object-Meta-B": "3"})
    assert put["status"] == 201 and put["headers"]["x-copied-from"] == f"{container}/src"
    head = conn.head_object(container, "dst")
    assert (head["x-object-meta-a"], head["x-object-meta-b"], head["content-type"]) == ("1", "3", "text/x-src")
    copy = _response(conn, "copy_object", container, "src", destination=f"/{container}/fresh",
                     headers={"X-Object-Meta-C": "4"}, fresh_metadata=True)
    assert copy["status"] == 201
    head = conn.head_object(container, "fresh")
    assert head["x-object-meta-c"] == "4" and "x-object-meta-a" not in head
    assert conn.get_object(container, "fresh")[1] == b"copy me"
    assert _status(conn.put_object, container, "x", b"", headers={"X-Copy-From": f"{container}/missing"}) == 404
    assert _status(conn.put_object, container, "x", b"", headers={"X-Copy-From": "nocontainer"}) == 412
    assert _status(conn.put_object, container, "x", b"", headers={"X-Copy-From": f"{container}/src",
                                                                  "X-Copy-From-Account": "other"}) == 400


def test_listings(root: SwiftUser, conn: swift_api.Connection, container: str) -> None:
    names = ["a", "b/1", "b/2", "c", "d/e/f"]
    for name in names:
        conn.put_object(container, name, name.encode())
    url, token = root.token()

    def raw(query: str, **headers: str) -> requests.Response:
        return requests.get(f"{url}/{container}{query}", headers={"X-Auth-Token": token, **headers}, timeout=10)

    assert raw("").text == "".join(n + "\n" for n in names)
    assert raw("").headers["Content-Type"] == "text/plain; charset=utf-8"
    listed = raw("?format=json").json()
    assert [e["name"] for e in listed] == names
    entry = listed[0]
    assert entry["hash"] == hashlib.md5(b"a").hexdigest() and entry["bytes"] == 1  # noqa: S324
    assert entry["content_type"] == "application/octet-stream" and len(entry["last_modified"]) == 26
    assert raw("", Accept="application/json").headers["Content-Type"] == "application/json; charset=utf-8"
    xml = raw("?format=xml").text
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<container name=')
    assert "<object><name>b/1</name>" in xml
    assert raw("?delimiter=/").text == "a\nb/\nc\nd/\n"
    assert raw("?delimiter=/&format=json").json()[1] == {"subdir": "b/"}
    assert raw("?prefix=b/").text == "b/1\nb/2\n"
    assert raw("?marker=b/1&end_marker=d").text == "b/2\nc\n"
    assert raw("?limit=2").text == "a\nb/1\n"
    assert raw("?reverse=true").text == "".join(n + "\n" for n in reversed(names))
    assert raw("?reverse=true&marker=c&limit=2").text == "b/2\nb/1\n"
    assert raw("?reverse=on&marker=c&end_marker=a").text == "b/2\nb/1\n"
    assert raw("?limit=10001").status_code == 412
    assert raw("?limit=x").status_code == 412
    assert raw("?delimiter=ab").status_code == 412
    assert raw("?prefix=zzz").status_code == 204  # empty plain listing
    assert raw("?prefix=zzz&format=json").text == "[]"

    head = conn.head_container(container)
    assert head["x-container-object-count"] == str(len(names))
    assert head["x-container-bytes-used"] == str(sum(len(n) for n in names))


def test_account(root: SwiftUser, conn: swift_api.Connection, container: str) -> None:
    conn.put_object(container, "k", b"12345")
    headers, listed = conn.get_account()
    row = next(e for e in listed if e["name"] == container)
    assert (row["count"], row["bytes"]) == (1, 5) and "last_modified" in row
    assert int(headers["x-account-container-count"]) >= 1
    assert _response(conn, "post_account", headers={"X-Account-Meta-Dept": "ops"})["status"] == 204
    assert conn.head_account()["x-account-meta-dept"] == "ops"
    conn.post_account(headers={"X-Remove-Account-Meta-Dept": "x"})
    assert "x-account-meta-dept" not in conn.head_account()
    url, token = root.token()
    xml = requests.get(f"{url}?format=xml&prefix={container}", headers={"X-Auth-Token": token}, timeout=10).text
    assert f'<account name="AUTH_root"><container><name>{container}</name><count>1</count>' in xml
    assert requests.get(f"{url}?prefix=zzzz", headers={"X-Auth-Token": token}, timeout=10).status_code == 204
    assert requests.put(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 405
    assert requests.delete(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 405


def test_metadata_round_trip_and_limits(conn: swift_api.Connection, container: str) -> None:
    conn.post_container(container, headers={"X-Container-Meta-Owner": "ada lovelace"})
    assert conn.head_container(container)["x-container-meta-owner"] == "ada lovelace"
    conn.post_container(container, headers={"X-Remove-Container-Meta-Owner": "x"})
    assert "x-container-meta-owner" not in conn.head_container(container)
    assert _status(conn.post_container, container, headers={"X-Container-Meta-" + "n" * 129: "v"}) == 400
    assert _status(conn.post_container, container, headers={"X-Container-Meta-Big": "v" * 257}) == 400
    many = {f"X-Container-Meta-K{i}": "v" * 200 for i in range(25)}  # 5 KB > 4096
    assert _status(conn.post_container, container, headers=many) == 400
    assert not any(h.startswith("x-container-meta-k") for h in conn.head_container(container))


@pytest.mark.parametrize(("level", "headers"), [
    ("account", {"X-Account-Meta-Temp-URL-Key": "secret"}),
    ("account", {"X-Account-Meta-Temp-URL-Key-2": "secret"}),
    ("container", {"X-Container-Meta-Temp-URL-Key": "secret"}),
    ("container", {"X-Container-Meta-Temp-URL-Key-2": "secret"}),
    ("container", {"X-Container-Meta-Quota-Bytes": "10"}),
    ("container", {"X-Container-Meta-Web-Index": "index.html"}),
    ("container", {"X-Versions-Location": "old"}),
    ("container", {"X-Container-Write": "root:someone"}),
    ("container", {"X-Storage-Policy": "gold"}),
    ("object", {"X-Delete-After": "60"}),
    ("object", {"X-Delete-At": "9999999999"}),
    ("object", {"X-Object-Manifest": "c/prefix"}),
    ("object", {"X-Symlink-Target": "c/o"}),
])
def test_refused_headers(conn: swift_api.Connection, container: str, level: str, headers: dict[str, str]) -> None:
    """Swift features Satchel does not honour, and a TempURL key too short to be one (6 characters: keys are
    8 to 256, see test_swift_tempurl.py), are 400 with the reason; nothing is stored."""
    conn.put_object(container, "o", b"x")
    with pytest.raises(ClientException) as caught:
        if level == "account":
            conn.post_account(headers=headers)
        elif level == "container":
            conn.post_container(container, headers=headers)
        else:
            conn.post_object(container, "o", headers=headers)
    assert caught.value.http_status == 400
    assert caught.value.http_response_content  # a reason, not an empty 400
    shown = conn.head_account() if level == "account" else conn.head_container(container)
    assert not any("temp-url" in name or "quota" in name for name in shown)


def test_slo_manifest_put_is_refused(conn: swift_api.Connection, container: str) -> None:
    manifest = json.dumps([{"path": f"/{container}/seg", "etag": None, "size_bytes": None}])
    assert _status(conn.put_object, container, "big", manifest, query_string="multipart-manifest=put") == 400
    assert _status(conn.head_object, container, "big") == 404


def test_paths(root: SwiftUser) -> None:
    url, token = root.token()
    auth = {"X-Auth-Token": token}
    base = root.server.endpoint
    assert requests.get(f"{base}/v1/AUTH_nobody", headers=auth, timeout=10).status_code == 403
    assert requests.get(f"{base}/v1/AUTH_nobody", timeout=10).status_code == 401
    assert requests.get(f"{base}/v1/NOTAUTH_root", headers=auth, timeout=10).status_code == 404
    assert requests.get(f"{url}/%FF", headers=auth, timeout=10).status_code == 412
    assert requests.get(f"{url}/c/" + "k" * 1025, headers=auth, timeout=10).status_code == 400
    assert requests.request("PATCH", f"{url}/c/o", headers=auth, timeout=10).status_code == 405
    tempurl = requests.get(f"{url}/c/o?temp_url_sig=abc&temp_url_expires=1", timeout=10)
    assert tempurl.status_code == 401 and "Www-Authenticate" in tempurl.headers
    formpost = requests.post(f"{url}/c", files={"file": ("f", b"x")}, timeout=10)
    assert formpost.status_code == 400 and formpost.text == "FormPost: max_file_size is missing"
