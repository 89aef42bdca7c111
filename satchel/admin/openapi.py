"""The OpenAPI 3.1 document of the management API, generated from the routing table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from satchel.admin import aclhandlers, nodeschemas, parschemas, schemas, webhookschemas

if TYPE_CHECKING:
    from satchel.admin.api import Route

_ERROR_DETAIL: dict[str, Any] = {
    "type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                     "request_id": {"type": "string"}},
}
#: Every error answer names its code, says why, and names its request (for reports to an operator).
_ERROR: dict[str, Any] = {"type": "object", "required": ["error"], "properties": {"error": {
    **_ERROR_DETAIL, "required": ["code", "message", "request_id"]}}}


def _array(name: str, item: str) -> dict[str, Any]:
    items = {"$ref": f"#/components/schemas/{item}"}
    return {"type": "object", "properties": {name: {"type": "array", "items": items}}}


COMPONENTS: dict[str, Any] = {
    "LinkRequest": schemas.LINK_REQUEST_SCHEMA,
    "Link": schemas.LINK_SCHEMA,
    "MintResult": {
        "type": "object",
        "properties": {"links": {"type": "array", "items": {
            "type": "object",
            "properties": {"key": {"type": "string"}, "url": {"type": "string"},
                           "link": {"$ref": "#/components/schemas/Link"},
                           "expires": {"type": "integer", "description": "kind swift: the TempURL's expiry"},
                           "error": _ERROR_DETAIL},
        }}, "webhook": {"$ref": "#/components/schemas/Webhook"}},
    },
    "LinkList": _array("links", "Link"),
    "RevocationRequest": schemas.REVOCATION_REQUEST_SCHEMA,
    "Revocation": schemas.REVOCATION_SCHEMA,
    "RevocationList": _array("revocations", "Revocation"),
    "Event": schemas.EVENT_SCHEMA,
    "EventList": _array("events", "Event"),
    "BucketRequest": schemas.BUCKET_REQUEST_SCHEMA,
    "Bucket": schemas.BUCKET_SCHEMA,
    "LinkPolicyRequest": schemas.BUCKET_POLICY_SCHEMA,
    "LinkPolicy": {"type": "object", "properties": {"bucket": {"type": "string"},
                                                    "max_link_lifetime": {"type": ["integer", "null"]},
                                                    "server_max_link_lifetime": {"type": "integer"},
                                                    "sharing": {"type": "string"}}},
    "Whoami": {"type": "object", "properties": {
        **{k: {"type": "string"} for k in ("user", "user_id", "account_id", "role")},
        "access_key_id": {"type": ["string", "null"], "description": "null for a console session whose user "
                                                                    "has no active key"}}},
    "Error": _ERROR,
    # Pre-authenticated requests: OCI's field names plus Satchel's extras.
    "ParRequest": parschemas.PAR_REQUEST_SCHEMA,
    "Par": parschemas.PAR_SCHEMA,
    "ParCreated": parschemas.PAR_CREATED_SCHEMA,
    "ParList": _array("pars", "Par"),
    "ParPolicyRequest": parschemas.PAR_POLICY_SCHEMA,
    "ParPolicy": parschemas.PAR_POLICY_ANSWER,
    # --- the web console's calls ---
    "SessionRequest": schemas.SESSION_REQUEST_SCHEMA,
    "Session": schemas.SESSION_SCHEMA,
    "Capabilities": schemas.CAPABILITIES_SCHEMA,
    "BucketEntry": {"type": "object", "properties": {
        **schemas.BUCKET_SCHEMA["properties"], "sharing": {"type": "string"},
        "admin": {"type": "boolean", "description": "the caller controls the bucket (settings, delete)"},
        "grant_prefixes": {"type": "array", "items": {"type": "string"},
                           "description": "prefixes the caller's grants on the bucket cover (\"\": all of it)"}}},
    "BucketList": _array("buckets", "BucketEntry"),
    "BucketSettingsRequest": schemas.BUCKET_SETTINGS_SCHEMA,
    "Object": schemas.OBJECT_SCHEMA,
    "ObjectList": schemas.OBJECT_LIST_SCHEMA,
    "ObjectDetails": schemas.OBJECT_DETAILS_SCHEMA,
    "Upload": schemas.UPLOAD_SCHEMA,
    "Part": schemas.PART_SCHEMA,
    "CompleteRequest": schemas.COMPLETE_REQUEST_SCHEMA,
    "Done": schemas.DONE_SCHEMA,
    "TempUrlKeyRequest": schemas.TEMPURL_KEY_REQUEST_SCHEMA,
    "TempUrlKey": schemas.TEMPURL_KEY_SCHEMA,
    "AccessKey": schemas.ACCESS_KEY_SCHEMA,
    "AccessKeyList": _array("access_keys", "AccessKey"),
    "AccessKeyRequest": schemas.ACCESS_KEY_REQUEST_SCHEMA,
    "StatusRequest": schemas.STATUS_REQUEST_SCHEMA,
    "User": schemas.USER_SCHEMA,
    "UserList": _array("users", "User"),
    "UserRequest": schemas.USER_REQUEST_SCHEMA,
    "UserChange": schemas.USER_CHANGE_SCHEMA,
    "Grant": schemas.GRANT_SCHEMA,
    "GrantList": _array("grants", "Grant"),
    "GrantRequest": schemas.GRANT_REQUEST_SCHEMA,
    "ShareRequest": schemas.SHARE_REQUEST_SCHEMA,
    "Share": schemas.SHARE_SCHEMA,
    # --- link notifications (webhooks) ---
    "WebhookRequest": webhookschemas.WEBHOOK_REQUEST_SCHEMA,
    "Webhook": webhookschemas.WEBHOOK_SCHEMA,
    "WebhookDelivery": webhookschemas.DELIVERY_SCHEMA,
    "WebhookDeliveryList": webhookschemas.DELIVERY_LIST_SCHEMA,
    # --- node administration ---
    "AccountRequest": nodeschemas.ACCOUNT_REQUEST_SCHEMA,
    "Account": nodeschemas.ACCOUNT_SCHEMA,
    "AccountList": _array("accounts", "Account"),
    "BucketDetails": nodeschemas.BUCKET_DETAILS_SCHEMA,
    "OwnerRequest": nodeschemas.OWNER_REQUEST_SCHEMA,
    "CorsRule": nodeschemas.CORS_RULE_SCHEMA,
    "CorsConfiguration": nodeschemas.CORS_SCHEMA,
    # --- Block Public Access of an account ---
    "PublicAccessBlockRequest": aclhandlers.PUBLIC_ACCESS_BLOCK_REQUEST_SCHEMA,
    "PublicAccessBlock": aclhandlers.PUBLIC_ACCESS_BLOCK_SCHEMA,
}


#: Answers that always carry every field they document (null where a field has no value), so clients may
#: rely on each name being there; the OpenAPI check (tests/clients/test_admin_openapi.py) holds the server
#: to it.
_COMPLETE_ANSWERS = ("Link", "Revocation", "Event", "Bucket", "LinkPolicy", "Whoami", "Session", "Object", "Upload",
                     "Part", "Done", "TempUrlKey", "AccessKey", "User", "Grant", "Share", "BucketEntry", "Par",
                     "ParPolicy", "LinkList", "RevocationList", "EventList", "BucketList", "AccessKeyList",
                     "UserList", "GrantList", "ParList", "ObjectList", "ObjectDetails", "Capabilities", "MintResult")
for _name in _COMPLETE_ANSWERS:
    COMPONENTS[_name] = {**COMPONENTS[_name], "required": sorted(COMPONENTS[_name]["properties"])}


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "security": [{"sigv4": []}, {"session": [], "csrf": []}] if route.auth else [],
        "responses": {
            "200": {"description": "OK", "content": {route.response_type: {
                "schema": {"$ref": f"#/components/schemas/{route.response_schema}"} if route.response_schema
                else {"type": "string", "format": "binary"}}}},
            "default": {"description": "Error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    }
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _path_params(route.path)]
    parameters += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                   for name in route.query]
    if parameters:
        operation["parameters"] = parameters
    if route.request_schema == "raw":
        operation["requestBody"] = {"required": True, "content": {route.body_type: {
            "schema": {"type": "string", "format": "binary"}}}}
    elif route.request_schema:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{route.request_schema}"}}}}
    return operation


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document(routes: Sequence[Route], prefix: str, server: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(prefix + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Satchel management API",
            "version": "1",
            "description": (
                "Mint, list and revoke sharing links, create, list and delete pre-authenticated requests, revoke "
                "links issued before a moment, read the audit trail, create buckets (also contract-owned ones), "
                "notify link uses to a bucket's or a mint call's webhook (signed JSON POSTs); "
                "for the web console also sessions, buckets, objects (listing, upload, multipart, download, "
                "delete), access keys, users, grants and share pages; for node administration accounts, and a bucket's "
                "settings, owner and CORS rules. Authenticate with AWS Signature Version 4 in "
                "the Authorization header (service s3), "
                "using the same access keys as the S3 API; x-amz-content-sha256 is the hex SHA-256 of the body "
                "(UNSIGNED-PAYLOAD only on calls without a body). The web console uses the other way in: a "
                "session (POST /session with a user name and password sets the satchel_session cookie; every "
                "call that changes something then sends the session's CSRF token as X-CSRF-Token). "
                "A JSON name or query parameter given twice, or "
                "one the call does not take, is 400 InvalidArgument."
            ),
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"sigv4": {"type": "apiKey", "in": "header", "name": "Authorization",
                                          "description": "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., "
                                                         "Signature=..."},
                                "session": {"type": "apiKey", "in": "cookie", "name": "satchel_session",
                                            "description": "set by POST /session; HttpOnly, SameSite=Strict"},
                                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                                         "description": "the session's csrf_token; on every call but GET"}},
        },
    }
