"""JSON in and out of the management API: strict parsing into core values, and the shapes we answer.

Each request shape is declared once as a JSON Schema (used for the OpenAPI document) and parsed by
hand into frozen core values with precise errors; unknown fields are refused so typos never pass
silently.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import orjson

from satchel.core.admission import MAX_LIFETIME_CEILING
from satchel.core.errors import InvalidArgument
from satchel.core.links import MAX_USES, LinkSpec
from satchel.core.models import AuditEvent, AuditQuery, Bucket, Link, LinkKind, Revocation, RevocationScope, Sharing
from satchel.core.publicaccess import public_acl_ignored
from satchel.core.revocations import EARLIEST_REVOCATION
from satchel.core.text import decimal

MAX_BODY = 1024 * 1024

LINK_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["bucket"],
    "properties": {
        "bucket": {"type": "string"},
        "keys": {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
        "prefix": {"type": ["string", "null"], "description": "sign every object under this prefix (max 1000)"},
        "method": {"type": "string", "enum": ["GET", "HEAD", "PUT", "DELETE"], "default": "GET"},
        "expires_in": {"type": "integer", "minimum": 1, "default": 3600},
        "kind": {"type": "string", "enum": ["s3v4", "s3v2", "swift"], "default": "s3v4",
                 "description": "swift: an OpenStack Swift TempURL signed with the container's TempURL key (or "
                                "its account's); not in the link registry, so no max_uses"},
        "mode": {"type": ["string", "null"], "enum": ["view", "download", None],
                 "description": "view: Content-Disposition inline; download: attachment with a filename"},
        "filename": {"type": ["string", "null"],
                     "description": "with mode download only: the saved file's name (default: the key's last segment)"},
        "max_uses": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_USES},
        "version_id": {"type": ["string", "null"], "maxLength": 64,
                       "description": "versioning: serve this version of the one key (GET/HEAD links, not kind "
                                      "swift); the link keeps serving these bytes after the key is overwritten"},
        "webhook": {"type": ["string", "null"], "maxLength": 2048,
                    "description": "notify every use (and refusal) of the links this call mints to this http(s) URL "
                                   "(not kind swift); the answer's webhook.secret signs the notifications, shown "
                                   "only there"},
    },
}
REVOCATION_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["scope", "target"],
    "properties": {
        "scope": {"type": "string", "enum": [s.value for s in RevocationScope]},
        "target": {"type": "string", "description": "key, prefix, bucket name, access key id or user name"},
        "bucket": {"type": ["string", "null"], "description": "for object and prefix scopes only"},
        "before": {"type": ["number", "null"], "minimum": EARLIEST_REVOCATION,
                   "description": "epoch seconds, from 2000-01-01 to now plus the server's longest link "
                                  "lifetime; default: now"},
    },
}
BUCKET_POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "fields left out keep their value",
    "properties": {
        "max_link_lifetime": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIFETIME_CEILING,
                              "description": "seconds; null: only the server-wide ceiling applies"},
        "sharing": {"type": "string", "enum": [s.value for s in Sharing],
                    "description": "who may hand out links: grant (owner, account admins, grants with share; "
                                   "the default) or any (whoever may do what the link does, as on AWS)"},
    },
}
BUCKET_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "description": "an S3 bucket name (3-63 characters of a-z 0-9 . -)"},
        "owner": {"type": "string", "enum": ["user", "account"], "default": "user",
                  "description": "user: the caller owns it; account: the caller's account (contract) owns it, "
                                 "which only the account's administrators may ask for"},
    },
}
BUCKET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": kind} for name, kind in (
        ("name", "string"), ("owner", "string"), ("account_id", "string"), ("owner_user", ["string", "null"]),
        ("public_read", "boolean"), ("public_acl_ignored", "boolean"), ("max_link_lifetime", ["integer", "null"]),
        ("created", "number"),
    )},
}
LINK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": kind} for name, kind in (
        ("id", "string"), ("kind", "string"), ("user", ["string", "null"]), ("access_key_id", ["string", "null"]),
        ("bucket", "string"), ("key", ["string", "null"]), ("method", "string"), ("created", "number"),
        ("expires", "number"), ("max_uses", ["integer", "null"]), ("uses", "integer"),
        ("last_used", ["number", "null"]), ("revoked", ["number", "null"]), ("mode", ["string", "null"]),
        ("filename", ["string", "null"]), ("state", "string"), ("bucket_id", ["string", "null"]),
        ("version_id", ["string", "null"]),
    )},
}
REVOCATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": kind} for name, kind in (
        ("id", "string"), ("scope", "string"), ("target", "string"), ("bucket", ["string", "null"]),
        ("before", "number"), ("created", "number"), ("created_by", ["string", "null"]),
        ("bucket_id", ["string", "null"]),
    )},
}
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": ["string", "number", "integer", "null"]} for name in (
        "id", "time", "action", "outcome", "kind", "link_id", "user", "access_key_id", "bucket", "key", "method",
        "client_ip", "user_agent", "status", "bytes", "reason", "request_id", "bucket_id", "version_id",
    )},
}


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object. orjson, not the json module: it refuses, as invalid JSON, nesting
    deeper than 1024 (json recursed until RecursionError), strings that are not text (lone surrogates,
    which no store can take), and numbers beyond a double (1e400); an integer beyond 64 bits reads as
    a float, which an integer field refuses. A name twice in one object is refused too: orjson keeps
    the last one silently, and another parser (a proxy, a log reader) may keep the first."""
    try:
        value = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidArgument("The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidArgument("The body must be a JSON object.")
    _refuse_duplicate_names(body or b"{}")
    return value


def _refuse_duplicate_names(body: bytes) -> None:
    """A second pass with the json module, which hands each object's pairs over before it builds a dict;
    numbers are not converted (orjson has checked them), so it costs a few ms for the largest body."""
    try:
        json.loads(body, object_pairs_hook=_unique_pairs, parse_int=_ignore, parse_float=_ignore)
    except RecursionError:  # orjson took it, within its depth of 1024; json recurses on the C stack
        raise InvalidArgument("The body is nested too deeply.") from None
    except ValueError:  # orjson took it and json does not: refuse what the two parsers read differently
        raise InvalidArgument("The body is not valid JSON.") from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> None:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise InvalidArgument(f"Field(s) given more than once: {', '.join(twice)}", ArgumentName=twice[0])


def _ignore(_text: str) -> None:
    return None


def _check_fields(data: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    unknown = set(data) - set(schema["properties"])
    if unknown:
        raise InvalidArgument(f"Unknown field(s): {', '.join(sorted(unknown))}", ArgumentName=sorted(unknown)[0])
    for name in schema.get("required", ()):
        if data.get(name) in (None, ""):
            raise InvalidArgument(f"Missing field: {name}", ArgumentName=name)


def _typed(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidArgument(f"Field {name} has the wrong type.", ArgumentName=name)
    return value


def link_spec(body: bytes) -> LinkSpec:
    data = load_object(body)
    _check_fields(data, LINK_REQUEST_SCHEMA)
    keys = _typed(data, "keys", list, [])
    if not all(isinstance(k, str) and k for k in keys):
        raise InvalidArgument("keys must be non-empty strings", ArgumentName="keys")
    kind = _typed(data, "kind", str, "s3v4")
    if kind not in ("s3v4", "s3v2", "swift"):
        raise InvalidArgument("kind must be s3v4, s3v2 or swift", ArgumentName="kind")
    if _typed(data, "filename", str) is not None and _typed(data, "mode", str) != "download":
        # Only a download names the saved file: elsewhere it would be dropped without a word.
        raise InvalidArgument("filename goes with mode download", ArgumentName="filename")
    return LinkSpec(
        bucket=_typed(data, "bucket", str),
        keys=tuple(keys),
        prefix=_typed(data, "prefix", str),
        method=_typed(data, "method", str, "GET").upper(),
        expires_in=_typed(data, "expires_in", int, 3600),
        kind=LinkKind(kind),
        mode=_typed(data, "mode", str),
        filename=_typed(data, "filename", str),
        max_uses=_typed(data, "max_uses", int),
        version_id=_typed(data, "version_id", str),
    )


def bucket_request(body: bytes) -> tuple[str, bool]:
    """The name and whether the bucket is contract-owned (``"owner": "account"``)."""
    data = load_object(body)
    _check_fields(data, BUCKET_REQUEST_SCHEMA)
    owner = _typed(data, "owner", str, "user")
    if owner not in ("user", "account"):
        raise InvalidArgument("owner must be user or account", ArgumentName="owner")
    return _typed(data, "name", str), owner == "account"


def revocation_request(body: bytes) -> tuple[RevocationScope, str, str | None, float | None]:
    data = load_object(body)
    _check_fields(data, REVOCATION_REQUEST_SCHEMA)
    scope = _typed(data, "scope", str)
    try:
        parsed = RevocationScope(scope)
    except ValueError:
        raise InvalidArgument(f"Unknown scope {scope!r}", ArgumentName="scope") from None
    bucket = _typed(data, "bucket", str)
    if bucket is not None and parsed not in (RevocationScope.OBJECT, RevocationScope.PREFIX):
        # It would be ignored: a revocation that names a bucket it does not act on misleads whoever reads it.
        raise InvalidArgument(f"A {parsed.value} revocation takes no bucket (only object and prefix ones do).",
                              ArgumentName="bucket")
    before = _typed(data, "before", (int, float))  # checked in core (revocations.revocation_time); 0 is a time
    return parsed, _typed(data, "target", str), bucket, None if before is None else float(before)


def link_policy(body: bytes) -> dict[str, Any]:
    """The settings a PUT link-policy changes (only the fields it names)."""
    data = load_object(body)
    _check_fields(data, BUCKET_POLICY_SCHEMA)
    changes: dict[str, Any] = {}
    if "max_link_lifetime" in data:  # its range is checked in core
        changes["max_link_lifetime"] = _typed(data, "max_link_lifetime", int)
    if "sharing" in data:
        sharing = _typed(data, "sharing", str)
        if sharing not in tuple(Sharing):
            raise InvalidArgument("sharing must be grant or any", ArgumentName="sharing")
        changes["sharing"] = Sharing(sharing)
    return changes


def query_params(pairs: Sequence[tuple[str, str]], allowed: Collection[str]) -> dict[str, str]:
    """A route's query parameters: each one it knows, at most once. A name given twice is refused, not
    resolved: the first or the last one would each be what some other reader of the URL acts on."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise InvalidArgument(f"Unknown query parameter {name!r}.", ArgumentName=name[:64])
        if name in params:
            raise InvalidArgument(f"Query parameter {name!r} given more than once.", ArgumentName=name)
        params[name] = value
    return params


#: Epoch seconds as a script writes them, in ASCII: float() would also take full-width digits, "1_0" and spaces.
_EPOCH = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")


def _number(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    value = float(raw) if _EPOCH.fullmatch(raw) else math.nan
    if not math.isfinite(value):
        raise InvalidArgument(f"{name} must be epoch seconds", ArgumentName=name)
    return value


def flag(query: Mapping[str, str], name: str) -> bool:
    """A yes/no parameter: absent or empty is no; anything but true/false, yes/no, 1/0 is refused."""
    raw = query.get(name, "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise InvalidArgument(f"{name} must be true or false", ArgumentName=name)


def limit(query: Mapping[str, str], default: int = 100, maximum: int = 1000) -> int:
    raw = query.get("limit")
    if not raw:
        return default
    number = decimal(raw, 9)
    if number is None or not 1 <= number <= maximum:
        raise InvalidArgument(f"limit must be between 1 and {maximum}", ArgumentName="limit")
    return number


def audit_query(query: Mapping[str, str], user_id: str | None) -> AuditQuery:
    return AuditQuery(
        since=_number(query, "since"),
        until=_number(query, "until"),
        key_prefix=query.get("prefix") or None,
        user_id=user_id,
        kind=query.get("kind") or None,
        outcome=query.get("outcome") or None,
        action=query.get("action") or None,
        link_id=query.get("link_id") or None,
        limit=limit(query, 1000, 10000),
    )


UserName = Callable[[str | None], str | None]


def link_json(link: Link, user_name: UserName, now: float) -> dict[str, Any]:
    return {
        "id": link.id, "kind": link.kind.value, "user": user_name(link.user_id), "access_key_id": link.access_key_id,
        "bucket": link.bucket, "key": link.key, "method": link.method, "created": link.created,
        "expires": link.expires, "max_uses": link.max_uses, "uses": link.uses, "last_used": link.last_used,
        "revoked": link.revoked, "mode": link.mode, "filename": link.filename, "state": link.state(now),
        "bucket_id": link.bucket_id, "version_id": link.version_id,
    }


def bucket_json(bucket: Bucket, user_name: UserName) -> dict[str, Any]:
    return {
        "name": bucket.name, "owner": "user" if bucket.owner_user_id else "account", "account_id": bucket.account_id,
        "owner_user": user_name(bucket.owner_user_id), "public_read": bucket.public_read,
        # public_read is the stored flag; under IgnorePublicAcls it answers nothing (console: not "Public").
        "public_acl_ignored": public_acl_ignored(bucket),
        "max_link_lifetime": bucket.max_link_lifetime, "created": bucket.created,
    }


def revocation_json(revocation: Revocation, user_name: UserName) -> dict[str, Any]:
    return {
        "id": revocation.id, "scope": revocation.scope.value, "target": revocation.target,
        "bucket": revocation.bucket, "before": revocation.before, "created": revocation.created,
        "created_by": user_name(revocation.created_by), "bucket_id": revocation.bucket_id,
    }


def event_json(event: AuditEvent, user_name: UserName) -> dict[str, Any]:
    return {
        "id": event.id, "time": event.time, "action": event.action, "outcome": event.outcome, "kind": event.kind,
        "link_id": event.link_id, "user": user_name(event.user_id), "access_key_id": event.access_key_id,
        "bucket": event.bucket, "key": event.key, "method": event.method, "client_ip": event.client_ip,
        "user_agent": event.user_agent, "status": event.status, "bytes": event.bytes, "reason": event.reason,
        "request_id": event.request_id, "bucket_id": event.bucket_id, "version_id": event.version_id,
    }


# --- the web console's calls: sessions, capabilities, buckets, objects, uploads, keys, users, grants, shares
def _props(names: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    return {name: {"type": kind} for name, kind in names}


SESSION_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["user", "password"],
    "properties": {"user": {"type": "string"}, "password": {"type": "string"}},
}
SESSION_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("signed_in", "boolean"), ("user", ["string", "null"]), ("role", ["string", "null"]),
    ("account_id", ["string", "null"]), ("csrf_token", ["string", "null"]), ("expires", ["number", "null"]),
    ("idle_timeout", ["integer", "null"]), ("signing_key", ["string", "null"]),
))}
BUCKET_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["public_read"],
    "properties": {"public_read": {"type": "boolean", "description": "anyone, anonymous included, may list "
                                                                      "the bucket and read its objects"}},
}
OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("key", "string"), ("size", "integer"), ("etag", "string"), ("last_modified", "number"),
    ("content_type", ["string", "null"]),
))}
OBJECT_LIST_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "prefix": {"type": "string"},
    "folders": {"type": "array", "items": {"type": "string"}},
    "objects": {"type": "array", "items": {"$ref": "#/components/schemas/Object"}},
    "continuation": {"type": ["string", "null"], "description": "pass back as continuation for the next page"},
}}
OBJECT_DETAILS_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    **_props((("bucket", "string"), ("key", "string"), ("size", "integer"), ("etag", "string"),
              ("last_modified", "number"), ("content_type", ["string", "null"]))),
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
}}
UPLOAD_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("upload_id", "string"), ("key", "string"), ("part_size", "integer"),
))}
PART_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((("part", "integer"), ("etag", "string")))}
COMPLETE_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["parts"],
    "properties": {"parts": {"type": "array", "maxItems": 10000, "items": {
        "type": "object", "additionalProperties": False, "required": ["part", "etag"],
        "properties": {"part": {"type": "integer", "minimum": 1, "maximum": 10000}, "etag": {"type": "string"}}}}},
}
DONE_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((("done", "boolean"),))}
CAPABILITIES_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "link_kinds": {"type": "array", "items": {"type": "object", "properties": {**_props((
        ("kind", "string"), ("label", "string"), ("max_uses", "boolean"),
        ("ip_range", "boolean"), ("endpoint", "string"), ("max_lifetime", "integer"),
    )), "modes": {"type": "array", "items": {"type": "string"}}}}},
    **_props((("max_link_lifetime", "integer"), ("max_put_size", "integer"), ("part_size", "integer"),
              ("multipart_threshold", "integer"))),
}}
# --- a container's Swift TempURL key, set from the console (the value is never in an answer) ---
TEMPURL_KEY_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {"slot": {"type": "integer", "enum": [1, 2], "default": 1,
                            "description": "1: X-Container-Meta-Temp-URL-Key, 2: ...-Key-2"}},
}
TEMPURL_KEY_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("bucket", "string"), ("scope", "string"), ("slot", "integer"), ("set_at", "number"),
))}


def tempurl_key_request(body: bytes) -> int:
    data = load_object(body) if body.strip() else {}
    _check_fields(data, TEMPURL_KEY_REQUEST_SCHEMA)
    slot = _typed(data, "slot", int, 1)
    if slot not in (1, 2):
        raise InvalidArgument("slot must be 1 or 2", ArgumentName="slot")
    return int(slot)


ACCESS_KEY_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("access_key_id", "string"), ("user", "string"), ("status", "string"), ("created", "number"),
    ("secret_access_key", ["string", "null"]),
))}
ACCESS_KEY_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {"user": {"type": ["string", "null"], "description": "default: the caller"}},
}
STATUS_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["active", "disabled"]}},
}
USER_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("name", "string"), ("id", "string"), ("account_id", "string"), ("role", "string"), ("status", "string"),
    ("created", "number"), ("has_password", "boolean"),
))}
USER_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["name"],
    "properties": {"name": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "member"],
                                                          "default": "member"},
                   "password": {"type": ["string", "null"], "description": "8 to 1024 characters"}},
}
USER_CHANGE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "description": "fields left out keep their value",
    "properties": {"status": {"type": "string", "enum": ["active", "disabled"]},
                   "role": {"type": "string", "enum": ["admin", "member"]},
                   "password": {"type": "string", "description": "8 to 1024 characters"}},
}
GRANT_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("id", "string"), ("user", "string"), ("bucket", "string"), ("prefix", "string"), ("permission", "string"),
    ("share", "boolean"), ("created", "number"),
))}
GRANT_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["user", "bucket", "permission"],
    "properties": {"user": {"type": "string"}, "bucket": {"type": "string"}, "prefix": {"type": "string",
                                                                                      "default": ""},
                   "permission": {"type": "string", "enum": ["read", "read-write"]},
                   "share": {"type": "boolean", "default": False}},
}
SHARE_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["link_id"],
    "properties": {"link_id": {"type": "string", "description": "a minted GET link the caller manages"},
                   "passphrase": {"type": ["string", "null"], "description": "8 to 1024 characters"}},
}
SHARE_SCHEMA: dict[str, Any] = {"type": "object", "properties": _props((
    ("url", "string"), ("link_id", "string"), ("passphrase", "boolean"),
))}


def _parsed(body: bytes, schema: Mapping[str, Any]) -> dict[str, Any]:
    data = load_object(body)
    _check_fields(data, schema)
    return data


def _choice(data: Mapping[str, Any], name: str, choices: Collection[str], default: str | None = None) -> str | None:
    value = _typed(data, name, str, default)
    if value is not None and value not in choices:
        raise InvalidArgument(f"{name} must be one of {', '.join(sorted(choices))}", ArgumentName=name)
    return str(value) if value is not None else None


def session_request(body: bytes) -> tuple[str, str]:
    data = _parsed(body, SESSION_REQUEST_SCHEMA)
    return _typed(data, "user", str), _typed(data, "password", str)


def bucket_settings(body: bytes) -> bool:
    data = _parsed(body, BUCKET_SETTINGS_SCHEMA)
    return bool(_typed(data, "public_read", bool))


def complete_request(body: bytes) -> list[tuple[int, str]]:
    data = _parsed(body, COMPLETE_REQUEST_SCHEMA)
    parts = _typed(data, "parts", list)
    out = []
    for item in parts:
        if not isinstance(item, dict):
            raise InvalidArgument("each part is {\"part\": N, \"etag\": \"...\"}", ArgumentName="parts")
        _check_fields(item, COMPLETE_REQUEST_SCHEMA["properties"]["parts"]["items"])
        number, etag = _typed(item, "part", int), _typed(item, "etag", str)
        out.append((number, etag))
    return out


def access_key_request(body: bytes) -> str | None:
    user: str | None = _typed(_parsed(body, ACCESS_KEY_REQUEST_SCHEMA), "user", str)
    return user


def status_request(body: bytes) -> str:
    return _choice(_parsed(body, STATUS_REQUEST_SCHEMA), "status", ("active", "disabled")) or ""


def user_request(body: bytes) -> tuple[str, str, str | None]:
    data = _parsed(body, USER_REQUEST_SCHEMA)
    return (_typed(data, "name", str), _choice(data, "role", ("admin", "member"), "member") or "member",
            _typed(data, "password", str))


def user_change(body: bytes) -> tuple[str | None, str | None, str | None]:
    data = _parsed(body, USER_CHANGE_SCHEMA)
    return (_choice(data, "status", ("active", "disabled")), _choice(data, "role", ("admin", "member")),
            _typed(data, "password", str))


def grant_request(body: bytes) -> tuple[str, str, str, str, bool]:
    data = _parsed(body, GRANT_REQUEST_SCHEMA)
    return (_typed(data, "user", str), _typed(data, "bucket", str), _typed(data, "prefix", str, ""),
            _choice(data, "permission", ("read", "read-write")) or "read", bool(_typed(data, "share", bool, False)))


def share_request(body: bytes) -> tuple[str, str | None]:
    data = _parsed(body, SHARE_REQUEST_SCHEMA)
    return _typed(data, "link_id", str), _typed(data, "passphrase", str)
