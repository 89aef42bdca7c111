"""A bucket's settings and owner over the management API (issue 13): GET /buckets/{bucket} shows every
setting; PUT /buckets/{bucket}/owner hands a bucket to the account (contract) or to a user of its account,
for account administrators only; links the old owner signed are judged at each use by the old owner's
rights, so they stop when it loses control and work again when it gets it back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.clients import mgmt
from tests.clients.boto import S3Factory, empty_and_delete, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, eventually

SETTINGS = {"name", "id", "owner", "account_id", "account", "owner_user", "public_read", "public_acl_ignored",
            "sharing", "max_link_lifetime", "server_max_link_lifetime", "cors", "created"}


def _owner(server: SatchelProcess, creds: Credentials | None, bucket: str, body: dict[str, Any]) -> requests.Response:
    return mgmt.call(server, creds, "PUT", f"/buckets/{bucket}/owner", body)


def test_show_has_every_setting(managed_server: SatchelProcess, bucket: str) -> None:
    mgmt.ok(mgmt.call(managed_server, None, "PUT", f"/buckets/{bucket}/link-policy", {"max_link_lifetime": 600}))
    shown = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/buckets/{bucket}"))
    assert set(shown) == SETTINGS
    assert (shown["name"], shown["owner"], shown["owner_user"], shown["account"]) == (bucket, "user", "root", "root")
    assert (shown["public_read"], shown["sharing"], shown["max_link_lifetime"], shown["cors"]) == (
        False, "grant", 600, False)
    missing = mgmt.call(managed_server, None, "GET", "/buckets/no-such-bucket-anywhere-0")
    assert (missing.status_code, mgmt.error_code(missing)) == (404, "NoSuchBucket")


def test_owner_kind_changes_and_old_links_are_judged_at_use(
    managed_server: SatchelProcess, s3_factory: S3Factory, member: Callable[[], Credentials],
) -> None:
    alice = member()
    s3_alice = s3_factory(alice)
    bucket = unique_bucket("own")
    s3_alice.create_bucket(Bucket=bucket)
    try:
        s3_alice.put_object(Bucket=bucket, Key="k", Body=b"payload")
        url = s3_alice.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=600)
        assert requests.get(url, timeout=10).content == b"payload"

        # alice, a member, may not give her bucket away (nor take it back below).
        refused = _owner(managed_server, alice, bucket, {"owner": "account"})
        assert (refused.status_code, mgmt.error_code(refused)) == (403, "AccessDenied")

        contract = mgmt.ok(_owner(managed_server, None, bucket, {"owner": "account"}))
        assert (contract["owner"], contract["owner_user"]) == ("account", None)
        assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/buckets/{bucket}")) == contract
        # alice's link is checked against alice's rights now: she controls the bucket no more.
        assert eventually(lambda: requests.get(url, timeout=10).status_code == 403)
        lost = mgmt.call(managed_server, alice, "GET", f"/buckets/{bucket}")
        assert (lost.status_code, mgmt.error_code(lost)) == (403, "AccessDenied")
        refused = _owner(managed_server, alice, bucket, {"owner": "user", "user": alice.user})
        assert (refused.status_code, mgmt.error_code(refused)) == (403, "AccessDenied")

        # A grant with the share right covers her link again; taking it away ends it again.
        managed_server.grant(alice.user, bucket, "read", share=True)
        assert eventually(lambda: requests.get(url, timeout=10).status_code == 200)
        grants = mgmt.ok(mgmt.call(managed_server, None, "GET", "/grants"))["grants"]
        grant = next(g for g in grants if g["user"] == alice.user and g["bucket"] == bucket)
        mgmt.ok(mgmt.call(managed_server, None, "DELETE", f"/grants/{grant['id']}"))
        assert eventually(lambda: requests.get(url, timeout=10).status_code == 403)

        bob = member()
        to_bob = mgmt.ok(_owner(managed_server, None, bucket, {"owner": "user", "user": bob.user}))
        assert (to_bob["owner"], to_bob["owner_user"]) == ("user", bob.user)
        assert mgmt.ok(mgmt.call(managed_server, bob, "GET", f"/buckets/{bucket}"))["owner_user"] == bob.user
        assert requests.get(url, timeout=10).status_code == 403

        mgmt.ok(_owner(managed_server, None, bucket, {"owner": "user", "user": alice.user}))
        assert eventually(lambda: requests.get(url, timeout=10).content == b"payload")
    finally:
        empty_and_delete(s3_factory(), bucket)


def test_owner_requests_are_checked(managed_server: SatchelProcess, bucket: str) -> None:
    account = f"acct{uuid.uuid4().hex[:10]}"
    managed_server.admin("account", "create", account)
    outsider = managed_server.create_user(f"u{uuid.uuid4().hex[:12]}", account=account)
    outsider_admin = managed_server.create_user(f"a{uuid.uuid4().hex[:12]}", role="admin", account=account)
    cases: list[tuple[Credentials | None, dict[str, Any], int, str]] = [
        (None, {"owner": "user", "user": outsider.user}, 404, "NotFound"),  # never across accounts, and as if
        # no such user: an account admin learns nothing of another account's names
        (None, {"owner": "user", "user": "nobody-" + uuid.uuid4().hex}, 404, "NotFound"),
        (None, {"owner": "user"}, 400, "InvalidArgument"),
        (None, {"owner": "account", "user": "root"}, 400, "InvalidArgument"),
        (None, {"owner": "somebody"}, 400, "InvalidArgument"),
        (None, {"owner": "account", "extra": True}, 400, "InvalidArgument"),
        (outsider_admin, {"owner": "account"}, 403, "AccessDenied"),  # another account's admin
        # Refused before any user is looked up: no probing of names.
        (outsider_admin, {"owner": "user", "user": "nobody-" + uuid.uuid4().hex}, 403, "AccessDenied"),
        (outsider, {"owner": "user", "user": outsider.user}, 403, "AccessDenied"),
    ]
    for creds, body, status, code in cases:
        reply = _owner(managed_server, creds, bucket, body)
        assert (reply.status_code, mgmt.error_code(reply)) == (status, code), (body, reply.text)
    # Another account's user and a name nobody has answer alike, but for the name itself.
    ghost = "nobody-" + uuid.uuid4().hex
    answers = [_owner(managed_server, None, bucket, {"owner": "user", "user": who}) for who in (outsider.user, ghost)]
    assert answers[0].json()["error"]["message"].replace(outsider.user, "X") == \
        answers[1].json()["error"]["message"].replace(ghost, "X")
    shown = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/buckets/{bucket}"))
    assert (shown["owner"], shown["owner_user"]) == ("user", "root")
