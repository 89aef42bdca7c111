"""What a blind attack on bucket policies found (issue 16), as tables: every S3 operation Satchel serves has its
IAM action (so a Deny naming it is obeyed), object tags are governed by the policy on the object's ARN, policy
values AWS refuses are refused, and user principals are matched by user id, never by a reusable name."""

from __future__ import annotations

import json

import pytest

from satchel.core import policy
from satchel.core.access import Action
from satchel.core.errors import MalformedPolicy
from satchel.s3.endpoints import Op
from tests.unit.core.test_policy import ACCOUNT, BUCKET, MEMBER, OWNER, _bucket, _can, _doc, _principal

#: Operations no bucket policy can speak of: service level, a bucket not made yet, not AWS operations.
_UNGOVERNED = {Op.ListBuckets, Op.CreateBucket, Op.Options, Op.NotImplemented}


@pytest.mark.parametrize("op", [op for op in Op if op not in _UNGOVERNED])
def test_every_served_operation_has_its_iam_action(op: Op) -> None:
    assert op.value in policy.OPERATIONS, f"{op.value} missing from core/policy.py OPERATIONS"
    assert policy.OPERATIONS[op.value][1] in policy.ACTIONS


@pytest.mark.parametrize(("operation", "access", "iam"), [
    ("GetObjectTagging", Action.OBJECT_TAGS_READ, "s3:GetObjectTagging"),
    ("PutObjectTagging", Action.OBJECT_WRITE, "s3:PutObjectTagging"),
    ("DeleteObjectTagging", Action.OBJECT_WRITE, "s3:DeleteObjectTagging"),
    ("GetBucketTagging", Action.BUCKET_ADMIN, "s3:GetBucketTagging"),
    ("PutBucketTagging", Action.BUCKET_ADMIN, "s3:PutBucketTagging"),
    ("DeleteBucketTagging", Action.BUCKET_ADMIN, "s3:PutBucketTagging"),
    ("GetBucketLifecycleConfiguration", Action.BUCKET_ADMIN, "s3:GetLifecycleConfiguration"),
    ("PutBucketLifecycleConfiguration", Action.BUCKET_ADMIN, "s3:PutLifecycleConfiguration"),
    ("DeleteBucketLifecycle", Action.BUCKET_ADMIN, "s3:PutLifecycleConfiguration"),
    ("GetBucketEncryption", Action.BUCKET_ADMIN, "s3:GetEncryptionConfiguration"),
    ("PutBucketEncryption", Action.BUCKET_ADMIN, "s3:PutEncryptionConfiguration"),
    ("DeleteBucketEncryption", Action.BUCKET_ADMIN, "s3:PutEncryptionConfiguration"),
    ("GetObject", Action.OBJECT_TAGS_READ, "s3:GetObjectTagging"),  # a read's x-amz-tagging-count
])
def test_a_deny_on_the_iam_action_refuses_the_operation(operation: str, access: Action, iam: str) -> None:
    object_level = access is not Action.BUCKET_ADMIN
    resource = f"arn:aws:s3:::{BUCKET}" + ("/a/*" if object_level else "")
    key = "a/b.txt" if object_level else None
    bucket = _bucket(_doc({"Effect": "Deny", "Principal": "*", "Action": iam, "Resource": resource}))
    assert policy.iam_action(access.value, operation) == iam
    assert not _can(_principal(OWNER, operation=operation), access, bucket, key)
    if object_level:  # on the object's ARN: another key is not denied
        assert _can(_principal(OWNER, operation=operation), access, bucket, "b/c.txt")


def test_object_tags_read_allowed_by_a_policy_as_by_a_grant() -> None:
    allow = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                  "Action": "s3:GetObjectTagging", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    assert _can(_principal(MEMBER, operation="GetObjectTagging"), Action.OBJECT_TAGS_READ, _bucket(allow))
    assert not _can(_principal(MEMBER, operation="GetObjectTagging"), Action.OBJECT_TAGS_READ, _bucket(None))
    # an Allow of s3:GetObject alone does not give the tags (AWS's split)
    reads = json.loads(allow)
    reads["Statement"][0]["Action"] = "s3:GetObject"
    assert not _can(_principal(MEMBER, operation="GetObject"), Action.OBJECT_TAGS_READ, _bucket(json.dumps(reads)))


def _refused(document: str) -> str:
    with pytest.raises(MalformedPolicy) as caught:
        policy.parse(document, BUCKET)
    return str(caught.value)


def _statement(**extra: object) -> dict[str, object]:
    return {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
            **extra}


