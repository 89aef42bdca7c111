"""Sharing is a right of its own (issue 9, point 0): a link works only when its signer may *share* what it does.

Owners and account admins hold the right; a member holds it only through a grant made with ``--share``, unless
the bucket's sharing is ``any`` (AWS's rule). Checked at every use of every link kind — SigV4 and SigV2
presigned URLs, minted links, POST policies — with real clients, while header-signed requests are unchanged.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.clients import mgmt
from tests.clients.boto import S3Factory
from tests.clients.server import Credentials, SatchelProcess, eventually
from tests.clients.test_presign_wire import Reply, assert_error, fetch_requests

PROPAGATION = 8.0
#: What a refused link answers (and the audit trail records) when its signer may act but not share.
NOT_SHARED = "Access Denied: the signer of this link may not share it."


def _presigned(s3_factory: S3Factory, creds: Credentials, bucket: str) -> dict[str, tuple[str, str]]:
    """Every link kind a member can make offline with boto3, as (method, url)."""
    v4 = s3_factory(creds, signature_version="s3v4")
    v2 = s3_factory(creds)
    get = {"Bucket": bucket, "Key": "team/doc.txt"}
    return {
        "get-v4": ("GET", v4.generate_presigned_url("get_object", Params=get, ExpiresIn=600)),
        "get-v2": ("GET", v2.generate_presigned_url("get_object", Params=get, ExpiresIn=600)),
        "list-v4": ("GET", v4.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket, "Prefix": "team/"},
                                                     ExpiresIn=600)),
    }


def _granted(member: Callable[[], Credentials], managed_server: SatchelProcess, bucket: str, permission: str,
             **grant: Any) -> Credentials:
    """A fresh member with one grant on ``bucket`` (made with the ``satchel admin grant`` CLI)."""
    bob = member()
    managed_server.grant(bob.user, bucket, permission, **grant)
    return bob


def _status(method: str, url: str) -> int:
    return fetch_requests(method, url).status


def _becomes(method: str, url: str, status: int) -> bool:
    """The link answers ``status`` within the bound grant changes take to reach the server."""
    return eventually(lambda: _status(method, url) == status, timeout=PROPAGATION)


def _post_form(s3_factory: S3Factory, creds: Credentials, bucket: str, key: str) -> Reply:
    form = s3_factory(creds, signature_version="s3v4").generate_presigned_post(Bucket=bucket, Key=key, ExpiresIn=600)
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"posted")}, timeout=30)
    return Reply(posted.status_code, {}, posted.content)


def test_member_links_need_a_share_grant(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    s3.put_object(Bucket=bucket, Key="team/doc.txt", Body=b"for the team")
    bob = _granted(member, managed_server, bucket, "read-write", prefix="team/")
    links = _presigned(s3_factory, bob, bucket)

    # Header-signed access is what the grant says, unchanged.
    client = s3_factory(bob)
    assert client.get_object(Bucket=bucket, Key="team/doc.txt")["Body"].read() == b"for the team"
    # Links Bob signs are refused at use: he may read, but not share.
    for method, url in links.values():
        assert_error(fetch_requests(method, url), 403, "AccessDenied", NOT_SHARED)
    assert_error(_post_form(s3_factory, bob, bucket, "team/posted.txt"), 403, "AccessDenied", NOT_SHARED)

    # The refusals are audited, with the signer, for whoever oversees the bucket.
    def refused() -> list[dict[str, Any]]:
        answer = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/audit?bucket={bucket}&outcome=refused"))
        return [e for e in answer["events"] if e["user"] == bob.user]

    assert eventually(lambda: len(refused()) >= len(links) + 1)
    assert {e["kind"] for e in refused()} == {"s3v4", "s3v2", "post"}
    assert all(e["status"] == 403 and e["reason"] == f"AccessDenied: {NOT_SHARED}" for e in refused())

    # The same grant made with --share: the very same links work, and a POST form uploads.
    managed_server.grant(bob.user, bucket, "read-write", prefix="team/", share=True)
    for method, url in links.values():
        assert _becomes(method, url, 200), url
    assert fetch_requests("GET", links["get-v4"][1]).body == b"for the team"
    assert _post_form(s3_factory, bob, bucket, "team/posted.txt").status == 204
    assert s3.get_object(Bucket=bucket, Key="team/posted.txt")["Body"].read() == b"posted"
    # Sharing stays inside the grant: a form for a key outside team/ is refused all the same.
    assert_error(_post_form(s3_factory, bob, bucket, "elsewhere.txt"), 403, "AccessDenied")


def test_share_grant_shares_only_what_it_grants(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    """read + --share on shared/ beside read-write without share: Bob may share reads of shared/, nothing else."""
    s3.put_object(Bucket=bucket, Key="shared/a.txt", Body=b"a")
    s3.put_object(Bucket=bucket, Key="private/b.txt", Body=b"b")
    bob = _granted(member, managed_server, bucket, "read", prefix="shared/", share=True)
    managed_server.grant(bob.user, bucket, "read-write")
    v4 = s3_factory(bob, signature_version="s3v4")
    sign = v4.generate_presigned_url
    assert eventually(lambda: _status("GET", sign("get_object", Params={"Bucket": bucket, "Key": "shared/a.txt"},
                                                  ExpiresIn=60)) == 200)
    assert_error(fetch_requests("GET", sign("get_object", Params={"Bucket": bucket, "Key": "private/b.txt"},
                                            ExpiresIn=60)), 403, "AccessDenied")
    put = sign("put_object", Params={"Bucket": bucket, "Key": "shared/new.txt"}, ExpiresIn=60)
    assert_error(fetch_requests("PUT", put, data=b"x"), 403, "AccessDenied")
    # Header-signed, the read-write grant still writes anywhere.
    v4.put_object(Bucket=bucket, Key="shared/new.txt", Body=b"by header")


def test_minting_refuses_what_the_caller_may_not_share(
    s3: Any, bucket: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    s3.put_object(Bucket=bucket, Key="team/a.txt", Body=b"a")
    bob = _granted(member, managed_server, bucket, "read")
    body = {"bucket": bucket, "keys": ["team/a.txt"]}
    (item,) = mgmt.ok(mgmt.call(managed_server, bob, "POST", "/links", body))["links"]
    assert item["error"] == {"code": "AccessDenied", "message": NOT_SHARED} and "url" not in item
    managed_server.grant(bob.user, bucket, "read", share=True)
    (item,) = mgmt.ok(mgmt.call(managed_server, bob, "POST", "/links", body))["links"]
    assert fetch_requests("GET", item["url"]).body == b"a"


def test_bucket_sharing_any_relaxes_to_aws_rule(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    s3.put_object(Bucket=bucket, Key="team/doc.txt", Body=b"doc")
    bob = _granted(member, managed_server, bucket, "read")
    urls = _presigned(s3_factory, bob, bucket)
    put = s3_factory(bob, signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "team/x"}, ExpiresIn=600)
    assert _status(*urls["get-v4"]) == 403

    # Through the management API (a member may not change it; the owner may).
    policy = f"/buckets/{bucket}/link-policy"
    assert mgmt.call(managed_server, bob, "PUT", policy, {"sharing": "any"}).status_code == 403
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", policy))["sharing"] == "grant"
    answer = mgmt.ok(mgmt.call(managed_server, None, "PUT", policy, {"sharing": "any", "max_link_lifetime": 3600}))
    assert (answer["sharing"], answer["max_link_lifetime"]) == ("any", 3600)
    for method, url in urls.values():
        assert _becomes(method, url, 200), url
    # Any reader may share reads; writing still needs a right to write.
    assert_error(fetch_requests("PUT", put, data=b"x"), 403, "AccessDenied")
    # Fields left out keep their value; bad values are refused and change nothing.
    assert mgmt.ok(mgmt.call(managed_server, None, "PUT", policy, {"max_link_lifetime": None}))["sharing"] == "any"
    bad = mgmt.call(managed_server, None, "PUT", policy, {"sharing": "everyone"})
    assert bad.status_code == 400 and mgmt.error_code(bad) == "InvalidArgument"

    # And back with the operator CLI.
    managed_server.admin("bucket", "sharing", bucket, "grant")
    assert _becomes(*urls["get-v4"], 403)
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", policy))["sharing"] == "grant"


def test_public_reading_is_no_share_right(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    s3.put_object(Bucket=bucket, Key="team/doc.txt", Body=b"public")
    bob = member()
    urls = _presigned(s3_factory, bob, bucket)
    assert _status(*urls["get-v4"]) == 403
    managed_server.set_public(bucket, True)
    plain = urls["get-v4"][1].split("?", 1)[0]
    assert _becomes("GET", plain, 200)  # public: readable without any link
    assert _status(*urls["get-v4"]) == 403  # but Bob's link is still his, and he may not share
    assert _status(*urls["get-v2"]) == 403 and _status(*urls["list-v4"]) == 403
    # nor may he create a PAR on it (which would also block the bucket's deletion)
    body = {"bucket": bucket, "name": "n", "accessType": "AnyObjectRead", "timeExpires": "2999-01-01T00:00:00Z"}
    assert mgmt.call(managed_server, bob, "POST", "/pars", body).status_code == 403
    # Public is readable, not writable: a write link by Bob is still refused.
    put = s3_factory(bob, signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "team/x"}, ExpiresIn=600)
    assert_error(fetch_requests("PUT", put, data=b"x"), 403, "AccessDenied")


def test_owner_and_account_admin_may_share(
    s3: Any, s3_factory: S3Factory, bucket: str, managed_server: SatchelProcess,
) -> None:
    """The seeds' rule: the bucket owner and, for contract-owned buckets, the contract's admins."""
    s3.put_object(Bucket=bucket, Key="team/doc.txt", Body=b"doc")
    admin = managed_server.create_user(f"adm{bucket[-12:]}", role="admin")
    for creds in (managed_server.root, admin):
        for method, url in _presigned(s3_factory, creds, bucket).values():
            assert _becomes(method, url, 200), url


def test_bucket_level_links_need_the_share_right_too(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials], managed_server: SatchelProcess,
) -> None:
    """A presigned DeleteObjects (POST ?delete) by a member who may delete but not share deletes nothing."""
    s3.put_object(Bucket=bucket, Key="team/a.txt", Body=b"a")
    bob = _granted(member, managed_server, bucket, "read-write")
    # boto3 cannot presign an operation with an XML body; botocore's presigner signs the request line.
    request = AWSRequest(method="POST", url=f"{managed_server.endpoint}/{bucket}?delete")
    S3SigV4QueryAuth(BotoCredentials(bob.access_key, bob.secret_key), "s3", managed_server.region,
                     expires=600).add_auth(request)
    url = request.url
    body = b'<Delete><Object><Key>team/a.txt</Key></Object></Delete>'
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}  # noqa: S324 (S3's checksum)

    refused = fetch_requests("POST", url, data=body, headers=headers)
    assert refused.status == 403 or b"<Deleted>" not in refused.body, refused.describe()
    assert s3.get_object(Bucket=bucket, Key="team/a.txt")["Body"].read() == b"a"

    managed_server.grant(bob.user, bucket, "read-write", share=True)
    assert eventually(lambda: b"<Deleted>" in fetch_requests("POST", url, data=body, headers=headers).body,
                      timeout=PROPAGATION)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
