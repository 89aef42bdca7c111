"""Hostile requests to pre-authenticated requests (``/p/``): every one is a use of a link, refused, with OCI's
JSON error (``{"code", "message"}``) and exactly one audit event, and no use counted.

Every refusal of access is the uniform ``404 NotAuthorizedOrNotFound``: an unknown, truncated, extended,
deleted, expired or spent token, another bucket or namespace, an object outside the PAR's scope, a method
its access type does not grant. Malformed requests inside the scope are ``400 InvalidParameter``.

PARs of the world (``frontends.make_world``): ``R`` ObjectRead ``obj.txt`` (five uses), ``L`` AnyObjectRead
``dir/`` with listing, ``W`` and ``W2`` AnyObjectWrite ``in/`` (``W`` started the upload ``{PARUPLOAD}`` of
``in/mp.bin``), ``D`` deleted, ``E`` expired, ``U`` spent (one use, used). ``{S3UPLOAD}`` is an upload of
``in/s3mp.bin`` started through S3.
"""

from __future__ import annotations

from tests.hostile.frontends import Row

ROWS: list[Row] = []
NF = (404, "NotAuthorizedOrNotFound")
BAD = (400, "InvalidParameter")
OBJ_NF = (404, "ObjectNotFound")


def row(id: str, method: str, target: str, status: int, code: str, **kwargs: object) -> None:
    ROWS.append(Row(f"par-{id}", method, target, status, code, link=True, **kwargs))  # type: ignore[arg-type]


def at(token: str, rest: str) -> str:
    return f"/p/{{{token}}}/n/{{NS}}/b/{{B}}/{rest}"


R = at("TR", "o/obj.txt")
L = at("TL", "o/")
W = "o/in/new.txt"
UP = "u/in/mp.bin/id/{PARUPLOAD}/"

# --- tokens: missing, truncated, extended, altered, encoded, of a dead PAR ---------------------------------
for name, token in (
    ("empty", ""), ("truncated", "{TRCUT}"), ("one-char", "x"), ("extended", "{TR}A"), ("doubled", "{TR}{TR}"),
    ("encoded-slash", "{TR}%2F"), ("slash-inside", "{TR}/x"), ("nul", "{TR}%00"), ("invalid-utf8", "{TR}%ff"),
    ("dot-dot", ".."), ("encoded-dot-dot", "%2e%2e"), ("spaces", "%20{TR}"), ("other-par", "{TL}"),
    ("deleted", "{TD}"), ("expired", "{TE}"), ("spent", "{TU}"), ("writer", "{TW}"), ("huge", "A" * 4000),
):
    row(f"token-{name}", "GET", f"/p/{token}/n/{{NS}}/b/{{B}}/o/obj.txt", *NF)
for name, token in (("deleted", "{TD}"), ("expired", "{TE}"), ("spent", "{TU}")):
    row(f"token-{name}-head", "HEAD", f"/p/{token}/n/{{NS}}/b/{{B}}/o/obj.txt", 404, "")

