"""What is shown public is what answers publicly: under Block Public Access's IgnorePublicAcls a bucket's
public flag (AllUsers READ) answers nobody, so Swift stops listing ``.r:*`` as the container's read ACL
(the swift CLI's ``Read ACL``) and the management API (the console's source) says the flag is ignored; when
the block goes, both show it public again. The console's badge is in tests/browser/test_console_public_display.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.clients import mgmt
from tests.clients.boto import empty_and_delete, unique_bucket
from tests.clients.server import ServerHandle
from tests.clients.swift import root_user

IGNORE = {"BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
          "RestrictPublicBuckets": False}


@pytest.fixture
def public_bucket(s3: Any) -> Iterator[str]:
    name = unique_bucket("pubshow")
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    yield name
    empty_and_delete(s3, name)


def _read_acl(server: ServerHandle, container: str) -> str:
    """The ``Read ACL`` line of ``swift stat CONTAINER``."""
    out = root_user(server).cli("stat", container).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if "Read ACL" in line), "")


def test_ignored_public_acl_is_not_shown_public(satchel_server: ServerHandle, s3: Any, public_bucket: str) -> None:
    anonymous = f"{satchel_server.endpoint}/{public_bucket}/k"
    assert requests.get(anonymous, timeout=10).status_code == 200
    assert _read_acl(satchel_server, public_bucket) == ".r:*,.rlistings"
    shown = mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/buckets/{public_bucket}"))
    assert (shown["public_read"], shown["public_acl_ignored"]) == (True, False)

    s3.put_public_access_block(Bucket=public_bucket, PublicAccessBlockConfiguration=IGNORE)
    assert requests.get(anonymous, timeout=10).status_code == 403
    assert _read_acl(satchel_server, public_bucket) == ""  # nothing public answers: nothing shown public
    headers = root_user(satchel_server).connection().head_container(public_bucket)
    assert "x-container-read" not in headers
    shown = mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/buckets/{public_bucket}"))
    assert (shown["public_read"], shown["public_acl_ignored"]) == (True, True)  # kept, and said to be ignored
    listed = mgmt.ok(mgmt.call(satchel_server, None, "GET", "/buckets"))
    entry = next(b for b in listed["buckets"] if b["name"] == public_bucket)
    assert entry["public_acl_ignored"] is True

    s3.delete_public_access_block(Bucket=public_bucket)
    assert requests.get(anonymous, timeout=10).status_code == 200
    assert _read_acl(satchel_server, public_bucket) == ".r:*,.rlistings"
