"""Presigned POST forms built by boto3's generate_presigned_post (V4 and V2) verify; tampering fails."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.config import Config

from satchel.core.errors import (
    AccessDenied,
    AuthorizationQueryParametersError,
    EntityTooLarge,
    EntityTooSmall,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidPolicyDocument,
    SatchelError,
    SignatureDoesNotMatch,
)
from satchel.signing.post_policy import ContentLengthRange, decode_policy, verify_post_form
from tests.unit.signing import botocore_oracle as bo

Form = dict[str, str]


def lookup(akid: str) -> str:
    if akid != bo.ACCESS_KEY:
        raise InvalidAccessKeyId(AWSAccessKeyId=akid)
    return bo.SECRET


def presigned_post(
    version: str, key: str = "uploads/a.txt", fields: Form | None = None, conditions: list[Any] | None = None
) -> Form:
    config = Config(signature_version="s3v4") if version == "v4" else None
    client = boto3.client(
        "s3", endpoint_url=bo.ENDPOINT, region_name=bo.REGION, aws_access_key_id=bo.ACCESS_KEY,
        aws_secret_access_key=bo.SECRET, config=config,
    )  # fmt: skip
    with (
        mock.patch("botocore.signers.get_current_datetime", return_value=bo.frozen()),
        mock.patch("botocore.auth.get_current_datetime", return_value=bo.frozen()),
    ):
        post = client.generate_presigned_post("bucket", key, Fields=fields, Conditions=conditions, ExpiresIn=3600)
    assert post["url"] == f"{bo.ENDPOINT}/bucket"
    return dict(post["fields"])


RICH_FIELDS = {"acl": "public-read", "Content-Type": "image/png", "x-amz-meta-owner": "alice"}
RICH_CONDITIONS: list[Any] = [
    {"acl": "public-read"},
    ["starts-with", "$Content-Type", "image/"],
    {"x-amz-meta-owner": "alice"},
    ["content-length-range", 10, 1000],
]


def verify(form: Form, now: float = bo.NOW + 60, filename: str | None = None) -> Any:
    return verify_post_form(form, bucket="bucket", region=bo.REGION, now=now, lookup_secret=lookup, filename=filename)


@pytest.mark.parametrize("version", ["v4", "v2"])
def test_boto3_forms_verify(version: str) -> None:
    form = presigned_post(version, fields=RICH_FIELDS, conditions=RICH_CONDITIONS)
    assert ("x-amz-signature" in form) is (version == "v4")
    result = verify(form)
    assert result.version == version
    assert result.access_key_id == bo.ACCESS_KEY
    assert result.content_length_range == ContentLengthRange(10, 1000)
    assert result.fields["content-type"] == "image/png"


@pytest.mark.parametrize("version", ["v4", "v2"])
def test_filename_placeholder(version: str) -> None:
    form = presigned_post(version, key="uploads/${filename}")
    assert verify(form, filename="C:\\Users\\me\\photo.jpg").fields["key"] == "uploads/photo.jpg"
    with pytest.raises(AccessDenied):
        verify({**form, "key": "elsewhere/${filename}"}, filename="photo.jpg")


def test_field_names_are_case_insensitive_and_x_ignore_is_exempt() -> None:
    form = presigned_post("v4", fields=RICH_FIELDS, conditions=RICH_CONDITIONS)
    form = {name.upper() if name != "policy" else "Policy": value for name, value in form.items()}
    verify({**form, "x-ignore-tracking": "1"})


def with_(name: str, value: str | None) -> Callable[[Form], Form]:
    def apply(form: Form) -> Form:
        out = {k: v for k, v in form.items() if k.lower() != name.lower()}
        if value is not None:
            out[name] = value
        return out

    return apply


def other_policy(form: Form) -> Form:
    document = json.loads(base64.b64decode(form["policy"]))
    document["conditions"].append(["starts-with", "$key", ""])
    return {**form, "policy": base64.b64encode(json.dumps(document).encode()).decode()}


TAMPER_ROWS = [
    ("key", with_("key", "uploads/b.txt"), AccessDenied,
     'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/a.txt"]'),
    ("content-type", with_("Content-Type", "text/html"), AccessDenied,
     'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]'),
    ("missing-conditioned-field", with_("acl", None), AccessDenied,
     'Policy Condition failed: ["eq", "$acl", "public-read"]'),
    ("extra-field", with_("x-amz-meta-extra", "1"), AccessDenied,
     "Invalid according to Policy: Extra input fields: x-amz-meta-extra"),
    ("policy-swapped", other_policy, SignatureDoesNotMatch, ""),
    ("signature", with_("x-amz-signature", "0" * 64), SignatureDoesNotMatch, ""),
    ("no-signature", with_("x-amz-signature", None), InvalidArgument,
     "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of "
     "the fields."),
    ("no-key", with_("key", None), InvalidArgument, "Bucket POST must contain a field named 'key'."),
    ("wrong-region", lambda f: {**f, "x-amz-credential": f["x-amz-credential"].replace("us-east-1", "eu-west-1")},
     AuthorizationQueryParametersError, "the region 'eu-west-1' is wrong; expecting 'us-east-1'"),
    ("unknown-key", lambda f: {**f, "x-amz-credential": f["x-amz-credential"].replace(bo.ACCESS_KEY, "AKIANOBODY")},
     InvalidAccessKeyId, ""),
    ("algorithm", with_("x-amz-algorithm", "AWS4-HMAC-SHA1"), InvalidArgument, "X-Amz-Algorithm only supports"),
    ("date", with_("x-amz-date", "2024-05-01"), InvalidArgument, "X-Amz-Date must be in the ISO8601 Long Format"),
]  # fmt: skip


@pytest.mark.parametrize(("tamper", "error", "message"), [r[1:] for r in TAMPER_ROWS], ids=[r[0] for r in TAMPER_ROWS])
def test_tampered_v4_forms_fail(tamper: Callable[[Form], Form], error: type[SatchelError], message: str) -> None:
    form = presigned_post("v4", fields=RICH_FIELDS, conditions=RICH_CONDITIONS)
    verify(form)
    with pytest.raises(error) as caught:
        verify(tamper(form))
    assert message in caught.value.message


def test_tampered_v2_forms_fail() -> None:
    form = presigned_post("v2", fields=RICH_FIELDS, conditions=RICH_CONDITIONS)
    with pytest.raises(SignatureDoesNotMatch):
        verify(other_policy(form))
    with pytest.raises(InvalidArgument, match="AWSAccessKeyId"):
        verify(with_("AWSAccessKeyId", None)(form))
    with pytest.raises(AccessDenied, match="Extra input fields: x-amz-date"):
        verify({**form, "x-amz-date": "20240501T120000Z"})


@pytest.mark.parametrize("version", ["v4", "v2"])
def test_expired_policy(version: str) -> None:
    form = presigned_post(version)
    verify(form, now=bo.NOW + 3600)
    with pytest.raises(AccessDenied) as caught:
        verify(form, now=bo.NOW + 3601)
    assert caught.value.message == "Invalid according to Policy: Policy expired."


def policy_b64(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


EXP = "2024-05-01T13:00:00Z"
POLICY_ROWS = [
    ("two-property-simple", {"expiration": EXP, "conditions": [{"a": "1", "b": "2"}]},
     "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
    ("no-expiration", {"conditions": []}, "Invalid Policy: Policy missing expiration."),
    ("no-conditions", {"expiration": EXP}, "Invalid Policy: Policy missing conditions."),
    ("bad-expiration", {"expiration": "soon", "conditions": []}, "Invalid Policy: Invalid 'expiration' value: 'soon'"),
    ("starts-with-bucket", {"expiration": EXP, "conditions": [["starts-with", "$bucket", "b"]]},
     "'starts-with' is not supported for field '$bucket'"),
    ("unknown-operator", {"expiration": EXP, "conditions": [["ends-with", "$key", "x"]]}, "Invalid Condition"),
    ("bad-range", {"expiration": EXP, "conditions": [["content-length-range", "a", 5]]}, "content-length-range"),
    ("not-json", "not json", "Invalid Policy: Invalid JSON."),
    ("not-an-object", ["expiration"], "Invalid Policy: Invalid JSON."),
    ("numeric-expiration", {"expiration": 1714568400, "conditions": []}, "Invalid 'expiration' value"),
    # ISO 8601 as AWS writes it, nothing looser (ceph s3-tests test_post_object_invalid_date_format: str(datetime)).
    ("space-expiration", {"expiration": "2024-05-01 13:00:00.123456+00:00", "conditions": []},
     "Invalid 'expiration' value"),
    ("date-only-expiration", {"expiration": "2024-05-01", "conditions": []}, "Invalid 'expiration' value"),
    ("basic-format-expiration", {"expiration": "20240501T130000Z", "conditions": []}, "Invalid 'expiration' value"),
    ("no-seconds-expiration", {"expiration": "2024-05-01T13:00Z", "conditions": []}, "Invalid 'expiration' value"),
    ("non-string-simple", {"expiration": EXP, "conditions": [{"acl": 1}]}, "Invalid Simple-Condition"),
    ("non-string-operator", {"expiration": EXP, "conditions": [[1, "$key", "x"]]}, "Invalid Condition"),
    ("field-without-dollar", {"expiration": EXP, "conditions": [["eq", "key", "x"]]}, "must start with '$'"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "message"), [r[1:] for r in POLICY_ROWS], ids=[r[0] for r in POLICY_ROWS])
def test_policy_document_errors(document: object, message: str) -> None:
    text = "bm90IGpzb24=" if document == "not json" else policy_b64(document)
    with pytest.raises(InvalidPolicyDocument) as caught:
        decode_policy(text)
    assert message in caught.value.message


def test_boto3_policy_with_bad_simple_condition_is_refused_after_its_signature() -> None:
    form = presigned_post("v4", conditions=[{"acl": "private", "x": "y"}])
    with pytest.raises(InvalidPolicyDocument, match="exactly one property"):
        verify(form)


def test_content_length_range() -> None:
    limits = ContentLengthRange(10, 1000)
    limits.check(10)
    limits.check(5, final=False)  # still streaming: too small is only known at the end
    with pytest.raises(EntityTooLarge) as large:
        limits.check(1001, final=False)
    assert large.value.extra == {"ProposedSize": "1001", "MaxSizeAllowed": "1000"}
    with pytest.raises(EntityTooSmall) as small:
        limits.check(9)
    assert small.value.extra == {"ProposedSize": "9", "MinSizeAllowed": "10"}


def test_expiration_without_zone_is_utc() -> None:
    policy = decode_policy(policy_b64({"expiration": "2024-05-01T13:00:00.000", "conditions": []}))
    assert policy.expiration == bo.NOW + 3600
