"""Hostile requests to the Swift API: TempAuth, the account/container/object API with a token, TempURLs and
FormPost. Answers are Swift's: a status and a plain-text reason (or swob's short HTML page, whose title is
the code here). TempURL and FormPost requests are link uses: exactly one refused audit event each (kind
``swift``), with the reason; token requests are audited by nobody and must change nothing.

Signatures are made here with the account's TempURL key (``frontends.TEMPURL_KEY``), valid for an hour
from import: a row tampers with one thing of an otherwise right URL or form.
"""

from __future__ import annotations

import time

from tests.hostile.frontends import BUCKET, SWIFT_ACCOUNT, Row, b64, formpost_sig, tempurl_sig

ROWS: list[Row] = []
EXP = int(time.time()) + 3600
ACCOUNT = f"/v1/{SWIFT_ACCOUNT}"
CONTAINER = f"{ACCOUNT}/{BUCKET}"
OBJ = f"{CONTAINER}/obj.txt"
NEW = f"{CONTAINER}/in/new.txt"
Headers = tuple[tuple[str, str], ...]
TOKEN: Headers = (("X-Auth-Token", "{TOKEN}"),)
UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
NOT_FOUND = (404, "Not Found")
BAD_NAME = (412, "Invalid UTF8 or contains NULL")
TEMPURL_INVALID = (401, "401 Unauthorized: Temp URL invalid")
DELETE_AT = (400, "Object expiration (X-Delete-At) is not supported: the object would never be deleted.")
DELETE_AFTER = (400, "Object expiration (X-Delete-After) is not supported: the object would never be deleted.")
NOT_URL = "redirect is not a URL (control, space or non-ASCII characters)"


def row(id: str, method: str, target: str, status: int, code: str, **kwargs: object) -> None:
    ROWS.append(Row(f"swift-{id}", method, target, status, code, **kwargs))  # type: ignore[arg-type]


headers: Headers
# --- TempAuth ----------------------------------------------------------------------------------------------
for name, headers, expect in (
    ("no-credentials", (), UNAUTHORIZED),
    ("user-only", (("X-Auth-User", "root:root"),), UNAUTHORIZED),
    ("key-only", (("X-Auth-Key", "{SECRET}"),), UNAUTHORIZED),
    ("wrong-key", (("X-Auth-User", "root:root"), ("X-Auth-Key", "wrong")), UNAUTHORIZED),
    ("unknown-user", (("X-Auth-User", "root:nobody"), ("X-Auth-Key", "{SECRET}")), UNAUTHORIZED),
    ("other-account", (("X-Auth-User", "other:root"), ("X-Auth-Key", "{SECRET}")), UNAUTHORIZED),
    ("no-colon", (("X-Auth-User", "root"), ("X-Auth-Key", "{SECRET}")), UNAUTHORIZED),
    ("user-huge", (("X-Auth-User", "root:" + "r" * 300), ("X-Auth-Key", "{SECRET}")), UNAUTHORIZED),
    ("key-huge", (("X-Auth-User", "root:root"), ("X-Auth-Key", "k" * 300)), UNAUTHORIZED),
    ("key-with-suffix", (("X-Auth-User", "root:root"), ("X-Auth-Key", "{SECRET}x")), UNAUTHORIZED),
    ("key-truncated", (("X-Auth-User", "root:root"), ("X-Auth-Key", "{SECRETCUT}")), UNAUTHORIZED),
    ("storage-user-wrong", (("X-Storage-User", "root:root"), ("X-Storage-Pass", "wrong")), UNAUTHORIZED),
    ("user-non-utf8", (("X-Auth-User", "root:r\udcff"), ("X-Auth-Key", "{SECRET}")), UNAUTHORIZED),
    ("host-injected", (("X-Auth-User", "root:root"), ("X-Auth-Key", "{SECRET}"), ("Host", "evil.example/x")),
     (400, "The Host header is not a valid host[:port]; set public_url to name this server's address.")),
):
    row(f"auth-{name}", "GET", "/auth/v1.0", *expect, headers=headers)
row("auth-post", "POST", "/auth/v1.0", 405, "Method Not Allowed")
row("auth-put", "PUT", "/auth/v1.0", 405, "Method Not Allowed")
row("auth-v2", "GET", "/auth/v2.0", *NOT_FOUND)
row("auth-traversal", "GET", "/auth/v1.0/../v1.0", *NOT_FOUND)

