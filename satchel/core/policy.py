"""Bucket policies: the subset of AWS's IAM policy language Satchel parses, validates and evaluates.

Pure: no I/O. :func:`parse` turns a document into a :class:`Policy` or raises :class:`MalformedPolicy`
naming what is wrong (PutBucketPolicy's 400); :func:`evaluate` answers ``deny``, ``allow`` or None for one
request; ``core/access.py`` (rule 13) applies the answer; :func:`is_public` says whether a policy lets
anybody in (GetBucketPolicyStatus; PublicAccessBlock's BlockPublicPolicy / RestrictPublicBuckets).

The subset, all of it checked at PUT time — anything else is refused, never ignored:

- ``Version`` ``2012-10-17`` or ``2008-10-17`` (optional, as in AWS: absent means 2008-10-17); ``Id``;
  ``Statement``: one object or a list of them, each with an optional ``Sid`` (unique).
- ``Effect``: ``Allow`` or ``Deny``.
- ``Principal`` or ``NotPrincipal``: ``"*"``, ``{"AWS": "*"}``, ``{"AWS": [...]}`` and ``{"CanonicalUser":
  [...]}``. A Satchel user is ``arn:aws:iam::<account id>:user/<user name>`` and its canonical id is its user
  id; PutBucketPolicy resolves a user ARN to the user's unique id ``AIDA<USER ID>`` (:func:`resolve`), so it
  names that user, never a later one of the same name;
  ``arn:aws:iam::<account id>:root`` or the bare ``<account id>`` is every user of that account (Satchel
  has no IAM policies behind an account, so naming an account trusts all of its users). Anonymous requests
  are matched only by ``*``.
- ``Action`` / ``NotAction``: ``s3:`` actions (:data:`ACTIONS`) with ``*`` and ``?`` wildcards, or ``*``.
  A pattern that names no S3 action is refused.
- ``Resource`` / ``NotResource``: ``arn:aws:s3:::<bucket>`` and ``arn:aws:s3:::<bucket>/<key pattern>``
  of this bucket (wildcards allowed), or ``*``. Each statement must have an action that applies to one
  of its resources (AWS's "Action does not apply to any resource(s) in statement").
- ``Condition``: the operators of :data:`_OPERATORS` (String*, Numeric*, Date*, Bool, IpAddress,
  NotIpAddress, Arn*, Null), each with ``...IfExists`` (but Null) and the ``ForAnyValue:`` /
  ``ForAllValues:`` qualifiers, on the keys of :data:`KEYS`. Values are checked for their operator
  (numbers, ISO 8601 dates or epoch seconds, CIDRs, booleans).
- Policy variables (``${aws:username}``) are refused in a 2012-10-17 policy, not left unexpanded.

Evaluation is IAM's: a matching Deny wins; otherwise a matching Allow allows; otherwise the policy
says nothing and Satchel's own rules (ownership, grants, public flag) decide.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from satchel.core import wildcard
from satchel.core.errors import MalformedPolicy
from satchel.core.requestfacts import RequestFacts

#: AWS's limit on a bucket policy's size.
MAX_POLICY_BYTES = 20 * 1024
VERSIONS = frozenset({"2012-10-17", "2008-10-17"})

Decision = Literal["allow", "deny"]


#: S3 actions a bucket policy may name: bucket-level (resource ``arn:aws:s3:::bucket``) and object-level
#: (``arn:aws:s3:::bucket/key``), as AWS defines them. Naming one Satchel does not implement is allowed
#: (a policy written for AWS stays valid); it simply never matches a request here.
BUCKET_ACTIONS = frozenset({
    "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketCORS", "s3:PutBucketCORS",
    "s3:GetBucketAcl", "s3:PutBucketAcl", "s3:GetBucketVersioning", "s3:PutBucketVersioning",
    "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:GetBucketOwnershipControls",
    "s3:PutBucketOwnershipControls", "s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite",
    "s3:GetBucketLogging", "s3:PutBucketLogging", "s3:GetBucketNotification", "s3:PutBucketNotification",
    "s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration", "s3:GetBucketObjectLockConfiguration",
    "s3:PutBucketObjectLockConfiguration", "s3:GetAccelerateConfiguration", "s3:PutAccelerateConfiguration",
    "s3:GetBucketRequestPayment", "s3:PutBucketRequestPayment",
})
OBJECT_ACTIONS = frozenset({
    "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
    "s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetObjectVersionAcl", "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:GetObjectVersionTagging",
    "s3:PutObjectVersionTagging", "s3:DeleteObjectVersionTagging", "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts", "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes",
    "s3:RestoreObject", "s3:GetObjectRetention", "s3:PutObjectRetention", "s3:GetObjectLegalHold",
    "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention",
})
ACTIONS = BUCKET_ACTIONS | OBJECT_ACTIONS
_ACTIONS_LOWER = {action.lower(): action for action in ACTIONS}

#: Condition keys and the kind of value each has. Key names are case-insensitive, as in IAM.
KEYS: Mapping[str, str] = {
    "aws:sourceip": "ip",
    "aws:securetransport": "bool",
    "aws:currenttime": "date",
    "aws:epochtime": "date",
    "aws:referer": "string",
    "aws:useragent": "string",
    "aws:principalarn": "arn",
    "aws:principalaccount": "string",
    "aws:principaltype": "string",
    "aws:userid": "string",
    "aws:username": "string",
    "s3:authtype": "string",
    "s3:signatureversion": "string",
    "s3:signatureage": "numeric",
    "s3:prefix": "string",
    "s3:delimiter": "string",
    "s3:max-keys": "numeric",
    "s3:x-amz-acl": "string",
    "s3:x-amz-copy-source": "string",
    "s3:x-amz-metadata-directive": "string",
    "s3:x-amz-server-side-encryption": "string",
    "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn",
    "s3:x-amz-storage-class": "string",
    "s3:x-amz-content-sha256": "string",
    "s3:x-amz-grant-read": "string",
    "s3:x-amz-grant-write": "string",
    "s3:x-amz-grant-read-acp": "string",
    "s3:x-amz-grant-write-acp": "string",
    "s3:x-amz-grant-full-control": "string",
}
#: The S3 keys that are request headers of the same name (``s3:x-amz-acl`` is ``x-amz-acl``).
HEADER_KEYS = tuple(key[len("s3:"):] for key in KEYS if key.startswith("s3:x-amz-"))

_KINDS = ("string", "numeric", "date", "bool", "ip", "arn", "null")
#: Operator → (kind of values, negated).
_OPERATORS: Mapping[str, tuple[str, bool]] = {
    "StringEquals": ("string", False), "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string", False), "StringNotEqualsIgnoreCase": ("string", True),
    "StringLike": ("string", False), "StringNotLike": ("string", True),
    "NumericEquals": ("numeric", False), "NumericNotEquals": ("numeric", True),
    "NumericLessThan": ("numeric", False), "NumericLessThanEquals": ("numeric", False),
    "NumericGreaterThan": ("numeric", False), "NumericGreaterThanEquals": ("numeric", False),
    "DateEquals": ("date", False), "DateNotEquals": ("date", True),
    "DateLessThan": ("date", False), "DateLessThanEquals": ("date", False),
    "DateGreaterThan": ("date", False), "DateGreaterThanEquals": ("date", False),
    "Bool": ("bool", False),
    "IpAddress": ("ip", False), "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False), "ArnNotEquals": ("arn", True),
    "ArnLike": ("arn", False), "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}
#: Which operator kinds a key's values may be compared with (a string key with an IP operator is an error).
_COMPATIBLE = {
    "string": {"string"}, "numeric": {"numeric", "string"}, "date": {"date", "numeric", "string"},
    "bool": {"bool", "string"}, "ip": {"ip"}, "arn": {"arn", "string"},
}

_ACCOUNT_ID = r"[0-9a-f]{32}|[0-9]{12}"
_USER_ARN = re.compile(rf"arn:aws:iam::({_ACCOUNT_ID}):user/([A-Za-z0-9._@+=,-]{{1,64}})")
_ROOT_ARN = re.compile(rf"arn:aws:iam::({_ACCOUNT_ID}):root")
_ACCOUNT = re.compile(_ACCOUNT_ID)
_CANONICAL = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
#: A user's unique principal id, what a user ARN becomes when the policy is put (:func:`resolve`): AWS's
#: ``AIDA`` prefix and the user id, upper case (so it is never read as a 32-hex account id).
UNIQUE_PREFIX = "AIDA"
_UNIQUE = re.compile(UNIQUE_PREFIX + r"[0-9A-F]{32}")
_ARN = re.compile(r"arn:[^:]*:[^:]*:[^:]*:[^:]*:.+")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, in the terms principals and ``aws:Principal*`` keys use; None fields: anonymous."""

    user_id: str | None = None
    account_id: str | None = None
    user_name: str | None = None

    @property
    def arn(self) -> str | None:
        if self.user_id is None:
            return None
        return f"arn:aws:iam::{self.account_id}:user/{self.user_name}"


