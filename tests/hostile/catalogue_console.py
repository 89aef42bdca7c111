"""Hostile requests to the web console: signing in, its management API calls made with a session cookie
(CSRF token, Origin, tampered, doubled and ended cookies, hostile bodies) and the share pages ``/s/{id}``.

The management API answers JSON ``{"error": {"code"}}``; share pages answer HTML (the code here is the
page's title) or a plain-text 405. Sign-ins and API calls are audited by nobody and must change nothing
(no session made or ended, no object, user, share or key changed); a wrong passphrase on a share page is
a use of its link: exactly one refused ``share-passphrase`` event. Sign-in failures and passphrases are
throttled (``console_throttle``, not part of the state: counting is its job); ``{SHARELOCKED}`` was
throttled by the world before the rows.
"""

from __future__ import annotations

from tests.hostile.frontends import PASSPHRASE, Row

ROWS: list[Row] = []
API = "/_satchel/api"
JSON = (("Content-Type", "application/json"),)
SESSION = (("Cookie", "satchel_session={COOKIE}"),)
CSRF = (("X-CSRF-Token", "{CSRF}"),)
Headers = tuple[tuple[str, str], ...]
headers: Headers
INVALID = (400, "InvalidArgument")
DENIED = (403, "AccessDenied")
NOT_SIGNED_IN = (401, "NotSignedIn")


def row(id: str, method: str, target: str, status: int, code: str, **kwargs: object) -> None:
    ROWS.append(Row(f"console-{id}", method, target, status, code, **kwargs))  # type: ignore[arg-type]


# --- signing in ---------------------------------------------------------------------------------------------
for name, body, expect in (
    ("bad-json", b"{not json", INVALID),
    ("empty-object", b"{}", INVALID),
    ("array", b'["root", "pw"]', INVALID),
    ("string", b'"root"', INVALID),
    ("null", b"null", INVALID),
    ("user-number", b'{"user": 1, "password": "x"}', INVALID),
    ("password-null", b'{"user": "root", "password": null}', INVALID),
    ("password-missing", b'{"user": "root"}', INVALID),
    ("unknown-field", b'{"user": "root", "password": "x", "role": "admin"}', INVALID),
    ("user-twice", b'{"user": "nobody", "user": "root", "password": "x"}', INVALID),
    ("password-twice", b'{"user": "root", "password": "x", "password": "y"}', INVALID),
    ("deep", b"[" * 5000 + b"]" * 5000, INVALID),
    ("deep-object", b'{"user": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b', "password": "x"}', INVALID),
    ("lone-surrogate", b'{"user": "\\ud800", "password": "x"}', INVALID),
    ("invalid-utf8", b'{"user": "\xff", "password": "x"}', INVALID),
    ("number-huge", b'{"user": "root", "password": 1e400}', INVALID),
    ("nul-user", b'{"user": "root\\u0000", "password": "x"}', DENIED),
    ("user-300", b'{"user": "' + b"u" * 300 + b'", "password": "x"}', INVALID),
    ("password-2000", b'{"user": "root", "password": "' + b"p" * 2000 + b'"}', INVALID),
    ("user-empty", b'{"user": "", "password": "x"}', INVALID),
    ("wrong-password", b'{"user": "root", "password": "wrong"}', DENIED),
    ("password-prefix", b'{"user": "root", "password": "{PASSWORDCUT}"}', DENIED),
    ("password-case", b'{"user": "ROOT", "password": "wrong"}', DENIED),
    ("unknown-user", b'{"user": "nobody", "password": "x"}', DENIED),
    ("oversized", b'{"user": "root", "password": "' + b"p" * (1024 * 1024) + b'"}', (413, "EntityTooLarge")),
):
    row(f"sign-in-{name}", "POST", f"{API}/session", *expect, headers=JSON, body=body)