# --- tokens --------------------------------------------------------------------------------------------------
for name, headers, expect in (
    ("none", (), UNAUTHORIZED),
    ("bogus", (("X-Auth-Token", "AUTH_tkbogus"),), UNAUTHORIZED),
    ("empty", (("X-Auth-Token", ""),), UNAUTHORIZED),
    ("extended", (("X-Auth-Token", "{TOKEN}x"),), UNAUTHORIZED),
    ("truncated", (("X-Auth-Token", "{TOKENCUT}"),), UNAUTHORIZED),
    ("twice", (("X-Auth-Token", "{TOKEN}"), ("X-Auth-Token", "{TOKEN}")), UNAUTHORIZED),
    ("storage-bogus", (("X-Storage-Token", "bogus"),), UNAUTHORIZED),
    ("non-latin", (("X-Auth-Token", "{TOKEN}\udcff"),), UNAUTHORIZED),
    ("huge", (("X-Auth-Token", "t" * 8000),), UNAUTHORIZED),
):
    row(f"token-{name}-put", "PUT", NEW, *expect, headers=headers, body=b"data")
    row(f"token-{name}-delete", "DELETE", OBJ, *expect, headers=headers)
row("token-other-account", "GET", "/v1/AUTH_nosuch", *FORBIDDEN, headers=TOKEN)
row("token-other-account-put", "PUT", "/v1/AUTH_nosuch/c/o", *FORBIDDEN, headers=TOKEN, body=b"data")
row("token-empty-account", "GET", "/v1/AUTH_", *NOT_FOUND, headers=TOKEN)
row("token-reseller-wrong", "GET", "/v1/KEY_root", *NOT_FOUND, headers=TOKEN)
row("token-version-wrong", "GET", "/v2/AUTH_root", 400, "InvalidBucketName", headers=TOKEN)  # S3's path

# --- names -------------------------------------------------------------------------------------------------
for name, container in (
    ("short", "ab"), ("upper", "UPPER"), ("64", "c" * 64), ("257", "c" * 257), ("underscore", "bad_name"),
    ("dot-dot", "a..b"), ("leading-dash", "-abc"), ("ip", "192.168.1.1"), ("space", "a%20b"),
    ("unicode", "%C3%A9t%C3%A9"),
):
    shown = container.replace("%20", " ").replace("%C3%A9", "é")
    row(f"container-{name}", "PUT", f"{ACCOUNT}/{container}", 400,
        f"Invalid container name {shown!r}: containers are S3 buckets, named with 3-63 characters of a-z 0-9 . - "
        "(and some names are reserved).", headers=TOKEN)
for name, path, expect in (
    ("container-nul", f"{ACCOUNT}/a%00b", BAD_NAME), ("container-invalid-utf8", f"{ACCOUNT}/%ff%fe", BAD_NAME),
    ("object-nul", f"{CONTAINER}/a%00b", BAD_NAME), ("object-invalid-utf8", f"{CONTAINER}/%ff", BAD_NAME),
    ("object-overlong-utf8", f"{CONTAINER}/%c0%af", BAD_NAME),
    ("object-surrogate", f"{CONTAINER}/%ed%a0%80", BAD_NAME),
    ("object-1025", f"{CONTAINER}/{'o' * 1025}", (400, "Object name length of 1025 longer than 1024")),
    ("object-1025-utf8", f"{CONTAINER}/{'%C3%A9' * 513}", (400, "Object name length of 1026 longer than 1024")),
    ("account-nul", "/v1/AUTH_root%00/c/o", BAD_NAME),
    ("container-missing", f"{ACCOUNT}/no-such-container/o", NOT_FOUND),
):
    row(f"name-{name}", "PUT", path, *expect, headers=TOKEN, body=b"data")

