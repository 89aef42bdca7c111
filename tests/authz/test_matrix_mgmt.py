"""The authorization matrix of the management API: every principal by every management action by bucket kind.

Expected cells come from ``authorize()``'s documented rules (``satchel/core/access.py``, rules 2b, 3, 4, 9 to 12),
not from its code; each cell is one real management API call (``/_satchel/api``) SigV4-signed with the
principal's own key (anonymous: unsigned). The cells work on buckets of their own (three more, set up like the
S3 matrix's, on the same populated server): revocations cannot be taken back. Every mutating cell that is
allowed is undone right after, by root, so that the cells stay independent.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.authz.test_matrix import BUCKETS, PRINCIPALS, Matrix, Who, add_buckets
from tests.clients import mgmt
from tests.clients.server import eventually

#: A minted link of the signer ``sharer`` (a member whose read grant carries the share right).
SIGNER = "sharer"
#: The subject of the user-scoped actions: a member with no grant (and no link to lose to a revocation).
SUBJECT = "nogrant"


def _root_admin(who: Who) -> bool:
    return who.role == "admin" and who.account == "root"


def _controls(who: Who, bucket: str) -> bool:
    """Rule 4: the owner of a user-owned bucket, and the admins of the bucket's account (all are root's here)."""
    return (who.name == "owner" and bucket in ("user", "public")) or _root_admin(who)


def _acts_for(who: Who, subject: str) -> bool:
    """Rule 3: is that user, or an admin of that user's account (every subject here is in root's)."""
    return who.name == subject or _root_admin(who)


def expected(who: Who, action: str, bucket: str | None) -> bool:
    """The documented rules for the management actions of this matrix (the API is never used through a link)."""
    if who.name == "anonymous" or who.disabled or who.key_deleted:
        return False  # rule 1, and a deleted key authenticates nobody; management needs a user
    rules: dict[str, Callable[[], bool]] = {
        # Rule 3: oversight of a bucket's links / revocations / audit, or of a subject user's.
        "link-show": lambda: _controls(who, str(bucket)) or _acts_for(who, SIGNER),
        "link-list": lambda: _controls(who, str(bucket)) or _acts_for(who, SIGNER),
        "par-show": lambda: _controls(who, str(bucket)) or _acts_for(who, SIGNER),
        "par-delete": lambda: _controls(who, str(bucket)) or _acts_for(who, SIGNER),
        "link-revoke": lambda: _controls(who, str(bucket)) or _acts_for(who, SIGNER),
        "revoke-bucket": lambda: _controls(who, str(bucket)),
        "revoke-user": lambda: _acts_for(who, SUBJECT),
        "audit-bucket": lambda: _controls(who, str(bucket)) or _acts_for(who, "root"),
        "audit-user": lambda: _controls(who, "account") or _acts_for(who, SIGNER),
        # Rule 2b: a key for a user: that user or its account's admins; users: the admins of their account.
        "key-create": lambda: _acts_for(who, SUBJECT),
        "user-create": lambda: who.role == "admin",  # a new user is made in the caller's own account
        "user-disable": lambda: _root_admin(who),  # the subject is a user of the root account
        # Rule 4 and 6 (never by a grant): bucket administration.
        "link-policy": lambda: _controls(who, str(bucket)),
        "cors": lambda: _controls(who, str(bucket)),
        # Rule 10: a container's TempURL keys are set by whoever controls the bucket.
        "tempurl-key": lambda: _controls(who, str(bucket)),
        # Rules 9 and 12: publishing and changing the owner are for the bucket's account's admins only.
        "publish": lambda: _root_admin(who),
        "owner": lambda: _root_admin(who),
        # Rule 11: node administration is for the operator (root) account's admins.
        "node": lambda: _root_admin(who),
    }
    return rules[action]()


#: On what the sharer signed: its links and PARs (on the buckets it may share, below).
SIGNED_ACTIONS = ("link-show", "link-list", "link-revoke", "par-show", "par-delete")
BUCKET_ACTIONS = (*SIGNED_ACTIONS, "revoke-bucket", "audit-bucket", "link-policy", "cors", "tempurl-key", "publish",
                  "owner")
#: audit-user: the sharer's events in the contract-owned bucket (``?user=sharer&bucket=…``): whoever acts for the
#: sharer or controls the bucket reads them.
NODE_ACTIONS = ("revoke-user", "audit-user", "key-create", "user-create", "user-disable", "node")
#: Links are minted by the sharer, whose share right is on the user-owned and contract-owned buckets (rule 5:
#: never on the public one through its being public).
_LINK_BUCKETS = ("user", "account")
CELLS: list[tuple[Who, str, str | None]] = [
    (who, action, bucket) for who in PRINCIPALS for action in BUCKET_ACTIONS
    for bucket in (_LINK_BUCKETS if action in SIGNED_ACTIONS else BUCKETS)
] + [(who, action, None) for who in PRINCIPALS for action in NODE_ACTIONS]


@dataclass
class Mgmt:
    m: Matrix
    buckets: dict[str, str]
    links: dict[str, str]  # bucket kind -> the id of a link the sharer minted on it
    pars: dict[str, str]  # bucket kind -> the id of a PAR the sharer created on it
    subject_for_disable: str


@pytest.fixture(scope="module")
def world(matrix: Matrix) -> Mgmt:
    server = matrix.server
    buckets = add_buckets(server, matrix.creds, "authzm")
    target = f"target-{uuid.uuid4().hex[:6]}"
    server.create_user(target)
    for name in buckets.values():  # a mint event signed by root in each bucket, for the audit cells to look for
        _mint(matrix, name, "root")
    world = Mgmt(matrix, buckets, {kind: _mint(matrix, buckets[kind]) for kind in _LINK_BUCKETS},
                 {kind: _par(matrix, buckets[kind]) for kind in _LINK_BUCKETS}, target)
    assert eventually(lambda: all(_sees(_root(world, "GET", f"/audit?bucket={n}"), "root") for n in buckets.values())
                      and _sees(_root(world, "GET", f"/audit?bucket={buckets['account']}&user={SIGNER}"), SIGNER), 10)
    return world


def _sees(answer: Any, signer: str) -> bool:
    """The audit answer holds an event the signer signed (the trail answers what the caller may read: rule 3)."""
    return any(event["user"] == signer for event in answer["events"])


def _mint(m: Matrix, bucket: str, signer: str = SIGNER) -> str:
    reply = mgmt.ok(mgmt.call(m.server, m.creds[signer], "POST", "/links", {"bucket": bucket, "keys": ["pub/a.txt"]}))
    return str(reply["links"][0]["link"]["id"])


def _par(m: Matrix, bucket: str) -> str:
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    reply = mgmt.ok(mgmt.call(m.server, m.creds[SIGNER], "POST", "/pars", {
        "bucket": bucket, "name": "matrix", "accessType": "ObjectRead", "objectName": "pub/a.txt",
        "timeExpires": expires}))
    return str(reply["id"])


def _call(w: Mgmt, who: Who, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    if who.name == "anonymous":
        url = f"{w.m.server.endpoint}/_satchel/api{path}"
        return requests.request(method, url, data=json.dumps(body).encode() if body is not None else b"", timeout=30)
    return mgmt.call(w.m.server, w.m.creds[who.name], method, path, body)


def _root(w: Mgmt, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return mgmt.ok(mgmt.call(w.m.server, None, method, path, body))


def _cell(w: Mgmt, who: Who, action: str, kind: str | None) -> requests.Response:
    """Do the cell's call; when it was allowed, undo what it changed (as root)."""
    name = w.buckets[kind] if kind else ""
    unique = uuid.uuid4().hex[:8]
    if action == "link-show":
        return _call(w, who, "GET", f"/links/{w.links[str(kind)]}")
    if action == "link-list":  # filtered, not refused: allowed when the sharer's link is in the answer
        reply = _call(w, who, "GET", f"/links?bucket={name}")
        if reply.status_code == 200 and w.links[str(kind)] not in {link["id"] for link in reply.json()["links"]}:
            reply.status_code = 403
        return reply
    if action == "par-show":
        return _call(w, who, "GET", f"/pars/{name}/{w.pars[str(kind)]}")
    if action == "par-delete":
        return _call(w, who, "DELETE", f"/pars/{name}/{_par(w.m, name)}")
    if action == "link-revoke":
        return _call(w, who, "DELETE", f"/links/{_mint(w.m, name)}")
    if action == "revoke-bucket":
        return _call(w, who, "POST", "/revocations", {"scope": "bucket", "target": name})
    if action == "revoke-user":
        return _call(w, who, "POST", "/revocations", {"scope": "user", "target": SUBJECT})
    if action in ("audit-bucket", "audit-user"):
        # The trail is filtered, not refused: reading it is allowed when the wanted event is in the answer.
        signer = "root" if action == "audit-bucket" else SIGNER
        query = f"bucket={name}" if action == "audit-bucket" else f"bucket={w.buckets['account']}&user={SIGNER}"
        reply = _call(w, who, "GET", f"/audit?{query}")
        if reply.status_code == 200 and not _sees(reply.json(), signer):
            reply.status_code = 403
        return reply
    if action == "key-create":
        reply = _call(w, who, "POST", "/access-keys", {"user": SUBJECT})
        if reply.status_code == 200:
            _root(w, "DELETE", f"/access-keys/{reply.json()['access_key_id']}")
        return reply
    if action == "user-create":
        reply = _call(w, who, "POST", "/users", {"name": f"new-{unique}"})
        if reply.status_code == 200:
            mgmt.ok(_call(w, who, "DELETE", f"/users/new-{unique}"))
        return reply
    if action == "user-disable":
        reply = _call(w, who, "PUT", f"/users/{w.subject_for_disable}", {"status": "disabled"})
        _root(w, "PUT", f"/users/{w.subject_for_disable}", {"status": "active"})
        return reply
    if action == "link-policy":
        before = _root(w, "GET", f"/buckets/{name}/link-policy")
        reply = _call(w, who, "PUT", f"/buckets/{name}/link-policy", {"max_link_lifetime": 3600})
        _root(w, "PUT", f"/buckets/{name}/link-policy", {"max_link_lifetime": before["max_link_lifetime"]})
        return reply
    if action == "cors":
        rules = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"]}]}
        reply = _call(w, who, "PUT", f"/buckets/{name}/cors", rules)
        if reply.status_code == 200:
            _root(w, "DELETE", f"/buckets/{name}/cors")
        return reply
    if action == "tempurl-key":
        return _call(w, who, "PUT", f"/buckets/{name}/tempurl-key", {"slot": 2})
    if action == "publish":
        reply = _call(w, who, "PUT", f"/buckets/{name}/settings", {"public_read": True})
        _root(w, "PUT", f"/buckets/{name}/settings", {"public_read": kind == "public"})
        return reply
    if action == "owner":
        change, back = ({"owner": "user", "user": "owner"}, {"owner": "account"}) if kind == "account" else (
            {"owner": "account"}, {"owner": "user", "user": "owner"})
        reply = _call(w, who, "PUT", f"/buckets/{name}/owner", change)
        if reply.status_code == 200:
            _root(w, "PUT", f"/buckets/{name}/owner", back)
        return reply
    assert action == "node", action
    reply = _call(w, who, "POST", "/accounts", {"name": f"acct-{unique}"})
    if reply.status_code == 200:
        _root(w, "DELETE", f"/accounts/acct-{unique}")
    return reply