@dataclass(frozen=True, slots=True)
class Condition:
    operator: str  # the base operator, without IfExists or a set qualifier
    key: str  # lower case
    values: tuple[str, ...]
    if_exists: bool = False
    qualifier: str | None = None  # "ForAnyValue", "ForAllValues"


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str | None
    allow: bool
    #: Principal identifiers ("*", user ARNs, account ids, canonical ids); None when the statement has none.
    principals: tuple[str, ...] | None
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    id: str | None
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Query:
    """One request as a policy sees it: the IAM action (None: an action no S3 name covers, matched only by
    ``*`` and ``s3:*``), the resource ARN, the caller and the request's facts."""

    action: str | None
    resource: str
    caller: Caller
    facts: RequestFacts | None


#: S3 operation → (the access action it is checked as, the IAM action a policy names it by). A check of
#: another access action within the operation (a copy reading its source) takes that action's default.
OPERATIONS: Mapping[str, tuple[str, str]] = {
    "HeadBucket": ("bucket-read", "s3:ListBucket"),
    "ListObjects": ("bucket-read", "s3:ListBucket"),
    "ListObjectsV2": ("bucket-read", "s3:ListBucket"),
    "ListMultipartUploads": ("bucket-read", "s3:ListBucketMultipartUploads"),
    "GetBucketLocation": ("bucket-read", "s3:GetBucketLocation"),
    "GetBucketVersioning": ("bucket-read", "s3:GetBucketVersioning"),
    "PutBucketVersioning": ("bucket-admin", "s3:PutBucketVersioning"),
    "ListObjectVersions": ("bucket-read", "s3:ListBucketVersions"),
    "GetObjectVersion": ("object-read", "s3:GetObjectVersion"),
    "GetObjectVersionAcl": ("acl-read", "s3:GetObjectVersionAcl"),
    "PutObjectVersionAcl": ("acl-write", "s3:PutObjectVersionAcl"),
    "GetObjectVersionTagging": ("object-tags-read", "s3:GetObjectVersionTagging"),
    "PutObjectVersionTagging": ("object-write", "s3:PutObjectVersionTagging"),
    "DeleteObjectVersionTagging": ("object-write", "s3:DeleteObjectVersionTagging"),
    "DeleteObjectVersion": ("object-version-delete", "s3:DeleteObjectVersion"),
    "GetBucketAcl": ("acl-read", "s3:GetBucketAcl"),
    "PutBucketAcl": ("acl-write", "s3:PutBucketAcl"),
    "GetPublicAccessBlock": ("bucket-admin", "s3:GetBucketPublicAccessBlock"),
    "PutPublicAccessBlock": ("bucket-admin", "s3:PutBucketPublicAccessBlock"),
    "DeletePublicAccessBlock": ("bucket-admin", "s3:PutBucketPublicAccessBlock"),
    "DeleteBucket": ("bucket-admin", "s3:DeleteBucket"),
    "GetBucketCors": ("bucket-admin", "s3:GetBucketCORS"),
    "PutBucketCors": ("bucket-admin", "s3:PutBucketCORS"),
    "DeleteBucketCors": ("bucket-admin", "s3:PutBucketCORS"),
    "GetBucketPolicy": ("bucket-admin", "s3:GetBucketPolicy"),
    "PutBucketPolicy": ("bucket-admin", "s3:PutBucketPolicy"),
    "DeleteBucketPolicy": ("bucket-admin", "s3:DeleteBucketPolicy"),
    "GetBucketPolicyStatus": ("bucket-admin", "s3:GetBucketPolicyStatus"),
    "GetObject": ("object-read", "s3:GetObject"),
    "HeadObject": ("object-read", "s3:GetObject"),
    "GetObjectAcl": ("acl-read", "s3:GetObjectAcl"),
    "PutObjectAcl": ("acl-write", "s3:PutObjectAcl"),
    "PutObject": ("object-write", "s3:PutObject"),
    "CopyObject": ("object-write", "s3:PutObject"),
    "PostObject": ("object-write", "s3:PutObject"),
    "DeleteObject": ("object-write", "s3:DeleteObject"),
    "DeleteObjects": ("object-write", "s3:DeleteObject"),
    "CreateMultipartUpload": ("object-write", "s3:PutObject"),
    "UploadPart": ("object-write", "s3:PutObject"),
    "UploadPartCopy": ("object-write", "s3:PutObject"),
    "CompleteMultipartUpload": ("object-write", "s3:PutObject"),
    "AbortMultipartUpload": ("object-write", "s3:AbortMultipartUpload"),
    "ListParts": ("object-write", "s3:ListMultipartUploadParts"),
    "GetObjectTagging": ("object-tags-read", "s3:GetObjectTagging"),
    "PutObjectTagging": ("object-write", "s3:PutObjectTagging"),
    "DeleteObjectTagging": ("object-write", "s3:DeleteObjectTagging"),
    "GetBucketTagging": ("bucket-admin", "s3:GetBucketTagging"),
    "PutBucketTagging": ("bucket-admin", "s3:PutBucketTagging"),
    "DeleteBucketTagging": ("bucket-admin", "s3:PutBucketTagging"),  # AWS: DeleteBucketTagging needs this one
    "GetBucketLifecycleConfiguration": ("bucket-admin", "s3:GetLifecycleConfiguration"),
    "PutBucketLifecycleConfiguration": ("bucket-admin", "s3:PutLifecycleConfiguration"),
    "DeleteBucketLifecycle": ("bucket-admin", "s3:PutLifecycleConfiguration"),
    "GetBucketEncryption": ("bucket-admin", "s3:GetEncryptionConfiguration"),
    "PutBucketEncryption": ("bucket-admin", "s3:PutEncryptionConfiguration"),
    "DeleteBucketEncryption": ("bucket-admin", "s3:PutEncryptionConfiguration"),
}
#: An access action checked outside any S3 operation (Swift, PARs, the management API) or within another
#: (a copy's source): the IAM action it stands for. BUCKET_ADMIN has none: only ``*`` and ``s3:*`` name it.
DEFAULT_ACTIONS: Mapping[str, str] = {
    "bucket-read": "s3:ListBucket",
    "object-read": "s3:GetObject",
    "object-tags-read": "s3:GetObjectTagging",  # the x-amz-tagging-count of a read
    "object-write": "s3:PutObject",
    "object-version-delete": "s3:DeleteObjectVersion",
}
#: The IAM actions of the policy operations: whoever controls the bucket is never denied these, so a
#: policy cannot lock its bucket's owner out of changing it (as AWS keeps them for the owning account).
POLICY_ACTIONS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                            "s3:GetBucketPolicyStatus"})