# --- metadata: count, size, names; X-Delete-At; manifests; middleware parameters -----------------------------
many = tuple((f"X-Object-Meta-M{i}", "v") for i in range(91))
for name, headers, expect in (
    ("meta-count", many, (400, "Too many metadata items; max 90")),
    ("meta-value", (("X-Object-Meta-Big", "v" * 257),), (400, "Metadata value longer than 256: x-object-meta-big")),
    ("meta-name", (("X-Object-Meta-" + "n" * 129, "v"),), (400, "Metadata name too long; max 128")),
    ("meta-total", tuple((f"X-Object-Meta-T{i}", "v" * 250) for i in range(17)),
     (400, "Metadata too large; max 2048 bytes")),  # S3's limit: the object is S3's too
    ("meta-empty-name", (("X-Object-Meta-", "v"),), (400, "Metadata name cannot be empty")),
    ("meta-non-utf8", (("X-Object-Meta-A", "\udcff\udcfe"),), (400, "The value of x-object-meta-a is not UTF-8.")),
    ("delete-at-words", (("X-Delete-At", "soon"),), DELETE_AT),
    ("delete-at-past", (("X-Delete-At", "1"),), DELETE_AT),
    ("delete-at-twice", (("X-Delete-At", "4102444800"), ("X-Delete-At", "1")), DELETE_AT),
    ("delete-after-negative", (("X-Delete-After", "-1"),), DELETE_AFTER),
    ("delete-after-words", (("X-Delete-After", "soon"),), DELETE_AFTER),
    ("object-manifest", (("X-Object-Manifest", f"{BUCKET}/dir/"),), (400, "Dynamic Large Objects (X-Object-Manifest) "
     "are not supported: upload objects whole (up to the server's max_put_size) or use S3 multipart uploads.")),
    ("symlink", (("X-Symlink-Target", f"{BUCKET}/obj.txt"),), (400, "Symlinks are not supported.")),
    ("etag-wrong", (("ETag", "0" * 32),), (422, "Unprocessable Entity")),
    ("etag-garbage", (("ETag", "not an md5"),), (422, "Unprocessable Entity")),
    ("content-type-huge", (("Content-Type", "text/" + "x" * 300),),
     (400, "The value of content-type is 305 bytes long; at most 256 are kept.")),
    ("if-none-match-etag", (("If-None-Match", '"abc"'),), (400, "If-None-Match only supports *")),
    ("if-none-match-existing", (("If-None-Match", "*"),), (412, "Precondition Failed")),
):
    target = OBJ if name == "if-none-match-existing" else NEW
    row(f"put-{name}", "PUT", target, *expect, headers=TOKEN + headers, body=b"data")
for name, target, headers, expect in (
    ("account-meta-count", ACCOUNT, tuple((f"X-Account-Meta-M{i}", "v") for i in range(91)),
     (400, "Too many metadata items; max 90")),
    ("account-meta-value", ACCOUNT, (("X-Account-Meta-Big", "v" * 257),),
     (400, "Metadata value longer than 256: x-account-meta-big")),
    ("container-meta-count", CONTAINER, tuple((f"X-Container-Meta-M{i}", "v") for i in range(91)),
     (400, "Too many metadata items; max 90")),
    ("container-meta-name", CONTAINER, (("X-Container-Meta-" + "n" * 129, "v"),),
     (400, "Metadata name too long; max 128")),
    ("container-write-acl", CONTAINER, (("X-Container-Write", ".r:*"),),
     (400, "X-Container-Write ACLs are not supported: give write access with grants.")),
    ("container-read-acl", CONTAINER, (("X-Container-Read", "evil:*"),),
     (400, "X-Container-Read takes only .r:* (public read, listings included) or an empty value (private): give "
           "other users access with grants.")),
    ("container-sync", CONTAINER, (("X-Container-Sync-To", "http://evil.example/v1/a/c"),),
     (400, "x-container-sync-to names a Swift feature that Satchel does not have.")),
    ("object-meta-count", OBJ, many, (400, "Too many metadata items; max 90")),
    ("object-delete-at", OBJ, (("X-Delete-At", "4102444800"),), DELETE_AT),
):
    row(f"post-{name}", "POST", target, *expect, headers=TOKEN + headers)
for name, query, message in (
    ("bulk-delete", "?bulk-delete", "Bulk delete (?bulk-delete) is not supported: delete objects one by one."),
    ("extract-archive", "?extract-archive=tar",
     "Archive extraction (?extract-archive) is not supported: upload the files one by one."),
    ("manifest-put", "?multipart-manifest=put", "Static Large Objects (multipart-manifest) are not supported."),
    ("symlink-put", "?symlink=put", "Symlinks are not supported."),
    ("version-id", "?version-id=1", "Object versioning is not supported."),
):
    row(f"query-{name}", "PUT", NEW + query, 400, message, headers=TOKEN, body=b"data")