@pytest.mark.parametrize("document", [
    '{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", '
    f'"Resource": "arn:aws:s3:::{BUCKET}/*", "Condition": {{"NumericLessThan": {{"s3:signatureAge": NaN}}}}}}}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", '
    f'"Resource": "arn:aws:s3:::{BUCKET}/*", "Condition": {{"NumericLessThan": {{"s3:max-keys": -Infinity}}}}}}}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", '
    f'"Resource": "arn:aws:s3:::{BUCKET}/*", "Condition": {{"NumericLessThan": {{"s3:max-keys": 1e999}}}}}}}}',
    _doc(_statement(Condition={"NumericGreaterThan": {"s3:signatureAge": "nan"}})),
    _doc(_statement(Condition={"NumericGreaterThan": {"s3:signatureAge": ["10", "Infinity"]}})),
    _doc(_statement(Condition={"NumericEquals": {"s3:max-keys": "1_000"}})),
    _doc(_statement(Condition={"NumericEquals": {"s3:max-keys": " 10"}})),
    _doc(_statement(Condition={"DateGreaterThan": {"aws:CurrentTime": "99999999999999999999"}})),
    _doc(_statement(Condition={"DateLessThan": {"aws:EpochTime": "-99999999999999999999"}})),
    _doc(_statement(Condition={"DateLessThan": {"aws:EpochTime": "NaN"}})),
    _doc(_statement(Sid="\ud800")),
    _doc(_statement(Condition={"StringEquals": {"aws:Referer": "https://x/\udfff"}})),
    _doc(_statement(Condition={"StringLike": {"aws:UserAgent": ["ok", "a\ud83d"]}})),
])
def test_values_aws_refuses(document: str) -> None:
    assert _refused(document).startswith(("Invalid value", "Policies must be valid JSON"))


@pytest.mark.parametrize("condition", [
    {"NumericLessThan": {"s3:signatureAge": "600000"}}, {"NumericLessThan": {"s3:signatureAge": 600000}},
    {"NumericLessThan": {"s3:signatureAge": 1.5}}, {"NumericLessThan": {"s3:signatureAge": "-1.25"}},
    {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
    {"DateLessThan": {"aws:EpochTime": "1893456000"}}, {"DateLessThan": {"aws:EpochTime": 253402300799}},
    {"StringEquals": {"aws:Referer": "https://example.com/😀"}},
])
def test_values_aws_accepts(condition: dict[str, object]) -> None:
    policy.parse(_doc(_statement(Sid="emoji😀", Condition=condition)), BUCKET)


def test_a_nan_request_value_is_no_number() -> None:
    """A request that supplies ``nan`` (``max-keys=nan``) compares as nothing, never as a number."""
    assert policy._number("nan") is None and policy._number("inf") is None and policy._number("12") == 12.0


# --- user principals: resolved to unique ids ----------------------------------------------------------------------
DAVE_ID = "d" * 32
USERS = {(ACCOUNT, "dave"): DAVE_ID}


def _by_name(account: str, name: str) -> str | None:
    return USERS.get((account, name))


def _by_id(user_id: str) -> tuple[str, str] | None:
    return next(((a, n) for (a, n), i in USERS.items() if i == user_id), None)


def _named(principal: object) -> str:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{BUCKET}/*"})


def test_resolve_replaces_user_arns_by_unique_ids() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/dave"
    stored = policy.resolve(_named({"AWS": [arn, "*"]}), BUCKET, _by_name, _by_id)
    assert json.loads(stored)["Statement"][0]["Principal"] == {"AWS": ["AIDA" + DAVE_ID.upper(), "*"]}
    dave = policy.Caller(DAVE_ID, ACCOUNT, "dave")
    later_dave = policy.Caller("e" * 32, ACCOUNT, "dave")  # the name again, another user
    query = policy.Query("s3:GetObject", f"arn:aws:s3:::{BUCKET}/k", dave, None)
    only_dave = policy.parse(policy.resolve(_named({"AWS": arn}), BUCKET, _by_name, _by_id), BUCKET)
    assert policy.evaluate(only_dave, query) == "allow"
    assert policy.evaluate(only_dave, policy.Query("s3:GetObject", query.resource, later_dave, None)) is None
    assert policy.display(stored, _by_id) == json.dumps(json.loads(_named({"AWS": [arn, "*"]})), ensure_ascii=False,
                                                        separators=(",", ":"))
    assert "AIDA" + DAVE_ID.upper() in policy.display(stored, lambda _: None)  # deleted: its unique id


def test_resolve_leaves_other_documents_byte_for_byte() -> None:
    document = _named({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT]}).replace(",", " ,")
    assert policy.resolve(document, BUCKET, _by_name, _by_id) == document
    assert policy.display(document, _by_id) == document


@pytest.mark.parametrize("ident", [f"arn:aws:iam::{ACCOUNT}:user/Dave", f"arn:aws:iam::{ACCOUNT}:user/eve",
                                   f"arn:aws:iam::{'b' * 32}:user/dave", "AIDA" + "E" * 32])
def test_resolve_refuses_unknown_users(ident: str) -> None:
    with pytest.raises(MalformedPolicy, match="Invalid principal in policy"):
        policy.resolve(_named({"AWS": ident}), BUCKET, _by_name, _by_id)