# --- the path: namespace, bucket, segments, object names outside the scope, traversal ---------------------
for name, target, expect in (
    ("namespace-wrong", "/p/{TR}/n/other/b/{B}/o/obj.txt", NF),
    ("namespace-encoded-slash", "/p/{TR}/n/{NS}%2Fx/b/{B}/o/obj.txt", NF),
    ("namespace-nul", "/p/{TR}/n/%00/b/{B}/o/obj.txt", BAD),
    ("namespace-invalid-utf8", "/p/{TR}/n/%ff/b/{B}/o/obj.txt", BAD),
    ("bucket-wrong", "/p/{TR}/n/{NS}/b/other-bucket/o/obj.txt", NF),
    ("bucket-upper", "/p/{TR}/n/{NS}/b/FE-HOSTILE/o/obj.txt", NF),
    ("bucket-encoded-slash", "/p/{TR}/n/{NS}/b/{B}%2Fo/obj.txt", NF),
    ("bucket-dot-dot", "/p/{TR}/n/{NS}/b/../o/obj.txt", NF),
    ("no-object-segment", "/p/{TR}/n/{NS}/b/{B}", NF),
    ("token-only", "/p/{TR}", NF),
    ("segment-renamed", "/p/{TR}/x/{NS}/b/{B}/o/obj.txt", NF),
    ("object-segment-renamed", "/p/{TR}/n/{NS}/b/{B}/x/obj.txt", NF),
    ("object-other", at("TR", "o/dir/a.txt"), NF),
    ("object-prefix-of-name", at("TR", "o/obj.tx"), NF),
    ("object-name-extended", at("TR", "o/obj.txt.bak"), NF),
    ("object-trailing-slash", at("TR", "o/obj.txt/"), NF),
    ("object-leading-slash", at("TR", "o//obj.txt"), NF),
    ("object-case", at("TR", "o/OBJ.txt"), NF),
    ("object-dot-dot", at("TL", "o/dir/../obj.txt"), BAD),
    ("object-encoded-dot-dot", at("TL", "o/dir/%2e%2e/obj.txt"), BAD),
    ("object-encoded-slashes-dot-dot", at("TL", "o/dir%2F..%2Fobj.txt"), BAD),
    ("object-dot", at("TL", "o/dir/./a.txt"), BAD),
    ("object-trailing-dot-dot", at("TL", "o/dir/.."), BAD),
    ("object-double-encoded-dot-dot", at("TL", "o/dir/%252e%252e/obj.txt"), OBJ_NF),
    ("object-backslash", at("TL", "o/dir%5C..%5Cobj.txt"), NF),
    ("object-outside-prefix", at("TL", "o/obj.txt"), NF),
    ("object-prefix-itself", at("TL", "o/dir"), NF),
    ("object-missing-in-scope", at("TL", "o/dir/none.txt"), OBJ_NF),
    ("object-nul", at("TL", "o/dir/a%00.txt"), BAD),
    ("object-invalid-utf8", at("TL", "o/dir/%ff.txt"), BAD),
    ("object-overlong-utf8", at("TL", "o/dir/%c0%af.txt"), BAD),
    ("object-control", at("TL", "o/dir/a%0d%0a.txt"), BAD),
    ("object-1100-bytes", at("TL", "o/dir/" + "a" * 1100), OBJ_NF),
):
    row(f"path-{name}", "GET", target, *expect)

# --- methods the access type does not grant ---------------------------------------------------------------
for name, method, target in (
    ("read-put", "PUT", R), ("read-delete", "DELETE", R), ("read-post", "POST", R), ("read-patch", "PATCH", R),
    ("read-options", "OPTIONS", R), ("read-list", "GET", at("TR", "o/")), ("read-multipart", "PUT", R),
    ("list-put", "PUT", at("TL", "o/dir/new.txt")), ("list-delete", "DELETE", at("TL", "o/dir/a.txt")),
    ("list-post", "POST", L), ("list-delete-listing", "DELETE", L),
    ("write-get", "GET", at("TW", "o/in/x.txt")), ("write-list", "GET", at("TW", "o/")),
    ("write-delete", "DELETE", at("TW", "o/in/x.txt")), ("write-post", "POST", at("TW", W)),
    ("write-outside", "PUT", at("TW", "o/out/new.txt")), ("write-put-prefix-only", "PUT", at("TW", "o/in")),
    ("upload-get", "GET", at("TW", UP)), ("upload-put", "PUT", at("TW", UP)),
    ("upload-part-post", "POST", at("TW", UP + "1")), ("upload-part-get", "GET", at("TW", UP + "1")),
    ("deleted-put", "PUT", at("TD", "o/obj.txt")),
):
    headers: tuple[tuple[str, str], ...] = (("opc-multipart", "true"),) if name == "read-multipart" else ()
    body = b"data" if method in ("PUT", "POST") and "upload" not in name and "multipart" not in name else b""
    row(f"method-{name}", method, target, *NF, headers=headers, body=body)
