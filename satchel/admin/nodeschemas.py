"""JSON of the node-administration routes: accounts, and a bucket's owner, CORS rules and settings.

Request shapes are JSON Schemas (for the OpenAPI document) parsed by hand with ``schemas``' strict
helpers: an unknown field, a wrong type or a name given twice is 400 InvalidArgument. The CORS shape is
S3's CORSConfiguration in JSON (the field names of boto3's ``put_bucket_cors``); its values are checked
by ``core/cors.py``, the same function the S3 PutBucketCors path uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from satchel.admin.schemas import UserName, _check_fields, _choice, _typed, load_object
from satchel.core.accounts import AccountView
from satchel.core.cors import (
    CORS_METHODS,
    MAX_AGE_SECONDS,
    MAX_CORS_CONFIG_BYTES,
    MAX_CORS_RULES,
    MAX_ID_LENGTH,
    cors_rule,
)
from satchel.core.errors import InvalidArgument
from satchel.core.models import Bucket, CorsRule
from satchel.core.publicaccess import public_acl_ignored

ACCOUNT_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["name"],
    "properties": {"name": {"type": "string", "description": "1-64 characters of A-Z a-z 0-9 . _ @ + -, "
                                                             "starting with a letter or digit"}},
}
ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["name", "id", "created", "operator", "users", "buckets"],
    "properties": {
        "name": {"type": "string"}, "id": {"type": "string"}, "created": {"type": "number"},
        "operator": {"type": "boolean", "description": "the node's operator account (root): its administrators "
                                                       "administer the node"},
        "users": {"type": "integer"}, "buckets": {"type": "integer"},
    },
}


def account_request(body: bytes) -> str:
    data = load_object(body)
    _check_fields(data, ACCOUNT_REQUEST_SCHEMA)
    name: str = _typed(data, "name", str)
    return name


def account_json(view: AccountView) -> dict[str, Any]:
    return {"name": view.account.name, "id": view.account.id, "created": view.account.created,
            "operator": view.operator, "users": view.users, "buckets": view.buckets}


# --- a bucket's CORS rules: S3's CORSConfiguration, in JSON --------------------------------------------
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
CORS_RULE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["AllowedMethods", "AllowedOrigins"],
    "properties": {
        "ID": {"type": "string", "maxLength": MAX_ID_LENGTH},
        "AllowedHeaders": {**_STRINGS, "description": "request headers a preflight may ask for (one * each)"},
        "AllowedMethods": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": sorted(CORS_METHODS)}},
        "AllowedOrigins": {**_STRINGS, "minItems": 1, "description": "origins, each with at most one *"},
        "ExposeHeaders": {**_STRINGS, "description": "response headers the browser may show the page (no *)"},
        "MaxAgeSeconds": {"type": "integer", "minimum": 0, "maximum": MAX_AGE_SECONDS},
    },
}
CORS_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["CORSRules"],
    "description": "S3's CORSConfiguration (boto3's put_bucket_cors / get_bucket_cors shape)",
    "properties": {"CORSRules": {"type": "array", "minItems": 1, "maxItems": MAX_CORS_RULES,
                                 "items": {"$ref": "#/components/schemas/CorsRule"}}},
}
#: JSON name (boto3's, plural) -> keyword of ``cors_rule``.
_LISTS = (("AllowedOrigins", "origins"), ("AllowedMethods", "methods"), ("AllowedHeaders", "headers"),
          ("ExposeHeaders", "expose"))


def _strings(data: Mapping[str, Any], name: str) -> list[str]:
    values = _typed(data, name, list, [])
    if not all(isinstance(v, str) for v in values):
        raise InvalidArgument(f"{name} is a list of strings", ArgumentName=name)
    return list(values)


def _rule(item: Any) -> CorsRule:
    if not isinstance(item, dict):
        raise InvalidArgument("each of CORSRules is an object", ArgumentName="CORSRules")
    _check_fields(item, CORS_RULE_SCHEMA)
    values = {field: _strings(item, name) for name, field in _LISTS}
    for name, field in _LISTS[:2]:
        if not values[field]:
            raise InvalidArgument(f"{name} needs at least one value", ArgumentName=name)
    max_age = _typed(item, "MaxAgeSeconds", int)
    if max_age is not None and not 0 <= max_age <= MAX_AGE_SECONDS:
        raise InvalidArgument(f"MaxAgeSeconds is 0 to {MAX_AGE_SECONDS}", ArgumentName="MaxAgeSeconds")
    return cors_rule(**values, max_age=max_age, rule_id=_typed(item, "ID", str))


def cors_request(body: bytes) -> tuple[CorsRule, ...]:
    if len(body) > MAX_CORS_CONFIG_BYTES:
        raise InvalidArgument(f"The CORS configuration is larger than the maximum allowed size "
                              f"({MAX_CORS_CONFIG_BYTES} bytes).", ArgumentName="CORSRules")
    data = load_object(body)
    _check_fields(data, CORS_SCHEMA)
    rules = _typed(data, "CORSRules", list)
    if not 1 <= len(rules) <= MAX_CORS_RULES:
        raise InvalidArgument(f"CORSRules holds 1 to {MAX_CORS_RULES} rules", ArgumentName="CORSRules")
    return tuple(_rule(item) for item in rules)


def cors_json(rules: tuple[CorsRule, ...]) -> dict[str, Any]:
    out = []
    for rule in rules:
        item: dict[str, Any] = {"ID": rule.id} if rule.id is not None else {}
        item.update({"AllowedOrigins": list(rule.allowed_origins), "AllowedMethods": list(rule.allowed_methods),
                     "AllowedHeaders": list(rule.allowed_headers), "ExposeHeaders": list(rule.expose_headers)})
        if rule.max_age_seconds is not None:
            item["MaxAgeSeconds"] = rule.max_age_seconds
        out.append(item)
    return {"CORSRules": out}


# --- a bucket's owner and its settings ---------------------------------------------------------------
OWNER_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["owner"],
    "properties": {
        "owner": {"type": "string", "enum": ["user", "account"],
                  "description": "account: contract-owned (the account's administrators control it); user: owned "
                                 "by the user named in user"},
        "user": {"type": ["string", "null"], "description": "with owner user: a user of the bucket's account"},
    },
}
BUCKET_DETAILS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "id", "owner", "account_id", "account", "owner_user", "public_read", "sharing",
                 "max_link_lifetime", "server_max_link_lifetime", "cors", "created"],
    "properties": {
        "name": {"type": "string"}, "id": {"type": "string", "description": "the bucket's identity (never reused)"},
        "owner": {"type": "string", "enum": ["user", "account"]}, "account_id": {"type": "string"},
        "account": {"type": "string", "description": "the account's name"},
        "owner_user": {"type": ["string", "null"], "description": "the owning user's name (owner user)"},
        "public_read": {"type": "boolean"},
        "public_acl_ignored": {"type": "boolean", "description": "public_read is set but Block Public Access's "
                                                                  "IgnorePublicAcls keeps it from answering"},
        "sharing": {"type": "string", "enum": ["grant", "any"]},
        "max_link_lifetime": {"type": ["integer", "null"]}, "server_max_link_lifetime": {"type": "integer"},
        "cors": {"type": "boolean", "description": "the bucket has CORS rules (GET /buckets/{bucket}/cors)"},
        "created": {"type": "number"},
    },
}


def owner_request(body: bytes) -> str | None:
    """The user name the bucket is to be owned by, or None for the account (contract)."""
    data = load_object(body)
    _check_fields(data, OWNER_REQUEST_SCHEMA)
    owner = _choice(data, "owner", ("user", "account"))
    user: str | None = _typed(data, "user", str)
    if owner == "account" and user is not None:
        raise InvalidArgument("user goes with owner user", ArgumentName="user")
    if owner == "user" and not user:
        raise InvalidArgument("owner user needs the user's name in user", ArgumentName="user")
    return user


def bucket_details(bucket: Bucket, user_name: UserName, account_name: str, server_max: int) -> dict[str, Any]:
    return {
        "name": bucket.name, "id": bucket.id, "owner": "user" if bucket.owner_user_id else "account",
        "account_id": bucket.account_id, "account": account_name, "owner_user": user_name(bucket.owner_user_id),
        "public_read": bucket.public_read, "public_acl_ignored": public_acl_ignored(bucket),
        "sharing": bucket.sharing.value,
        "max_link_lifetime": bucket.max_link_lifetime, "server_max_link_lifetime": server_max,
        "cors": bool(bucket.cors), "created": bucket.created,
    }