RIGHT = b'{"user": "root", "password": "{PASSWORD}"}'
for name, headers in (
    ("no-content-type", ()), ("text-plain", (("Content-Type", "text/plain"),)),
    ("form", (("Content-Type", "application/x-www-form-urlencoded"),)),
    ("origin-evil", (*JSON, ("Origin", "http://evil.example"))), ("origin-null", (*JSON, ("Origin", "null"))),
    ("origin-port", (*JSON, ("Origin", "http://127.0.0.1:1"))),
    ("sec-fetch-cross-site", (*JSON, ("Sec-Fetch-Site", "cross-site"))),
    ("sec-fetch-same-site", (*JSON, ("Sec-Fetch-Site", "same-site"))),
):
    row(f"sign-in-{name}", "POST", f"{API}/session", *DENIED, headers=headers, body=RIGHT)
row("sign-in-put", "PUT", f"{API}/session", 405, "MethodNotAllowed", headers=JSON, body=RIGHT)
row("sign-in-query-password", "POST", f"{API}/session?password={{PASSWORD}}", *INVALID, headers=JSON,
    body=b'{"user": "root"}')
for name, cookie in (("tampered", "satchel_session={COOKIEFLIP}"), ("ended", "satchel_session={OLDCOOKIE}"),
                     ("twice", "satchel_session={COOKIE}; satchel_session={COOKIE}"), ("empty", "satchel_session="),
                     ("garbage", "satchel_session=\udcff\udcfe")):
    row(f"session-read-{name}", "GET", f"{API}/session", 200, "", headers=(("Cookie", cookie),))

# --- state changes with a session: CSRF, Origin, cookies --------------------------------------------------
CHANGES: tuple[tuple[str, str, str, bytes], ...] = (
    ("delete-object", "DELETE", f"{API}/buckets/{{B}}/object?key=obj.txt", b""),
    ("upload", "PUT", f"{API}/buckets/{{B}}/upload?key=in/console.txt", b"console"),
    ("create-share", "POST", f"{API}/shares", b'{"link_id": "{LINK}"}'),
    ("create-user", "POST", f"{API}/users", b'{"name": "mallory", "role": "admin", "password": "pw-0123456789ab"}'),
    ("bucket-public", "PUT", f"{API}/buckets/{{B}}/settings", b'{"public_read": true}'),
    ("sign-out", "DELETE", f"{API}/session", b""),
    ("create-key", "POST", f"{API}/access-keys", b"{}"),
)
for change, method, target, body in CHANGES:
    for name, headers, expect in (
        ("no-csrf", SESSION, DENIED),
        ("csrf-wrong", (*SESSION, ("X-CSRF-Token", "0" * 64)), DENIED),
        ("csrf-ended-session", (*SESSION, ("X-CSRF-Token", "{OLDCSRF}")), DENIED),
        ("csrf-truncated", (*SESSION, ("X-CSRF-Token", "{CSRFCUT}")), DENIED),
        ("csrf-upper", (*SESSION, ("X-CSRF-Token", "{CSRFUPPER}")), DENIED),
        ("csrf-twice", (*SESSION, *CSRF, *CSRF), DENIED),
        ("csrf-in-query", SESSION, DENIED),
        ("origin-evil", (*SESSION, *CSRF, ("Origin", "http://evil.example")), DENIED),
        ("sec-fetch-cross-site", (*SESSION, *CSRF, ("Sec-Fetch-Site", "cross-site")), DENIED),
        ("cookie-tampered", (("Cookie", "satchel_session={COOKIEFLIP}"), *CSRF), NOT_SIGNED_IN),
        ("cookie-ended", (("Cookie", "satchel_session={OLDCOOKIE}"), ("X-CSRF-Token", "{OLDCSRF}")), NOT_SIGNED_IN),
        ("cookie-twice", (("Cookie", "satchel_session={COOKIE}; satchel_session={COOKIE}"), *CSRF), DENIED),
        ("cookie-name-case", (("Cookie", "Satchel_Session={COOKIE}"), *CSRF), DENIED),
        ("no-cookie", CSRF, DENIED),
        ("cookie-and-bad-signature", (*SESSION, *CSRF, ("Authorization", "AWS4-HMAC-SHA256 Credential=x")),
         (400, "AuthorizationHeaderMalformed")),
    ):
        query = ("&" if "?" in target else "?") + "csrf={CSRF}" if name == "csrf-in-query" else ""
        row(f"{change}-{name}", method, target + query, *expect, headers=(*JSON, *headers), body=body)