row("method-put-listing", "PUT", at("TW", "o/"), *BAD, body=b"data")
row("method-read-head-other", "HEAD", at("TR", "o/dir/a.txt"), 404, "", reason="NotAuthorizedOrNotFound")

# --- ranges, query parameters, headers --------------------------------------------------------------------
for name, value in (("beyond", "bytes=100-200"), ("start-beyond", "bytes=17-"), ("huge-start",
                    "bytes=99999999999999999999-")):
    row(f"range-{name}", "GET", R, 416, "InvalidRange", headers=(("Range", value),))
for name, query in (("unknown", "?foo=bar"), ("format-zip-object", "?format=zip"), ("versionid", "?versionId=1"),
                    ("httpParam", "?httpResponseContentDisposition=inline"), ("empty-name", "?=x")):
    row(f"query-{name}", "GET", R + query, *BAD)
for name, query, expect in (
    ("prefix-twice", "?prefix=dir/&prefix=dir/a", BAD), ("limit-words", "?limit=many", BAD),
    ("limit-negative", "?limit=-1", BAD), ("limit-zero", "?limit=0", BAD), ("unknown", "?delimiter=/&evil=1", BAD),
    ("start-nul", "?start=%00", BAD), ("fields-unknown", "?fields=secret", BAD),
):
    row(f"list-{name}", "GET", L + query, *expect)
for name, query, expect in (
    ("too-many-entries", "?format=zip", BAD), ("format-tar", "?format=tar", BAD),
    ("format-twice", "?format=zip&format=zip", BAD), ("format-upper", "?format=ZIP", BAD),
    ("prefix-outside", "?format=zip&prefix=in/", BAD), ("prefix-sibling", "?format=zip&prefix=di", BAD),
    ("prefix-nul", "?format=zip&prefix=dir/%00", BAD), ("limit", "?format=zip&limit=1", BAD),
):
    row(f"zip-{name}", "GET", L + query, *expect)
row("zip-no-listing", "GET", at("TR", "o/?format=zip"), *NF)
row("zip-writer", "GET", at("TW", "o/?format=zip"), *NF)
for name, header, value, expect in (
    ("sse-customer-key", "opc-sse-customer-key", "abc", (501, "NotImplemented")),
    ("sse-kms", "opc-sse-kms-key-id", "abc", (501, "NotImplemented")),
    ("checksum", "opc-content-sha256", "abc", (501, "NotImplemented")),
    ("storage-tier", "storage-tier", "Archive", (501, "NotImplemented")),
):
    row(f"header-read-{name}", "GET", R, *expect, headers=((header, value),))
    row(f"header-write-{name}", "PUT", at("TW", W), *expect, headers=((header, value),), body=b"data")
row("if-match-wrong", "GET", R, 412, "IfMatchFailed", headers=(("If-Match", '"0000"'),))

# --- writes that must store nothing ---------------------------------------------------------------------
for name, headers, body, expect in (
    ("md5-wrong", (("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="),), b"data", (400, "UnmatchedContentMD5")),
    ("md5-garbage", (("Content-MD5", "not base64"),), b"data", BAD),
    ("if-none-match-existing", (("If-None-Match", "*"),), b"data", (412, "IfNoneMatchFailed")),
    ("multipart-false", (("opc-multipart", "false"),), b"", BAD),
    ("multipart-yes", (("opc-multipart", "yes"),), b"", BAD),
    ("multipart-if-none-match", (("opc-multipart", "true"), ("If-None-Match", "*")), b"", BAD),
    ("multipart-md5", (("opc-multipart", "true"), ("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")), b"", BAD),
):
    target = at("TW", "o/in/x.txt") if "existing" in name else at("TW", W)
    row(f"write-{name}", "PUT", target, *expect, headers=headers, body=body,
        auto_length=not any(k == "Content-Length" for k, _ in headers))
# A body shorter than its Content-Length: the server's body timeout (1 s here) answers 408 itself; the PAR
# front-end sees a cut body, and its event records the 408 the client got, with why.
row("write-length-lie", "PUT", at("TW", W), 408, "Request timeout", headers=(("Content-Length", "50"),),
    body=b"data", auto_length=False, reason="InsufficientContentLength")
