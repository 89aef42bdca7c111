"""A bucket is an identity, not a name (issue 9, point 12): boto3 and the management API's own client
against a real server.

Alice shares an object of her bucket, deletes the bucket; Carol, of another account, creates a bucket
of the same name. Nothing of Alice's bucket may reach Carol: not its links (listed, shown, revocable,
or working on the new bucket even when the signer has rights there), not its revocations, not its
audit trail (user, access key, object keys, client addresses).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from satchel.cli.apiclient import ApiClient, ApiError, Secret
from tests.clients.boto import S3Factory, unique_bucket
from tests.clients.server import REGION, Credentials, SatchelProcess, eventually


def api(server: SatchelProcess, creds: Credentials) -> ApiClient:
    return ApiClient(server.endpoint, REGION, Secret(creds.access_key, creds.secret_key))


def test_a_reused_bucket_name_inherits_nothing(managed_server: SatchelProcess, s3_factory: S3Factory) -> None:
    server = managed_server
    tag = uuid.uuid4().hex[:10]
    alice = server.create_user(f"alice-{tag}")
    server.admin("account", "create", f"other-{tag}")
    carol = server.create_user(f"carol-{tag}", account=f"other-{tag}")
    alice_s3, carol_s3 = s3_factory(alice), s3_factory(carol)
    alice_api, carol_api = api(server, alice), api(server, carol)
    name = unique_bucket("reuse")

    # Alice's bucket: an object, a minted link used once, a revocation of a prefix.
    alice_s3.create_bucket(Bucket=name)
    alice_s3.put_object(Bucket=name, Key="report.pdf", Body=b"alice's report")
    minted = alice_api.post("/links", {"bucket": name, "keys": ["report.pdf"]})["links"][0]
    old_url, old_link = minted["url"], minted["link"]["id"]
    assert requests.get(old_url, timeout=30).content == b"alice's report"
    alice_api.post("/revocations", {"scope": "prefix", "target": "secret/", "bucket": name})
    trail = alice_api.get("/audit", {"bucket": name})["events"]
    assert sorted(e["action"] for e in trail) == ["mint", "revoke", "use"]  # each found by its bucket's id
    alice_events = {e["id"] for e in trail}
    alice_s3.delete_object(Bucket=name, Key="report.pdf")
    alice_s3.delete_bucket(Bucket=name)

    # Carol's bucket of the same name, where she lets Alice read (so Alice's rights are not what stops
    # the old link: its bucket is).
    carol_s3.create_bucket(Bucket=name)
    carol_s3.put_object(Bucket=name, Key="report.pdf", Body=b"carol's report")
    server.grant(alice.user, name, "read")
    assert eventually(lambda: alice_s3.get_object(Bucket=name, Key="report.pdf")["Body"].read() == b"carol's report")

    refused = requests.get(old_url, timeout=30)
    assert refused.status_code == 403 and b"AccessDenied" in refused.content, refused.text

    assert carol_api.get("/links", {"bucket": name})["links"] == []
    for method in ("GET", "DELETE"):
        with pytest.raises(ApiError) as denied:
            carol_api.call(method, f"/links/{old_link}")
        assert denied.value.status == 404
    assert carol_api.get("/revocations")["revocations"] == []
    seen = carol_api.get("/audit", {"bucket": name})["events"] + carol_api.get("/audit")["events"]
    assert not alice_events & {e["id"] for e in seen}
    # Not even the refused attempt: it belongs to the old bucket (else Carol would learn Alice's name, key id
    # and link id by re-creating a deleted name and waiting for old links to be clicked). Alice sees it.
    assert not [e for e in seen if e["link_id"] == old_link]
    assert [e["outcome"] for e in alice_api.get("/audit", {"link_id": old_link})["events"] if e["action"] == "use"] \
        == ["allowed", "refused"]

    # The old link is still Alice's to see and revoke, as a link of a bucket that is gone.
    shown = alice_api.get(f"/links/{old_link}")
    assert shown["id"] == old_link and shown["bucket"] == name
    fresh = carol_api.post("/links", {"bucket": name, "keys": ["report.pdf"]})["links"][0]
    assert requests.get(fresh["url"], timeout=30).content == b"carol's report"
    assert shown["bucket_id"] == minted["link"]["bucket_id"] != fresh["link"]["bucket_id"]
    assert alice_api.delete(f"/links/{old_link}")["state"] == "revoked"
    # ... and "for bucket NAME" means Carol's bucket now, for Alice too.
    assert alice_api.get("/links", {"bucket": name})["links"] == []


def test_a_grant_dies_with_its_bucket(managed_server: SatchelProcess, s3_factory: S3Factory, s3: Any) -> None:
    server = managed_server
    tag = uuid.uuid4().hex[:10]
    bob = server.create_user(f"bob-{tag}")
    bob_s3 = s3_factory(bob)
    name = unique_bucket("regrant")
    s3.create_bucket(Bucket=name)
    server.grant(bob.user, name, "read")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"new")
    try:
        with pytest.raises(ClientError) as denied:
            bob_s3.get_object(Bucket=name, Key="k")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        s3.delete_object(Bucket=name, Key="k")
        s3.delete_bucket(Bucket=name)


def test_offline_links_of_an_earlier_bucket_of_the_name(managed_server: SatchelProcess,
                                                         s3_factory: S3Factory) -> None:
    """Offline-signed links name the bucket, not its id: those issued before the name was released are
    refused on the next bucket of the name, and their refusals are not that bucket's events."""
    server = managed_server
    tag = uuid.uuid4().hex[:10]
    alice = server.create_user(f"alice-{tag}")
    server.admin("account", "create", f"other-{tag}")
    carol = server.create_user(f"carol-{tag}", account=f"other-{tag}")
    alice_v4, alice_v2 = s3_factory(alice, signature_version="s3v4"), s3_factory(alice)
    carol_s3, alice_api, carol_api = s3_factory(carol), api(server, alice), api(server, carol)
    name = unique_bucket("offline")
    alice_v4.create_bucket(Bucket=name)
    alice_v4.put_object(Bucket=name, Key="k", Body=b"alice")
    params = {"Bucket": name, "Key": "k"}
    old = [alice_v4.generate_presigned_url("get_object", Params=params),
           alice_v2.generate_presigned_url("get_object", Params=params)]
    assert [requests.get(url, timeout=30).content for url in old] == [b"alice", b"alice"]  # V2: first sighting
    time.sleep(2.1)  # X-Amz-Date has whole seconds: the release must come a second after the signing
    alice_v4.delete_object(Bucket=name, Key="k")
    alice_v4.delete_bucket(Bucket=name)

    carol_s3.create_bucket(Bucket=name)
    carol_s3.put_object(Bucket=name, Key="k", Body=b"carol")
    server.grant(alice.user, name, "read", share=True)  # Alice may share it now: only the link's age stops it
    for url in old:
        refused = requests.get(url, timeout=30)
        assert refused.status_code == 403 and b"earlier bucket of this name" in refused.content, refused.text
    fresh = alice_v4.generate_presigned_url("get_object", Params=params)
    assert requests.get(fresh, timeout=30).content == b"carol"

    seen = carol_api.get("/audit", {"bucket": name})["events"]
    # Carol's bucket's events: Alice's fresh link, used on it; never the refusals of the earlier bucket's.
    assert [(e["user"], e["status"]) for e in seen if e["action"] == "use"] == [(alice.user, 200)]
    refusals = [e for e in alice_api.get("/audit", {"user": alice.user})["events"] if e["outcome"] == "refused"]
    assert sorted(e["kind"] for e in refusals) == ["s3v2", "s3v4"]
    carol_s3.delete_object(Bucket=name, Key="k")
    carol_s3.delete_bucket(Bucket=name)


def test_a_name_taken_again_at_once_serves_links_signed_for_the_new_bucket(s3: Any, satchel_server: Any) -> None:
    """Test suites delete and re-create the same name within a second and presign right away."""
    name = unique_bucket("again")
    for body in (b"first", b"second"):
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=body)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"})
        assert requests.get(url, timeout=30).content == body
        s3.delete_object(Bucket=name, Key="k")
        s3.delete_bucket(Bucket=name)
