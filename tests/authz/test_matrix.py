"""The authorization matrix through HTTP: every principal, action and resource kind against one expected table.

The table (:func:`expected`) is written from ``authorize()``'s documented rules (``satchel/core/access.py``),
not from its code, and each cell is checked through the real S3 API of a real ``satchel serve``: header-signed
requests with each principal's own key, unsigned ones for anonymous, and SigV4 and SigV2 presigned URLs (links: the
share right of rule 7 applies) signed by each principal, links minted by each through the management API,
and presigned POST forms.

Principals: anonymous; the bucket owner (a member); the account's admin (root) and a second admin; a member
without grants; members with a ``read``, a ``read-write``, a ``read`` grant limited to ``pub/``, and a
``read`` grant with ``--share``; a member of another account holding a ``read`` grant (grants cross
accounts); an admin of that other account (no grant); a disabled user and a user whose key was deleted
(both held ``read-write``). Resources: a user-owned bucket, a contract-owned (account) bucket, a public-read
bucket, with keys inside and outside the ``pub/`` prefix.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import make_client
from tests.clients.server import Credentials, SatchelProcess, eventually

READ, WRITE, LIST, LIST_PREFIX, ADMIN = "get", "put", "list", "list-prefix", "cors"
ACTIONS = (READ, WRITE, LIST, LIST_PREFIX, ADMIN)
BUCKETS = ("user", "account", "public")
KEYS = ("pub/a.txt", "priv/b.txt")


@dataclass(frozen=True)
class Who:
    name: str
    account: str = "root"  # "root" or "other"
    role: str = "member"
    grant: str | None = None  # "read" / "read-write" on the user-owned and account buckets
    prefix: str | None = None
    share: bool = False
    disabled: bool = False
    key_deleted: bool = False


PRINCIPALS = (
    Who("anonymous", account=""),
    Who("owner"),
    Who("root", role="admin"),
    Who("admin2", role="admin"),
    Who("nogrant"),
    Who("reader", grant="read"),
    Who("writer", grant="read-write"),
    Who("prefixed", grant="read", prefix="pub/"),
    Who("sharer", grant="read", share=True),
    Who("foreign", account="other", grant="read"),
    Who("foreignadmin", account="other", role="admin"),
    Who("disabled", grant="read-write", disabled=True),
    Who("keydeleted", grant="read-write", key_deleted=True),
)


def expected(who: Who, action: str, bucket: str, key: str, via_link: bool) -> bool:
    """authorize()'s rules, in their documented order, for the cells of this matrix."""
    if who.disabled or who.key_deleted:
        return False  # rule 1 (a deleted key authenticates nobody)
    if who.name == "anonymous" and via_link:
        return False  # nobody signed it
    controls = (who.name == "owner" and bucket in ("user", "public")) or (
        who.role == "admin" and who.account == "root")  # rule 4: every bucket here is the root account's
    if controls:
        return True
    reads = action in (READ, LIST, LIST_PREFIX)
    if bucket == "public" and reads and not via_link:
        return True  # rule 5: not through a link (reading what is public is no right of the signer's to share)
    if who.name == "anonymous" or action == ADMIN or who.grant is None or bucket == "public":
        return False  # the grants of this matrix are on the user and account buckets only
    if via_link and not who.share:
        return False  # rule 7: a member shares only through a grant marked share
    allowed = {"read": (READ, LIST, LIST_PREFIX), "read-write": (READ, LIST, LIST_PREFIX, WRITE)}[who.grant]
    if action not in allowed:
        return False
    if who.prefix is None:
        return True
    if action == LIST:
        return False  # a whole-bucket listing would reveal keys outside the prefix
    return (key if action in (READ, WRITE) else "pub/").startswith(who.prefix)


@dataclass
class Matrix:
    server: SatchelProcess
    creds: dict[str, Credentials]
    buckets: dict[str, str]


def populate(server: SatchelProcess) -> Matrix:
    """The principals of :data:`PRINCIPALS` and the three buckets (the ``matrix`` fixture of ``conftest.py``
    calls it once for every matrix of the package)."""
    server.admin("account", "create", "other")
    creds: dict[str, Credentials] = {"root": server.root}
    for who in PRINCIPALS:
        if who.name not in ("anonymous", "root"):
            creds[who.name] = server.create_user(who.name, role=who.role, account=who.account)
    buckets = add_buckets(server, creds, "authz")
    server.admin("user", "disable", "disabled")
    server.admin("key", "delete", creds["keydeleted"].access_key)
    disabled = make_client(server, creds["disabled"])
    assert eventually(lambda: _status(lambda: disabled.list_objects_v2(Bucket=buckets["user"])) == 403, 10)
    return Matrix(server, creds, buckets)


