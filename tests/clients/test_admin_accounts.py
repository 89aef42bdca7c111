"""Accounts over the management API (issue 13): list, create, show, delete, as the node's operators (admins
of the root account) and nobody else; an account's admins see their own account only."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.clients import mgmt
from tests.clients.server import Credentials, SatchelProcess


def _name(prefix: str = "acct") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _names(reply: object) -> set[str]:
    return {a["name"] for a in mgmt.ok(reply)["accounts"]}  # type: ignore[arg-type]


def test_operator_creates_shows_lists_and_deletes_an_account(managed_server: SatchelProcess) -> None:
    name = _name()
    made = mgmt.ok(mgmt.call(managed_server, None, "POST", "/accounts", {"name": name}))
    assert (made["name"], made["operator"], made["users"], made["buckets"]) == (name, False, 0, 0)
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/accounts/{name}")) == made
    listed = mgmt.ok(mgmt.call(managed_server, None, "GET", "/accounts"))["accounts"]
    assert made in listed
    assert next(a for a in listed if a["name"] == "root")["operator"] is True
    # The offline CLI sees the same store.
    assert name in managed_server.admin("account", "list")

    again = mgmt.call(managed_server, None, "POST", "/accounts", {"name": name})
    assert (again.status_code, mgmt.error_code(again)) == (409, "Conflict")
    bad = mgmt.call(managed_server, None, "POST", "/accounts", {"name": "no spaces"})
    assert (bad.status_code, mgmt.error_code(bad)) == (400, "InvalidArgument")
    assert "request_id" in bad.json()["error"] and bad.headers["x-amz-request-id"]

    assert mgmt.ok(mgmt.call(managed_server, None, "DELETE", f"/accounts/{name}")) == {"done": True}
    gone = mgmt.call(managed_server, None, "GET", f"/accounts/{name}")
    assert (gone.status_code, mgmt.error_code(gone)) == (404, "NotFound")
    assert name not in _names(mgmt.call(managed_server, None, "GET", "/accounts"))


def test_an_account_with_users_or_buckets_is_not_deleted(managed_server: SatchelProcess) -> None:
    name = _name()
    mgmt.ok(mgmt.call(managed_server, None, "POST", "/accounts", {"name": name}))
    boss = managed_server.create_user(_name("boss"), role="admin", account=name)
    bucket = f"acct-{uuid.uuid4().hex[:12]}"
    mgmt.ok(mgmt.call(managed_server, boss, "POST", "/buckets", {"name": bucket, "owner": "account"}))
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/accounts/{name}"))[
        "users"] == 1

    refused = mgmt.call(managed_server, None, "DELETE", f"/accounts/{name}")
    assert (refused.status_code, mgmt.error_code(refused)) == (409, "Conflict")
    assert "1 user(s) and 1 bucket(s)" in refused.json()["error"]["message"]
    mgmt.ok(mgmt.call(managed_server, boss, "DELETE", f"/buckets/{bucket}"))
    managed_server.admin("user", "delete", boss.user)
    assert mgmt.ok(mgmt.call(managed_server, None, "DELETE", f"/accounts/{name}")) == {"done": True}


def test_the_operator_account_is_never_deleted(managed_server: SatchelProcess) -> None:
    refused = mgmt.call(managed_server, None, "DELETE", "/accounts/root")
    assert (refused.status_code, mgmt.error_code(refused)) == (409, "Conflict")


def test_only_operators_administer_accounts(managed_server: SatchelProcess,
                                            member: Callable[[], Credentials]) -> None:
    """An account's admin sees its own account and nothing else (account names are the node's customer list);
    a member of the operator account is no operator."""
    name, other = _name(), _name()
    for account in (name, other):
        mgmt.ok(mgmt.call(managed_server, None, "POST", "/accounts", {"name": account}))
    boss = managed_server.create_user(_name("boss"), role="admin", account=name)
    assert _names(mgmt.call(managed_server, boss, "GET", "/accounts")) == {name}
    assert mgmt.ok(mgmt.call(managed_server, boss, "GET", f"/accounts/{name}"))["operator"] is False
    for path in ("/accounts/root", f"/accounts/{other}", f"/accounts/{_name()}"):  # existing or not: one answer
        reply = mgmt.call(managed_server, boss, "GET", path)
        assert (reply.status_code, mgmt.error_code(reply)) == (403, "AccessDenied"), path
    for method, path, body in (("POST", "/accounts", {"name": _name()}), ("DELETE", f"/accounts/{other}", None),
                               ("DELETE", f"/accounts/{name}", None)):
        reply = mgmt.call(managed_server, boss, method, path, body)
        assert (reply.status_code, mgmt.error_code(reply)) == (403, "AccessDenied"), (method, path)

    someone = member()
    assert _names(mgmt.call(managed_server, someone, "GET", "/accounts")) == set()
    reply = mgmt.call(managed_server, someone, "POST", "/accounts", {"name": _name()})
    assert (reply.status_code, mgmt.error_code(reply)) == (403, "AccessDenied")
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/accounts/{other}"))["name"] == other


def test_a_second_admin_of_the_operator_account_is_an_operator(managed_server: SatchelProcess) -> None:
    deputy = managed_server.create_user(_name("deputy"), role="admin")
    name = _name()
    assert mgmt.ok(mgmt.call(managed_server, deputy, "POST", "/accounts", {"name": name}))["name"] == name
    assert mgmt.ok(mgmt.call(managed_server, deputy, "DELETE", f"/accounts/{name}")) == {"done": True}
