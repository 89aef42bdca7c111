"""Bucket policies (core/policy.py) as tables: AWS's documented example policies, what each lets through
and refuses, what PutBucketPolicy refuses at PUT time, and how authorize() (rule 13) applies them.

The examples follow the S3 user guide's "Bucket policy examples" (restrict to an IP range, require
HTTPS, limit presigned URL age with s3:signatureAge, refuse presigned URLs with s3:authType, anonymous
read of a prefix, Referer restriction) and the IAM reference's NotPrincipal / NotAction examples.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satchel.core import policy
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import MalformedPolicy
from satchel.core.models import Bucket, Grant, Permission, Principal, Role, Sharing, Status, User
from satchel.core.requestfacts import AUTH_HEADER, AUTH_POST, AUTH_QUERY, SIGV2, SIGV4, RequestFacts

ACCOUNT = "a" * 32
OTHER_ACCOUNT = "b" * 32
BUCKET = "docs"
NOW = 1_800_000_000.0
ALICE = policy.Caller("1" * 32, ACCOUNT, "alice")
BOB = policy.Caller("2" * 32, OTHER_ACCOUNT, "bob")
ANON = policy.Caller()


def _doc(*statements: dict[str, object], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def _facts(**kw: object) -> RequestFacts:
    base: dict[str, object] = {"now": NOW, "source_ip": "192.0.2.10", "secure": True, "auth_type": AUTH_HEADER,
                               "signature_version": SIGV4, "user_agent": "aws-cli/2", "referer": None}
    base.update(kw)
    return RequestFacts(**base)  # type: ignore[arg-type]


def _ask(document: str, action: str | None = "s3:GetObject", key: str | None = "a/b.txt",
         caller: policy.Caller = ALICE, facts: RequestFacts | None = None) -> str | None:
    resource = f"arn:aws:s3:::{BUCKET}" + (f"/{key}" if key is not None else "")
    compiled = policy.parse(document, BUCKET)
    return policy.evaluate(compiled, policy.Query(action, resource, caller, facts or _facts()))


# --- AWS's examples ---------------------------------------------------------------------------------------
IP_RANGE = _doc({
    "Sid": "IPAllow", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}},
})
HTTPS_ONLY = _doc({
    "Sid": "RestrictToTLSRequestsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
})
SIGNATURE_AGE = _doc({
    "Sid": "Deny a presigned URL request if the signature is more than 10 min old", "Effect": "Deny",
    "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*",
    "Condition": {"NumericGreaterThan": {"s3:signatureAge": 600000}},
})
NO_PRESIGNED = _doc({
    "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*",
    "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}},
})
ONLY_SIGV4 = _doc({
    "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*",
    "Condition": {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}},
})
PUBLIC_PREFIX = _doc({
    "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
    "Resource": [f"arn:aws:s3:::{BUCKET}/public/*"],
})
REFERER = _doc({
    "Sid": "Allow only GET requests originating from www.example.com and example.com.", "Effect": "Allow",
    "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"arn:aws:s3:::{BUCKET}/*",
    "Condition": {"StringLike": {"aws:Referer": ["https://www.example.com/*", "https://example.com/*"]}},
})
NOT_PRINCIPAL = _doc({
    "Effect": "Deny", "NotPrincipal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/alice"]}, "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
})
NOT_ACTION = _doc({
    "Effect": "Deny", "Principal": {"AWS": OTHER_ACCOUNT}, "NotAction": ["s3:GetObject", "s3:ListBucket"],
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
})
GRANT_ACCOUNT = _doc({
    "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{OTHER_ACCOUNT}:root"]},
    "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{BUCKET}",
    "Condition": {"StringLike": {"s3:prefix": ["home/bob/*"]}, "NumericLessThanEquals": {"s3:max-keys": "100"}},
})
TIME_WINDOW = _doc({
    "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2027-06-01T00:00:00Z"}},
})

CASES = [
    # (policy, description, kwargs of _ask, expected)
    (IP_RANGE, "inside the v4 range", {}, None),
    (IP_RANGE, "inside the v6 range", {"facts": _facts(source_ip="2001:db8::7")}, None),
    (IP_RANGE, "outside the range", {"facts": _facts(source_ip="198.51.100.1")}, "deny"),
    (IP_RANGE, "a v4-mapped v6 address inside", {"facts": _facts(source_ip="::ffff:192.0.2.77")}, None),
    (IP_RANGE, "a v4-mapped v6 address outside", {"facts": _facts(source_ip="::ffff:198.51.100.1")}, "deny"),
    (IP_RANGE, "address unknown: the negated operator holds", {"facts": _facts(source_ip=None)}, "deny"),
    (IP_RANGE, "anonymous outside", {"caller": ANON, "facts": _facts(source_ip="203.0.113.9")}, "deny"),
    (IP_RANGE, "bucket-level listing outside", {"action": "s3:ListBucket", "key": None,
                                               "facts": _facts(source_ip="203.0.113.9")}, "deny"),
    (HTTPS_ONLY, "https", {}, None),
    (HTTPS_ONLY, "plain http", {"facts": _facts(secure=False)}, "deny"),
    (SIGNATURE_AGE, "presigned 1 min ago", {"facts": _facts(auth_type=AUTH_QUERY, signed_at=NOW - 60)}, None),
    (SIGNATURE_AGE, "presigned 11 min ago", {"facts": _facts(auth_type=AUTH_QUERY, signed_at=NOW - 660)}, "deny"),
    (SIGNATURE_AGE, "header-signed: no signature age", {}, None),
    (NO_PRESIGNED, "presigned URL", {"facts": _facts(auth_type=AUTH_QUERY)}, "deny"),
    (NO_PRESIGNED, "header-signed", {}, None),
    (NO_PRESIGNED, "POST upload", {"action": "s3:PutObject", "facts": _facts(auth_type=AUTH_POST)}, None),
    (ONLY_SIGV4, "SigV2", {"facts": _facts(signature_version=SIGV2)}, "deny"),
    (ONLY_SIGV4, "SigV4", {}, None),
    (ONLY_SIGV4, "anonymous: no signature version, the negated operator holds", {"caller": ANON,
                                                                               "facts": _facts(
                                                                                   auth_type=None,
                                                                                   signature_version=None)},
     "deny"),
    (PUBLIC_PREFIX, "anonymous read inside the prefix", {"caller": ANON, "key": "public/x.png"}, "allow"),
    (PUBLIC_PREFIX, "anonymous read outside the prefix", {"caller": ANON, "key": "private/x.png"}, None),
    (PUBLIC_PREFIX, "anonymous write inside the prefix", {"caller": ANON, "key": "public/x.png",
                                                          "action": "s3:PutObject"}, None),
    (REFERER, "from the site", {"caller": ANON, "facts": _facts(referer="https://www.example.com/page")}, "allow"),
    (REFERER, "from elsewhere", {"caller": ANON, "facts": _facts(referer="https://evil.example.net/")}, None),
    (REFERER, "no referer", {"caller": ANON}, None),
    (NOT_PRINCIPAL, "the one user it spares", {}, None),
    (NOT_PRINCIPAL, "another user", {"caller": BOB}, "deny"),
    (NOT_PRINCIPAL, "anonymous", {"caller": ANON}, "deny"),
    (NOT_ACTION, "the other account reads", {"caller": BOB}, None),
    (NOT_ACTION, "the other account writes", {"caller": BOB, "action": "s3:PutObject"}, "deny"),
    (NOT_ACTION, "the other account deletes", {"caller": BOB, "action": "s3:DeleteObject"}, "deny"),
    (NOT_ACTION, "an action no S3 name covers", {"caller": BOB, "action": None}, "deny"),
    (NOT_ACTION, "this account writes", {"action": "s3:PutObject"}, None),
    (GRANT_ACCOUNT, "listing its home", {"caller": BOB, "action": "s3:ListBucket", "key": None,
                                         "facts": _facts(keys=(("s3:prefix", "home/bob/"), ("s3:max-keys", "50")))},
     "allow"),
    (GRANT_ACCOUNT, "too many keys", {"caller": BOB, "action": "s3:ListBucket", "key": None,
                                      "facts": _facts(keys=(("s3:prefix", "home/bob/"), ("s3:max-keys", "500")))},
     None),
    (GRANT_ACCOUNT, "listing someone else's home", {"caller": BOB, "action": "s3:ListBucket", "key": None,
                                                    "facts": _facts(keys=(("s3:prefix", "home/eve/"),))}, None),
    (GRANT_ACCOUNT, "listing without a prefix", {"caller": BOB, "action": "s3:ListBucket", "key": None}, None),
    (GRANT_ACCOUNT, "another account", {"action": "s3:ListBucket", "key": None,
                                        "facts": _facts(keys=(("s3:prefix", "home/bob/"),))}, None),
    (TIME_WINDOW, "before the date", {}, None),
    (TIME_WINDOW, "after the date", {"facts": _facts(now=1_900_000_000.0)}, "deny"),
]


@pytest.mark.parametrize(("document", "description", "kwargs", "expected"), CASES,
                         ids=[c[1] for c in CASES])
def test_aws_examples(document: str, description: str, kwargs: dict[str, object], expected: str | None) -> None:
    assert _ask(document, **kwargs) == expected  # type: ignore[arg-type]


# --- operators ------------------------------------------------------------------------------------------
def _condition(condition: dict[str, object]) -> str:
    return _doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{BUCKET}/*", "Condition": condition})


OPERATOR_CASES = [
    ({"StringEqualsIgnoreCase": {"aws:UserAgent": "AWS-CLI/2"}}, {}, "allow"),
    ({"StringNotEqualsIgnoreCase": {"aws:UserAgent": "AWS-CLI/2"}}, {}, None),
    ({"StringNotLike": {"aws:UserAgent": "curl/*"}}, {}, "allow"),
    ({"StringLike": {"aws:UserAgent": "aws-cl?/2"}}, {}, "allow"),
    ({"StringEqualsIfExists": {"aws:Referer": "https://x/"}}, {}, "allow"),  # absent: IfExists holds
    ({"StringEqualsIfExists": {"aws:Referer": "https://x/"}}, {"facts": _facts(referer="https://y/")}, None),
    ({"Null": {"aws:Referer": "true"}}, {}, "allow"),
    ({"Null": {"aws:Referer": "false"}}, {}, None),
    ({"NumericLessThan": {"aws:EpochTime": NOW + 1}}, {}, "allow"),
    ({"NumericGreaterThanEquals": {"aws:EpochTime": NOW + 1}}, {}, None),
    ({"DateLessThanEquals": {"aws:CurrentTime": "2027-06-01"}}, {}, "allow"),
    ({"DateEquals": {"aws:EpochTime": str(int(NOW))}}, {}, "allow"),
    ({"DateNotEquals": {"aws:EpochTime": str(int(NOW))}}, {}, None),
    ({"IpAddress": {"aws:SourceIp": "192.0.2.10/32"}}, {}, "allow"),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {}, None),  # a v4 client is in no v6 range
    ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/al*"}}, {}, "allow"),
    ({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/bob"}}, {}, None),
    ({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/*"}}, {"caller": ANON}, "allow"),
    ({"ForAnyValue:StringEquals": {"aws:UserAgent": ["x", "aws-cli/2"]}}, {}, "allow"),
    ({"ForAnyValue:StringEquals": {"aws:Referer": "x"}}, {}, None),  # absent: nothing matches
    ({"ForAllValues:StringEquals": {"aws:Referer": "x"}}, {}, "allow"),  # absent: vacuously true
    ({"Bool": {"aws:SecureTransport": True}}, {}, "allow"),
    ({"StringEquals": {"s3:x-amz-acl": "public-read"}}, {"facts": _facts(keys=(("s3:x-amz-acl", "private"),))},
     None),
    ({"StringEquals": {"aws:username": "alice", "aws:PrincipalAccount": ACCOUNT}}, {}, "allow"),
    ({"StringEquals": {"aws:PrincipalType": "Anonymous"}}, {"caller": ANON}, "allow"),
]


@pytest.mark.parametrize(("condition", "kwargs", "expected"), OPERATOR_CASES)
def test_operators(condition: dict[str, object], kwargs: dict[str, object], expected: str | None) -> None:
    assert _ask(_condition(condition), **kwargs) == expected  # type: ignore[arg-type]


def test_deny_wins_over_allow_in_the_same_policy() -> None:
    document = _doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/secret/*"},
    )
    assert _ask(document, key="open/x") == "allow"
    assert _ask(document, key="secret/x") == "deny"


def test_wildcard_actions_and_principal_forms() -> None:
    document = _doc({"Effect": "Allow", "Principal": {"AWS": [ACCOUNT], "CanonicalUser": BOB.user_id},
                     "Action": "s3:Get*", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    assert _ask(document) == "allow"  # alice: of the named account
    assert _ask(document, caller=BOB) == "allow"  # bob: by canonical id
    assert _ask(document, caller=ANON) is None
    assert _ask(document, action="s3:PutObject") is None
    assert _ask(document, action="s3:getobject") == "allow"  # action names are case-insensitive


def test_statement_may_be_an_object_and_version_may_be_old() -> None:
    document = json.dumps({"Version": "2008-10-17", "Id": "x", "Statement": {
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": f"arn:aws:s3:::{BUCKET}/*"}})
    assert _ask(document, caller=ANON) == "allow"


# --- refused at PUT time ----------------------------------------------------------------------------------
def _stmt(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


MALFORMED = [
    ("not json", "{nope", "valid JSON"),
    ("not an object", "[]", "first byte"),
    ("bad version", json.dumps({"Version": "2020-01-01", "Statement": [_stmt()]}), "Version"),
    ("no statement", json.dumps({"Version": "2012-10-17"}), "Statement"),
    ("unknown top field", json.dumps({"Statement": [_stmt()], "Extra": 1}), "Extra"),
    ("unknown statement field", _doc(_stmt(Foo="x")), "Foo"),
    ("bad effect", _doc(_stmt(Effect="Maybe")), "effect"),
    ("no principal", _doc(_stmt(Principal=None)), "Principal"),
    ("service principal", _doc(_stmt(Principal={"Service": "s3.amazonaws.com"})), "Service"),
    ("bad principal arn", _doc(_stmt(Principal={"AWS": "arn:aws:iam::x:user/alice"})), "principal"),
    ("principal and NotPrincipal", _doc(_stmt(NotPrincipal="*")), "NotPrincipal"),
    ("unknown action", _doc(_stmt(Action="s3:GetObjekt")), "s3:GetObjekt"),
    ("wildcard naming nothing", _doc(_stmt(Action="s3:Frobnicate*")), "Frobnicate"),
    ("other service", _doc(_stmt(Action="iam:CreateUser")), "iam:CreateUser"),
    ("no action", _doc(_stmt(Action=None)), "Action"),
    ("not an ARN", _doc(_stmt(Resource="docs/*")), "docs/*"),
    ("another bucket", _doc(_stmt(Resource="arn:aws:s3:::other/*")), "outside bucket"),
    ("object action on the bucket", _doc(_stmt(Resource=f"arn:aws:s3:::{BUCKET}")), "does not apply"),
    ("unknown condition key", _doc(_stmt(Condition={"StringEquals": {"aws:SourceVpce": "v"}})), "aws:SourceVpce"),
    ("unknown operator", _doc(_stmt(Condition={"StringSorta": {"aws:Referer": "v"}})), "StringSorta"),
    ("unknown qualifier", _doc(_stmt(Condition={"ForSome:StringEquals": {"aws:Referer": "v"}})), "ForSome"),
    ("NullIfExists", _doc(_stmt(Condition={"NullIfExists": {"aws:Referer": "true"}})), "NullIfExists"),
    ("bad CIDR", _doc(_stmt(Condition={"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}})), "300.1.1.1"),
    ("IP operator on a string key", _doc(_stmt(Condition={"IpAddress": {"aws:Referer": "1.2.3.4"}})), "aws:Referer"),
    ("bad number", _doc(_stmt(Condition={"NumericLessThan": {"s3:signatureAge": "soon"}})), "soon"),
    ("bad date", _doc(_stmt(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})), "tomorrow"),
    ("bad bool", _doc(_stmt(Condition={"Bool": {"aws:SecureTransport": "yes"}})), "yes"),
    ("duplicate sid", _doc(_stmt(Sid="a"), _stmt(Sid="a")), "unique"),
    ("duplicate key", '{"Statement": [], "Statement": []}', "twice"),
    ("policy variable", _doc(_stmt(Resource="arn:aws:s3:::docs/${aws:username}/*")), "${aws:username}"),
    ("too large", _doc(_stmt(Sid="x" * policy.MAX_POLICY_BYTES)), "maximum"),
]


@pytest.mark.parametrize(("description", "document", "named"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_policies_are_refused_naming_the_fault(description: str, document: str, named: str) -> None:
    with pytest.raises(MalformedPolicy) as caught:
        policy.parse(document, BUCKET)
    assert named.lower() in caught.value.message.lower()


# --- is_public -------------------------------------------------------------------------------------------
PUBLIC_CASES = [
    (PUBLIC_PREFIX, True),
    (REFERER, True),  # a Referer is whatever the client says: still public (as AWS)
    (IP_RANGE, False),  # a Deny is never public
    (GRANT_ACCOUNT, False),
    (_condition({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), False),
    (_condition({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
    (_condition({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}), False),
    (_doc({"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "s3:GetObject",
           "Resource": f"arn:aws:s3:::{BUCKET}/*"}), True),
]


@pytest.mark.parametrize(("document", "public"), PUBLIC_CASES)
def test_is_public(document: str, public: bool) -> None:
    assert policy.is_public(policy.parse(document, BUCKET)) is public


# --- authorize(), rule 13 ----------------------------------------------------------------------------------
OWNER = User("1" * 32, ACCOUNT, "alice", Role.MEMBER, Status.ACTIVE, 0.0)
ADMIN = User("3" * 32, ACCOUNT, "root", Role.ADMIN, Status.ACTIVE, 0.0)
MEMBER = User("4" * 32, ACCOUNT, "carol", Role.MEMBER, Status.ACTIVE, 0.0)
STRANGER = User("2" * 32, OTHER_ACCOUNT, "bob", Role.MEMBER, Status.ACTIVE, 0.0)


def _bucket(document: str | None, sharing: Sharing = Sharing.GRANT) -> Bucket:
    return Bucket(BUCKET, ACCOUNT, OWNER.id, 0.0, policy=document, id="bid", sharing=sharing)


def _principal(user: User | None, *, link: bool = False, grants: tuple[Grant, ...] = (),
               facts: RequestFacts | None = None, operation: str | None = None) -> Principal:
    base = facts or _facts()
    if operation is not None:
        base = RequestFacts(**{**{f: getattr(base, f) for f in base.__slots__}, "operation": operation})
    principal = Principal(user, "AKID" if user else None, grants, facts=base)
    return principal.through_link() if link else principal


def _can(principal: Principal, action: Action, bucket: Bucket, key: str | None = "a/b.txt") -> bool:
    return authorize(principal, action, Resource(bucket, key))


def test_deny_beats_ownership_admin_grants_and_links() -> None:
    bucket = _bucket(IP_RANGE)
    outside = _facts(source_ip="198.51.100.1")
    read_grant = (Grant("g", MEMBER.id, BUCKET, "", Permission.READ, 0.0, "bid", share=True),)
    for principal in (_principal(OWNER, facts=outside), _principal(ADMIN, facts=outside),
                      _principal(MEMBER, grants=read_grant, facts=outside),
                      _principal(OWNER, link=True, facts=outside)):
        assert not _can(principal, Action.OBJECT_READ, bucket)
        assert not _can(principal, Action.BUCKET_READ, bucket, None)
    assert _can(_principal(OWNER), Action.OBJECT_READ, bucket)
    assert _can(_principal(OWNER, link=True), Action.OBJECT_READ, bucket)
    assert _can(_principal(MEMBER, grants=read_grant), Action.OBJECT_READ, bucket)


def test_deny_beats_the_public_flag() -> None:
    bucket = Bucket(BUCKET, ACCOUNT, None, 0.0, public_read=True, policy=HTTPS_ONLY, id="bid")
    assert _can(_principal(None), Action.OBJECT_READ, bucket)
    assert not _can(_principal(None, facts=_facts(secure=False)), Action.OBJECT_READ, bucket)


def test_presigned_urls_refused_by_auth_type_and_age() -> None:
    presigned = _facts(auth_type=AUTH_QUERY, signed_at=NOW - 700)
    assert not _can(_principal(OWNER, link=True, facts=presigned), Action.OBJECT_READ, _bucket(NO_PRESIGNED))
    assert not _can(_principal(OWNER, link=True, facts=presigned), Action.OBJECT_READ, _bucket(SIGNATURE_AGE))
    fresh = _facts(auth_type=AUTH_QUERY, signed_at=NOW - 5)
    assert _can(_principal(OWNER, link=True, facts=fresh), Action.OBJECT_READ, _bucket(SIGNATURE_AGE))


def test_the_owner_is_never_locked_out_of_the_policy_itself() -> None:
    deny_all = _doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]})
    bucket = _bucket(deny_all)
    for op in ("PutBucketPolicy", "DeleteBucketPolicy", "GetBucketPolicy"):
        assert _can(_principal(OWNER, operation=op), Action.BUCKET_ADMIN, bucket, None)
    assert not _can(_principal(OWNER, operation="DeleteBucket"), Action.BUCKET_ADMIN, bucket, None)
    assert not _can(_principal(OWNER, operation="PutBucketCors"), Action.BUCKET_ADMIN, bucket, None)
    assert not _can(_principal(OWNER), Action.BUCKET_ADMIN, bucket, None)  # no operation: only s3:* names it
    assert not _can(_principal(STRANGER, operation="PutBucketPolicy"), Action.BUCKET_ADMIN, _bucket(None), None)


def test_allow_grants_data_actions_not_control() -> None:
    grant_all = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob"},
                      "Action": "s3:*", "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]})
    bucket = _bucket(grant_all)
    bob = _principal(STRANGER)
    assert _can(bob, Action.OBJECT_READ, bucket)
    assert _can(_principal(STRANGER, operation="PutObject"), Action.OBJECT_WRITE, bucket)
    assert _can(bob, Action.BUCKET_READ, bucket, None)
    assert not _can(_principal(STRANGER, operation="PutBucketPolicy"), Action.BUCKET_ADMIN, bucket, None)
    assert not _can(_principal(STRANGER, operation="DeleteBucket"), Action.BUCKET_ADMIN, bucket, None)
    # Through a link, an Allow carries no share right, unless the bucket's sharing is "any".
    assert not _can(_principal(STRANGER, link=True), Action.OBJECT_READ, bucket)
    assert _can(_principal(STRANGER, link=True), Action.OBJECT_READ, _bucket(grant_all, Sharing.ANY))
    assert not _can(_principal(MEMBER), Action.OBJECT_READ, bucket)  # not named


def test_anonymous_read_of_a_prefix() -> None:
    bucket = _bucket(PUBLIC_PREFIX)
    assert _can(_principal(None), Action.OBJECT_READ, bucket, "public/logo.png")
    assert not _can(_principal(None), Action.OBJECT_READ, bucket, "private/x")
    assert not _can(_principal(None, operation="PutObject"), Action.OBJECT_WRITE, bucket, "public/x")
    assert not _can(_principal(None), Action.BUCKET_READ, bucket, None)


def test_a_policy_stored_before_a_stricter_check_refuses() -> None:
    bucket = _bucket('{"Statement": "not valid any more"}')
    assert not _can(_principal(OWNER), Action.OBJECT_READ, bucket)


def test_no_facts_means_absent_keys() -> None:
    bucket = _bucket(IP_RANGE)  # a Deny on NotIpAddress: holds when the address is unknown
    assert not authorize(Principal(OWNER), Action.OBJECT_READ, Resource(bucket, "k"))
    assert authorize(Principal(OWNER), Action.OBJECT_READ, Resource(_bucket(HTTPS_ONLY), "k"))


def test_a_refusal_by_the_policy_says_so() -> None:
    from satchel.core.access import POLICY_DENIED
    from satchel.core.buckets import require
    from satchel.core.errors import AccessDenied

    outside = _principal(OWNER, link=True, facts=_facts(source_ip="198.51.100.1"))
    with pytest.raises(AccessDenied) as caught:
        require(outside, Action.OBJECT_READ, _bucket(IP_RANGE), "k")
    assert caught.value.message == POLICY_DENIED
    with pytest.raises(AccessDenied) as caught:
        require(_principal(MEMBER), Action.OBJECT_READ, _bucket(IP_RANGE), "k")  # inside, but no right
    assert caught.value.message != POLICY_DENIED


# --- anything else is a MalformedPolicy, never a crash --------------------------------------------------------
def test_deep_nesting_and_odd_types_are_malformed_not_crashes() -> None:
    for document in ("[" * 20000, '{"Statement": ' + "[" * 5000 + "]" * 5000 + "}", '{"Version": ["x"]}',
                     '{"Version": {"a": 1}, "Statement": []}', '{"Id": 5, "Statement": {}}', "\xff\xfe",
                     json.dumps({"Statement": [{"Effect": ["Allow"], "Principal": "*", "Action": "s3:*",
                                                "Resource": "*"}]})):
        with pytest.raises(MalformedPolicy):
            policy.parse(document.encode("latin-1") if document == "\xff\xfe" else document, BUCKET)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8) |
                     st.sampled_from(["*", "Allow", "Deny", "s3:GetObject", "arn:aws:s3:::docs/*", "aws:SourceIp",
                                      "2012-10-17"]),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.sampled_from(["Version", "Statement", "Effect", "Principal", "NotPrincipal", "Action",
                                          "Resource", "Condition", "Sid", "AWS", "IpAddress", "StringLike",
                                          "aws:SourceIp", "x"]), inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(_json)
def test_any_json_parses_or_is_malformed(value: object) -> None:
    try:
        compiled = policy.parse(json.dumps(value), BUCKET)
    except MalformedPolicy:
        return
    policy.evaluate(compiled, policy.Query("s3:GetObject", f"arn:aws:s3:::{BUCKET}/k", ANON, _facts()))
    policy.is_public(compiled)


def test_restrict_public_ignores_public_allows_only() -> None:
    document = _doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {"Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/secret/*"},
    )
    compiled = policy.parse(document, BUCKET)

    def ask(caller: policy.Caller, key: str) -> str | None:
        query = policy.Query("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}", caller, _facts())
        return policy.evaluate(compiled, query, restrict_public=True)

    assert ask(ANON, "x") is None
    assert ask(BOB, "x") == "allow"
    assert ask(BOB, "secret/x") == "deny"


@pytest.mark.parametrize(("document", "opens"), [
    (PUBLIC_PREFIX, True), (REFERER, True), (_condition({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), True),
    (IP_RANGE, False), (GRANT_ACCOUNT, False), (NOT_PRINCIPAL, False),
    (_doc({"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "s3:GetObject",
           "Resource": f"arn:aws:s3:::{BUCKET}/*"}), True),
])
def test_opens_to_anonymous(document: str, opens: bool) -> None:
    """What putting needs BUCKET_PUBLISH for: wider than is_public (conditions do not narrow it)."""
    assert policy.opens_to_anonymous(policy.parse(document, BUCKET)) is opens


# --- stored on the bucket, cached with it ------------------------------------------------------------------
def test_stored_with_the_bucket_and_the_cache_follows_the_generation(tmp_path: Path) -> None:
    from satchel.core.caches import BucketCache, GenerationGate
    from satchel.meta.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "meta.sqlite3")
    try:
        account = store.create_account("acme")
        store.create_bucket(Bucket(BUCKET, account.id, None, 0.0))
        clock = [0.0]
        cache = BucketCache(store, GenerationGate(store, ttl=1.0, monotonic=lambda: clock[0]))
        assert cache.get(BUCKET).policy is None  # type: ignore[union-attr]
        store.update_bucket(BUCKET, policy=PUBLIC_PREFIX)
        assert cache.get(BUCKET).policy is None  # type: ignore[union-attr]  # within the generation's TTL
        clock[0] = 2.0
        assert cache.get(BUCKET).policy == PUBLIC_PREFIX  # type: ignore[union-attr]
        assert store.update_bucket(BUCKET, cors=None).policy == PUBLIC_PREFIX  # other settings leave it
        store.update_bucket(BUCKET, policy=None)
        clock[0] = 4.0
        assert cache.get(BUCKET).policy is None  # type: ignore[union-attr]
    finally:
        store.close()