for name, query, expect in (
    ("limit-negative", "?limit=-1", (412, "Value of limit must be a positive integer")),
    ("limit-words", "?limit=many", (412, "Value of limit must be a positive integer")),
    ("limit-huge", "?limit=10001", (412, "Maximum limit is 10000")),
    ("delimiter-long", "?delimiter=ab", (412, "Bad delimiter")),
    ("prefix-nul", "?prefix=%00", BAD_NAME), ("marker-invalid-utf8", "?marker=%ff", BAD_NAME),
    ("end-marker-overlong-utf8", "?end_marker=%c0%af", BAD_NAME), ("delimiter-nul", "?delimiter=%00", BAD_NAME),
    ("path", "?path=dir", (400, "The path listing parameter is not supported: use prefix and delimiter=/.")),
):
    row(f"list-{name}", "GET", CONTAINER + query, *expect, headers=TOKEN)
row("range-beyond", "GET", OBJ, 416, "Requested Range Not Satisfiable", headers=(*TOKEN, ("Range", "bytes=100-200")))
for name, method, target in (("object-patch", "PATCH", OBJ), ("account-put", "PUT", ACCOUNT),
                             ("account-delete", "DELETE", ACCOUNT), ("container-copy", "COPY", CONTAINER)):
    row(f"method-{name}", method, target, 405, "Method Not Allowed", headers=TOKEN)
row("length-lie", "PUT", NEW, 408, "Request timeout", headers=(*TOKEN, ("Content-Length", "50")), body=b"data",
    auto_length=False)

# --- copies: X-Copy-From and Destination, traversal and malformed ----------------------------------------
for name, source, expect in (
    ("no-object", BUCKET, (412, "X-Copy-From header must be of the form <container name>/<object name>")),
    ("slash-only", "/", (412, "X-Copy-From header must be of the form <container name>/<object name>")),
    ("empty", "", (412, "X-Copy-From header must be of the form <container name>/<object name>")),
    ("traversal", f"../{BUCKET}/obj.txt", NOT_FOUND),
    ("nul", f"{BUCKET}/obj%00.txt", BAD_NAME),
    ("invalid-utf8", f"{BUCKET}/%ff", BAD_NAME),
    ("missing", f"{BUCKET}/none.txt", NOT_FOUND),
    ("other-container", "no-such-container/obj.txt", NOT_FOUND),
    ("name-1025", f"{BUCKET}/{'o' * 1025}", (400, "Object name length of 1025 longer than 1024")),
):
    row(f"copy-from-{name}", "PUT", NEW, *expect, headers=(*TOKEN, ("X-Copy-From", source)), body=b"")
row("copy-from-account", "PUT", NEW, 400, "x-copy-from-account: copying across accounts is not supported.",
    headers=(*TOKEN, ("X-Copy-From", f"{BUCKET}/obj.txt"), ("X-Copy-From-Account", "AUTH_other")), body=b"")
row("copy-from-with-body", "PUT", NEW, 400, "Copy requests require a zero byte body",
    headers=(*TOKEN, ("X-Copy-From", f"{BUCKET}/obj.txt")), body=b"data")
for name, destination, expect in (
    ("missing", None, (412, "You must provide a Destination header")),
    ("no-object", BUCKET, (412, "Destination header must be of the form <container name>/<object name>")),
    ("traversal", "../x", NOT_FOUND),
    ("nul", f"{BUCKET}/a%00", BAD_NAME),
    ("other-account", f"{BUCKET}/x", (400, "destination-account: copying across accounts is not supported.")),
):
    headers = TOKEN + ((("Destination", destination),) if destination is not None else ())
    if name == "other-account":
        headers += (("Destination-Account", "AUTH_other"),)
    row(f"copy-destination-{name}", "COPY", OBJ, *expect, headers=headers)

# --- TempURL: every parameter malformed, twice, tampered; a right URL used for something else ----------------
GOOD = tempurl_sig("GET", EXP, OBJ)


def _changed(sig: str) -> str:
    """The signature with its last hex digit changed (replacing it by a fixed digit would leave it
    unchanged whenever it already ended in that digit: one run in sixteen)."""
    return sig[:-1] + ("1" if sig[-1] == "0" else "0")


def tempurl(id: str, target: str, status: int = 401, code: str = TEMPURL_INVALID[1], *, method: str = "GET",
            reason: str = "TempUrlInvalid", **kwargs: object) -> None:
    row(f"tempurl-{id}", method, target, status, code, link=True, reason=reason, **kwargs)


