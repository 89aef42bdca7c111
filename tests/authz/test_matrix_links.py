"""The authorization matrix for the holders of the other link kinds: OCI PARs and Swift TempURLs.

Same principals, buckets and expected table as ``test_matrix.py`` (:func:`tests.authz.test_matrix.expected`,
written from ``authorize()``'s documented rules), through the real HTTP API:

- **PARs**: each principal creates one (``POST /_satchel/api/pars``, signed with its own key; anonymous
  unsigned) for a read of each key, a write under each prefix, a whole-bucket listing and a ``pub/`` listing;
  creating it is sharing, so it is refused exactly where the holder of such a link would be (rule 7, and
  rule 5: reading a public bucket is no right to share); a created PAR is then used through ``/p/…`` by a
  client with no credentials. A cell is allowed when both answer 2xx.
- **TempURLs**: each principal sets the container's ``X-Container-Meta-Temp-URL-Key``, or the account's
  ``X-Account-Meta-Temp-URL-Key``, through the Swift API with its own TempAuth token (rule 10: whoever controls
  the bucket, the account's admins; a member, a grant holder or another account's user gets 403, a disabled
  user or a deleted key no token), signs a GET and a PUT with it, and a client with no
  credentials uses them: the setter is the URL's principal, through a link. The key is removed after each cell.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from swiftclient.utils import generate_temp_url

from tests.authz.test_matrix import BUCKETS, KEYS, LIST, LIST_PREFIX, PRINCIPALS, READ, WRITE, Matrix, Who, expected
from tests.clients import mgmt

TIMEOUT = 10
_EXPIRES = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

PAR_CELLS = [(who, action, bucket, key) for who in PRINCIPALS for bucket in BUCKETS
             for action in (READ, WRITE, LIST, LIST_PREFIX) for key in (KEYS if action in (READ, WRITE) else KEYS[:1])]
#: The key is the container's (rule 10: whoever controls the bucket) or the account's (its admins only).
SCOPES = ("container", "account")
TEMPURL_CELLS = [(who, action, bucket, KEYS[0], scope) for who in PRINCIPALS for bucket in BUCKETS
                 for action in (READ, WRITE) for scope in SCOPES]


def _target(who: Who, key: str) -> str:
    return f"{key.rsplit('/', 1)[0]}/link-{who.name}-{uuid.uuid4().hex[:6]}"


def _par(m: Matrix, who: Who, action: str, bucket: str, key: str) -> int:
    """Create the cell's PAR as the principal, then use it with no credentials: the first non-2xx status, or 200."""
    name = m.buckets[bucket]
    target = _target(who, key) if action == WRITE else key
    body: dict[str, Any] = {"bucket": name, "name": f"matrix-{who.name}", "timeExpires": _EXPIRES}
    body |= {READ: {"accessType": "ObjectRead", "objectName": key},
             WRITE: {"accessType": "ObjectWrite", "objectName": target},
             LIST: {"accessType": "AnyObjectRead", "bucketListingAction": "ListObjects"},
             LIST_PREFIX: {"accessType": "AnyObjectRead", "objectName": "pub/",
                           "bucketListingAction": "ListObjects"}}[action]
    if who.name == "anonymous":
        created = requests.post(f"{m.server.endpoint}/_satchel/api/pars", json=body, timeout=TIMEOUT)
    else:
        created = mgmt.call(m.server, m.creds[who.name], "POST", "/pars", body)
    if created.status_code != 200:
        return created.status_code
    url = m.server.endpoint + created.json()["accessUri"]  # an object PAR's names its object
    method = "PUT" if action == WRITE else "GET"
    return requests.request(method, url, data=b"x" if action == WRITE else None, timeout=TIMEOUT).status_code


def test_the_par_matrix(matrix: Matrix) -> None:
    wrong = []
    for who, action, bucket, key in PAR_CELLS:
        allowed = expected(who, action, bucket, key, True)
        status = _par(matrix, who, action, bucket, key)
        if (status in (200, 201, 204)) != allowed or status >= 500:
            wrong.append(f"{who.name:12} par    {action:11} {bucket:8} {key:11} "
                         f"expected {'allowed' if allowed else 'refused'}, got {status}")
    assert not wrong, f"{len(wrong)} of {len(PAR_CELLS)} cells disagree:\n" + "\n".join(wrong)