# A Content-Length HTTP itself cannot read never reaches the PAR front-end: the server's own 400, no event.
for name, value in (("words", "many"), ("negative", "-1"), ("hex", "0x10"), ("twice-different", "4, 5")):
    ROWS.append(Row(f"par-write-length-{name}", "PUT", at("TW", W), 400, "Invalid HTTP request received.",
                    headers=(("Content-Length", value),), body=b"data", auto_length=False))
row("write-dot-dot", "PUT", at("TW", "o/in/../obj.txt"), *BAD, body=b"data")
row("write-encoded-dot-dot", "PUT", at("TW", "o/in/%2e%2e/obj.txt"), *BAD, body=b"data")
row("write-query", "PUT", at("TW", W) + "?uploadId=x", *BAD, body=b"data")

# --- multipart misuse -------------------------------------------------------------------------------------
for name, method, target, body, expect in (
    ("commit-no-parts", "POST", at("TW", UP), b"", BAD),
    ("commit-bad-json", "POST", at("TW", UP), b"{not json", BAD),
    ("commit-unknown-part", "POST", at("TW", UP), b'{"partsToCommit":[{"partNum":1,"etag":"x"}]}', BAD),
    ("commit-array", "POST", at("TW", UP), b"[]", BAD),
    ("commit-wrong-upload", "POST", at("TW", "u/in/mp.bin/id/nosuchupload/"), b"", NF),
    ("commit-s3-upload", "POST", at("TW", "u/in/s3mp.bin/id/{S3UPLOAD}/"), b"", NF),
    ("commit-other-par", "POST", at("TW2", UP), b"", NF),
    ("commit-other-key", "POST", at("TW", "u/in/other.bin/id/{PARUPLOAD}/"), b"", (404, "NoSuchUpload")),
    ("commit-outside-scope", "POST", at("TW", "u/obj.txt/id/{PARUPLOAD}/"), b"", NF),
    ("commit-read-par", "POST", at("TR", "u/obj.txt/id/{PARUPLOAD}/"), b"", NF),
    ("commit-deleted-par", "POST", at("TD", UP), b"", NF),
    ("abort-other-par", "DELETE", at("TW2", UP), b"", NF),
    ("abort-s3-upload", "DELETE", at("TW", "u/in/s3mp.bin/id/{S3UPLOAD}/"), b"", NF),
    ("abort-read-par", "DELETE", at("TR", "u/obj.txt/id/{PARUPLOAD}/"), b"", NF),
    ("part-zero", "PUT", at("TW", UP + "0"), b"part", BAD),
    ("part-10001", "PUT", at("TW", UP + "10001"), b"part", BAD),
    ("part-words", "PUT", at("TW", UP + "one"), b"part", BAD),
    ("part-negative", "PUT", at("TW", UP + "-1"), b"part", BAD),
    ("part-huge", "PUT", at("TW", UP + "99999999999999999999"), b"part", BAD),
    ("part-other-par", "PUT", at("TW2", UP + "1"), b"part", NF),
    ("part-s3-upload", "PUT", at("TW", "u/in/s3mp.bin/id/{S3UPLOAD}/1"), b"part", NF),
    ("part-wrong-upload", "PUT", at("TW", "u/in/mp.bin/id/nosuchupload/1"), b"part", NF),
    ("part-dot-dot", "PUT", at("TW", "u/in/../obj.txt/id/{PARUPLOAD}/1"), b"part", BAD),
    ("upload-no-id", "PUT", at("TW", "u/in/mp.bin/1"), b"part", NF),
    ("upload-empty-id", "POST", at("TW", "u/in/mp.bin/id//"), b"", NF),
    ("upload-id-nul", "POST", at("TW", "u/in/mp.bin/id/%00/"), b"", BAD),
):
    row(f"multipart-{name}", method, target, *expect, body=body)