for name, sig in (
    ("empty", ""), ("39-hex", GOOD[:39]), ("41-hex", GOOD[:40] + "a"), ("63-hex", GOOD[:63]), ("65-hex", GOOD + "a"),
    ("127-hex", (GOOD * 2)[:127]), ("129-hex", GOOD * 2 + "a"), ("non-hex", "g" * 64), ("zeros-sha256", "0" * 64),
    ("zeros-sha1", "0" * 40), ("zeros-sha512", "0" * 128),
    ("sha1-changed", _changed(tempurl_sig("GET", EXP, OBJ, algorithm="sha1"))),
    ("prefix-sha384", "sha384:" + b64(GOOD)), ("prefix-md5", "md5:" + b64(GOOD)),
    ("prefix-only", "sha256:"), ("colon", ":"), ("sha512-of-sha256", "sha512:" + b64(GOOD)),
    ("sha1-of-sha256", "sha1:" + b64(GOOD)), ("base64-bad", "sha256:!!!!"),
    ("base64-mixed", "sha256:" + b64(GOOD)[:10] + "-+" + b64(GOOD)[12:]),
    ("base64-zeros", "sha256:" + b64("00" * 32)), ("base64-urlsafe-zeros", "sha256:" + b64("ff" * 32, urlsafe=True)),
    ("base64-pad-wrong", "sha256:" + b64(GOOD, pad=False) + "==="),
    ("base64-space", "sha256:" + b64(GOOD)[:20] + "%20" + b64(GOOD)[20:]),
    ("spaces", "%20" + GOOD), ("nul", GOOD + "%00"), ("non-ascii", GOOD[:62] + "%C3%A9"),
    ("upper-hex-other-method", tempurl_sig("PUT", EXP, OBJ).upper()),
    ("mixed-case-hex-other-key", tempurl_sig("GET", EXP, OBJ, key="other")[:32].upper() + GOOD[32:]),
    ("other-method", tempurl_sig("PUT", EXP, OBJ)), ("other-object", tempurl_sig("GET", EXP, f"{CONTAINER}/dir/a.txt")),
    ("other-expiry", tempurl_sig("GET", EXP + 1, OBJ)), ("other-key", tempurl_sig("GET", EXP, OBJ, key="other")),
    ("encoded-path", tempurl_sig("GET", EXP, f"{CONTAINER}/obj%2Etxt")),
    ("prefix-signed", tempurl_sig("GET", EXP, f"{CONTAINER}/obj.txt", prefix=True)),
):
    tempurl(f"sig-{name}", f"{OBJ}?temp_url_sig={sig}&temp_url_expires={EXP}")
for name, expires in (
    ("negative", "-1"), ("huge", "9" * 20), ("float", f"{EXP}.0"), ("exponent", "1e10"), ("hex", "0x10"),
    ("leading-space", f"%20{EXP}"), ("trailing-space", f"{EXP}%20"), ("plus", f"%2B{EXP}"),
    ("arabic-digits", "%D9%A4%D9%A1"), ("iso-offset", "2100-01-01T00:00:00%2B00:00"), ("iso-date", "2100-01-01"),
    ("iso-month-13", "2100-13-01T00:00:00Z"), ("iso-lowercase", "2100-01-01t00:00:00z"), ("empty", ""),
    ("past", "1"), ("zero", "0"),
):
    tempurl(f"expires-{name}", f"{OBJ}?temp_url_sig={GOOD}&temp_url_expires={expires}")
PAST = 1000000000
tempurl("expired-right-signature", f"{OBJ}?temp_url_sig={tempurl_sig('GET', PAST, OBJ)}&temp_url_expires={PAST}")
tempurl("expired-iso", f"{OBJ}?temp_url_sig={tempurl_sig('GET', PAST, OBJ)}&temp_url_expires=2001-09-09T01:46:40Z")
RIGHT = f"temp_url_sig={GOOD}&temp_url_expires={EXP}"
for name, query in (
    ("sig-missing", f"temp_url_expires={EXP}"), ("expires-missing", f"temp_url_sig={GOOD}"),
    ("sig-twice", f"{RIGHT}&temp_url_sig={GOOD}"), ("expires-twice", f"{RIGHT}&temp_url_expires={EXP}"),
    ("sig-twice-other", f"temp_url_sig=0&{RIGHT}"), ("prefix-twice", f"{RIGHT}&temp_url_prefix=a&temp_url_prefix=a"),
    ("filename-twice", f"{RIGHT}&filename=a&filename=b"), ("inline-twice", f"{RIGHT}&inline&inline"),
    ("ip-range-twice", f"{RIGHT}&temp_url_ip_range=127.0.0.1&temp_url_ip_range=127.0.0.1"),
    ("ip-range-unsigned", f"{RIGHT}&temp_url_ip_range=127.0.0.1"),
    ("prefix-unsigned", f"{RIGHT}&temp_url_prefix=obj"), ("prefix-long", f"{RIGHT}&temp_url_prefix={'p' * 2100}"),
    ("sig-case-name", f"TEMP_URL_SIG={GOOD}&temp_url_expires={EXP}"),
):
    tempurl(f"param-{name}", f"{OBJ}?{query}")
