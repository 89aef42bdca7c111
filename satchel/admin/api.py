"""The JSON management API under ``/_satchel/api/``: a routing table, SigV4 authentication with the
same access keys as S3, JSON errors, and the OpenAPI document that describes all of it.

Deliberately framework-free, like the S3 front-end: a dozen routes do not need one, and the
document is generated from the same table the router uses, so the two cannot disagree.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import orjson

from satchel.admin import aclhandlers, auth, console_api, handlers, nodehandlers, openapi, parhandlers, webhookhandlers
from satchel.admin.errors import error_body, render, with_request_id
from satchel.admin.schemas import MAX_BODY, query_params
from satchel.asgi import Receive, Request, Response, Scope, Send
from satchel.core.errors import InvalidArgument, MethodNotAllowed, SatchelError
from satchel.core.models import ANONYMOUS
from satchel.core.node import Node
from satchel.core.text import is_text, query_not_text
from satchel.requestinfo import RequestInfo, request_info

log = logging.getLogger("satchel.admin")

PREFIX = "/_satchel/api"
_JSON = ("Content-Type", "application/json")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: handlers.Handler
    summary: str
    request_schema: str | None = None
    response_schema: str | None = None
    query: tuple[str, ...] = ()
    #: False only for signing in: every other call is authenticated.
    auth: bool = True
    #: The request body is streamed to the handler (an upload), not read as JSON.
    stream_body: bool = False
    #: Content types of a raw request body and of the answer (the download route answers the object).
    body_type: str = "application/json"
    response_type: str = "application/json"

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


ROUTES: tuple[Route, ...] = (
    Route("GET", "/whoami", handlers.whoami, "The caller's user, account, role and access key.", None, "Whoami"),
    Route("POST", "/links", handlers.mint, "Sign many objects at once; one URL per object the caller may access.",
          "LinkRequest", "MintResult"),
    Route("GET", "/links", handlers.list_links, "Links the caller may manage, newest first.", None, "LinkList",
          ("bucket", "prefix", "active", "limit")),
    Route("GET", "/links/{id}", handlers.show_link, "One minted link.", None, "Link"),
    Route("DELETE", "/links/{id}", handlers.revoke_link, "Revoke one minted link now.", None, "Link"),
    Route("POST", "/revocations", handlers.add_revocation,
          "Refuse every link issued before a moment, scoped to an object, prefix, bucket, access key or user.",
          "RevocationRequest", "Revocation"),
    Route("GET", "/revocations", handlers.list_revocations, "Revocations the caller made or administers.", None,
          "RevocationList"),
    Route("GET", "/audit", handlers.audit,
          "Link events (mint, use, revoke): the newest `limit` ones, oldest first; times in epoch seconds.", None,
          "EventList",
          ("since", "until", "bucket", "prefix", "user", "kind", "outcome", "action", "link_id", "limit")),
    Route("POST", "/buckets", handlers.create_bucket,
          "Create a bucket owned by the caller or, for an account administrator, by the account (contract).",
          "BucketRequest", "Bucket"),
    Route("GET", "/buckets/{bucket}/link-policy", handlers.get_link_policy,
          "A bucket's link lifetime ceiling and who may share it.", None, "LinkPolicy"),
    Route("PUT", "/buckets/{bucket}/link-policy", handlers.put_link_policy,
          "Change a bucket's link lifetime ceiling or who may share it (both enforced when links are used); "
          "fields left out keep their value.", "LinkPolicyRequest", "LinkPolicy"),
    # --- pre-authenticated requests (OCI's Create/List/Get/DeletePreauthenticatedRequest) ---
    Route("POST", "/pars", parhandlers.create_par,
          "Create a pre-authenticated request; the answer carries its access URL (accessUri, fullPath), "
          "which is never shown again.", "ParRequest", "ParCreated"),
    Route("GET", "/pars", parhandlers.list_pars,
          "Pre-authenticated requests the caller may manage, newest first (never their URLs).", None, "ParList",
          ("bucket", "prefix", "active", "limit")),
    Route("GET", "/pars/{bucket}/{id}", parhandlers.show_par, "One pre-authenticated request (never its URL).",
          None, "Par"),
    Route("DELETE", "/pars/{bucket}/{id}", parhandlers.delete_par,
          "Delete a pre-authenticated request: its URL stops working at once.", None, "Par"),
    Route("GET", "/buckets/{bucket}/par-policy", parhandlers.get_par_policy,
          "Whether the bucket's PARs show HTML, SVG and XML inline.", None, "ParPolicy"),
    Route("PUT", "/buckets/{bucket}/par-policy", parhandlers.put_par_policy,
          "Let (or stop) the bucket's PARs show HTML, SVG and XML inline.", "ParPolicyRequest", "ParPolicy"),
    # --- the web console's calls (also usable with SigV4, except signing in and out) ---
    Route("POST", "/session", console_api.sign_in,
          "Sign in with a user name and password (a console session): sets the HttpOnly session cookie and "
          "answers the CSRF token every state change made with it must send as X-CSRF-Token. Failed "
          "sign-ins are rate-limited (429).", "SessionRequest", "Session", auth=False),
    Route("GET", "/session", console_api.get_session, "The signed-in user and the session's CSRF token "
          "(signed_in false when there is no session or it expired).", None, "Session", auth=False),
    Route("DELETE", "/session", console_api.sign_out, "Sign out: the session ends on the server.", None,
          "Session"),
    Route("GET", "/capabilities", console_api.capabilities,
          "The link kinds this server can mint (for the console's share dialog) and upload limits.", None,
          "Capabilities"),
    Route("GET", "/buckets", console_api.list_buckets,
          "Buckets the caller owns, administers or has grants on; owner=user|account filters user-owned or "
          "contract-owned ones.", None, "BucketList", ("owner",)),
    Route("DELETE", "/buckets/{bucket}", console_api.delete_bucket,
          "Delete an empty bucket (409 BucketNotEmpty otherwise).", None, "Done"),
    Route("PUT", "/buckets/{bucket}/settings", console_api.put_bucket_settings,
          "Make a bucket public-read (anyone may list and read it) or private.", "BucketSettingsRequest",
          "BucketEntry"),
    Route("GET", "/buckets/{bucket}/objects", console_api.list_objects,
          "One page of a folder: sub-folders and objects whose names start with prefix+search, in key order "
          "(delimiter default /; empty for a flat listing); continuation from the previous page.", None,
          "ObjectList", ("prefix", "delimiter", "search", "continuation", "limit")),
    Route("GET", "/buckets/{bucket}/object", console_api.object_details,
          "An object's size, type, ETag, metadata and the minted links to it the caller may manage (an SSE-C "
          "object: 400, as S3's HEAD without its key).", None,
          "ObjectDetails", ("key",)),
    Route("DELETE", "/buckets/{bucket}/object", console_api.delete_object, "Delete an object.", None, "Done",
          ("key",)),
    Route("GET", "/buckets/{bucket}/download", console_api.download,
          "An object's bytes as an attachment named after the key's last segment.", None, None, ("key",),
          response_type="application/octet-stream"),
    Route("PUT", "/buckets/{bucket}/upload", console_api.upload,
          "Store a whole object from the raw request body (its type in Content-Type); with SigV4 the body's "
          "SHA-256 is signed and checked.", "raw", "Object", ("key",), stream_body=True,
          body_type="application/octet-stream"),
    Route("POST", "/buckets/{bucket}/uploads", console_api.create_upload,
          "Start a multipart upload (large files); content_type is the object's type.", None, "Upload",
          ("key", "content_type")),
    Route("PUT", "/buckets/{bucket}/uploads/{upload_id}", console_api.upload_part,
          "Upload one part (1-10000; all but the last at least 5 MiB) from the raw request body.", "raw", "Part",
          ("key", "part"), stream_body=True, body_type="application/octet-stream"),
    Route("POST", "/buckets/{bucket}/uploads/{upload_id}/complete", console_api.complete_upload,
          "Publish the listed parts, in order, as the object.", "CompleteRequest", "Object", ("key",)),
    Route("DELETE", "/buckets/{bucket}/uploads/{upload_id}", console_api.abort_upload,
          "Cancel a multipart upload and free its parts.", None, "Done", ("key",)),
    Route("GET", "/access-keys", console_api.list_keys,
          "Access keys of a user (default: the caller; * for every user the caller manages), without secrets.",
          None, "AccessKeyList", ("user",)),
    Route("POST", "/access-keys", console_api.create_key,
          "Create an access key; its secret is in this answer only.", "AccessKeyRequest", "AccessKey"),
    Route("PUT", "/access-keys/{id}", console_api.set_key_status,
          "Disable (every link it signed stops working) or enable an access key; enabling a disabled key "
          "(its links come back) is an account admin's action.", "StatusRequest", "AccessKey"),
    Route("DELETE", "/access-keys/{id}", console_api.delete_key, "Delete an access key.", None, "Done"),
    Route("GET", "/users", console_api.list_users,
          "Users of the caller's account (account administrators; members see themselves).", None, "UserList"),
    Route("POST", "/users", console_api.create_user, "Create a user in the caller's account (administrators).",
          "UserRequest", "User"),
    Route("PUT", "/users/{name}", console_api.update_user,
          "Change a user's status, role or password (administrators); fields left out keep their value.",
          "UserChange", "User"),
    Route("DELETE", "/users/{name}", console_api.delete_user,
          "Delete a user with its keys and grants (administrators; not while it owns buckets).", None, "Done"),
    Route("GET", "/grants", console_api.list_grants,
          "Grants on buckets the caller controls and to users it manages.", None, "GrantList"),
    Route("POST", "/grants", console_api.add_grant,
          "Grant a user read or read-write on a bucket or prefix, optionally with the right to share it "
          "(needs control of the bucket); granting again replaces.", "GrantRequest", "Grant"),
    Route("DELETE", "/grants/{id}", console_api.remove_grant, "Remove a grant.", None, "Done"),
    Route("PUT", "/buckets/{bucket}/tempurl-key", console_api.set_tempurl_key,
          "Set a fresh random Swift TempURL key in a slot of the bucket's container keys (whoever controls the "
          "bucket), so Swift TempURLs can be signed; the key is never in the answer.", "TempUrlKeyRequest",
          "TempUrlKey"),
    # --- link notifications (webhooks) ---
    Route("PUT", "/buckets/{bucket}/webhook", webhookhandlers.put_webhook,
          "Notify every use (allowed or refused) of a link into the bucket (minted links, presigned URLs, PARs, "
          "TempURLs) to a URL, as a signed JSON POST; replaces the previous webhook (and its queued deliveries). "
          "The answer's secret is never shown again.", "WebhookRequest", "Webhook"),
    Route("GET", "/buckets/{bucket}/webhook", webhookhandlers.get_webhook,
          "The bucket's webhook (never its secret).", None, "Webhook"),
    Route("DELETE", "/buckets/{bucket}/webhook", webhookhandlers.delete_webhook,
          "Stop notifying: the webhook and its queued and dead deliveries are removed.", None, "Webhook"),
    Route("GET", "/buckets/{bucket}/webhook/deliveries", webhookhandlers.list_deliveries,
          "The bucket's webhook deliveries in a state: dead (given up; the default) or pending (queued or "
          "waiting for a retry), oldest first.", None, "WebhookDeliveryList", ("state", "limit")),
    Route("POST", "/shares", console_api.create_share,
          "A share page /s/{id} in front of a minted GET link, optionally protected by a passphrase; the URL "
          "is in this answer only; a link has at most 100 pages (409 beyond).", "ShareRequest", "Share"),
    # --- node administration: accounts; a bucket's settings, owner and CORS rules ---
    Route("GET", "/accounts", nodehandlers.list_accounts,
          "Accounts (contracts): all of them for the node's operators (administrators of the root account), "
          "an account administrator's own one otherwise.", None, "AccountList"),
    Route("POST", "/accounts", nodehandlers.create_account, "Create an account (node operators).",
          "AccountRequest", "Account"),
    Route("GET", "/accounts/{name}", nodehandlers.show_account,
          "One account with its numbers of users and buckets (node operators; its own administrators).", None,
          "Account"),
    Route("DELETE", "/accounts/{name}", nodehandlers.delete_account,
          "Delete an account (node operators): 409 Conflict while it has users or buckets, and always for the "
          "operator account.", None, "Done"),
    # --- Block Public Access of an account (AWS: s3control); a bucket's is S3's ?publicAccessBlock ---
    Route("GET", "/accounts/{name}/public-access-block", aclhandlers.get_public_access_block,
          "The account's Block Public Access flags (its administrators).", None, "PublicAccessBlock"),
    Route("PUT", "/accounts/{name}/public-access-block", aclhandlers.put_public_access_block,
          "Set the account's Block Public Access flags, ORed with each bucket's own (its administrators); "
          "a flag left out is false.", "PublicAccessBlockRequest", "PublicAccessBlock"),
    Route("DELETE", "/accounts/{name}/public-access-block", aclhandlers.delete_public_access_block,
          "Remove the account's Block Public Access flags (its administrators).", None, "Done"),
    Route("GET", "/buckets/{bucket}", nodehandlers.show_bucket,
          "Every setting of a bucket: owner kind and owner, account, public flag, who may share, link lifetime "
          "ceiling, whether it has CORS rules (whoever controls the bucket).", None, "BucketDetails"),
    Route("PUT", "/buckets/{bucket}/owner", nodehandlers.set_owner,
          "Make a bucket contract-owned (owner account) or owned by a user of its account (account "
          "administrators). Links the old owner signed are checked against its rights at each use.",
          "OwnerRequest", "BucketDetails"),
    Route("GET", "/buckets/{bucket}/cors", nodehandlers.get_cors,
          "A bucket's CORS rules, as S3's GetBucketCors (404 NoSuchCORSConfiguration when it has none).", None,
          "CorsConfiguration"),
    Route("PUT", "/buckets/{bucket}/cors", nodehandlers.put_cors,
          "Replace a bucket's CORS rules, checked as S3's PutBucketCors checks them (whoever controls the bucket).",
          "CorsConfiguration", "CorsConfiguration"),
    Route("DELETE", "/buckets/{bucket}/cors", nodehandlers.delete_cors, "Remove a bucket's CORS rules.", None,
          "Done"),
)
_COMPILED = [(route, route.pattern) for route in ROUTES]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request (path relative to :data:`PREFIX`); MethodNotAllowed if only the path
    matches, None if nothing does."""
    allowed = False
    for route, pattern in _COMPILED:
        found = pattern.match(path)
        if found:
            if route.method == method:
                return route, found.groupdict()
            allowed = True
    if allowed:
        raise MethodNotAllowed(Method=method)
    return None