def add_buckets(server: SatchelProcess, creds: dict[str, Credentials], stem: str) -> dict[str, str]:
    """A user-owned, a contract-owned and a public bucket, their objects, and the principals' grants on them."""
    suffix = uuid.uuid4().hex[:8]
    buckets = {"user": f"{stem}-user-{suffix}", "account": f"{stem}-acct-{suffix}", "public": f"{stem}-pub-{suffix}"}
    owner = make_client(server, creds["owner"])
    owner.create_bucket(Bucket=buckets["user"])
    owner.create_bucket(Bucket=buckets["public"])
    mgmt.ok(mgmt.call(server, None, "POST", "/buckets", {"name": buckets["account"], "owner": "account"}))
    server.set_public(buckets["public"], True)
    root = make_client(server)
    for bucket in buckets.values():
        for key in KEYS:
            root.put_object(Bucket=bucket, Key=key, Body=b"matrix")
    for who in PRINCIPALS:
        if who.grant:
            for bucket in (buckets["user"], buckets["account"]):
                server.grant(who.name, bucket, who.grant, who.prefix, share=who.share)
    return buckets


def _status(call: Any) -> int:
    try:
        call()
    except ClientError as exc:
        return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
    return 200


def _request(m: Matrix, who: Who, action: str, bucket: str, key: str, link: str) -> int:
    """The HTTP status the principal gets for the cell (allowed: 200, or 404 for a bucket without CORS)."""
    name = m.buckets[bucket]
    target = f"{key.rsplit('/', 1)[0]}/new-{who.name}-{link}" if action == WRITE else key
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        READ: ("get_object", {"Bucket": name, "Key": key}),
        WRITE: ("put_object", {"Bucket": name, "Key": target}),
        LIST: ("list_objects_v2", {"Bucket": name}),
        LIST_PREFIX: ("list_objects_v2", {"Bucket": name, "Prefix": "pub/"}),
        ADMIN: ("get_bucket_cors", {"Bucket": name}),
    }
    operation, params = calls[action]
    if who.name == "anonymous":
        url = f"{m.server.endpoint}/{name}" + (f"/{target}" if action in (READ, WRITE) else "")
        url += {LIST: "?list-type=2", LIST_PREFIX: "?list-type=2&prefix=pub/", ADMIN: "?cors"}.get(action, "")
        return requests.request("PUT" if action == WRITE else "GET", url, data=b"x" if action == WRITE else None,
                                timeout=10).status_code
    if link == "minted":  # the management API mints (checking the share right), then the link is used
        reply = mgmt.call(m.server, m.creds[who.name], "POST", "/links", {"bucket": name, "keys": [key]})
        if reply.status_code != 200:
            return reply.status_code
        minted = reply.json()["links"][0]
        return 403 if "error" in minted else requests.get(minted["url"], timeout=10).status_code
    client = make_client(m.server, m.creds[who.name], signature_version="s3" if link == "v2" else "s3v4")
    if link == "post":
        form = client.generate_presigned_post(name, target, ExpiresIn=600)
        return requests.post(form["url"], data=form["fields"], files={"file": ("f.txt", b"x")}, timeout=10).status_code
    if link != "header":
        url = client.generate_presigned_url(operation, Params=params, ExpiresIn=600)
        method = "PUT" if action == WRITE else "GET"
        return requests.request(method, url, data=b"x" if action == WRITE else None, timeout=10).status_code
    if action == WRITE:
        params["Body"] = b"x"
    return _status(lambda: getattr(client, operation)(**params))


#: How the request is authenticated: header-signed (SigV4); or a link: a SigV4 or SigV2 presigned URL (any
#: action), a link minted through the management API (reads), a presigned POST form (writes).
LINKS = ("header", "v4", "v2", "minted", "post")
_LINK_ACTIONS = {"minted": (READ,), "post": (WRITE,)}
CELLS = [(who, action, bucket, key, link) for who in PRINCIPALS for bucket in BUCKETS for action in ACTIONS
         for key in (KEYS if action in (READ, WRITE) else KEYS[:1]) for link in LINKS
         if not (who.name == "anonymous" and link != "header") and action in _LINK_ACTIONS.get(link, ACTIONS)]


def test_the_matrix(matrix: Matrix) -> None:
    """One test over every cell, so a failure lists every disagreeing cell at once."""
    wrong = []
    for who, action, bucket, key, link in CELLS:
        allowed = expected(who, action, bucket, key, link != "header")
        status = _request(matrix, who, action, bucket, key, link)
        got = status in (200, 204) or (action == ADMIN and status == 404)
        if got != allowed or status >= 500:
            wrong.append(f"{who.name:12} {link:6} {action:11} {bucket:8} {key:11} "
                         f"expected {'allowed' if allowed else 'refused'}, got {status}")
    assert not wrong, f"{len(wrong)} of {len(CELLS)} cells disagree:\n" + "\n".join(wrong)


def test_the_matrix_is_not_trivial() -> None:
    """The table has both answers in every dimension: a matrix of all-allowed or all-refused proves nothing."""
    verdicts = [((who.name, action, bucket), expected(who, action, bucket, key, link != "header"))
                for who, action, bucket, key, link in CELLS]
    assert len(CELLS) > 300
    for dimension in range(3):
        for value in {k[dimension] for k, _ in verdicts}:
            answers = {v for k, v in verdicts if k[dimension] == value}
            assert answers == {True, False} or value in ("disabled", "keydeleted", "nogrant", "foreignadmin",
                                                          "root", "admin2", "anonymous"), value


def test_an_unknown_grant_is_an_error_of_the_table() -> None:
    """Guard for the table: a grant kind it does not know is a KeyError, never a silently refused cell."""
    with pytest.raises(KeyError):
        expected(Who("x", grant="write-only"), WRITE, "user", "pub/a.txt", False)
