"""The management API's node-administration calls: accounts; a bucket's settings, owner and CORS rules.
Parse → core (``core/accounts.py``, ``core/buckets.py``) → JSON; every permission is decided in core.

Like the user, key and grant calls, these are not audit events (the audit trail is the trail of links):
each one is in the access log with its request id and principal."""

from __future__ import annotations

from typing import Any

from satchel.admin import nodeschemas
from satchel.admin.handlers import Call
from satchel.core import accounts, buckets
from satchel.core.access import Action
from satchel.core.models import Bucket


async def list_accounts(call: Call) -> Any:
    return {"accounts": [nodeschemas.account_json(v) for v in accounts.list_accounts(call.node, call.principal)]}


async def create_account(call: Call) -> Any:
    name = nodeschemas.account_request(call.body)
    return nodeschemas.account_json(await accounts.create_account(call.node, call.principal, name))


async def show_account(call: Call) -> Any:
    view = await call.node.read(accounts.show_account, call.node, call.principal, call.params["name"])
    return nodeschemas.account_json(view)


async def delete_account(call: Call) -> Any:
    await accounts.delete_account(call.node, call.principal, call.params["name"])
    return {"done": True}


# --- a bucket's settings, owner and CORS rules ---------------------------------------------------------
async def _details(call: Call, bucket: Bucket) -> dict[str, Any]:
    account = await call.node.read(call.node.store.get_account, bucket.account_id)
    await call.know([bucket.owner_user_id])
    return nodeschemas.bucket_details(bucket, call.user_name, account.name if account else bucket.account_id,
                                      call.node.settings.max_link_lifetime)


async def show_bucket(call: Call) -> Any:
    bucket = await call.node.read(buckets.bucket_for, call.node, call.principal, call.params["bucket"],
                                  Action.BUCKET_ADMIN)
    return await _details(call, bucket)


async def set_owner(call: Call) -> Any:
    name = nodeschemas.owner_request(call.body)
    return await _details(call, await buckets.set_owner(call.node, call.principal, call.params["bucket"], name))


async def get_cors(call: Call) -> Any:
    return nodeschemas.cors_json(buckets.get_cors(call.node, call.principal, call.params["bucket"]))


async def put_cors(call: Call) -> Any:
    rules = nodeschemas.cors_request(call.body)
    await buckets.put_cors(call.node, call.principal, call.params["bucket"], rules)
    return nodeschemas.cors_json(rules)


async def delete_cors(call: Call) -> Any:
    await buckets.put_cors(call.node, call.principal, call.params["bucket"], None)
    return {"done": True}
