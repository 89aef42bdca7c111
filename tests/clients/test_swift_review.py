"""Regressions from the hostile review of the Swift API, each driven through a real client (swiftclient,
the swift CLI, rclone, requests) against a real server."""

from __future__ import annotations

import http.client
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
import requests
import swiftclient.client as swift_api

from tests.clients.rclone import rclone_runner
from tests.clients.server import Credentials, SatchelProcess
from tests.clients.swift import SwiftUser, auth_url, empty_container, member_user, root_user, unique_container


@pytest.fixture
def fresh_member(managed_server: SatchelProcess, member: Callable[[], Credentials]) -> SwiftUser:
    return member_user(managed_server, member())


@pytest.fixture
def root(managed_server: SatchelProcess) -> SwiftUser:
    return root_user(managed_server)


@pytest.fixture
def container(root: SwiftUser) -> Iterator[str]:
    name = unique_container()
    conn = root.connection()
    conn.put_container(name)
    yield name
    empty_container(conn, name)


def _status(call: Callable[[], object]) -> int:
    try:
        call()
    except swift_api.ClientException as exc:
        return int(exc.http_status or 0)
    return 200


def test_members_cannot_publish_their_own_container(root: SwiftUser, fresh_member: SwiftUser) -> None:
    """Public read skips every guard of sharing (share right, ceilings, revocation, audit): account admins only."""
    conn = fresh_member.connection()
    own, fresh = unique_container(), unique_container()
    conn.put_container(own)
    conn.put_object(own, "secret", b"member's")
    url = conn.get_auth()[0]
    try:
        assert _status(lambda: conn.post_container(own, {"X-Container-Read": ".r:*"})) == 403
        assert _status(lambda: conn.put_container(own, {"X-Container-Read": ".r:*,.rlistings"})) == 403
        assert _status(lambda: conn.put_container(fresh, {"X-Container-Read": ".r:*"})) == 403
        assert _status(lambda: conn.head_container(fresh)) == 404  # refused before it was created
        assert "x-container-read" not in conn.head_container(own)
        assert requests.get(f"{url}/{own}/secret", timeout=10).status_code == 401
        # The account's admin may publish it; its owner may make it private again.
        root_conn = root.connection()
        root_conn.post_container(own, {"X-Container-Read": ".r:*"})
        assert requests.get(f"{url}/{own}/secret", timeout=10).content == b"member's"
        conn.post_container(own, {"X-Container-Read": ""})
        assert "x-container-read" not in conn.head_container(own)
    finally:
        empty_container(conn, own)


@pytest.mark.parametrize(("method", "path", "query"), [
    ("POST", "", "bulk-delete"),
    ("PUT", "/{c}/archive.tar", "extract-archive=tar"),
    ("PUT", "/{c}", "extract-archive=tar.gz"),
    ("PUT", "/{c}/link", "symlink=get"),
    ("POST", "/{c}/kept", "symlink=get"),
    ("PUT", "/{c}/big", "multipart-manifest=put"),
    ("GET", "/{c}", "versions"),
    ("DELETE", "/{c}/kept", "version-id=1"),
])
def test_middleware_queries_are_refused_not_ignored(root: SwiftUser, container: str, method: str, path: str,
                                                     query: str) -> None:
    """Swift's bulk, SLO, symlink and versioning middlewares take these over; silently ignoring one answers
    success for what was never done."""
    conn = root.connection()
    conn.put_object(container, "kept", b"still here")
    url, token = root.token()
    body = f"/{container}/kept\n".encode() if "bulk" in query else b"archive bytes"
    answer = requests.request(method, f"{url}{path.replace('{c}', container)}?{query}", data=body,
                              headers={"X-Auth-Token": token, "Content-Type": "text/plain"}, timeout=10)
    assert answer.status_code == 400, answer.text
    assert "not supported" in answer.text
    assert conn.get_object(container, "kept")[1] == b"still here"
    assert [entry["name"] for entry in conn.get_container(container)[1]] == ["kept"]