# A right signature, used for what it was not signed for.
for name, method, path in (
    ("delete", "DELETE", OBJ), ("put", "PUT", OBJ), ("post", "POST", OBJ), ("patch", "PATCH", OBJ),
    ("copy", "COPY", OBJ), ("other-object", "GET", f"{CONTAINER}/dir/a.txt"), ("case", "GET", f"{CONTAINER}/OBJ.txt"),
    ("double-slash", "GET", f"{CONTAINER}//obj.txt"), ("container", "GET", CONTAINER), ("account", "GET", ACCOUNT),
    ("other-account", "GET", f"/v1/AUTH_nosuch/{BUCKET}/obj.txt"), ("with-bad-token", "DELETE", OBJ),
):
    headers = (("X-Auth-Token", "bogus"),) if name == "with-bad-token" else ()
    tempurl(f"right-sig-{name}", f"{path}?{RIGHT}", method=method, headers=headers)
# ... on a path the router refuses: Swift's answer to the path, and still one refused use.
for name, path, expect in (
    ("nul-path", f"{CONTAINER}/obj%00.txt", BAD_NAME), ("invalid-utf8-path", f"{CONTAINER}/%ff", BAD_NAME),
    ("name-1025", f"{CONTAINER}/{'o' * 1025}", (400, "Object name length of 1025 longer than 1024")),
    ("no-account", "/v1/AUTH_", NOT_FOUND),
):
    tempurl(f"right-sig-{name}", f"{path}?{RIGHT}", *expect)
tempurl("right-sig-range-beyond", f"{OBJ}?{RIGHT}", 416, "Requested Range Not Satisfiable",
        headers=(("Range", "bytes=100-200"),), reason="InvalidRange")
# Writes: a right PUT signature with a header a TempURL may not carry.
PUT_RIGHT = f"temp_url_sig={tempurl_sig('PUT', EXP, NEW)}&temp_url_expires={EXP}"
for header, value in (("X-Copy-From", f"{BUCKET}/obj.txt"), ("X-Object-Manifest", f"{BUCKET}/dir/"),
                      ("X-Symlink-Target", f"{BUCKET}/obj.txt"), ("X-Copy-From-Account", "AUTH_root")):
    tempurl(f"put-{header.lower()}", f"{NEW}?{PUT_RIGHT}", 400,
            f"The header {header.title()!r} is not allowed in this tempurl", method="PUT",
            headers=((header, value),), body=b"data", reason="TempUrlHeaderNotAllowed")
# A body shorter than its Content-Length: the server's body timeout answers 408, and the use's event
# records that 408 (with the handler's reason), not the 499 the handler could no longer send.
tempurl("put-length-lie", f"{NEW}?{PUT_RIGHT}", 408, "Request timeout", method="PUT",
        headers=(("Content-Length", "50"),), body=b"data", auto_length=False, reason="IncompleteBody")
tempurl("put-etag-wrong", f"{NEW}?{PUT_RIGHT}", 422, "Unprocessable Entity", method="PUT",
        headers=(("ETag", "0" * 32),), body=b"data", reason="BadDigest")
# Prefix-based URLs, used outside their prefix.
PREFIX_SIG = tempurl_sig("GET", EXP, f"{CONTAINER}/dir/", prefix=True)
for name, path in (("other", "obj.txt"), ("sibling", "dira.txt"), ("prefix-itself", "dir"),
                   ("encoded-slash", "dir%2Fa.txt".replace("%2F", "%5C")), ("case", "DIR/a.txt")):
    tempurl(f"prefix-outside-{name}", f"{CONTAINER}/{path}?temp_url_sig={PREFIX_SIG}&temp_url_expires={EXP}"
            "&temp_url_prefix=dir/")
