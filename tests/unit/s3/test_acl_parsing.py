"""ACL requests as S3 writes them: grant headers, canned values, AccessControlPolicy and
PublicAccessBlockConfiguration documents — and what is refused (``core/acl.py``, ``s3/aclxml.py``)."""

from __future__ import annotations

import pytest

from satchel.core import acl
from satchel.core.errors import InvalidArgument, InvalidRequest, MalformedACLError, MalformedXML, NotImplementedFeature
from satchel.core.models import ALL_USERS, AUTHENTICATED_USERS, AclGrant, PublicAccessBlock
from satchel.s3 import aclxml

ALL_USERS_URI = "http://acs.amazonaws.com/groups/global/AllUsers"


def test_grant_headers_as_the_aws_cli_sends_them() -> None:
    asked = acl.requested({"x-amz-grant-read": f'id="u1", uri="{ALL_USERS_URI}"',
                           "x-amz-grant-full-control": "id=u2", "x-amz-grant-write-acp": 'emailAddress="a@b.c"'})
    assert asked is not None
    canned, explicit = asked
    assert canned == ()
    assert set(explicit) == {(acl.Grantee("id", "u1"), "READ"), (acl.Grantee("uri", ALL_USERS_URI), "READ"),
                             (acl.Grantee("id", "u2"), "FULL_CONTROL"), (acl.Grantee("email", "a@b.c"), "WRITE_ACP")}


def test_canned_acls() -> None:
    assert acl.requested({}) is None
    assert acl.requested({"x-amz-acl": "Public-Read"}) == ((AclGrant(ALL_USERS, "READ"),), [])
    assert acl.requested({"x-amz-acl": "authenticated-read"}) == ((AclGrant(AUTHENTICATED_USERS, "READ"),), [])
    for harmless in ("private", "bucket-owner-read", "bucket-owner-full-control"):
        assert acl.requested({"x-amz-acl": harmless}) == ((), [])
    with pytest.raises(InvalidArgument):
        acl.requested({"x-amz-acl": "everyone-please"})
    with pytest.raises(NotImplementedFeature):
        acl.requested({"x-amz-acl": "log-delivery-write"})
    with pytest.raises(InvalidRequest):
        acl.requested({"x-amz-acl": "private", "x-amz-grant-read": "id=u1"})
    with pytest.raises(NotImplementedFeature):
        acl.requested({"x-amz-grant-everything": "id=u1"})


@pytest.mark.parametrize("value", ["", "id", 'id="u1" uri="x"', "user=u1", 'id="u1",,', "x" * 9000])
def test_malformed_grant_headers_are_invalid_argument(value: str) -> None:
    with pytest.raises(InvalidArgument):
        acl.requested({"x-amz-grant-read": value})


def test_access_control_policy_round_trip() -> None:
    view = acl.AclView("owner", (AclGrant("owner", "FULL_CONTROL"), AclGrant(ALL_USERS, "READ"),
                                 AclGrant("u<1>", "READ_ACP")), {"owner": "Olga", "u<1>": "Ursula & co"})
    body = aclxml.access_control_policy(view)
    assert b"<DisplayName>Ursula &amp; co</DisplayName>" in body
    assert aclxml.parse_access_control_policy(body) == [
        (acl.Grantee("id", "owner"), "FULL_CONTROL"), (acl.Grantee("uri", ALL_USERS_URI), "READ"),
        (acl.Grantee("id", "u<1>"), "READ_ACP")]


def test_a_policy_without_grants_revokes_them_all() -> None:
    body = b"<AccessControlPolicy><Owner><ID>o</ID></Owner></AccessControlPolicy>"
    assert aclxml.parse_access_control_policy(body) == []


@pytest.mark.parametrize("body", [
    b"<AccessControlPolicy><AccessControlList/><AccessControlList/></AccessControlPolicy>",
    b"<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant>"
    b"</AccessControlList></AccessControlPolicy>",
    b'<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><AccessControlList><Grant>'
    b'<Grantee xsi:type="CanonicalUser"><ID>u</ID></Grantee><Permission>OWN</Permission></Grant>'
    b"</AccessControlList></AccessControlPolicy>",
    b'<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><AccessControlList><Grant>'
    b'<Grantee xsi:type="Martian"><ID>u</ID></Grantee><Permission>READ</Permission></Grant>'
    b"</AccessControlList></AccessControlPolicy>",
])
def test_malformed_policies(body: bytes) -> None:
    with pytest.raises(MalformedACLError):
        aclxml.parse_access_control_policy(body)


def test_public_access_block_documents() -> None:
    block = PublicAccessBlock(block_public_acls=True, restrict_public_buckets=True)
    assert aclxml.parse_public_access_block(aclxml.public_access_block(block)) == block
    assert aclxml.parse_public_access_block(
        b"<PublicAccessBlockConfiguration><IgnorePublicAcls>TRUE</IgnorePublicAcls>"
        b"</PublicAccessBlockConfiguration>") == PublicAccessBlock(ignore_public_acls=True)
    for bad in (b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
                b"</PublicAccessBlockConfiguration>",
                b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
                b"<BlockPublicAcls>false</BlockPublicAcls></PublicAccessBlockConfiguration>",
                b"<PublicAccessBlockConfiguration><Other>true</Other></PublicAccessBlockConfiguration>",
                b"<NotIt/>"):
        with pytest.raises(MalformedXML):
            aclxml.parse_public_access_block(bad)


def test_too_many_grants_are_refused_before_any_lookup() -> None:
    class NoStore:
        def get_user(self, user_id: str) -> None:
            raise AssertionError("looked up")

    class NoNode:
        store = NoStore()

    pairs = [(acl.Grantee("id", f"u{i}"), "READ") for i in range(acl.MAX_GRANTS + 2)]
    with pytest.raises(MalformedACLError):
        acl.resolve(NoNode(), pairs)  # type: ignore[arg-type]