def test_copies_honour_conditions_and_range(root: SwiftUser, container: str) -> None:
    """As Swift's copy middleware: If-Match / If-*-Since / Range read the source, If-None-Match: * guards
    the destination."""
    conn = root.connection()
    etag = conn.put_object(container, "src", b"abcdefgh")
    conn.put_object(container, "dst", b"existing")
    assert _status(lambda: conn.copy_object(container, "src", f"/{container}/dst",
                                            headers={"If-None-Match": "*"})) == 412
    assert _status(lambda: conn.put_object(container, "dst", b"", headers={
        "X-Copy-From": f"/{container}/src", "If-None-Match": "*"})) == 412
    assert conn.get_object(container, "dst")[1] == b"existing"
    conn.copy_object(container, "src", f"/{container}/new", headers={"If-None-Match": "*"})
    assert conn.get_object(container, "new")[1] == b"abcdefgh"
    assert _status(lambda: conn.copy_object(container, "src", f"/{container}/other",
                                            headers={"If-Match": "0" * 32})) == 412
    assert _status(lambda: conn.put_object(container, "other", b"", headers={
        "X-Copy-From": f"/{container}/src", "If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})) == 412
    assert _status(lambda: conn.head_object(container, "other")) == 404
    conn.copy_object(container, "src", f"/{container}/other", headers={"If-Match": etag})
    conn.put_object(container, "part", b"", headers={"X-Copy-From": f"/{container}/src", "Range": "bytes=2-4"})
    assert conn.get_object(container, "part")[1] == b"cde"
    conn.copy_object(container, "src", f"/{container}/tail", headers={"Range": "bytes=-2"})
    tail = conn.get_object(container, "tail")
    assert tail[1] == b"gh" and tail[0]["content-length"] == "2"


def test_rclone_uploads_for_a_prefix_grant(managed_server: SatchelProcess, root: SwiftUser, container: str,
                                           fresh_member: SwiftUser, tmp_path: Path) -> None:
    """rclone HEADs the container before it uploads: a prefix grant's holder gets 204 (no figures, no
    metadata), then writes inside its prefix only."""
    managed_server.grant(fresh_member.user, container, "read-write", prefix="docs/")
    (tmp_path / "a.txt").write_bytes(b"from rclone")
    rclone = rclone_runner(tmp_path, {
        "RCLONE_CONFIG_SW_TYPE": "swift", "RCLONE_CONFIG_SW_USER": fresh_member.auth_user,
        "RCLONE_CONFIG_SW_KEY": fresh_member.key, "RCLONE_CONFIG_SW_AUTH": auth_url(managed_server)},
        timeout=60, low_level_retries=1)

    rclone("copyto", str(tmp_path / "a.txt"), f"sw:{container}/docs/a.txt")
    assert root.connection().get_object(container, "docs/a.txt")[1] == b"from rclone"
    assert rclone("copyto", str(tmp_path / "a.txt"), f"sw:{container}/private/a.txt", check=False).returncode != 0
    assert _status(lambda: root.connection().head_object(container, "private/a.txt")) == 404


def test_container_metadata_goes_with_a_bucket_deleted_through_s3(managed_server: SatchelProcess, s3: Any,
                                                                  root: SwiftUser) -> None:
    name = unique_container()
    root.connection().put_container(name, headers={"X-Container-Meta-Project": "apollo"})
    s3.delete_bucket(Bucket=name)
    with sqlite3.connect(managed_server.data_dir / "meta.sqlite3") as db:
        left = db.execute("SELECT COUNT(*) FROM swift_metadata WHERE scope = 'container' AND owner_id NOT IN "
                          "(SELECT id FROM buckets)").fetchone()[0]
    assert left == 0


@pytest.mark.parametrize("level", ["account", "container"])
def test_metadata_item_limit_counts_what_is_stored(root: SwiftUser, container: str, level: str) -> None:
    """Swift's 90 items are per account or container, not per request."""
    conn = root.connection()
    post = conn.post_account if level == "account" else (lambda headers: conn.post_container(container, headers))
    head = conn.head_account if level == "account" else (lambda: conn.head_container(container))
    prefix = f"X-{level.capitalize()}-Meta-"
    try:
        post({f"{prefix}Fill{i}": "v" for i in range(80)})
        assert _status(lambda: post({f"{prefix}More{i}": "v" for i in range(11)})) == 400
        assert not any(name.startswith(f"x-{level}-meta-more") for name in head())
        post({f"{prefix}More{i}": "v" for i in range(10)})  # 90 in all
        assert sum(name.startswith(f"x-{level}-meta-") for name in head()) == 90
    finally:
        post({f"X-Remove-{level.capitalize()}-Meta-{kind}{i}": "x" for kind in ("Fill", "More") for i in range(80)})


def test_copy_metadata_item_limit_counts_the_merge(root: SwiftUser, container: str) -> None:
    conn = root.connection()
    conn.put_object(container, "src", b"x", headers={f"X-Object-Meta-A{i}": "v" for i in range(60)})
    assert _status(lambda: conn.copy_object(container, "src", f"/{container}/dst",
                                            headers={f"X-Object-Meta-B{i}": "v" for i in range(31)})) == 400
    assert _status(lambda: conn.head_object(container, "dst")) == 404


@pytest.mark.parametrize(("header", "name", "status"), [
    ("Destination", "a%00b", 412), ("Destination", "x" * 1025, 400), ("X-Copy-From", "src%00", 412)])
def test_copy_names_are_checked_as_paths(root: SwiftUser, container: str, header: str, name: str,
                                         status: int) -> None:
    """A name the object path would refuse makes no object (one no URL could reach)."""
    conn = root.connection()
    conn.put_object(container, "src", b"x")
    url, token = root.token()
    if header == "Destination":
        answer = requests.request("COPY", f"{url}/{container}/src", timeout=10,
                                  headers={"X-Auth-Token": token, "Destination": f"{container}/{name}"})
    else:
        answer = requests.put(f"{url}/{container}/dst", timeout=10,
                              headers={"X-Auth-Token": token, "X-Copy-From": f"{container}/{name}"})
    assert answer.status_code == status
    assert [entry["name"] for entry in conn.get_container(container)[1]] == ["src"]


def test_reverse_listing_with_delimiter_and_marker(root: SwiftUser, container: str) -> None:
    """Swift's container server: in reverse, a subdirectory shows only when one of its names is below
    the marker."""
    conn = root.connection()
    for key in ("b", "b/c", "b/c/d", "b~"):
        conn.put_object(container, key, b"x")

    def names(**query: str) -> list[str]:
        listed = conn.get_container(container, prefix="b", delimiter="/", full_listing=False,
                                    query_string="reverse=true", **query)[1]
        return [entry.get("name") or entry["subdir"] for entry in listed]

    assert names(marker="b/c") == ["b"]
    assert names(marker="b/c/d") == ["b/", "b"]
    assert names(marker="b~") == ["b/", "b"]
    assert names() == ["b~", "b/", "b"]
    # The subdirectory holding end_marker shows when one of its names is above it.
    assert names(end_marker="b/") == ["b~", "b/"]
    assert names(end_marker="b/c") == ["b~", "b/"]
    assert names(end_marker="b/c/d") == ["b~"]
    assert names(end_marker="b/", marker="b/c/d") == ["b/"]
    assert names(end_marker="b/c", marker="b/c/d") == []


def test_capabilities(root: SwiftUser, s3: Any) -> None:
    """``swift capabilities`` reads /info: what is served, the limits enforced, nothing else."""
    shown = root.cli("capabilities", "--json")
    info = json.loads(shown.stdout)
    assert set(info) == {"swift", "tempurl", "formpost"}
    assert info["swift"]["max_meta_count"] == 90 and info["swift"]["max_object_name_length"] == 1024
    assert info["swift"]["container_listing_limit"] == 10000
    assert set(info["tempurl"]["methods"]) == {"GET", "HEAD", "PUT", "POST", "DELETE"}
    assert set(info["tempurl"]["allowed_digests"]) == {"sha1", "sha256", "sha512"}
    assert info["tempurl"]["deprecated_digests"] == ["sha1"]
    assert requests.post(f"{root.server.endpoint}/info", timeout=10).status_code == 405
    assert requests.get(f"{root.server.endpoint}/info/x", timeout=10).status_code == 404
    # A reserved name: no bucket, through Swift or S3 (whose path-style /info is Swift's).
    assert _status(lambda: root.connection().put_container("info")) == 400
    with pytest.raises(botocore.exceptions.ClientError):
        s3.create_bucket(Bucket="info")


def test_anonymous_refusals_do_not_tell_what_exists(root: SwiftUser, container: str) -> None:
    """As tempauth: 401 to every refused anonymous request, whether the account, container or object exists."""
    root.connection().put_object(container, "o", b"x")
    url = root.token()[0]
    base = url.rsplit("/", 1)[0]
    paths = [url, f"{base}/AUTH_nosuchaccount", f"{url}/{container}", f"{url}/nosuch-container",
             f"{url}/{container}/o", f"{url}/{container}/missing", f"{url}/nosuch-container/o",
             f"{base}/AUTH_nosuchaccount/c/o"]
    for path in paths:
        for method in ("GET", "HEAD", "POST") + (("DELETE",) if "/AUTH_" in path.rsplit("/", 1)[0] else ()):
            assert requests.request(method, path, timeout=10).status_code == 401, (method, path)
    # A public container's missing object is 404: anybody may see it is missing.
    root.connection().post_container(container, {"X-Container-Read": ".r:*"})
    assert requests.get(f"{url}/{container}/missing", timeout=10).status_code == 404


@pytest.mark.parametrize(("header", "size"), [("Content-Type", 257), ("Content-Disposition", 8200),
                                              ("Cache-Control", 8200), ("Expires", 8200)])
def test_content_headers_are_bounded(root: SwiftUser, container: str, header: str, size: int) -> None:
    """Content-Type is repeated in every listing row: at most 256 bytes; the others at most a Swift line."""
    conn = root.connection()
    conn.put_object(container, "o", b"kept", content_type="text/plain")
    value = ("text/" + "x" * size)[:size] if header == "Content-Type" else "x" * size
    assert _status(lambda: conn.put_object(container, "new", b"x", headers={header: value})) == 400
    assert _status(lambda: conn.post_object(container, "o", {header: value})) == 400
    assert _status(lambda: conn.copy_object(container, "o", f"/{container}/copy", headers={header: value})) == 400
    assert [entry["name"] for entry in conn.get_container(container)[1]] == ["o"]
    assert conn.head_object(container, "o")["content-type"] == "text/plain"
    fits = ("text/" + "x" * 300)[:256] if header == "Content-Type" else "x" * 8000
    conn.put_object(container, "new", b"x", headers={header: fits})
    assert conn.head_object(container, "new")[header.lower()] == fits


def test_copy_within_own_account_named_as_clients_name_it(root: SwiftUser, container: str) -> None:
    conn = root.connection()
    conn.put_object(container, "src", b"abc")
    conn.copy_object(container, "src", f"/{container}/dst", headers={"Destination-Account": f"AUTH_{root.account}"})
    conn.put_object(container, "dst2", b"", headers={"X-Copy-From": f"/{container}/src",
                                                    "X-Copy-From-Account": f"AUTH_{root.account}"})
    assert conn.get_object(container, "dst")[1] == conn.get_object(container, "dst2")[1] == b"abc"
    assert _status(lambda: conn.copy_object(container, "src", f"/{container}/x",
                                            headers={"Destination-Account": "AUTH_other"})) == 400


@pytest.mark.parametrize("hosts", [["a/b?c#d@e"], ["evil.example", "127.0.0.1"], ["a b"], ["x:port"]])
def test_storage_url_takes_only_a_host(root: SwiftUser, hosts: list[str]) -> None:
    """Without public_url, X-Storage-Url is built from Host: anything but host[:port] is 400, no token."""
    host, port = root.server.host_port.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", "/auth/v1.0", skip_host=True)
        for value in hosts:
            conn.putheader("Host", value)
        conn.putheader("X-Auth-User", root.auth_user)
        conn.putheader("X-Auth-Key", root.key)
        conn.endheaders()
        answer = conn.getresponse()
        assert answer.status == 400 and answer.getheader("X-Auth-Token") is None
    finally:
        conn.close()
    url, _ = root.token()
    assert url == f"{root.server.endpoint}/v1/AUTH_{root.account}"


@pytest.mark.parametrize("header", ["X-Account-Meta-Temp_URL_Key", "X-Account-Meta-TEMP_url-KEY-2",
                                    "X_Account_Meta_Temp_Url_Key"])
def test_tempurl_key_spelled_with_underscores_is_the_key(root: SwiftUser, fresh_member: SwiftUser,
                                                         header: str) -> None:
    """Swift sees ``_`` as ``-`` in header names: such a name is the TempURL key, never readable metadata."""
    conn = root.connection()
    url, token = root.token()
    try:
        answer = requests.post(url, headers={"X-Auth-Token": token, header: "a-secret-key-0123456789"}, timeout=10)
        assert answer.status_code == 204
        shown = fresh_member.connection().head_account()
        assert not any("temp" in name for name in shown), shown
        assert not any("a-secret-key" in value for value in shown.values())
        assert any("temp-url-key" in name for name in conn.head_account())  # set, for its admins to see
    finally:
        conn.post_account({"X-Remove-Account-Meta-Temp-URL-Key": "x", "X-Remove-Account-Meta-Temp-URL-Key-2": "x"})


def test_another_accounts_token_reads_only_what_is_public(managed_server: SatchelProcess, root: SwiftUser,
                                                          container: str) -> None:
    """As tempauth: a token on another account's URL reads public containers as anybody may; else 403."""
    name = f"acct{uuid.uuid4().hex[:10]}"
    managed_server.admin("account", "create", name)
    creds = managed_server.create_user(f"u{uuid.uuid4().hex[:10]}", role="admin", account=name)
    _, token = member_user(managed_server, creds, account=name).token()
    auth = {"X-Auth-Token": token}
    conn = root.connection()
    conn.put_object(container, "o", b"public bytes")
    url = root.token()[0]
    assert requests.get(f"{url}/{container}/o", headers=auth, timeout=10).status_code == 403
    conn.post_container(container, {"X-Container-Read": ".r:*"})
    assert requests.get(f"{url}/{container}/o", headers=auth, timeout=10).content == b"public bytes"
    assert requests.get(f"{url}/{container}", headers=auth, timeout=10).text == "o\n"
    for method, path in [("PUT", f"{container}/new"), ("DELETE", f"{container}/o"), ("POST", container),
                         ("GET", "nosuch-container"), ("GET", "")]:
        assert requests.request(method, f"{url}/{path}", headers=auth, timeout=10).status_code == 403, path
    assert conn.get_object(container, "o")[1] == b"public bytes"