tempurl("prefix-changed", f"{CONTAINER}/d/a.txt?temp_url_sig={PREFIX_SIG}&temp_url_expires={EXP}&temp_url_prefix=d/")
tempurl("prefix-dropped", f"{CONTAINER}/dir/a.txt?temp_url_sig={PREFIX_SIG}&temp_url_expires={EXP}")
for name, ip_range in (("outside", "10.0.0.0/8"), ("garbage", "not-an-ip"), ("host-bits", "127.0.0.1/8"),
                       ("v6", "::1/128")):
    sig = tempurl_sig("GET", EXP, OBJ, ip_range=ip_range)
    tempurl(f"ip-range-{name}", f"{OBJ}?temp_url_sig={sig}&temp_url_expires={EXP}&temp_url_ip_range={ip_range}")

# --- FormPost ----------------------------------------------------------------------------------------------
BOUNDARY = "CatalogueBoundary"
FORM_PATH = f"{CONTAINER}/in/"


def form(fields: list[tuple[str, str]], files: list[tuple[str, bytes]] | None = None, *, tail: bool = True) -> bytes:
    out = b""
    for name, value in fields:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode() \
            + value.encode("utf-8", "surrogateescape") + b"\r\n"
    for filename, data in files if files is not None else [("f.txt", b"formpost\n")]:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                "Content-Type: text/plain\r\n\r\n").encode("utf-8", "surrogateescape") + data + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if tail else b"")


def signed(redirect: str = "", size: str = "1000", count: str = "5", expires: str = str(EXP), *,
           signed_redirect: str | None = None, path: str = FORM_PATH) -> list[tuple[str, str]]:
    sig = formpost_sig(path, redirect if signed_redirect is None else signed_redirect, size, count, expires)
    fields = [("max_file_size", size), ("max_file_count", count), ("expires", expires), ("signature", sig)]
    return ([("redirect", redirect)] if redirect else []) + fields


def formpost(id: str, body: bytes, status: int, code: str, reason: str, *, target: str = FORM_PATH,
             content_type: str = f"multipart/form-data; boundary={BOUNDARY}") -> None:
    row(f"formpost-{id}", "POST", target, status, code, link=True, reason=reason, body=body,
        headers=(("Content-Type", content_type),))


INVALID_SIG = (401, "FormPost: Invalid Signature", "FormPostUnauthorized")
for name, fields in (
    ("sig-zeros", [*signed()[:3], ("signature", "0" * 64)]),
    ("sig-short", [*signed()[:3], ("signature", "abc")]),
    ("sig-sha512-prefix", [*signed()[:3], ("signature", "sha512:" + b64(signed()[3][1]))]),
    ("size-changed", [("max_file_size", "999"), *signed()[1:]]),
    ("count-changed", [signed()[0], ("max_file_count", "4"), *signed()[2:]]),
    ("expires-changed", [*signed()[:2], ("expires", str(EXP + 1)), signed()[3]]),
    ("other-path", signed(path=f"{CONTAINER}/other/")),
    ("redirect-added", [("redirect", "https://evil.example/"), *signed()]),
    ("redirect-changed", signed("https://evil.example/", signed_redirect="https://good.example/")),
    ("other-key", [*signed()[:3], ("signature", formpost_sig(FORM_PATH, "", "1000", "5", str(EXP), key="x"))]),
):
    formpost(name, form(fields), *INVALID_SIG)
formpost("expired", form(signed(expires="1000000000")), 401, "FormPost: Form Expired", "FormPostUnauthorized")
formpost("other-account", form(signed()), *INVALID_SIG, target=f"/v1/AUTH_nosuch/{BUCKET}/in/")
for missing in ("max_file_size", "max_file_count", "expires", "signature"):
    fields = [(k, v) for k, v in signed() if k != missing]
    formpost(f"{missing}-missing", form(fields), 400, f"FormPost: {missing} is missing", "FormPostInvalid")