def _swift_token(m: Matrix, who: Who) -> str | None:
    if who.name == "anonymous":
        return None
    account = "root" if who.account == "root" else "other"
    reply = requests.get(f"{m.server.endpoint}/auth/v1.0", timeout=TIMEOUT, headers={
        "X-Auth-User": f"{account}:{who.name}", "X-Auth-Key": m.creds[who.name].secret_key})
    return reply.headers["X-Auth-Token"] if reply.status_code == 200 else None


def _tempurl(m: Matrix, who: Who, token: str | None, action: str, bucket: str, key: str, scope: str) -> int:
    """Set the container's or the account's key as the principal, sign with it, use the URL with no credentials,
    remove the key."""
    account = f"{m.server.endpoint}/v1/AUTH_root"
    container = f"{account}/{m.buckets[bucket]}" if scope == "container" else account
    meta = "Container" if scope == "container" else "Account"
    secret = uuid.uuid4().hex
    headers = {f"X-{meta}-Meta-Temp-URL-Key": secret} | ({"X-Auth-Token": token} if token else {})
    set_key = requests.post(container, headers=headers, timeout=TIMEOUT)
    if set_key.status_code not in (200, 204):
        return set_key.status_code
    try:
        method = "PUT" if action == WRITE else "GET"
        path = f"/v1/AUTH_root/{m.buckets[bucket]}/{_target(who, key) if action == WRITE else key}"
        url = m.server.endpoint + str(generate_temp_url(path, 600, secret, method))
        return requests.request(method, url, data=b"x" if action == WRITE else None, timeout=TIMEOUT).status_code
    finally:
        assert token is not None
        removed = requests.post(container, timeout=TIMEOUT, headers={
            "X-Auth-Token": token, f"X-Remove-{meta}-Meta-Temp-URL-Key": "x"})
        assert removed.status_code in (200, 204), removed.text


def tempurl_expected(who: Who, action: str, bucket: str, key: str, scope: str) -> bool:
    """Rule 10: a container's key is set by whoever controls the bucket (rule 4), the account's by its admins
    (an active user with a token); a URL signed with it then acts as the setter through a link (rules 1, 5 and 7
    at use time)."""
    admin = who.role == "admin" and who.account == "root"
    may_set = admin or (scope == "container" and who.name == "owner" and bucket in ("user", "public"))
    return may_set and not (who.disabled or who.key_deleted) and expected(who, action, bucket, key, True)


def test_the_tempurl_matrix(matrix: Matrix) -> None:
    wrong = []
    tokens = {who.name: _swift_token(matrix, who) for who in PRINCIPALS}
    for who, action, bucket, key, scope in TEMPURL_CELLS:
        allowed = tempurl_expected(who, action, bucket, key, scope)
        status = _tempurl(matrix, who, tokens[who.name], action, bucket, key, scope)
        if (status in (200, 201, 204)) != allowed or status >= 500:
            wrong.append(f"{who.name:12} tempurl {scope:9} {action:11} {bucket:8} {key:11} "
                         f"expected {'allowed' if allowed else 'refused'}, got {status}")
    assert not wrong, f"{len(wrong)} of {len(TEMPURL_CELLS)} cells disagree:\n" + "\n".join(wrong)


def test_the_link_matrices_are_not_trivial() -> None:
    """Both answers for every action and bucket kind, PARs and TempURLs alike."""
    rules: tuple[tuple[list[Any], Callable[..., bool]], ...] = (
        (PAR_CELLS, lambda who, action, bucket, key: expected(who, action, bucket, key, True)),
        (TEMPURL_CELLS, tempurl_expected))
    for cells, rule in rules:
        for dimension in range(1, len(cells[0])):
            for value in {cell[dimension] for cell in cells}:
                answers = {rule(*cell) for cell in cells if cell[dimension] == value}
                assert answers == {True, False}, value
