"""JSON of the pre-authenticated request routes: OCI's field names (CreatePreauthenticatedRequestDetails,
PreauthenticatedRequest, PreauthenticatedRequestSummary) plus Satchel's extras."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from satchel.admin.schemas import _check_fields, _typed, load_object
from satchel.core.errors import InvalidArgument
from satchel.core.links import MAX_USES
from satchel.core.par.manage import ParSpec
from satchel.core.par.model import AccessType, ListingAction, Par

PAR_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["bucket", "name", "accessType", "timeExpires"],
    "properties": {
        "bucket": {"type": "string"},
        "name": {"type": "string", "maxLength": 256},
        "accessType": {"type": "string", "enum": [t.value for t in AccessType]},
        "objectName": {"type": ["string", "null"],
                       "description": "Object* types: the object; AnyObject* types: a prefix (none: the whole bucket)"},
        "bucketListingAction": {"type": "string", "enum": [a.value for a in ListingAction], "default": "Deny",
                                "description": "ListObjects: AnyObjectRead and AnyObjectReadWrite only"},
        "timeExpires": {"type": "string", "format": "date-time",
                        "description": "RFC 3339; required, no upper limit unless the server or bucket sets one"},
        "maxUses": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_USES,
                    "description": "Satchel: refuse after this many uses (reads that deliver, writes, listings)"},
        "mode": {"type": ["string", "null"], "enum": ["view", "download", None],
                 "description": "Satchel: view (inline) or download (attachment); active types are always attachments"},
        "filename": {"type": ["string", "null"], "description": "Satchel, with mode download: the saved file's name"},
        "allowedIpRange": {"type": ["string", "null"], "description": "Satchel: one CIDR range of client addresses"},
    },
}
_SUMMARY_FIELDS = (
    ("id", "string"), ("name", "string"), ("accessType", "string"), ("objectName", ["string", "null"]),
    ("bucketListingAction", "string"), ("timeExpires", "string"), ("timeCreated", "string"),
    ("namespace", "string"), ("bucketName", "string"), ("creator", ["string", "null"]),
    ("maxUses", ["integer", "null"]), ("uses", "integer"), ("timeLastUsed", ["string", "null"]),
    ("timeDeleted", ["string", "null"]), ("state", "string"), ("mode", ["string", "null"]),
    ("filename", ["string", "null"]), ("allowedIpRange", ["string", "null"]),
    ("openUploads", ["integer", "null"]),
)
PAR_SCHEMA: dict[str, Any] = {"type": "object", "properties": {n: {"type": t} for n, t in _SUMMARY_FIELDS}}
PAR_CREATED_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    **PAR_SCHEMA["properties"],
    "accessUri": {"type": "string", "description": "the access path; returned by this call only, never again"},
    "fullPath": {"type": "string", "description": "the full access URL; returned by this call only, never again"},
}}


PAR_POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["inlineActiveTypes"],
    "properties": {"inlineActiveTypes": {
        "type": "boolean",
        "description": "let PARs of this bucket show HTML, SVG and XML inline (default false: attachments, so "
                       "an uploaded file cannot run script under Satchel's origin)"}},
}
PAR_POLICY_ANSWER: dict[str, Any] = {"type": "object", "properties": {"bucket": {"type": "string"},
                                                                      "inlineActiveTypes": {"type": "boolean"}}}


def par_policy(body: bytes) -> bool:
    data = load_object(body)
    _check_fields(data, PAR_POLICY_SCHEMA)
    allowed = data.get("inlineActiveTypes")
    if not isinstance(allowed, bool):
        raise InvalidArgument("inlineActiveTypes must be true or false", ArgumentName="inlineActiveTypes")
    return allowed


def rfc3339(when: float | None) -> str | None:
    if when is None:
        return None
    moment = datetime.datetime.fromtimestamp(when, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> float:
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidArgument("timeExpires must be an RFC 3339 date-time with a time zone, e.g. "
                              "2030-01-31T12:00:00Z", ArgumentName="timeExpires")
    return moment.timestamp()


def par_spec(body: bytes) -> ParSpec:
    data = load_object(body)
    _check_fields(data, PAR_REQUEST_SCHEMA)
    access = _typed(data, "accessType", str)
    try:
        access_type = AccessType(access)
    except ValueError:
        raise InvalidArgument(f"accessType must be one of {', '.join(t.value for t in AccessType)}",
                              ArgumentName="accessType") from None
    listing = _typed(data, "bucketListingAction", str, "Deny")
    if listing not in tuple(ListingAction):
        raise InvalidArgument("bucketListingAction must be Deny or ListObjects", ArgumentName="bucketListingAction")
    return ParSpec(
        bucket=_typed(data, "bucket", str), name=_typed(data, "name", str), access_type=access_type,
        expires=parse_rfc3339(_typed(data, "timeExpires", str)), object_name=_typed(data, "objectName", str),
        listing=ListingAction(listing), max_uses=_typed(data, "maxUses", int), mode=_typed(data, "mode", str),
        filename=_typed(data, "filename", str), ip_range=_typed(data, "allowedIpRange", str),
    )


def par_json(par: Par, user_name: Callable[[str | None], str | None], now: float,
             open_uploads: int | None = None) -> dict[str, Any]:
    """``open_uploads``: multipart uploads started through it and still open (``par show`` only)."""
    return {
        "id": par.id, "name": par.name, "accessType": par.access_type.value, "objectName": par.object_name,
        "bucketListingAction": par.listing.value, "timeExpires": rfc3339(par.expires),
        "timeCreated": rfc3339(par.created), "namespace": par.namespace, "bucketName": par.bucket,
        "creator": user_name(par.user_id), "maxUses": par.max_uses, "uses": par.uses,
        "timeLastUsed": rfc3339(par.last_used), "timeDeleted": rfc3339(par.deleted), "state": par.state(now),
        "mode": par.mode, "filename": par.filename, "allowedIpRange": par.ip_range, "openUploads": open_uploads,
    }
