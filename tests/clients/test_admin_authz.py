"""Who may do what through the management API (issue 9, points 1 and 16), over HTTP with SigV4 as any SDK would.

Every decision here is an ``authorize()`` action (listing before minting by prefix, link administration,
revocations, audit, contract-owned buckets); these tests pin the answers a caller sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import S3Factory, empty_and_delete, error_code, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, eventually

SECRET_KEYS = ("team/alpha-plan.txt", "team/beta-budget.txt", "hr/salaries.csv")


@pytest.fixture
def stocked(s3: Any, bucket: str) -> str:
    for key in SECRET_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def _outsider(managed_server: SatchelProcess) -> Credentials:
    """A member of another account."""
    account = f"acct{uuid.uuid4().hex[:10]}"
    managed_server.admin("account", "create", account)
    return managed_server.create_user(f"u{uuid.uuid4().hex[:12]}", account=account)


def _assert_refused_without_names(reply: Any) -> None:
    assert reply.status_code == 403, reply.text
    assert mgmt.error_code(reply) == "AccessDenied"
    for key in SECRET_KEYS:
        assert key not in reply.text


def test_minting_by_prefix_lists_only_what_the_caller_may_list(
    stocked: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    """Point 1: a prefix is listed only after the listing is authorized; otherwise the whole call is refused
    and no key name leaks."""
    bucket = stocked
    stranger, outsider = member(), _outsider(managed_server)
    for creds in (stranger, outsider):
        for prefix in ("", "team/", "hr/"):
            _assert_refused_without_names(
                mgmt.call(managed_server, creds, "POST", "/links", {"bucket": bucket, "prefix": prefix}))

    teammate = member()
    managed_server.grant(teammate.user, bucket, "read", prefix="team/", share=True)
    for prefix in ("", "t", "hr/"):
        _assert_refused_without_names(
            mgmt.call(managed_server, teammate, "POST", "/links", {"bucket": bucket, "prefix": prefix}))
    minted = mgmt.ok(mgmt.call(managed_server, teammate, "POST", "/links", {"bucket": bucket, "prefix": "team/"}))
    assert [item["key"] for item in minted["links"]] == ["team/alpha-plan.txt", "team/beta-budget.txt"]
    assert all("url" in item for item in minted["links"])


def test_links_of_others_are_invisible(
    stocked: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    bucket = stocked
    (root_link,) = mgmt.ok(mgmt.call(managed_server, None, "POST", "/links",
                                     {"bucket": bucket, "keys": ["hr/salaries.csv"]}))["links"]
    link_id = root_link["link"]["id"]
    reader = member()
    managed_server.grant(reader.user, bucket, "read")
    for creds in (reader, _outsider(managed_server)):
        assert mgmt.call(managed_server, creds, "GET", f"/links/{link_id}").status_code == 404
        assert mgmt.call(managed_server, creds, "DELETE", f"/links/{link_id}").status_code == 404
        assert mgmt.ok(mgmt.call(managed_server, creds, "GET", f"/links?bucket={bucket}"))["links"] == []
        events = mgmt.ok(mgmt.call(managed_server, creds, "GET", f"/audit?bucket={bucket}"))["events"]
        assert events == []
        refused = mgmt.call(managed_server, creds, "POST", "/revocations", {"scope": "bucket", "target": bucket})
        assert refused.status_code == 403 and mgmt.error_code(refused) == "AccessDenied"
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/links/{link_id}"))["state"] == "active"


def test_account_admin_oversees_its_members(
    s3_factory: S3Factory, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    """An admin acts for the users of its account: it sees, and may revoke, what they made; a member of the
    same account does not see the admin's."""
    alice = member()
    alice_s3 = s3_factory(alice)
    bucket = unique_bucket("own")
    alice_s3.create_bucket(Bucket=bucket)
    try:
        alice_s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
        (item,) = mgmt.ok(mgmt.call(managed_server, alice, "POST", "/links",
                                    {"bucket": bucket, "keys": ["a.txt"]}))["links"]
        made = mgmt.ok(mgmt.call(managed_server, alice, "POST", "/revocations",
                                 {"scope": "user", "target": alice.user}))
        admin_view = mgmt.ok(mgmt.call(managed_server, None, "GET", "/revocations"))["revocations"]
        assert made["id"] in [r["id"] for r in admin_view]
        assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/links/{item['link']['id']}"))["user"] == alice.user
        # Dated 2000-01-01 (the earliest moment allowed): the session's server is shared, and root's links must
        # keep working for other tests.
        mine = mgmt.ok(mgmt.call(managed_server, None, "POST", "/revocations",
                                 {"scope": "user", "target": "root", "before": 946684800}))
        alice_view = mgmt.ok(mgmt.call(managed_server, alice, "GET", "/revocations"))["revocations"]
        assert mine["id"] not in [r["id"] for r in alice_view]
        refused = mgmt.call(managed_server, alice, "POST", "/revocations", {"scope": "user", "target": "root"})
        assert refused.status_code == 403
    finally:
        empty_and_delete(alice_s3, bucket)