class AdminApi:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.document = json.dumps(openapi.document(ROUTES, PREFIX, node.settings.endpoint)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        info = request_info(scope)
        info.frontend, request_id = "api", info.request_id
        path = request.path[len(PREFIX):]
        try:
            if path == "/openapi.json" and request.method in ("GET", "HEAD"):
                info.operation = "GET /openapi.json"
                response = Response(200, [_JSON], self.document)
            else:
                response = await self._call(request, path, info)
        except SatchelError as exc:
            status, body = render(exc)
            response = Response(status, [_JSON], body)
        except Exception as exc:
            log.exception("management API error (request %s)", request_id)
            status, body = render(exc)
            response = Response(status, [_JSON], body)
        if response.status >= 400 and isinstance(response.body, bytes):
            response.body = with_request_id(response.body, request_id)
        response.headers.append(("x-amz-request-id", request_id))
        response.headers.append(("Cache-Control", "no-store"))
        await response.send(send, head=request.method == "HEAD")

    async def _call(self, request: Request, path: str, info: RequestInfo) -> Response:
        if not is_text(path):  # percent-escapes that are not UTF-8 (surrogate escapes): no id or name is that
            raise InvalidArgument("The request path is not UTF-8.")
        if query_not_text(request.raw_query):  # decoded, they read as U+FFFD: another name than the one sent
            raise InvalidArgument("The query string is not UTF-8.")
        found = match(request.method, path)
        if found is None:
            return Response(404, [_JSON], error_body("NotFound", f"No API route {request.method} {path}"))
        route, params = found
        info.operation = f"{route.method} {route.path}"
        body: bytes | None = None
        if not route.stream_body:
            try:
                body = await request.read_body(MAX_BODY)
            except ValueError:
                return Response(413, [_JSON], error_body("EntityTooLarge", "The request body is too large."))
        if route.auth:
            caller = await auth.authenticate(self.node, request, body)
        else:
            caller = auth.Caller(None, ANONYMOUS)
        principal = caller.principal
        if principal.user is not None:
            info.principal, info.access_key_id = principal.user.name, principal.access_key_id
        query = query_params(request.query, route.query)
        call = handlers.Call(self.node, request, body or b"", caller.key, principal, params, info.request_id,
                             query=query, session=caller.session, payload_sha256=caller.payload_sha256)
        await self.node.warm(params.get("bucket"))  # the caches it reads, loaded off the loop
        result: Any = await route.handler(call)
        if isinstance(result, Response):
            return result
        response = Response(200, [_JSON], orjson.dumps(result))
        response.headers.extend(call.response_headers)
        return response
