"""Sharing a version against a real server: a minted link naming a version keeps serving those bytes
after the key is overwritten, its listing and audit trail name the version, it cannot be bent to
another version, and once the version is deleted it answers 404 NoSuchVersion, audited as refused.
A PAR's reads take ``?versionId=``; the CLI mints with ``--version-id``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tests.clients import mgmt, par
from tests.clients.boto import unique_bucket
from tests.clients.server import SatchelProcess, eventually
from tests.clients.test_boto3_versioning import _drop_all_versions
from tests.clients.test_cli_audit import Cli, satchel  # noqa: F401 - the fixture


@pytest.fixture
def shared(s3: Any, managed_server: SatchelProcess) -> Iterator[tuple[str, str]]:
    """A versioned bucket holding ``doc`` twice: (bucket, id of the first version)."""
    name = unique_bucket("vs")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=name, Key="doc", Body=b"first bytes")["VersionId"]
    yield name, first
    for listing in mgmt.ok(mgmt.call(managed_server, None, "GET", f"/pars?bucket={name}")).get("pars", []):
        mgmt.call(managed_server, None, "DELETE", f"/pars/{name}/{listing['id']}")
    _drop_all_versions(s3, name)


def _events(server: SatchelProcess, link_id: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def enough() -> bool:
        found[:] = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?link_id={link_id}"))["events"]
        return len(found) >= count

    assert eventually(enough), found
    return found


def test_a_minted_link_serves_its_version(s3: Any, managed_server: SatchelProcess, shared: tuple[str, str]) -> None:
    bucket, first = shared
    minted = mgmt.ok(mgmt.call(managed_server, None, "POST", "/links",
                               {"bucket": bucket, "keys": ["doc"], "version_id": first}))["links"][0]
    assert minted["link"]["version_id"] == first
    s3.put_object(Bucket=bucket, Key="doc", Body=b"second bytes")
    got = requests.get(minted["url"], timeout=10)
    assert got.status_code == 200 and got.content == b"first bytes" and got.headers["x-amz-version-id"] == first
    listed = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/links?bucket={bucket}"))["links"]
    assert [link["version_id"] for link in listed] == [first]

    # The signature covers the version: naming another one breaks it.
    parts = urlsplit(minted["url"])
    query = [(k, v if k != "versionId" else "null") for k, v in parse_qsl(parts.query)]
    assert requests.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=10).status_code == 403

    s3.delete_object(Bucket=bucket, Key="doc", VersionId=first)
    gone = requests.get(minted["url"], timeout=10)
    assert gone.status_code == 404 and b"<Code>NoSuchVersion</Code>" in gone.content
    events = _events(managed_server, minted["link"]["id"], 4)
    by_action = [(e["action"], e["outcome"], e["version_id"]) for e in sorted(events, key=lambda e: e["id"])]
    assert by_action[0] == ("mint", "allowed", first)
    assert ("use", "allowed", first) in by_action and by_action[-1] == ("use", "refused", first)
    assert "NoSuchVersion" in sorted(events, key=lambda e: e["id"])[-1]["reason"]

    revoked = mgmt.ok(mgmt.call(managed_server, None, "DELETE", f"/links/{minted['link']['id']}"))
    assert revoked["version_id"] == first
    assert any(e["action"] == "revoke" and e["version_id"] == first
               for e in _events(managed_server, minted["link"]["id"], 5))


def test_minting_a_version_is_checked(managed_server: SatchelProcess, shared: tuple[str, str]) -> None:
    bucket, first = shared
    missing = mgmt.ok(mgmt.call(managed_server, None, "POST", "/links",
                                {"bucket": bucket, "keys": ["doc"], "version_id": "Z" * 32}))["links"][0]
    assert missing["error"]["code"] == "NoSuchVersion"
    for body in ({"keys": ["doc", "other"]}, {"keys": ["doc"], "method": "PUT"}, {"keys": ["doc"], "kind": "swift"}):
        reply = mgmt.call(managed_server, None, "POST", "/links", {"bucket": bucket, "version_id": first, **body})
        assert reply.status_code == 400, body


def test_cli_presign_names_a_version(s3: Any, satchel: Cli, shared: tuple[str, str]) -> None:  # noqa: F811
    bucket, first = shared
    (entry,) = json.loads(satchel("presign", f"s3://{bucket}/doc", "--version-id", first, "--json").stdout)["links"]
    assert entry["link"]["version_id"] == first
    s3.put_object(Bucket=bucket, Key="doc", Body=b"newer")
    assert requests.get(entry["url"], timeout=10).content == b"first bytes"
    listed = satchel("links", "list", "--bucket", bucket).stdout
    assert "Version" in listed and first in listed
    trail = satchel("audit", "--link-id", entry["link"]["id"]).stdout
    assert f"{bucket}/doc?versionId={first}" in trail


def test_a_par_reads_a_version(s3: Any, managed_server: SatchelProcess, shared: tuple[str, str]) -> None:
    bucket, first = shared
    s3.put_object(Bucket=bucket, Key="doc", Body=b"second bytes")
    made = par.create(managed_server, bucket=bucket, accessType="ObjectRead", objectName="doc")
    url = par.url(made)
    assert requests.get(url, timeout=10).content == b"second bytes"
    got = requests.get(url, params={"versionId": first}, timeout=10)
    assert got.status_code == 200 and got.content == b"first bytes" and got.headers["version-id"] == first
    assert requests.get(url, params={"versionId": "Q" * 32}, timeout=10).status_code == 404
    events = _events(managed_server, made["id"], 4)
    assert {e["version_id"] for e in events if e["action"] == "use"} >= {first, "Q" * 32}


def test_a_prefix_revocation_covers_a_presigned_version_listing(
        s3: Any, managed_server: SatchelProcess, shared: tuple[str, str]) -> None:
    bucket, first = shared
    url = s3.generate_presigned_url("list_object_versions", Params={"Bucket": bucket, "Prefix": "do"}, ExpiresIn=300)
    listed = requests.get(url, timeout=10)
    assert listed.status_code == 200 and first.encode() in listed.content
    mgmt.ok(mgmt.call(managed_server, None, "POST", "/revocations",
                      {"scope": "prefix", "target": "doc", "bucket": bucket, "before": time.time() + 2}))
    assert requests.get(url, timeout=10).status_code == 403


def test_a_par_write_names_the_new_version(s3: Any, managed_server: SatchelProcess, shared: tuple[str, str]) -> None:
    bucket, first = shared
    made = par.create(managed_server, bucket=bucket, accessType="ObjectReadWrite", objectName="doc")
    put = requests.put(par.url(made), data=b"through the PAR", timeout=10)
    assert put.status_code == 200, put.text
    newest = s3.head_object(Bucket=bucket, Key="doc")["VersionId"]
    assert put.headers["version-id"] == newest != first
    assert s3.get_object(Bucket=bucket, Key="doc", VersionId=first)["Body"].read() == b"first bytes"


def test_a_par_version_read_is_s3_get_object_version_to_a_policy(
        s3: Any, managed_server: SatchelProcess, shared: tuple[str, str]) -> None:
    bucket, first = shared
    made = par.create(managed_server, bucket=bucket, accessType="ObjectRead", objectName="doc")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObjectVersion",
                                                    "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny))
    try:
        assert requests.get(par.url(made), timeout=10).status_code == 200
        par.assert_refused(requests.get(par.url(made), params={"versionId": first}, timeout=10))
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