def test_contract_owned_buckets_need_an_account_admin(
    s3: Any, s3_factory: S3Factory, member: Callable[[], Credentials],
) -> None:
    bucket = unique_bucket("contract")

    def as_account(params: Any, **_: Any) -> None:
        params["headers"]["x-satchel-bucket-owner"] = "account"

    client = s3_factory(member())
    client.meta.events.register("before-call.s3.CreateBucket", as_account)
    with pytest.raises(ClientError) as exc:
        client.create_bucket(Bucket=bucket)
    assert error_code(exc.value) == "AccessDenied"
    s3.meta.events.register("before-call.s3.CreateBucket", as_account)
    try:
        s3.create_bucket(Bucket=bucket)
    finally:
        s3.meta.events.unregister("before-call.s3.CreateBucket", as_account)
    try:
        assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        empty_and_delete(s3, bucket)


def test_a_forged_use_is_not_its_claimed_signers_event(
    stocked: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    """Anyone can put anyone's access key id and a link id in a URL with a wrong signature. The refused
    use is the bucket's event (its administrators see it, with the key id marked as claimed), never an
    event the claimed user signed: not in that user's audit answer, not under ``user=`` that user."""
    alice = member()
    forged = f"forged{uuid.uuid4().hex}"
    for query in (f"AWSAccessKeyId={alice.access_key}&Expires=4000000000&Signature=bad",
                  f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={alice.access_key}%2F20250101%2Fus-east-1"
                  "%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
                  "&X-Amz-Signature=" + "0" * 64):
        reply = requests.get(f"{managed_server.endpoint}/{stocked}/hr/salaries.csv?{query}"
                             f"&x-amz-satchel-link-id={forged}", timeout=30)
        assert reply.status_code == 403

    def uses() -> list[dict[str, Any]]:
        return list(mgmt.ok(mgmt.call(managed_server, None, "GET", f"/audit?link_id={forged}"))["events"])

    assert eventually(lambda: len(uses()) >= 2)
    events = uses()
    assert len(events) == 2
    for event in events:
        assert (event["outcome"], event["user"], event["access_key_id"]) == ("refused", None, alice.access_key)
        assert event["reason"].endswith(f"[access key id {alice.access_key} claimed, signature not verified]")
    assert mgmt.ok(mgmt.call(managed_server, alice, "GET", f"/audit?link_id={forged}"))["events"] == []
    assert forged not in str(mgmt.ok(mgmt.call(managed_server, None, "GET", f"/audit?user={alice.user}")))


def test_revocation_targets_cannot_be_enumerated(
    member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    """Issue 9 (cli, point 2): a user or access key the caller may not act for and one that does not exist get
    the same answer, so nobody learns the names and key ids of other accounts."""
    caller, neighbour, outsider = member(), member(), _outsider(managed_server)
    answers = set()
    for scope, target in (("user", neighbour.user), ("user", outsider.user), ("user", "root"),
                          ("user", f"nosuchuser{uuid.uuid4().hex[:8]}"),
                          ("access-key", neighbour.access_key), ("access-key", outsider.access_key),
                          ("access-key", managed_server.root.access_key), ("access-key", "AKNOSUCHKEY0000000000")):
        reply = mgmt.call(managed_server, caller, "POST", "/revocations", {"scope": scope, "target": target})
        error = {k: v for k, v in reply.json()["error"].items() if k != "request_id"}  # each request its own id
        answers.add((scope, reply.status_code, repr(sorted(error.items()))))
    assert len(answers) == 2, answers  # one answer per scope
    assert {status for _, status, _ in answers} == {403}
    # What the caller may act for still works; the account admin (root) still revokes its members' links.
    for scope, target in (("user", caller.user), ("access-key", caller.access_key)):
        mgmt.ok(mgmt.call(managed_server, caller, "POST", "/revocations",
                          {"scope": scope, "target": target, "before": 946684800}))
    mgmt.ok(mgmt.call(managed_server, None, "POST", "/revocations",
                      {"scope": "user", "target": neighbour.user, "before": 946684800}))
