"""The web console's front-end: its static files under ``/_satchel/console/`` and the share pages
``/s/{id}``. The console itself is a static page whose script calls the management API with a session
cookie; nothing here decides a permission.

Every answer carries a strict Content-Security-Policy (no inline script or style, nothing from another
origin but the endpoint's links), ``nosniff``, no framing and no referrer: links carry signatures.
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path
from urllib.parse import parse_qsl

from satchel.admin.handlers import LinkSigner
from satchel.asgi import Receive, Request, Response, Scope, Send
from satchel.console import session, shares
from satchel.console.errors import TooManyAttempts
from satchel.core.errors import ServiceUnavailable
from satchel.core.models import AuditEvent, Link
from satchel.core.node import Node
from satchel.core.requestfacts import AUTH_QUERY
from satchel.meta.store import StoredShare
from satchel.policyfacts import http_facts
from satchel.s3.router import split_target

PREFIX = "/_satchel/console/"
ROOT = PREFIX.rstrip("/")
SHARE_PREFIX = "/s/"
STATIC = Path(__file__).parent / "static"
_SECURITY = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
#: Longest passphrase form accepted (bytes).
MAX_FORM = 4096
SHARE_COOKIE = "satchel_share"
_PREVIEW = ("image/", "audio/", "video/", "application/pdf")


def csp(extra_origin: str = "") -> str:
    media = f"'self' {extra_origin}".strip()
    return ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            f"img-src {media} data: blob:; media-src {media}; frame-src {media}; "
            "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _load_static() -> dict[str, tuple[bytes, str]]:
    files = {}
    for path in STATIC.iterdir():
        if path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind in ("application/javascript",):
                kind += "; charset=utf-8"
            files[path.name] = (path.read_bytes(), kind)
    return files


def takes(path: str, host: str, domain: str | None) -> bool:
    """Whether a path is the console's: ``/_satchel/console/...`` and ``/s/...`` on the endpoint itself. On a
    virtual-host bucket (``bucket.DOMAIN``) the whole path is an object key, and ``s/report.pdf`` is a key
    like any other."""
    if not path.startswith((PREFIX, SHARE_PREFIX)) and path != ROOT:
        return False
    return not split_target("/", host, domain)[2]


def wants_console(request: Request, domain: str | None) -> bool:
    """A browser opening the endpoint's root without credentials: send it to the console (a virtual-host
    bucket's root is that bucket's listing)."""
    return (request.method == "GET" and request.path == "/" and not request.raw_query
            and "authorization" not in request.headers and "text/html" in request.headers.get("accept", "")
            and not split_target("/", request.headers.get("host", ""), domain)[2])


class ConsoleFrontend:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.files = _load_static()
        endpoint = node.settings.endpoint.rstrip("/")
        self.csp = csp(endpoint)

    def _headers(self, content_type: str) -> list[tuple[str, str]]:
        return [("Content-Type", content_type), ("Content-Security-Policy", self.csp), *_SECURITY]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.path.startswith(SHARE_PREFIX):
            response = await self.share(request)
        else:
            response = self.static(request)
        await response.send(send, head=request.method == "HEAD")

    def redirect(self, location: str, status: int = 303, cookie: str | None = None) -> Response:
        headers = [("Location", location), *_SECURITY]
        if cookie:
            headers.append(("Set-Cookie", cookie))
        return Response(status, headers, b"")

    def static(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, self._headers("text/plain; charset=utf-8"), b"Method not allowed\n")
        name = request.path[len(PREFIX):] or "index.html"
        found = self.files.get(name)
        if found is None or "/" in name:
            return Response(404, self._headers("text/plain; charset=utf-8"), b"Not found\n")
        body, kind = found
        return Response(200, self._headers(kind), body)

    # --- share pages ----------------------------------------------------------------------------
    async def share(self, request: Request) -> Response:
        """A share page, or 503 while the store is away: then still the view's one (refused) event, about
        its link as soon as the store can say which (looked up when the event is written)."""
        share_id, _, rest = request.path[len(SHARE_PREFIX):].partition("/")
        known: list[Link] = []
        try:
            return await self._share(request, share_id, rest, known)
        except ServiceUnavailable as exc:
            action = "share-passphrase" if request.method == "POST" and rest == "" else "share-view"
            reason = f"share page: ServiceUnavailable: {exc.message}"
            if known:
                self.audit(known[0], request, action, "refused", reason, 503)
            elif share_id and len(share_id) < 100 and rest in ("", "file"):
                self.node.audit.record(AuditEvent(
                    time=self.node.clock.now(), action=action, outcome="refused", method="GET",
                    client_ip=request.client, user_agent=request.user_agent, status=503, reason=reason,
                ), resolve_later=shares.resolve_page(shares.id_hash(share_id)))
            response = self.page("Temporarily unavailable",
                                 "<p>This page cannot be shown right now. Please try again in a moment.</p>", 503)
            response.headers.append(("Retry-After", "1"))
            return response

    async def _share(self, request: Request, share_id: str, rest: str, known: list[Link]) -> Response:
        node = self.node
        share = await node.read(node.store.get_share, shares.id_hash(share_id)) \
            if share_id and len(share_id) < 100 else None
        link = await node.read(node.store.get_link, share.link_id) if share is not None else None
        if link is not None:
            known.append(link)
        if share is None or link is None or rest not in ("", "file"):
            return self.page("Not found", "<p>This share page does not exist, or it was removed.</p>", 404)
        now = node.clock.now()
        if request.method == "POST" and rest == "":
            return await self.unlock(request, share_id, share, link)
        if request.method not in ("GET", "HEAD"):
            return Response(405, self._headers("text/plain; charset=utf-8"), b"Method not allowed\n")
        if not shares.unlocked(share, _cookie(request, SHARE_COOKIE), now):
            return self.passphrase_form(share_id, link)
        state = link.state(now)
        record = await node.read(shares.current_object, node, link)
        if state != "active" or record is None:
            reason = f"the link is {state}" if state != "active" else "the object is gone"
            return self.gone(link, request, reason, f"<p>This file is no longer shared: {html.escape(reason)}.</p>")
        refused = await shares.refusal(node, link, http_facts(request, now=node.clock.now(), auth_type=AUTH_QUERY))
        if refused is not None:  # the reason (which revocation, whose key) is for the audit trail only
            return self.gone(link, request, refused, "<p>This file is no longer shared.</p>")
        if rest == "file":
            url = await node.read(self.signed_url, link)
            if url is None:
                return self.page("No longer available", "<p>This file is no longer shared.</p>", 410)
            return self.redirect(url)
        self.audit(link, request, "share-view", "allowed", "share page viewed", 200)
        return self.file_page(share_id, link, record.size, record.headers.get("content-type") or "")

    def gone(self, link: Link, request: Request, reason: str, body: str) -> Response:
        """410, as for an expired link: the page and its file answer nothing about the object any more."""
        self.audit(link, request, "share-view", "refused", f"share page: {reason}", 410)
        return self.page("No longer available", body, 410)

    def signed_url(self, link: Link) -> str | None:
        """The link's URL, signed again with its signer's key (None once the key is gone: it would be refused)."""
        found = self.node.credentials.lookup(link.access_key_id or "")
        if found is None:
            return None
        return LinkSigner(self.node, found[0]).url(link)

    async def unlock(self, request: Request, share_id: str, share: StoredShare, link: Link) -> Response:
        node = self.node
        subject = f"share:{share.id_hash}"
        try:
            await session.reserve_attempt(node, (subject, node.settings.console_max_failures))
        except TooManyAttempts as exc:
            self.audit(link, request, "share-passphrase", "refused", "share page: too many wrong passphrases", 429)
            return self.passphrase_form(share_id, link, exc.message, 429)
        try:
            body = await request.read_body(MAX_FORM)
            fields = dict(parse_qsl(body.decode("utf-8"), max_num_fields=4))
        except (ValueError, UnicodeDecodeError):
            fields = {}
        if await shares.check_passphrase(share, fields.get("passphrase", "")):
            await node.write(node.store.clear_failures, subject)
            expires = int(node.clock.now()) + shares.UNLOCK_LIFETIME
            secure = "; Secure" if session.is_tls(node, request) else ""
            cookie = (f"{SHARE_COOKIE}={shares.unlock_value(share, expires)}; Path=/s/{share_id}; "
                      f"Max-Age={shares.UNLOCK_LIFETIME}; HttpOnly; SameSite=Strict{secure}")
            return self.redirect(f"/s/{share_id}", cookie=cookie)
        self.audit(link, request, "share-passphrase", "refused", "share page: wrong passphrase", 403)
        return self.passphrase_form(share_id, link, "That passphrase is not right.", 403)

    def audit(self, link: Link, request: Request, action: str, outcome: str, reason: str, status: int) -> None:
        self.node.audit.record(shares.page_event(link, action, outcome, reason, request.client, request.user_agent,
                                                 self.node.clock.now(), status))

    def page(self, title: str, body: str, status: int = 200) -> Response:
        document = (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)} · Satchel</title>"
            "<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/_satchel/console/app.css\">"
            "<script src=\"/_satchel/console/sharepage.js\" defer></script></head>"
            f"<body class=\"share\"><main class=\"share-card\"><h1>{html.escape(title)}</h1>{body}"
            "<p class=\"muted small\">Shared with Satchel. Only open files from people you trust.</p>"
            "</main></body></html>"
        )
        return Response(status, self._headers("text/html; charset=utf-8"), document.encode())

    def passphrase_form(self, share_id: str, link: Link, error: str = "", status: int = 200) -> Response:
        message = f"<p class=\"error\" role=\"alert\">{html.escape(error)}</p>" if error else ""
        body = (
            "<p>This file is protected by a passphrase.</p>" + message +
            f"<form method=\"post\" action=\"/s/{html.escape(share_id)}\" class=\"stack\">"
            "<label for=\"passphrase\">Passphrase</label>"
            "<input id=\"passphrase\" name=\"passphrase\" type=\"password\" autocomplete=\"off\" required autofocus>"
            "<button type=\"submit\" class=\"primary\">Open</button></form>"
        )
        return self.page("Protected file", body, status)

    def file_page(self, share_id: str, link: Link, size: int, content_type: str) -> Response:
        name = (link.filename or (link.key or "").rsplit("/", 1)[-1]) or "file"
        file_url = f"/s/{html.escape(share_id)}/file"
        preview = ""
        # A preview is one more use of the link: only for links without a use limit.
        if link.max_uses is None and content_type.startswith(_PREVIEW):
            if content_type.startswith("image/"):
                preview = f"<img class=\"preview\" src=\"{file_url}\" alt=\"Preview of {html.escape(name)}\">"
            elif content_type.startswith("audio/"):
                preview = f"<audio class=\"preview\" controls preload=\"none\" src=\"{file_url}\"></audio>"
            elif content_type.startswith("video/"):
                preview = f"<video class=\"preview\" controls preload=\"none\" src=\"{file_url}\"></video>"
            elif link.mode != "download":
                preview = f"<iframe class=\"preview\" title=\"Preview\" src=\"{file_url}\"></iframe>"
        body = (
            f"<dl class=\"facts\"><dt>File</dt><dd class=\"name\">{html.escape(name)}</dd>"
            f"<dt>Size</dt><dd data-bytes=\"{size}\">{size} bytes</dd>"
            f"<dt>Type</dt><dd>{html.escape(content_type or 'unknown')}</dd>"
            f"<dt>Available until</dt><dd><time datetime=\"{int(link.expires)}\">{int(link.expires)}</time></dd>"
            + (f"<dt>Uses left</dt><dd>{max(link.max_uses - link.uses, 0)}</dd>" if link.max_uses else "")
            + f"</dl>{preview}<p><a class=\"button primary\" id=\"download\" href=\"{file_url}\" download>"
            "Download</a></p>"
        )
        return self.page(name, body)


def _cookie(request: Request, name: str) -> str | None:
    for part in request.headers.get("cookie", "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None
