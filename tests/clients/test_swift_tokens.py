"""TempAuth tokens: they expire, die with their key or user (for good), are stored only as hashes, are
good only for their own account; and the same authorize() decides what each user may do through Swift."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.clients.server import Credentials, SatchelProcess
from tests.clients.swift import SwiftUser, auth_url, empty_container, member_user, root_user, unique_container


def _get(url: str, token: str) -> int:
    return requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code


@pytest.fixture
def fresh_member(managed_server: SatchelProcess, member: Callable[[], Credentials]) -> SwiftUser:
    return member_user(managed_server, member())


def _key_id(server: SatchelProcess, user: SwiftUser) -> str:
    listed = server.admin("key", "list", user.user)
    return next(word for word in listed.split() if word.startswith(("SK", "SATCHEL")))


def test_token_dies_with_its_key_for_good(managed_server: SatchelProcess, fresh_member: SwiftUser) -> None:
    url, token = fresh_member.token()
    assert _get(url, token) == 200 or _get(url, token) == 204
    key_id = _key_id(managed_server, fresh_member)
    managed_server.admin("key", "disable", key_id)
    assert _get(url, token) == 401
    managed_server.admin("key", "enable", key_id)
    assert _get(url, token) == 401  # re-enabling the key does not revive its tokens
    url, token = fresh_member.token()
    assert _get(url, token) in (200, 204)
    managed_server.admin("key", "delete", key_id)
    assert _get(url, token) == 401
    with pytest.raises(Exception, match="401"):
        fresh_member.token()


def test_token_dies_with_its_user(managed_server: SatchelProcess, fresh_member: SwiftUser) -> None:
    url, token = fresh_member.token()
    managed_server.admin("user", "disable", fresh_member.user)
    assert _get(url, token) == 401
    managed_server.admin("user", "enable", fresh_member.user)
    assert _get(url, token) == 401
    url, token = fresh_member.token()
    managed_server.admin("user", "delete", fresh_member.user)
    assert _get(url, token) == 401


def test_tokens_are_stored_as_hashes(managed_server: SatchelProcess, fresh_member: SwiftUser) -> None:
    _, token = fresh_member.token()
    with sqlite3.connect(managed_server.data_dir / "meta.sqlite3") as db:
        rows = db.execute("SELECT token_hash FROM swift_tokens").fetchall()
    stored = {row[0] for row in rows}
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored and not any(token in value for value in stored)


def test_token_expires(tmp_path: Path) -> None:
    config = tmp_path / "satchel.toml"
    config.write_text("swift_token_lifetime = 1\n")
    server = SatchelProcess(tmp_path / "data", extra_args=("--config", str(config)))
    server.start()
    try:
        root = root_user(server)
        answer = requests.get(auth_url(server), timeout=10,
                              headers={"X-Auth-User": root.auth_user, "X-Auth-Key": root.key})
        assert int(answer.headers["X-Auth-Token-Expires"]) <= 1
        url, token = answer.headers["X-Storage-Url"], answer.headers["X-Auth-Token"]
        assert _get(url, token) in (200, 204)
        deadline = time.monotonic() + 5
        while _get(url, token) != 401:
            assert time.monotonic() < deadline, "the token outlived its lifetime"
            time.sleep(0.2)
    finally:
        server.stop()


@pytest.fixture
def other_account(managed_server: SatchelProcess) -> Iterator[SwiftUser]:
    name = f"acct{uuid.uuid4().hex[:10]}"
    managed_server.admin("account", "create", name)
    creds = managed_server.create_user(f"u{uuid.uuid4().hex[:10]}", role="admin", account=name)
    yield member_user(managed_server, creds, account=name)


def test_token_is_good_for_its_own_account_only(managed_server: SatchelProcess, other_account: SwiftUser) -> None:
    root = root_user(managed_server)
    root_url, root_token = root.token()
    other_url, other_token = other_account.token()
    assert other_url.endswith(f"/v1/AUTH_{other_account.account}")
    assert _get(other_url, root_token) == 403
    assert _get(root_url, other_token) == 403
    # A bucket of another account is not in this account's namespace, whatever its name.
    name = unique_container()
    conn = other_account.connection()
    conn.put_container(name)
    try:
        assert _get(f"{root_url}/{name}", root_token) == 404
        assert _get(f"{other_url}/{name}", other_token) == 204
        conn.put_container(name)  # 202: the admin's own
        taken = requests.put(f"{root_url}/{name}", headers={"X-Auth-Token": root_token}, timeout=10)
        assert taken.status_code == 409 and b"is taken by another user or account" in taken.content
    finally:
        empty_container(conn, name)


def test_members_get_what_authorize_gives(managed_server: SatchelProcess, fresh_member: SwiftUser) -> None:
    root = root_user(managed_server)
    root_conn = root.connection()
    name = unique_container()
    root_conn.put_container(name)
    root_conn.put_object(name, "doc", b"secret")
    url, token = fresh_member.token()
    auth = {"X-Auth-Token": token}
    try:
        assert _get(f"{url}/{name}/doc", token) == 403
        assert _get(f"{url}/{name}", token) == 403
        assert requests.head(url, headers=auth, timeout=10).status_code == 204  # its own account
        assert requests.post(url, headers={**auth, "X-Account-Meta-A": "b"}, timeout=10).status_code == 403
        managed_server.grant(fresh_member.user, name, "read")
        assert requests.get(f"{url}/{name}/doc", headers=auth, timeout=10).content == b"secret"
        assert requests.put(f"{url}/{name}/new", headers=auth, data=b"x", timeout=10).status_code == 403
        assert requests.delete(f"{url}/{name}/doc", headers=auth, timeout=10).status_code == 403
        assert requests.post(f"{url}/{name}", headers={**auth, "X-Container-Read": ".r:*"},
                             timeout=10).status_code == 403
        assert requests.delete(f"{url}/{name}", headers=auth, timeout=10).status_code == 403
        assert requests.put(f"{url}/{name}", headers=auth, timeout=10).status_code == 403
        # A member's own container, as a member may create buckets.
        own = unique_container()
        assert requests.put(f"{url}/{own}", headers=auth, timeout=10).status_code == 201
        assert requests.delete(f"{url}/{own}", headers=auth, timeout=10).status_code == 204
    finally:
        empty_container(root_conn, name)


def test_prefix_grant_lists_its_prefix_only(managed_server: SatchelProcess, fresh_member: SwiftUser) -> None:
    root_conn = root_user(managed_server).connection()
    name = unique_container()
    root_conn.put_container(name, headers={"X-Container-Meta-Secret": "whole-bucket"})
    for key in ("docs/a", "docs/b", "private/c"):
        root_conn.put_object(name, key, b"x")
    managed_server.grant(fresh_member.user, name, "read", prefix="docs/")
    url, token = fresh_member.token()
    auth = {"X-Auth-Token": token}
    try:
        listed = requests.get(f"{url}/{name}?prefix=docs/", headers=auth, timeout=10)
        assert listed.status_code == 200 and listed.text == "docs/a\ndocs/b\n"
        # Figures and metadata are the whole bucket's: not for a prefix grant.
        assert listed.headers["X-Container-Object-Count"] == listed.headers["X-Container-Bytes-Used"] == "0"
        assert "X-Container-Meta-Secret" not in listed.headers
        assert requests.get(f"{url}/{name}", headers=auth, timeout=10).status_code == 403
        assert requests.get(f"{url}/{name}?prefix=private/", headers=auth, timeout=10).status_code == 403
        # HEAD (rclone's first request) says the container is there, and nothing about it.
        head = requests.head(f"{url}/{name}", headers=auth, timeout=10)
        assert head.status_code == 204 and "X-Container-Meta-Secret" not in head.headers
        assert head.headers["X-Container-Object-Count"] == head.headers["X-Container-Bytes-Used"] == "0"
        assert requests.get(f"{url}/{name}/docs/a", headers=auth, timeout=10).content == b"x"
        assert requests.get(f"{url}/{name}/private/c", headers=auth, timeout=10).status_code == 403
        shown = requests.get(f"{url}?format=json", headers=auth, timeout=10).json()
        assert {"name": name, "count": 0, "bytes": 0} == {k: v for k, v in
                                                           next(e for e in shown if e["name"] == name).items()
                                                           if k != "last_modified"}
    finally:
        empty_container(root_conn, name)
