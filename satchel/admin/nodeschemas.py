"""JSON of the node-administration routes: accounts, and a bucket's owner, CORS rules and settings.

Request shapes are JSON Schemas (for the OpenAPI document) parsed by hand with ``schemas``' strict
helpers: an unknown field, a wrong type or a name given twice is 400 InvalidArgument. The CORS shape is
S3's CORSConfiguration in JSON (the field names of boto3's ``put_bucket_cors``); its values are checked
by ``core/cors.py``, the same function the S3 PutBucketCors path uses.
"""

from __future__ import annotations

from typing import Any

from satchel.admin.schemas import _check_fields, _typed, load_object
from satchel.core.accounts import AccountView

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
