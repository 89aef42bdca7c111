"""The management API's webhook calls (link notifications): parse → ``core/webhooks.py`` → JSON; every
permission is decided in core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from satchel.admin import schemas, webhookschemas
from satchel.core import webhooks
from satchel.core.errors import InvalidArgument
from satchel.core.links import LinkSpec, Minted
from satchel.core.models import LinkKind

if TYPE_CHECKING:
    from satchel.admin.handlers import Call  # which imports this module


async def put_webhook(call: Call) -> Any:
    bucket = call.params["bucket"]
    made = await webhooks.set_bucket_webhook(call.node, call.principal, bucket,
                                             webhookschemas.webhook_request(call.body))
    await call.know([made.webhook.created_by])
    return webhookschemas.new_webhook_json(made, bucket, call.user_name)


async def get_webhook(call: Call) -> Any:
    bucket = call.params["bucket"]
    webhook = await call.node.read(webhooks.bucket_webhook, call.node, call.principal, bucket)
    await call.know([webhook.created_by])
    return webhookschemas.webhook_json(webhook, bucket, call.user_name)


async def delete_webhook(call: Call) -> Any:
    bucket = call.params["bucket"]
    removed = await webhooks.delete_bucket_webhook(call.node, call.principal, bucket)
    await call.know([removed.created_by])
    return webhookschemas.webhook_json(removed, bucket, call.user_name)


async def list_deliveries(call: Call) -> Any:
    found = await call.node.read(webhooks.deliveries, call.node, call.principal, call.params["bucket"],
                                call.query.get("state") or "dead", schemas.limit(call.query))
    return {"deliveries": [webhookschemas.delivery_json(record) for record in found]}


def mint_webhook_url(call: Call, spec: LinkSpec) -> str | None:
    """A mint call's ``webhook``, checked before anything is minted (None: it names none)."""
    url = webhookschemas.mint_webhook(call.body)
    if url is None:
        return None
    if spec.kind is LinkKind.SWIFT:
        raise InvalidArgument("webhook needs registry links (kind s3v4 or s3v2): a TempURL names no link to "
                              "notify about; set a webhook on the bucket instead", ArgumentName="webhook")
    return webhooks.check_link_webhook(call.node, call.principal, url)


async def attach_mint_webhook(call: Call, url: str, planned: list[Minted]) -> dict[str, Any] | None:
    """The webhook of the links just minted (none minted: none made), as the answer shows it once."""
    made = [item.link for item in planned if item.link is not None]
    if not made or made[0].bucket_id is None:
        return None
    new = await webhooks.attach_link_webhook(call.node, call.principal, made[0].bucket_id, url,
                                             [link.id for link in made])
    await call.know([new.webhook.created_by])
    return webhookschemas.new_webhook_json(new, made[0].bucket, call.user_name)
