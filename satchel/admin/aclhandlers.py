"""The management API's Block Public Access calls for an account (AWS sets these through s3control, which Satchel
does not serve): ``/accounts/{name}/public-access-block``. Parse -> ``core/publicblocks.py`` -> JSON; whether the
caller may is decided there (the account's admins: ``ACCOUNT_ADMIN``; 404 for any other account)."""

from __future__ import annotations

from typing import Any

from satchel.admin.handlers import Call
from satchel.admin.schemas import _check_fields, _typed, load_object
from satchel.core import publicblocks
from satchel.core.models import PublicAccessBlock
from satchel.core.publicaccess import FIELDS, describe

PUBLIC_ACCESS_BLOCK_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {name: {"type": "boolean", "description": "false when left out, as on AWS"} for name in FIELDS},
}
PUBLIC_ACCESS_BLOCK_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["account", "configured", *FIELDS],
    "properties": {"account": {"type": "string"},
                   "configured": {"type": "boolean", "description": "false: none set (every flag false)"},
                   **{name: {"type": "boolean"} for name in FIELDS}},
}


async def get_public_access_block(call: Call) -> Any:
    block = publicblocks.get_account_block(call.node, call.principal, call.params["name"])
    return describe(call.params["name"], block)


async def put_public_access_block(call: Call) -> Any:
    data = load_object(call.body)
    _check_fields(data, PUBLIC_ACCESS_BLOCK_REQUEST_SCHEMA)
    block = PublicAccessBlock(*(bool(_typed(data, name, bool, False)) for name in FIELDS))
    await publicblocks.set_account_block(call.node, call.principal, call.params["name"], block)
    return describe(call.params["name"], block)


async def delete_public_access_block(call: Call) -> Any:
    await publicblocks.set_account_block(call.node, call.principal, call.params["name"], None)
    return {"done": True}
