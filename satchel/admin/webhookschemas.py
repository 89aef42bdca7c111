"""JSON of the webhook routes (link notifications): set, show, delete a bucket's webhook, list its queued or
dead deliveries, and the ``webhook`` field of a mint call."""

from __future__ import annotations

from typing import Any

from satchel.admin.schemas import _check_fields, _typed, load_object
from satchel.core.webhooks import MAX_URL_LENGTH, NewWebhook
from satchel.meta.webhooks import DeliveryRecord, StoredWebhook

_URL = {"type": "string", "maxLength": MAX_URL_LENGTH, "format": "uri",
        "description": "http or https; loopback, private and link-local destinations are refused unless the "
                       "server sets webhook_allow_private"}
WEBHOOK_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {"url": _URL},
}
WEBHOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "bucket": {"type": ["string", "null"]}, "scope": {"type": "string"},
        "url": {"type": "string"}, "created": {"type": "number"}, "created_by": {"type": ["string", "null"]},
        "secret": {"type": "string", "description": "only when the webhook is set: the HMAC-SHA256 key of its "
                                                    "X-Satchel-Signature, never shown again"},
    },
}
DELIVERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": kind} for name, kind in (
        ("id", "string"), ("webhook_id", "string"), ("event_id", "string"), ("state", "string"),
        ("created", "number"), ("attempts", "integer"), ("next_attempt", "number"),
        ("last_status", ["integer", "null"]), ("last_error", ["string", "null"]),
    )},
}
DELIVERY_LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}}},
}


def webhook_request(body: bytes) -> str:
    data = load_object(body)
    _check_fields(data, WEBHOOK_REQUEST_SCHEMA)
    url: str = _typed(data, "url", str)
    return url  # checked in core (core/webhooks.check_url)


def mint_webhook(body: bytes) -> str | None:
    """The ``webhook`` of a mint call's body (already parsed and checked once by ``schemas.link_spec``)."""
    value: str | None = _typed(load_object(body), "webhook", str)
    return value


def webhook_json(webhook: StoredWebhook, bucket: str | None, user_name: Any) -> dict[str, Any]:
    return {"id": webhook.id, "bucket": bucket, "scope": webhook.scope, "url": webhook.url,
            "created": webhook.created, "created_by": user_name(webhook.created_by)}


def new_webhook_json(made: NewWebhook, bucket: str | None, user_name: Any) -> dict[str, Any]:
    return {**webhook_json(made.webhook, bucket, user_name), "secret": made.secret}


def delivery_json(record: DeliveryRecord) -> dict[str, Any]:
    return {"id": record.id, "webhook_id": record.endpoint_id, "event_id": record.event_id, "state": record.state,
            "created": record.created, "attempts": record.attempts, "next_attempt": record.next_attempt,
            "last_status": record.last_status, "last_error": record.last_error}