for name, fields, message in (
    ("size-words", signed(size="big"), "max_file_size not an integer"),
    ("size-negative", signed(size="-1"), "max_file_size not an integer"),
    ("size-huge", signed(size="9" * 30), "max_file_size not an integer"),
    ("size-above-max-put", signed(size="9" * 15),
     "max_file_size above this server's largest upload (5368709120 bytes)"),
    ("count-words", signed(count="many"), "max_file_count not an integer"),
    ("count-huge", signed(count="1001"), "max_file_count above 1000"),
    ("expires-words", signed(expires="soon"), "expired not an integer"),
    ("expires-iso", signed(expires="2100-01-01T00:00:00Z"), "expired not an integer"),
    ("x-delete-at", [*signed(), ("x_delete_at", "4102444800")],
     "x_delete_at is not supported: the uploaded files would never be deleted"),
    ("x-delete-after", [*signed(), ("x_delete_after", "60")],
     "x_delete_after is not supported: the uploaded files would never be deleted"),
    ("redirect-javascript", signed("javascript:alert(1)"), "redirect is not an absolute http or https URL"),
    ("redirect-scheme-relative", signed("//evil.example/"), "redirect is not an absolute http or https URL"),
    ("redirect-crlf", signed("https://good.example/\r\nSet-Cookie: a=b"), NOT_URL),
    ("redirect-space", signed("https://good.example/ x"), NOT_URL),
    ("redirect-non-ascii", signed("https://évil.example/"), NOT_URL),
    ("redirect-backslash", signed("https:\\\\evil.example"), NOT_URL),
    ("redirect-data", signed("data:text/html,x"), "redirect is not an absolute http or https URL"),
    ("attribute-non-utf8", [*signed(), ("content-type", "\udcff")], "the attribute content-type is not UTF-8"),
    ("attribute-huge", [*signed(), ("content-type", "x" * 5000)], "a form attribute is longer than 4096 bytes"),
    ("attributes-many", [*signed(), *((f"a{i}", "v") for i in range(70))], "more than 64 form attributes"),
):
    message = message and f"FormPost: {message}"
    formpost(name, form(fields), 400, message, "FormPostInvalid")
formpost("content-type-huge", form([*signed(), ("content-type", "text/" + "x" * 300)]), 400,
         "FormPost: a content-type longer than 256 bytes", "FormPostInvalid")
formpost("too-many-files", form(signed(count="0")), 400, "400 Bad Request | FormPost: Max File Count Exceeded",
         "MaxFileCountExceeded")
formpost("file-too-big", form(signed(size="3")), 400, "FormPost: max_file_size exceeded", "EntityTooLarge")
formpost("no-files", form(signed(), []), 400, "400 Bad Request | FormPost: No Files To Process", "NoFilesToProcess")
formpost("truncated", form(signed(), tail=False)[:-20], 400, "FormPost: the form ended early", "FormPostCutOff")
# A whole form under a Content-Length that announces more: the answer decided at the form's end goes out
# (and the connection closes) rather than the body timeout's 408 while the rest is waited for.
row("formpost-length-lie", "POST", FORM_PATH, *INVALID_SIG[:2], link=True, reason=INVALID_SIG[2], auto_length=False,
    body=form([*signed()[:3], ("signature", "0" * 64)]),
    headers=(("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"), ("Content-Length", "5000")))
formpost("boundary-missing", form(signed()), 400, "FormPost: invalid starting boundary", "FormPostInvalid",
         content_type="multipart/form-data")
formpost("boundary-other", form(signed()), 400, "FormPost: invalid starting boundary", "FormPostInvalid",
         content_type="multipart/form-data; boundary=Other")
formpost("boundary-huge", form(signed()), 400, "FormPost: invalid starting boundary", "FormPostInvalid",
         content_type=f"multipart/form-data; boundary={'b' * 250}")
FILE_NAME = (400, "FormPost: invalid file name (a . or .. segment, a leading / or a backslash)")
for name, filename, expect in (
    ("dot-dot", "../x.txt", FILE_NAME), ("dot", "./x.txt", FILE_NAME), ("inner-dot-dot", "a/../../x", FILE_NAME),
    ("absolute", "/etc/passwd", FILE_NAME), ("backslash", "a\\\\..\\\\x", FILE_NAME),
    ("nul", "a\x00b", (412, "FormPost: Invalid UTF8 or contains NULL")),
    ("invalid-utf8", "\udcff.txt", (412, "FormPost: Invalid UTF8 or contains NULL")),
    ("long", "f" * 1030, (400, "FormPost: Object name length of 1033 longer than 1024")),
):
    formpost(f"filename-{name}", form(signed(), [(filename, b"data")]), *expect, "InvalidObjectName")