# --- hostile bodies and parameters with a good session ----------------------------------------------------
GOOD = (*JSON, *SESSION, *CSRF)
for name, method, target, body, expect in (
    ("share-unknown-link", "POST", f"{API}/shares", b'{"link_id": "nosuch"}', (404, "NotFound")),
    ("share-passphrase-huge", "POST", f"{API}/shares", b'{"link_id": "{LINK}", "passphrase": "' + b"p" * 2000 + b'"}',
     INVALID),
    ("share-unknown-field", "POST", f"{API}/shares", b'{"link_id": "{LINK}", "uses": 1000}', INVALID),
    ("share-link-twice", "POST", f"{API}/shares", b'{"link_id": "nosuch", "link_id": "{LINK}"}', INVALID),
    ("share-bad-json", "POST", f"{API}/shares", b'{"link_id": ', INVALID),
    ("upload-key-invalid-utf8", "PUT", f"{API}/buckets/{{B}}/upload?key=%ff", b"data", INVALID),
    ("upload-key-overlong-utf8", "PUT", f"{API}/buckets/{{B}}/upload?key=in/%c0%af", b"data", INVALID),
    ("upload-key-surrogate", "PUT", f"{API}/buckets/{{B}}/upload?key=in/%ED%A0%80", b"data", INVALID),
    ("delete-object-key-invalid-utf8", "DELETE", f"{API}/buckets/{{B}}/object?key=obj.txt%ff", b"", INVALID),
    ("upload-key-missing", "PUT", f"{API}/buckets/{{B}}/upload", b"data", INVALID),
    ("upload-key-1025", "PUT", f"{API}/buckets/{{B}}/upload?key={'k' * 1025}", b"data", (400, "KeyTooLongError")),
    ("upload-key-twice", "PUT", f"{API}/buckets/{{B}}/upload?key=in/a&key=in/b", b"data", INVALID),
    ("upload-other-bucket", "PUT", f"{API}/buckets/nosuch-bucket/upload?key=a", b"data", (404, "NoSuchBucket")),
    ("upload-bucket-traversal", "PUT", f"{API}/buckets/..%2F{{B}}/upload?key=a", b"data", (404, "NotFound")),
    ("delete-object-key-empty", "DELETE", f"{API}/buckets/{{B}}/object?key=", b"", INVALID),
    ("delete-bucket-not-empty", "DELETE", f"{API}/buckets/{{B}}", b"", (409, "BucketNotEmpty")),
    ("settings-not-bool", "PUT", f"{API}/buckets/{{B}}/settings", b'{"public_read": "yes"}', INVALID),
    ("settings-unknown", "PUT", f"{API}/buckets/{{B}}/settings", b'{"public_read": false, "cors": "*"}', INVALID),
    ("user-role-god", "POST", f"{API}/users", b'{"name": "mallory", "role": "god", "password": "pw-0123456789ab"}',
     INVALID),
    ("user-name-traversal", "POST", f"{API}/users", b'{"name": "../root", "password": "pw-0123456789ab"}', INVALID),
    ("user-name-taken", "POST", f"{API}/users", b'{"name": "root", "password": "pw-0123456789ab"}', (409, "Conflict")),
    ("user-update-unknown", "PUT", f"{API}/users/nobody", b'{"role": "admin"}', DENIED),
    ("grant-unknown-user", "POST", f"{API}/grants",
     b'{"user": "nobody", "bucket": "{B}", "permission": "read"}', (404, "NotFound")),
    ("key-status-unknown", "PUT", f"{API}/access-keys/NOPE", b'{"status": "active"}', DENIED),
    ("complete-unknown-upload", "POST", f"{API}/buckets/{{B}}/uploads/nosuch/complete?key=in/a",
     b'{"parts": [{"part": 1, "etag": "x"}]}', (404, "NoSuchUpload")),
    ("tempurl-key-huge", "PUT", f"{API}/buckets/{{B}}/tempurl-key", b'{"key": "' + b"k" * 5000 + b'"}', INVALID),
    ("path-invalid-utf8", "DELETE", f"{API}/buckets/%ff/object?key=a", b"", INVALID),
    ("route-unknown", "POST", f"{API}/session/admin", b"{}", (404, "NotFound")),
):
    row(f"session-{name}", method, target, *expect, headers=GOOD, body=body)

