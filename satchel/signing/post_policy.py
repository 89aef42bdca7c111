"""Presigned POST (browser form upload): policy decoding, signature and condition checks.

A client (boto3 ``generate_presigned_post``, ``mc share upload``, our API) signs a base64 JSON policy::

    {"expiration": "2026-01-01T12:00:00Z",
     "conditions": [{"bucket": "photos"}, ["starts-with", "$key", "uploads/"],
                    ["content-length-range", 1, 10485760], {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, ...]}

and the browser posts it as multipart/form-data with ``key``, ``policy`` and either the V4 fields
(``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``, ``x-amz-signature``; signature is
``hex(HMAC(kSigning, policy))``) or the V2 fields (``AWSAccessKeyId``, ``signature``; signature is
``base64(HMAC-SHA1(secret, policy))``). Spec: sigv4-HTTPPOSTConstructPolicy.html and HTTPPOSTForms.md.

:func:`verify_post_form` runs, in MinIO's order: signature fields → policy decoding → signature →
expiration → conditions → every field covered. Field names are case-insensitive, values are not.
``${filename}`` in ``key`` is replaced by the uploaded file's base name before conditions are checked
(pass ``filename``). The ``content-length-range`` comes back in the result, for the upload to enforce
with :meth:`ContentLengthRange.check` while it streams. Anonymous POST (no policy, no signature) is the
caller's decision and never reaches this module.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from satchel.core.errors import (
    AccessDenied,
    EntityTooLarge,
    EntityTooSmall,
    InvalidArgument,
    InvalidPolicyDocument,
    SignatureDoesNotMatch,
)
from satchel.signing import sigv2
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.parse import parse_amz_date, parse_credential
from satchel.signing.sigv4.verify import SecretLookup

# Fields that are never matched against the policy (the signature cannot sign itself).
EXEMPT_FIELDS = frozenset({"x-amz-signature", "signature", "file", "policy"})
# starts-with is refused where only an exact value makes sense (MinIO's startsWithConds, AWS's
# "success_action_status must be exact", tagging is XML).
NO_STARTS_WITH = frozenset(
    {"bucket", "success_action_status", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "tagging"}
)
_POLICY_FAILED = "Invalid according to Policy: Policy Condition failed: "


@dataclass(frozen=True, slots=True)
class ContentLengthRange:
    minimum: int
    maximum: int

    def check(self, size: int, *, final: bool = True) -> None:
        """Raise once the upload is too large (call as bytes arrive) or, at the end, too small."""
        if size > self.maximum:
            raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(self.maximum))
        if final and size < self.minimum:
            raise EntityTooSmall(ProposedSize=str(size), MinSizeAllowed=str(self.minimum))


@dataclass(frozen=True, slots=True)
class Condition:
    operator: str  # "eq" | "starts-with"
    field: str  # lower-case, without "$"
    value: str
    #: The field as the policy spelled it, for error messages (AWS quotes the policy's own text).
    written: str = ""

    def describe(self) -> str:
        return json.dumps([self.operator, f"${self.written or self.field}", self.value])


@dataclass(frozen=True, slots=True)
class PostPolicy:
    expiration: float
    conditions: tuple[Condition, ...]
    content_length_range: ContentLengthRange | None


@dataclass(frozen=True, slots=True)
class PostFormResult:
    access_key_id: str
    version: str  # "v4" | "v2"
    policy: PostPolicy
    fields: Mapping[str, str]  # lower-case names, ${filename} substituted
    #: The signer's x-amz-date (V4; bounded by the caller like any client-dated issue time).
    issued_at: float | None = None
    #: V2 forms carry no date: a hash naming the form, whose first sighting stands in for it.
    fingerprint: str | None = None

    @property
    def content_length_range(self) -> ContentLengthRange | None:
        return self.policy.content_length_range


def _invalid(detail: str) -> InvalidPolicyDocument:
    return InvalidPolicyDocument(f"Invalid Policy: {detail}")


#: ISO 8601 as the POST policy's ``expiration`` must be written (``2007-12-01T12:00:00.000Z``): a full date
#: and time with seconds, ``T`` between them (no zone: UTC). Python's ``fromisoformat`` alone would also take
#: ``str(datetime)`` (a space for ``T``), a bare date or the basic format, which AWS refuses (ceph s3-tests
#: ``test_post_object_invalid_date_format``).
_ISO8601 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?")


def _parse_expiration(value: Any) -> float:
    if not isinstance(value, str) or not _ISO8601.fullmatch(value):
        raise _invalid(f"Invalid 'expiration' value: '{value}'")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"Invalid 'expiration' value: '{value}'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


#: An unsigned decimal as the policy's JSON may spell it: ASCII digits, bounded (int() refuses "²" and
#: strings of more than 4300 digits).
_DECIMAL = re.compile(r"[0-9]{1,19}")


def _length_bound(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not _DECIMAL.fullmatch(str(value)):
        raise _invalid("Invalid content-length-range condition.")
    return int(value)


def _parse_condition(raw: Any) -> Condition | ContentLengthRange:
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise _invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
        ((name, value),) = raw.items()
        if not isinstance(value, str):
            raise _invalid(f"Invalid Simple-Condition: value of {name} must be a string.")
        return Condition("eq", name.lower().removeprefix("$"), value, name.removeprefix("$"))
    if isinstance(raw, list) and raw and isinstance(raw[0], str):
        operator = raw[0].lower()
        if operator == "content-length-range" and len(raw) == 3:
            low, high = _length_bound(raw[1]), _length_bound(raw[2])
            return ContentLengthRange(low, high)
        if operator in ("eq", "starts-with") and len(raw) == 3 and all(isinstance(v, str) for v in raw[1:]):
            name, value = raw[1], raw[2]
            if not name.startswith("$"):
                raise _invalid(f"Invalid Condition: field name must start with '$': {name}")
            field = name[1:].lower()
            if operator == "starts-with" and field in NO_STARTS_WITH:
                raise _invalid(f"Invalid Condition: 'starts-with' is not supported for field '{name}'.")
            return Condition(operator, field, value, name[1:])
    raise _invalid(f"Invalid Condition: {json.dumps(raw)}")


def decode_policy(policy_b64: str) -> PostPolicy:
    """Base64 JSON → typed policy; any structural fault is InvalidPolicyDocument (400)."""
    try:
        document = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise _invalid("Invalid JSON.")
    if "expiration" not in document:
        raise _invalid("Policy missing expiration.")
    if not isinstance(document.get("conditions"), list):
        raise _invalid("Policy missing conditions.")
    conditions: list[Condition] = []
    length: ContentLengthRange | None = None
    for raw in document["conditions"]:
        parsed = _parse_condition(raw)
        if isinstance(parsed, ContentLengthRange):
            length = parsed
        else:
            conditions.append(parsed)
    return PostPolicy(_parse_expiration(document["expiration"]), tuple(conditions), length)


def _require(fields: Mapping[str, str], name: str, display: str) -> str:
    value = fields.get(name)
    if not value:
        raise InvalidArgument(
            f"Bucket POST must contain a field named '{display}'.  If it is specified, please check the order of "
            "the fields.",
            ArgumentName=display,
            ArgumentValue="",
        )
    return value


def _verify_v4(fields: Mapping[str, str], region: str, lookup_secret: SecretLookup) -> tuple[str, float]:
    provided = _require(fields, "x-amz-signature", "X-Amz-Signature")
    algorithm = _require(fields, "x-amz-algorithm", "X-Amz-Algorithm")
    credential_text = _require(fields, "x-amz-credential", "X-Amz-Credential")
    amz_date = _require(fields, "x-amz-date", "X-Amz-Date")
    policy = _require(fields, "policy", "Policy")
    if algorithm != c.ALGORITHM:
        raise InvalidArgument(f'X-Amz-Algorithm only supports "{c.ALGORITHM}"', ArgumentName="X-Amz-Algorithm")
    credential = parse_credential(credential_text, region=region, service="s3", query=True)
    issued_at = parse_amz_date(amz_date)
    if issued_at is None:
        raise InvalidArgument("X-Amz-Date must be in the ISO8601 Long Format", ArgumentName="X-Amz-Date")
    secret = lookup_secret(credential.access_key_id)
    key = c.signing_key(secret, credential.date, credential.region, credential.service)
    expected = c.sign(key, policy)
    # Constant time, as for every signature comparison.
    if not hmac.compare_digest(expected.encode("ascii"), provided.encode("utf-8", "replace")):
        raise SignatureDoesNotMatch(
            AWSAccessKeyId=credential.access_key_id, StringToSign=policy, SignatureProvided=provided
        )
    return credential.access_key_id, issued_at


def _verify_v2(fields: Mapping[str, str], lookup_secret: SecretLookup) -> str:
    access_key_id = _require(fields, "awsaccesskeyid", "AWSAccessKeyId")
    provided = _require(fields, "signature", "Signature")
    policy = _require(fields, "policy", "Policy")
    expected = sigv2.sign(lookup_secret(access_key_id), policy)
    if not hmac.compare_digest(expected.encode("ascii"), provided.encode("utf-8", "replace")):
        raise SignatureDoesNotMatch(AWSAccessKeyId=access_key_id, StringToSign=policy, SignatureProvided=provided)
    return access_key_id


def _holds(condition: Condition, value: str | None) -> bool:
    if condition.operator == "eq":
        return value == condition.value
    return (value or "").startswith(condition.value)


def check_conditions(policy: PostPolicy, fields: Mapping[str, str], *, bucket: str, now: float, version: str) -> None:
    """Expiration, then each condition in policy order, then the "every field covered" rule."""
    if now > policy.expiration:
        raise AccessDenied("Invalid according to Policy: Policy expired.")
    for condition in policy.conditions:
        value = bucket if condition.field == "bucket" else fields.get(condition.field)
        if not _holds(condition, value):
            raise AccessDenied(_POLICY_FAILED + condition.describe())
    covered = {condition.field for condition in policy.conditions}
    exempt = EXEMPT_FIELDS | ({"awsaccesskeyid"} if version == "v2" else set())
    for name in fields:
        if name not in covered and name not in exempt and not name.startswith("x-ignore-"):
            raise AccessDenied(f"Invalid according to Policy: Extra input fields: {name}")


def is_v4_form(fields: Mapping[str, str]) -> bool:
    return any(name in fields for name in ("x-amz-signature", "x-amz-algorithm", "x-amz-credential"))


def verify_post_form(
    form: Mapping[str, str],
    *,
    bucket: str,
    region: str,
    now: float,
    lookup_secret: SecretLookup,
    filename: str | None = None,
) -> PostFormResult:
    """Verify a POST form (every field but the file). ``lookup_secret`` raises InvalidAccessKeyId."""
    fields = {name.lower(): value for name, value in form.items()}
    issued_at: float | None = None
    fingerprint: str | None = None
    if is_v4_form(fields):
        version = "v4"
        access_key_id, issued_at = _verify_v4(fields, region, lookup_secret)
    else:
        version = "v2"
        access_key_id = _verify_v2(fields, lookup_secret)
        fingerprint = sigv2.fingerprint(access_key_id, fields["signature"])
    _require(fields, "key", "key")
    policy = decode_policy(fields["policy"])
    if filename is not None and "key" in fields:
        fields["key"] = fields["key"].replace("${filename}", filename.replace("\\", "/").rsplit("/", 1)[-1])
    check_conditions(policy, fields, bucket=bucket, now=now, version=version)
    return PostFormResult(access_key_id, version, policy, fields, issued_at, fingerprint)
