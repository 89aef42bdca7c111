"""The management API's pre-authenticated request calls: create (the URL is in this answer only), list,
show, delete. Parse → ``core/par/manage.py`` → JSON; every permission is decided in core."""

from __future__ import annotations

from typing import Any

from satchel.admin import parschemas, schemas
from satchel.admin.handlers import Call
from satchel.core.par import manage


async def create_par(call: Call) -> Any:
    spec = parschemas.par_spec(call.body)
    created = await manage.create_par(call.node, call.principal, spec, client_ip=call.request.client,
                                      user_agent=call.request.user_agent, request_id=call.request_id)
    await call.know([created.par.user_id])
    answer = parschemas.par_json(created.par, call.user_name, call.now)
    answer["accessUri"] = created.access_uri
    answer["fullPath"] = call.node.settings.endpoint.rstrip("/") + created.access_uri
    return answer


async def list_pars(call: Call) -> Any:
    query = call.query
    found = await call.node.read(manage.visible_pars, call.node.store, call.principal,
                                 bucket=query.get("bucket") or None,
                                object_prefix=query.get("prefix") or None,
                                active_at=call.now if schemas.flag(query, "active") else None,
                                limit=schemas.limit(query))
    await call.know(par.user_id for par in found)
    return {"pars": [parschemas.par_json(par, call.user_name, call.now) for par in found]}


async def show_par(call: Call) -> Any:
    par = await call.node.read(manage.get_managed_par, call.node.store, call.principal, call.params["bucket"],
                               call.params["id"])
    await call.know([par.user_id])
    uploads = await call.node.read(call.node.store.par_open_uploads, par.id)
    return parschemas.par_json(par, call.user_name, call.now, len(uploads))


async def delete_par(call: Call) -> Any:
    par, fresh = await manage.delete_par(call.node, call.principal, call.params["bucket"], call.params["id"])
    if fresh:  # deleting again changes nothing: no second event
        user = call.principal.user
        call.node.audit.record(manage.par_event(
            par, "revoke", user_id=user.id if user else None, access_key_id=call.caller_key_id,
            client_ip=call.request.client, user_agent=call.request.user_agent, request_id=call.request_id,
            now=call.now, reason="pre-authenticated request deleted"))
    await call.know([par.user_id])
    return parschemas.par_json(par, call.user_name, call.now)


async def get_par_policy(call: Call) -> Any:
    bucket = call.params["bucket"]
    allowed = await call.node.read(manage.inline_policy, call.node, call.principal, bucket)
    return {"bucket": bucket, "inlineActiveTypes": allowed}


async def put_par_policy(call: Call) -> Any:
    bucket = call.params["bucket"]
    allowed = parschemas.par_policy(call.body)
    await manage.set_inline_policy(call.node, call.principal, bucket, allowed)
    return {"bucket": bucket, "inlineActiveTypes": allowed}
