"""The management API's node-administration calls: accounts; a bucket's settings, owner and CORS rules.
Parse → core (``core/accounts.py``, ``core/buckets.py``) → JSON; every permission is decided in core.

Like the user, key and grant calls, these are not audit events (the audit trail is the trail of links):
each one is in the access log with its request id and principal."""

from __future__ import annotations

from typing import Any

from satchel.admin import nodeschemas
from satchel.admin.handlers import Call
from satchel.core import accounts


async def list_accounts(call: Call) -> Any:
    return {"accounts": [nodeschemas.account_json(v) for v in accounts.list_accounts(call.node, call.principal)]}


async def create_account(call: Call) -> Any:
    name = nodeschemas.account_request(call.body)
    return nodeschemas.account_json(await accounts.create_account(call.node, call.principal, name))


async def show_account(call: Call) -> Any:
    return nodeschemas.account_json(accounts.show_account(call.node, call.principal, call.params["name"]))


async def delete_account(call: Call) -> Any:
    await accounts.delete_account(call.node, call.principal, call.params["name"])
    return {"done": True}
