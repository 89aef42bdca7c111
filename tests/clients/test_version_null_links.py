"""A minted link cannot be pinned to ``version_id: "null"`` (``links.NULL_PIN_REFUSED``): the null version
is replaced by every write while versioning is off or suspended, so such a link would publish whatever a
later writer (one without the share right) put there, through the signer's link. Refused at minting with
400 InvalidArgument, from the management API and the CLI; nothing is minted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients import mgmt
from tests.clients.server import SatchelProcess
from tests.clients.test_boto3_versioning import _drop_all_versions
from tests.clients.test_cli_audit import Cli, satchel  # noqa: F401 - the fixture


def test_a_link_cannot_pin_the_null_version(managed_server: SatchelProcess, s3: Any, bucket: str,
                                            satchel: Cli) -> None:  # noqa: F811
    s3.put_object(Bucket=bucket, Key="doc", Body=b"admin bytes")  # never versioned: this is the null version
    assert s3.head_object(Bucket=bucket, Key="doc", VersionId="null")["ContentLength"] == 11
    for status in (None, "Suspended"):
        if status:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
        reply = mgmt.call(managed_server, None, "POST", "/links",
                          {"bucket": bucket, "keys": ["doc"], "version_id": "null"})
        assert reply.status_code == 400 and mgmt.error_code(reply) == "InvalidArgument", reply.text
        assert "null" in reply.text
    with pytest.raises(AssertionError, match="version_id null"):  # the fixture asserts exit 0
        satchel("presign", f"s3://{bucket}/doc", "--version-id", "null")
    assert mgmt.ok(mgmt.call(managed_server, None, "GET", f"/links?bucket={bucket}"))["links"] == []


def test_no_share_page_for_a_link_that_names_a_version(managed_server: SatchelProcess, s3: Any,
                                                        bucket: str) -> None:
    """A share page shows and previews the key's current object; a link naming a version would get a page
    that answers 410 at once, so making one is refused with a 400 that says why."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="doc", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc", Body=b"second")
    link = mgmt.ok(mgmt.call(managed_server, None, "POST", "/links",
                             {"bucket": bucket, "keys": ["doc"], "version_id": first}))["links"][0]["link"]
    reply = mgmt.call(managed_server, None, "POST", "/shares", {"link_id": link["id"]})
    assert reply.status_code == 400 and mgmt.error_code(reply) == "InvalidArgument", reply.text
    assert "names a version" in reply.text
    _drop_all_versions(s3, bucket)