def iam_action(access_action: str, operation: str | None) -> str | None:
    """The IAM action an access check within ``operation`` stands for (None: only ``*``/``s3:*`` name it)."""
    known = OPERATIONS.get(operation or "")
    if known is not None and known[0] == access_action:
        return known[1]
    return DEFAULT_ACTIONS.get(access_action)


# --- parsing ------------------------------------------------------------------------------------------------
def parse(document: str | bytes, bucket: str) -> Policy:
    """Validate ``document`` as a policy of ``bucket``; MalformedPolicy names the first thing wrong."""
    raw = document.encode() if isinstance(document, str) else document
    if len(raw) > MAX_POLICY_BYTES:
        raise MalformedPolicy(f"Policy exceeds the maximum allowed document size ({MAX_POLICY_BYTES} bytes).")
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPolicy(f"Policies must be valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedPolicy("Policies must be valid JSON: nested too deeply.") from None
    if not isinstance(data, dict):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    _no_lone_surrogates(data)
    _only(data, {"Version", "Id", "Statement"}, "the policy")
    version = data.get("Version", "2008-10-17")
    if not isinstance(version, str) or version not in VERSIONS:
        raise MalformedPolicy(f"The policy's Version {version!r} is not one of {', '.join(sorted(VERSIONS))}.")
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise MalformedPolicy("The policy's Id must be a string.")
    raw_statements = data.get("Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise MalformedPolicy("Missing required field Statement")
    statements = tuple(_statement(item, bucket, version, n) for n, item in enumerate(raw_statements, 1))
    sids = [s.sid for s in statements if s.sid is not None]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique.")
    return Policy(version, policy_id, statements)


@functools.lru_cache(maxsize=512)
def compiled(document: str, bucket: str) -> Policy:
    """:func:`parse`, remembered: a stored policy is parsed once per worker, not once per request."""
    return parse(document, bucket)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise MalformedPolicy(f"The policy names {key!r} twice in one object.")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    """JSON's non-standard ``NaN``/``Infinity`` (Python's json accepts them): AWS refuses them, and a NaN
    Numeric condition is a Deny that can never fire."""
    raise MalformedPolicy(f"Policies must be valid JSON: {name} is not a JSON number.")


def _no_lone_surrogates(data: Any) -> None:
    """A ``\\ud800`` escape decodes to half a UTF-16 pair, which no UTF-8 text (Sid, value, log line, the
    stored document) can hold; AWS refuses it. Walked without recursion: JSON nests deep."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedPolicy("Policies must be valid JSON: a string holds a lone UTF-16 surrogate.") \
                    from None


def _only(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise MalformedPolicy(f"Unknown field {unknown[0]} in {where}.")


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise MalformedPolicy(f"{what} must be a non-empty string or list of strings.")
    return tuple(items)


def _one_of(item: Mapping[str, Any], name: str, where: str) -> tuple[Any, bool]:
    """(value, negated) for ``name`` / ``Not<name>``: exactly one of them."""
    plain, negated = item.get(name), item.get("Not" + name)
    if plain is not None and negated is not None:
        raise MalformedPolicy(f"{where} has both {name} and Not{name}.")
    return (negated, True) if negated is not None else (plain, False)


def _statement(item: Any, bucket: str, version: str, n: int) -> Statement:
    where = f"statement {n}"
    if not isinstance(item, dict):
        raise MalformedPolicy(f"{where} is not an object.")
    _only(item, {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                 "NotResource", "Condition"}, where)
    sid = item.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            raise MalformedPolicy(f"The Sid of {where} must be a string.")
        where = f"statement {sid!r}"
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Invalid effect in {where}: {effect!r} (Allow or Deny).")
    principal, not_principal = _one_of(item, "Principal", where)
    if principal is None:
        raise MalformedPolicy(f"Missing required field Principal in {where}.")
    action, not_action = _one_of(item, "Action", where)
    if action is None:
        raise MalformedPolicy(f"Missing required field Action in {where}.")
    resource, not_resource = _one_of(item, "Resource", where)
    if resource is None:
        raise MalformedPolicy(f"Missing required field Resource in {where}.")
    actions = tuple(_action(a, where) for a in _strings(action, f"Action of {where}"))
    resources = tuple(_resource(r, bucket, where) for r in _strings(resource, f"Resource of {where}"))
    if version == "2012-10-17":
        for value in (*actions, *resources):
            if "${" in value:
                raise MalformedPolicy(f"Policy variables such as {value!r} are not supported ({where}).")
    if not not_action and not not_resource and not _applies(actions, resources):
        raise MalformedPolicy(f"Action does not apply to any resource(s) in {where}.")
    return Statement(
        sid=sid, allow=effect == "Allow", principals=_principals(principal, where), not_principal=not_principal,
        actions=actions, not_action=not_action, resources=resources, not_resource=not_resource,
        conditions=_conditions(item.get("Condition"), where, version),
    )


def _principals(value: Any, where: str) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy(f"Invalid principal in {where}: use \"*\" or an object with AWS or CanonicalUser.")
    found: list[str] = []
    for kind, ids in value.items():
        if kind not in ("AWS", "CanonicalUser"):
            raise MalformedPolicy(f"Invalid principal in {where}: {kind} principals are not supported.")
        for ident in _strings(ids, f"Principal {kind} of {where}"):
            if kind == "AWS" and ident == "*":
                found.append("*")
            elif kind == "AWS" and (_USER_ARN.fullmatch(ident) or _ROOT_ARN.fullmatch(ident)
                                    or _ACCOUNT.fullmatch(ident) or _UNIQUE.fullmatch(ident)):
                found.append(ident)
            elif kind == "CanonicalUser" and _CANONICAL.fullmatch(ident):
                found.append("canonical:" + ident)
            else:
                raise MalformedPolicy(f"Invalid principal in {where}: {ident!r}.")
    return tuple(found)


def _action(value: str, where: str) -> str:
    if value == "*":
        return value
    if not value.lower().startswith("s3:"):
        raise MalformedPolicy(f"Policy has invalid action {value!r} in {where}: only s3: actions apply to a bucket.")
    if not any(wildcard.matches(value.lower(), name) for name in _ACTIONS_LOWER):
        raise MalformedPolicy(f"Policy has invalid action {value!r} in {where}.")
    return value


def _resource(value: str, bucket: str, where: str) -> str:
    if value == "*":
        return value
    if not value.startswith("arn:aws:s3:::"):
        raise MalformedPolicy(f"Policy has invalid resource {value!r} in {where}: expected arn:aws:s3:::{bucket}"
                              f" or arn:aws:s3:::{bucket}/<key>.")
    name = value[len("arn:aws:s3:::"):].split("/", 1)[0]
    if not wildcard.matches(name, bucket):
        raise MalformedPolicy(f"Policy has invalid resource {value!r} in {where}: it is outside bucket {bucket}.")
    return value


def _applies(actions: tuple[str, ...], resources: tuple[str, ...]) -> bool:
    """Some named action applies to some named resource (object actions to object ARNs, bucket actions
    to the bucket's ARN)."""
    kinds: set[str] = set()
    for resource in resources:
        if resource == "*":
            kinds |= {"bucket", "object"}
        else:
            rest = resource[len("arn:aws:s3:::"):]
            kinds.add("object" if "/" in rest else "bucket")
            if "/" not in rest and rest.endswith("*"):
                kinds.add("object")  # arn:aws:s3:::bucket* covers bucket/key too
    for action in actions:
        names = [a for low, a in _ACTIONS_LOWER.items() if action == "*" or wildcard.matches(action.lower(), low)]
        if any(("object" if a in OBJECT_ACTIONS else "bucket") in kinds for a in names):
            return True
    return False


def _conditions(value: Any, where: str, version: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise MalformedPolicy(f"The Condition of {where} must be an object.")
    found: list[Condition] = []
    for full_operator, block in value.items():
        qualifier, _, operator = full_operator.rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise MalformedPolicy(f"Invalid Condition type {full_operator!r} in {where}.")
        if_exists = operator.endswith("IfExists") and operator != "IfExists"
        base = operator[: -len("IfExists")] if if_exists else operator
        if base not in _OPERATORS or (if_exists and base == "Null"):
            raise MalformedPolicy(f"Invalid Condition type {full_operator!r} in {where}.")
        if not isinstance(block, dict) or not block:
            raise MalformedPolicy(f"Condition {full_operator} of {where} must map keys to values.")
        for key, raw in block.items():
            low = key.lower()
            if low not in KEYS:
                raise MalformedPolicy(f"Policy has an invalid condition key {key!r} in {where}.")
            kind = _OPERATORS[base][0]
            if kind != "null" and kind not in _COMPATIBLE[KEYS[low]]:
                raise MalformedPolicy(f"Condition {full_operator} cannot compare {key} in {where}.")
            values = _condition_values(raw, full_operator, key, where)
            for v in values:
                _check_value(kind, v, full_operator, where, version)
            found.append(Condition(base, low, values, if_exists, qualifier or None))
    return tuple(found)


def _condition_values(raw: Any, operator: str, key: str, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise MalformedPolicy(f"Condition {operator} on {key} in {where} has no value.")
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (int, float)):
            out.append(repr(item) if isinstance(item, float) else str(item))
        elif isinstance(item, str):
            out.append(item)
        else:
            raise MalformedPolicy(f"Condition {operator} on {key} in {where}: values are strings, numbers or "
                                  "booleans.")
    return tuple(out)


def _check_value(kind: str, value: str, operator: str, where: str, version: str) -> None:
    problem = {
        "numeric": lambda: _number(value) is None,
        "date": lambda: _date(value) is None,
        "bool": lambda: value.lower() not in ("true", "false"),
        "null": lambda: value.lower() not in ("true", "false"),
        "ip": lambda: _network(value) is None,
        "arn": lambda: not (_ARN.fullmatch(value) or value == "*"),
        "string": lambda: version == "2012-10-17" and "${" in value,
    }[kind]()
    if problem:
        raise MalformedPolicy(f"Invalid value {value!r} for condition {operator} in {where}.")


#: A number as IAM writes one: digits, an optional fraction and exponent — not Python's ``float()``, which
#: also takes ``nan``, ``inf``, ``1_000`` and surrounding blanks.
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")
#: Epoch seconds a date may be: 0001-01-01 to 9999-12-31, what a date is anywhere else.
_EPOCH_RANGE = (-62135596800.0, 253402300799.0)


def _number(value: str) -> float | None:
    """A finite number, or None (``nan`` never compares, so it must never be taken for a number)."""
    if not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _date(value: str) -> float | None:
    """ISO 8601 (``2026-12-07T00:00:00Z``, a date alone) or epoch seconds within years 1 to 9999, as IAM
    accepts (a 20-digit epoch is refused, not compared)."""
    number = _number(value)
    if number is not None:
        return number if _EPOCH_RANGE[0] <= number <= _EPOCH_RANGE[1] else None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


# --- user principals: resolved to unique ids at PUT time ------------------------------------------------------
def unique_id(user_id: str) -> str:
    return UNIQUE_PREFIX + user_id.upper()


#: (account id, user name) → the user's id, or None when the account has no such user.
UserByName = Callable[[str, str], str | None]
#: A user id → (account id, user name), or None once the user is gone.
UserById = Callable[[str], tuple[str, str] | None]


def resolve(document: str, bucket: str, user_by_name: UserByName, user_by_id: UserById) -> str:
    """The document to store: every ``arn:aws:iam::<account>:user/<name>`` principal replaced by that
    user's unique id, as AWS does when a policy is put — so a principal names the user, not the name: once
    the user is deleted it matches nobody, not a user created later under the same name. A user ARN that
    names no user (a typo, another case: ``user/Carol`` for ``carol``), or a unique id of a user that is
    gone, is refused with AWS's "Invalid principal in policy". ``document`` must have passed
    :func:`parse`; it comes back unchanged (byte for byte) when it names no user."""
    data = json.loads(document)
    changed = False

    def one(ident: str) -> str:
        nonlocal changed
        arn = _USER_ARN.fullmatch(ident)
        if arn is not None:
            user_id = user_by_name(arn.group(1), arn.group(2))
            if user_id is None:
                raise MalformedPolicy(f"Invalid principal in policy: no user {ident!r}.")
            changed = True
            return unique_id(user_id)
        if _UNIQUE.fullmatch(ident) and user_by_id(ident[len(UNIQUE_PREFIX):].lower()) is None:
            raise MalformedPolicy(f"Invalid principal in policy: no user with the unique id {ident!r}.")
        return ident

    _map_user_principals(data, one)
    if not changed:
        return document
    resolved = _dump(data)
    parse(resolved, bucket)  # what is stored must parse as what was put did (its size too)
    return resolved


def _dump(data: dict[str, Any]) -> str:
    """Compact, as short as JSON allows: a resolved policy must fit the size limit the original did."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def display(document: str, user_by_id: UserById) -> str:
    """What GetBucketPolicy shows: each unique id as its user's ARN again, while the user exists; a deleted
    user's principal stays its unique id (AWS's way of showing a principal that no longer exists)."""
    data = json.loads(document)
    changed = False

    def one(ident: str) -> str:
        nonlocal changed
        if not _UNIQUE.fullmatch(ident):
            return ident
        found = user_by_id(ident[len(UNIQUE_PREFIX):].lower())
        if found is None:
            return ident
        changed = True
        return f"arn:aws:iam::{found[0]}:user/{found[1]}"

    _map_user_principals(data, one)
    return _dump(data) if changed else document


def _map_user_principals(data: dict[str, Any], change: Callable[[str], str]) -> None:
    """Apply ``change`` to every ``AWS`` identifier of every Principal / NotPrincipal, in place."""
    statements = data.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        for field in ("Principal", "NotPrincipal"):
            named = statement.get(field) if isinstance(statement, dict) else None
            if not isinstance(named, dict) or "AWS" not in named:
                continue
            ids = named["AWS"]
            named["AWS"] = change(ids) if isinstance(ids, str) else [change(i) for i in ids]


# --- evaluation ---------------------------------------------------------------------------------------------
def evaluate(policy: Policy, query: Query, *, restrict_public: bool = False) -> Decision | None:
    """``deny`` when a Deny statement matches, else ``allow`` when an Allow does, else None.

    ``restrict_public``: PublicAccessBlock's RestrictPublicBuckets — the Allows :func:`is_public` counts as
    public grant nothing (every Deny still applies)."""
    allowed = False
    for statement in policy.statements:
        if restrict_public and _public_statement(statement):
            continue
        if _matches(statement, query):
            if not statement.allow:
                return "deny"
            allowed = True
    return "allow" if allowed else None


def _matches(statement: Statement, query: Query) -> bool:
    return (
        _principal_matches(statement, query.caller)
        and _action_matches(statement, query.action)
        and _resource_matches(statement, query.resource)
        and all(_condition_holds(c, query) for c in statement.conditions)
    )


def _principal_matches(statement: Statement, caller: Caller) -> bool:
    named = any(_names(ident, caller) for ident in statement.principals or ())
    return not named if statement.not_principal else named


def _names(ident: str, caller: Caller) -> bool:
    if ident == "*":
        return True
    if caller.user_id is None:
        return False
    if ident.startswith("canonical:"):
        return ident[len("canonical:"):] == caller.user_id
    if ident == caller.account_id or ident == f"arn:aws:iam::{caller.account_id}:root":
        return True
    if ident.startswith(UNIQUE_PREFIX):
        return ident == unique_id(caller.user_id)
    return ident == caller.arn  # a user ARN stored unresolved, before PUT resolved them (see resolve())


def _action_matches(statement: Statement, action: str | None) -> bool:
    if action is None:
        hit = any(a in ("*", "s3:*") for a in statement.actions)
    else:
        low = action.lower()
        hit = any(a == "*" or wildcard.matches(a.lower(), low) for a in statement.actions)
    return not hit if statement.not_action else hit


def _resource_matches(statement: Statement, resource: str) -> bool:
    hit = any(r == "*" or wildcard.matches(r, resource) for r in statement.resources)
    return not hit if statement.not_resource else hit


def _context_value(key: str, query: Query) -> str | None:
    facts, caller = query.facts, query.caller
    if key == "aws:principalarn":
        return caller.arn
    if key == "aws:principalaccount":
        return caller.account_id
    if key in ("aws:userid", "aws:username"):
        return caller.user_id if key == "aws:userid" else caller.user_name
    if key == "aws:principaltype":
        return "Anonymous" if caller.user_id is None else "User"
    if facts is None:
        return None
    simple: dict[str, Callable[[RequestFacts], str | None]] = {
        "aws:sourceip": lambda f: f.source_ip,
        "aws:securetransport": lambda f: "true" if f.secure else "false",
        "aws:currenttime": lambda f: repr(f.now),
        "aws:epochtime": lambda f: str(int(f.now)),
        "aws:referer": lambda f: f.referer,
        "aws:useragent": lambda f: f.user_agent,
        "s3:authtype": lambda f: f.auth_type,
        "s3:signatureversion": lambda f: f.signature_version,
        "s3:signatureage": lambda f: None if f.signature_age_ms is None else repr(f.signature_age_ms),
    }
    if key in simple:
        return simple[key](facts)
    return facts.key(key)


def _condition_holds(condition: Condition, query: Query) -> bool:
    value = _context_value(condition.key, query)
    if condition.operator == "Null":
        return (value is None) == (condition.values[0].lower() == "true")
    kind, negated = _OPERATORS[condition.operator]
    if value is None:
        if condition.if_exists or condition.qualifier == "ForAllValues":
            return True
        return negated and condition.qualifier is None
    return _compare(condition.operator, kind, value, condition.values)


def _compare(operator: str, kind: str, actual: str, expected: Iterable[str]) -> bool:
    """One context value against a condition's values: a positive operator holds when any value matches,
    a negated one when none does (IAM's rule for a list of values)."""
    base = operator.replace("Not", "", 1) if _OPERATORS[operator][1] else operator
    hit = any(_one(base, kind, actual, v) for v in expected)
    return not hit if _OPERATORS[operator][1] else hit


def _one(operator: str, kind: str, actual: str, expected: str) -> bool:
    if kind == "string":
        if operator == "StringEquals":
            return actual == expected
        if operator == "StringEqualsIgnoreCase":
            return actual.lower() == expected.lower()
        return wildcard.matches(expected, actual)  # StringLike
    if kind == "arn":
        return actual == expected if operator == "ArnEquals" else wildcard.matches(expected, actual)
    if kind == "bool":
        return actual.lower() == expected.lower()
    if kind == "ip":
        network = _network(expected)
        try:
            address = ipaddress.ip_address(actual)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack listener's v4 client is that v4 address
        return network is not None and address.version == network.version and address in network
    convert = _number if kind == "numeric" else _date
    left, right = convert(actual), convert(expected)
    if left is None or right is None:
        return False
    suffix = operator.removeprefix("Numeric").removeprefix("Date")
    return {
        "Equals": left == right, "LessThan": left < right, "LessThanEquals": left <= right,
        "GreaterThan": left > right, "GreaterThanEquals": left >= right,
    }[suffix]


# --- public? ------------------------------------------------------------------------------------------------
#: Keys whose fixed values narrow a statement to known callers (AWS's rule for "public": an Allow to
#: everybody is not public when such a condition pins who may use it).
_NARROWING = frozenset({"aws:sourceip", "aws:principalarn", "aws:principalaccount", "aws:userid",
                        "aws:username"})


def is_public(policy: Policy) -> bool:
    """Whether the policy grants anything to everybody, anonymous included (GetBucketPolicyStatus's
    IsPublic; BlockPublicPolicy refuses such a policy, RestrictPublicBuckets ignores its public Allows).

    As AWS: an Allow whose principal is ``*`` (or a NotPrincipal) is public unless a condition fixes the
    caller — an ``IpAddress`` on ``aws:SourceIp`` with no range wider than /8 (v4) or /32 (v6), or a
    non-wildcard ``StringEquals``/``ArnEquals`` on a principal key.
    """
    return any(_public_statement(s) for s in policy.statements)


def opens_to_anonymous(policy: Policy) -> bool:
    """Some Allow can match an anonymous caller (principal ``*`` or a NotPrincipal), whatever its conditions:
    such a policy lets people in without a link, which is publishing (``access.py`` rule 9), even where
    :func:`is_public` (AWS's narrower notion) says no, as for an Allow to ``*`` from one address range."""
    return any(s.allow and (s.not_principal or "*" in (s.principals or ())) for s in policy.statements)


def _public_statement(statement: Statement) -> bool:
    if not statement.allow:
        return False
    if not statement.not_principal and "*" not in (statement.principals or ()):
        return False
    return not any(_narrows(c) for c in statement.conditions)


def _narrows(condition: Condition) -> bool:
    if condition.key not in _NARROWING or condition.if_exists or condition.qualifier is not None:
        return False
    if condition.operator == "IpAddress":
        networks = [_network(v) for v in condition.values]
        return all(n is not None and n.prefixlen >= (8 if n.version == 4 else 32) for n in networks)
    if condition.operator in ("StringEquals", "StringEqualsIgnoreCase", "ArnEquals"):
        return True
    if condition.operator in ("StringLike", "ArnLike"):
        return not any("*" in v or "?" in v for v in condition.values)
    return False
