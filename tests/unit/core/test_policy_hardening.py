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