def test_the_management_matrix(world: Mgmt) -> None:
    """One test over every cell: allowed is 200; refused is 401, 403 or a 404 that hides what exists."""
    wrong = []
    for who, action, kind in CELLS:
        allowed = expected(who, action, kind)
        reply = _cell(world, who, action, kind)
        got = reply.status_code == 200
        if got != allowed or reply.status_code not in (200, 401, 403, 404):
            wrong.append(f"{who.name:12} {action:13} {kind or '-':8} expected {'allowed' if allowed else 'refused'}, "
                         f"got {reply.status_code} {reply.text[:120]}")
    assert not wrong, f"{len(wrong)} of {len(CELLS)} cells disagree:\n" + "\n".join(wrong)


def test_the_management_matrix_is_not_trivial() -> None:
    """Every action has allowed and refused cells, and so has every principal but those uniform by the rules."""
    assert len(CELLS) > 400
    for action in BUCKET_ACTIONS + NODE_ACTIONS:
        assert {expected(w, a, b) for w, a, b in CELLS if a == action} == {True, False}, action
    uniform = {"root": {True}, "admin2": {True}}  # the operator account's admins may do all of it; grants
    uniform |= {name: {False} for name in ("anonymous", "disabled", "keydeleted", "reader", "writer", "prefixed",
                                           "foreign")}  # give no management right at all
    for who in PRINCIPALS:
        answers = {expected(w, a, b) for w, a, b in CELLS if w == who}
        assert answers == uniform.get(who.name, {True, False}), who.name