# --- share pages ----------------------------------------------------------------------------------------------
NOT_FOUND = (404, "Not found")
for name, path in (
    ("empty", "/s/"), ("short", "/s/x"), ("extended", "/s/{SHARE}x"), ("truncated", "/s/{SHARECUT}"),
    ("file-extra", "/s/{SHARE}/file/x"), ("other-page", "/s/{SHARE}/admin"), ("nul", "/s/%00"),
    ("invalid-utf8", "/s/%ff%fe"), ("long", "/s/" + "a" * 200), ("traversal", "/s/..%2F{SHARE}"),
    ("dot-dot", "/s/{SHARE}/.."), ("case", "/s/{SHAREUPPER}"),
):
    row(f"share-{name}", "GET", path, *NOT_FOUND)
    if name in ("short", "extended", "truncated", "traversal"):
        row(f"share-{name}-post", "POST", path, *NOT_FOUND, body=b"passphrase=x",
            headers=(("Content-Type", "application/x-www-form-urlencoded"),))
for method in ("PUT", "DELETE", "PATCH"):
    row(f"share-{method.lower()}", method, "/s/{SHARE}", 405, "Method not allowed")
row("share-post-file", "POST", "/s/{SHAREP}/file", 405, "Method not allowed")
PROTECTED = (200, "Protected file")
for name, page_cookie in (
    ("none", None), ("forged", "satchel_share=9999999999.00"), ("expired-shape", "satchel_share=1.x"),
    ("words", "satchel_share=open"), ("twice", "satchel_share=1.x; satchel_share=9999999999.00"),
    ("other-page", "satchel_share={SHAREPCOOKIEOTHER}"),
):
    for page in ("", "/file"):
        headers = (("Cookie", page_cookie),) if page_cookie else ()
        row(f"share-locked-{name}{page.replace('/', '-')}", "GET", "/s/{SHAREP}" + page, *PROTECTED, headers=headers)
FORM = (("Content-Type", "application/x-www-form-urlencoded"),)
WRONG = (403, "Protected file")
for name, body in (
    ("wrong", b"passphrase=wrong"), ("empty", b"passphrase="), ("missing", b""),
    ("prefix", ("passphrase=" + PASSPHRASE[:-1]).replace(" ", "+").encode()),
    ("suffix", ("passphrase=" + PASSPHRASE + "x").replace(" ", "+").encode()),
    ("overlong", b"passphrase=" + b"p" * 2000), ("oversized-form", b"passphrase=" + b"p" * 5000),
    ("invalid-utf8", b"passphrase=%ff%fe"), ("name-case", ("PASSPHRASE=" + PASSPHRASE).replace(" ", "+").encode()),
    ("json", b'{"passphrase": "' + PASSPHRASE.encode() + b'"}'),
):
    row(f"share-passphrase-{name}", "POST", "/s/{SHAREP}", *WRONG, headers=FORM, body=body, link=True,
        reason="share page: wrong passphrase")
row("share-passphrase-no-passphrase-page", "POST", "/s/{SHARE}", *WRONG, headers=FORM, body=b"passphrase=x", link=True,
    reason="share page: wrong passphrase")
for name, body in (("right", ("passphrase=" + PASSPHRASE).replace(" ", "+").encode()), ("wrong", b"passphrase=x"),
                   ("empty", b""), ("oversized", b"passphrase=" + b"p" * 5000), ("garbage", b"\xff\xfe")):
    row(f"share-throttled-{name}", "POST", "/s/{SHARELOCKED}", 429, "Protected file", headers=FORM, body=body,
        link=True, reason="share page: too many wrong passphrases")
