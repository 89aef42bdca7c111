"""The hostile-input catalogue: one row per malformed or hostile request, and what the server must answer.

A row is data: how the request is authenticated (``auth``: ``none``, ``v4`` header, ``v4q`` presigned
URL, ``v2`` header, ``v2q`` V2 URL, ``post`` presigned POST form, ``chunked`` aws-chunked upload,
``mgmt`` management API, ``link4``/``link2`` a minted link used as is), the request, the tampering
applied to it after signing (:data:`tests.hostile.wire.Tamper`), and the exact status and error code
expected. ``link`` marks a link use, which must leave exactly one refusal in the audit trail. The runner
(``test_catalogue.py``) also checks that no state changed and that the server still answers.

Placeholders: ``{B}`` the bucket, ``{K}`` its object, ``{U}`` the open upload id, ``{E}`` its part's
ETag; ``{MD5}`` in a header is the body's Content-MD5.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.hostile.wire import Tamper


@dataclass(frozen=True)
class Row:
    id: str
    auth: str
    method: str
    target: str
    status: int
    code: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    tamper: tuple[Tamper, ...] = ()
    #: Seconds added to the signer's clock (negative: signed in the past).
    clock: float = 0
    link: bool = False


ROWS: list[Row] = []


def row(*args: object, **kwargs: object) -> None:
    ROWS.append(Row(*args, **kwargs))  # type: ignore[arg-type]


GET = "/{B}/{K}"
NEW = "/{B}/hostile-new"
BAD_SIG = "0" * 64
SDNM = (403, "SignatureDoesNotMatch")
AHM = (400, "AuthorizationHeaderMalformed")
AQPE = (400, "AuthorizationQueryParametersError")
DENIED = (403, "AccessDenied")
MALFORMED_XML = (400, "MalformedXML")
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
XXE = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'

# --- SigV4 header auth: every component of the Authorization header, the date, the payload hash --------------
for method, target in (("GET", GET), ("PUT", NEW), ("DELETE", GET)):
    m = method.lower()
    body = b"payload" if method == "PUT" else b""
    auth_rows: list[tuple[str, tuple[Tamper, ...], tuple[int, str]]] = [
        ("sig-one-char", (("sigflip",),), SDNM),
        ("sig-zeroes", (("sigset", BAD_SIG),), SDNM),
        ("sig-short", (("sigset", "abc"),), SDNM),
        ("sig-empty", (("sub", "auth", "Signature=", "Signature=,x="),), AHM),
        ("sig-missing", (("sub", "auth", ", Signature=", ", X="),), AHM),
        ("credential-missing", (("sub", "auth", "Credential=", "Cred="),), AHM),
        ("signedheaders-missing", (("sub", "auth", "SignedHeaders=", "Signed="),), AHM),
        ("credential-twice", (("sub", "auth", "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256 Credential=x, "),), AHM),
        ("authorization-twice", (("add-header", "Authorization", "AWS4-HMAC-SHA256 Credential=x"),), AHM),
        ("algorithm-sha512", (("sub", "auth", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),), (400, "InvalidArgument")),
        ("algorithm-bearer", (("header", "Authorization", "Bearer abc"),), (400, "InvalidArgument")),
        ("region-wrong", (("sub", "auth", "/us-east-1/", "/eu-west-1/"),), AHM),
        ("service-wrong", (("sub", "auth", "/s3/", "/iam/"),), AHM),
        ("terminal-wrong", (("sub", "auth", "aws4_request", "aws5_request"),), AHM),
        ("credential-date-bad", (("sub", "auth", "/us-east-1/", "x/us-east-1/"),), AHM),
        ("credential-short", (("sub", "auth", "/us-east-1/s3/aws4_request", "/us-east-1/s3"),), AHM),
        ("access-key-unknown", (("sub", "auth", "Credential=", "Credential=NOPE"),), (403, "InvalidAccessKeyId")),
        ("signedheaders-no-host", (("sub", "auth", "SignedHeaders=host;", "SignedHeaders="),), DENIED),
        ("signedheaders-empty", (("sub", "auth", "SignedHeaders=", "SignedHeaders=,X="),), AHM),
        ("date-missing", (("header", "X-Amz-Date", None),), DENIED),
        ("date-garbage", (("header", "X-Amz-Date", "yesterday"),), DENIED),
        ("date-one-second", (("header", "X-Amz-Date", "{DATE+1}"),), SDNM),
        ("date-other-day", (("header", "X-Amz-Date", "{DATE+86400}"),), AHM),
        ("sha256-missing", (("header", "X-Amz-Content-SHA256", None),), (400, "InvalidRequest")),
        ("sha256-garbage", (("header", "X-Amz-Content-SHA256", "abc"),), (400, "InvalidArgument")),
        ("sha256-sigv4a", (("header", "X-Amz-Content-SHA256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),),
         (400, "InvalidArgument")),
        ("unsigned-amz-header", (("add-header", "x-amz-meta-evil", "1"),), DENIED),
        ("path-changed", (("sub", "target", "/{B}/", "/{B}/x"),), SDNM),
        ("query-added", (("add-query", "prefix", "x"),) if method == "GET" else (("add-query", "x-id", "x"),), SDNM),
        ("host-changed", (("header", "Host", "evil.example"),), SDNM),
    ]
    for name, steps, (status, code) in auth_rows:
        row(f"v4-{m}-{name}", "v4", method, target, status, code, body=body, tamper=steps)
    row(f"v4-{m}-skew-past", "v4", method, target, 403, "RequestTimeTooSkewed", body=body, clock=-3600)
    row(f"v4-{m}-skew-future", "v4", method, target, 403, "RequestTimeTooSkewed", body=body, clock=3600)
    row(f"v4-{m}-method-changed", "v4", method, target, *SDNM, body=body,
        tamper=(("method", "GET" if method == "DELETE" else "DELETE"),))
# The same header twice (a server joins repeats with ","): never two readings of one request.
for name, header, expect in (
    ("date", "X-Amz-Date", DENIED),
    ("sha256", "X-Amz-Content-SHA256", (400, "InvalidArgument")),
    ("host", "Host", SDNM),
    ("meta", "x-amz-meta-a", SDNM),
):
    row(f"v4-put-{name}-twice", "v4", "PUT", NEW, *expect, body=b"payload", headers=(("x-amz-meta-a", "1"),),
        tamper=(("add-header", header, "{DATE+1}" if header == "X-Amz-Date" else "other"),))
row("v2-put-date-twice", "v2", "PUT", NEW, *SDNM, body=b"payload", tamper=(("add-header", "Date", "{HTTPDATE+1}"),))
row("post-policy-twice", "post", "POST", "/{B}", 400, "InvalidArgument", tamper=(("add-field", "Policy", "e30="),),
    link=True)
row("post-signature-twice", "post", "POST", "/{B}", 400, "InvalidArgument",
    tamper=(("add-field", "X-Amz-Signature", BAD_SIG),), link=True)
row("v4-put-body-swapped", "v4", "PUT", NEW, 400, "XAmzContentSHA256Mismatch", body=b"payload",
    tamper=(("body", b"PAYLOAD"),))
row("v4-put-sha256-other", "v4", "PUT", NEW, *SDNM, body=b"payload",
    tamper=(("header", "X-Amz-Content-SHA256", "e" * 64),))
row("v4-put-unsigned-payload-swapped", "v4", "PUT", NEW, *SDNM, body=b"payload",
    tamper=(("header", "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"),))

# --- SigV4 presigned URLs: each parameter missing, empty, twice, tampered; time, scope, payload modes ---------
PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
          "X-Amz-Signature")
for method, target in (("GET", GET), ("PUT", NEW)):
    m = method.lower()
    for param in PARAMS:
        short = param.removeprefix("X-Amz-").lower()
        row(f"v4q-{m}-{short}-missing", "v4q", method, target, *AQPE, tamper=(("query", param, None),), link=True)
        row(f"v4q-{m}-{short}-empty", "v4q", method, target, *AQPE, tamper=(("query", param, ""),), link=True)
        row(f"v4q-{m}-{short}-twice", "v4q", method, target, 400, "InvalidArgument",
            tamper=(("add-query", param, "x"),), link=True)
    queries: list[tuple[str, tuple[Tamper, ...], tuple[int, str]]] = [
        ("signature-zeroes", (("query", "X-Amz-Signature", BAD_SIG),), SDNM),
        ("signature-upper", (("upper", "X-Amz-Signature"),), SDNM),
        ("algorithm-wrong", (("query", "X-Amz-Algorithm", "AWS4-HMAC-SHA1"),), AQPE),
        ("credential-region", (("subq", "X-Amz-Credential", "us-east-1", "eu-west-1"),), AQPE),
        ("credential-service", (("subq", "X-Amz-Credential", "%2Fs3%2F", "%2Fsts%2F"),), AQPE),
        ("credential-unknown-key", (("subq", "X-Amz-Credential", "SATCHEL", "NOPE"),), (403, "InvalidAccessKeyId")),
        ("credential-date-mismatch", (("subq", "X-Amz-Credential", "%2F20", "%2F19"),), AQPE),
        ("date-garbage", (("query", "X-Amz-Date", "20260101"),), AQPE),
        ("date-one-second", (("query", "X-Amz-Date", "{DATE+1}"),), SDNM),
        ("expires-zero", (("query", "X-Amz-Expires", "0"),), AQPE),
        ("expires-negative", (("query", "X-Amz-Expires", "-5"),), AQPE),
        ("expires-over-week", (("query", "X-Amz-Expires", "604801"),), AQPE),
        ("expires-words", (("query", "X-Amz-Expires", "soon"),), AQPE),
        ("expires-superscript", (("query", "X-Amz-Expires", "%C2%B2"),), AQPE),
        ("expires-longer", (("query", "X-Amz-Expires", "601"),), SDNM),
        ("signedheaders-no-host", (("query", "X-Amz-SignedHeaders", "x-amz-date"),), DENIED),
        ("streaming-payload", (("add-query", "X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),),
         (400, "InvalidArgument")),
        ("unsigned-amz-header", (("add-header", "x-amz-meta-evil", "1"),), DENIED),
        ("amz-query-unsigned", (("add-query", "x-amz-meta-evil", "1"),), SDNM),
        ("path-changed", (("sub", "target", "/{B}/", "/{B}/x"),), SDNM),
        ("link-id-added", (("add-query", "x-amz-satchel-link-id", "abc"),), SDNM),
        ("security-token-added", (("add-query", "X-Amz-Security-Token", "abc"),), SDNM),
    ]
    for name, steps, (status, code) in queries:
        row(f"v4q-{m}-{name}", "v4q", method, target, status, code, tamper=steps, link=True)
    row(f"v4q-{m}-expired", "v4q", method, target, *DENIED, clock=-700, link=True)
    row(f"v4q-{m}-not-yet-valid", "v4q", method, target, *DENIED, clock=3600, link=True)
    row(f"v4q-{m}-method-changed", "v4q", method, target, *SDNM, tamper=(("method", "DELETE"),), link=True)

# --- minted links (registry, five uses): tampering never spends a use ------------------------------------
for kind in ("link4", "link2"):
    sig = "X-Amz-Signature" if kind == "link4" else "Signature"
    row(f"{kind}-signature-zeroes", kind, "GET", "", *SDNM, tamper=(("query", sig, "A" * 28 + "%3D"),), link=True)
    row(f"{kind}-signature-twice", kind, "GET", "", 400, "InvalidArgument", tamper=(("add-query", sig, "x"),),
        link=True)
    row(f"{kind}-link-id-changed", kind, "GET", "", *SDNM,
        tamper=(("subq", "x-amz-satchel-link-id", "", "0"),), link=True)
    row(f"{kind}-link-id-twice", kind, "GET", "", 400, "InvalidArgument",
        tamper=(("add-query", "x-amz-satchel-link-id", "x"),), link=True)
    row(f"{kind}-link-id-removed", kind, "GET", "", *SDNM, tamper=(("query", "x-amz-satchel-link-id", None),),
        link=True)
    row(f"{kind}-other-key", kind, "GET", "", *SDNM, tamper=(("sub", "target", "obj.txt", "dir/a%20b.txt"),),
        link=True)
    row(f"{kind}-put-instead", kind, "PUT", "", *SDNM, link=True)
    row(f"{kind}-delete-instead", kind, "DELETE", "", *SDNM, link=True)
    row(f"{kind}-range-beyond", kind, "GET", "", 416, "InvalidRange", headers=(("Range", "bytes=100-200"),),
        link=True)
    row(f"{kind}-subresource-added", kind, "GET", "", *SDNM, tamper=(("add-query", "torrent", "\0valueless"),),
        link=True)

# --- SigV2 header auth -----------------------------------------------------------------------------------
for method, target in (("GET", GET), ("PUT", NEW)):
    m = method.lower()
    body = b"payload" if method == "PUT" else b""
    v2_rows: list[tuple[str, tuple[Tamper, ...], tuple[int, str]]] = [
        ("sig-changed", (("sub", "auth", ":", ":A"),), SDNM),
        ("no-colon", (("header", "Authorization", "AWS SATCHELNOPE"),), (400, "InvalidArgument")),
        ("empty-key", (("header", "Authorization", "AWS :abc"),), (400, "InvalidArgument")),
        ("unknown-key", (("header", "Authorization", "AWS NOPE:abc="),), (403, "InvalidAccessKeyId")),
        ("date-missing", (("header", "Date", None),), DENIED),
        ("date-garbage", (("header", "Date", "not a date"),), DENIED),
        ("date-changed", (("header", "Date", "{HTTPDATE+1}"),), SDNM),
        ("amz-header-added", (("add-header", "x-amz-meta-evil", "1"),), SDNM),
        ("content-type-added", (("header", "Content-Type", "text/evil"),), SDNM),
        ("path-changed", (("sub", "target", "/{B}/", "/{B}/x"),), SDNM),
        ("subresource-added", (("add-query", "acl", "\0valueless"),), SDNM),
    ]
    for name, steps, (status, code) in v2_rows:
        row(f"v2-{m}-{name}", "v2", method, target, status, code, body=body, tamper=steps)
    row(f"v2-{m}-skew", "v2", method, target, 403, "RequestTimeTooSkewed", body=body, clock=-3600)

# --- SigV2 query auth ------------------------------------------------------------------------------------
for method, target in (("GET", GET), ("PUT", NEW)):
    m = method.lower()
    v2q: list[tuple[str, tuple[Tamper, ...], tuple[int, str]]] = [
        ("key-missing", (("query", "AWSAccessKeyId", None),), DENIED),
        ("signature-missing", (("query", "Signature", None),), DENIED),
        ("expires-missing", (("query", "Expires", None),), DENIED),
        ("expires-words", (("query", "Expires", "later"),), DENIED),
        ("expires-superscript", (("query", "Expires", "%C2%B2"),), DENIED),
        ("expires-changed", (("query", "Expires", "99999999999"),), SDNM),
        ("signature-changed", (("query", "Signature", "AAAA"),), SDNM),
        ("key-unknown", (("query", "AWSAccessKeyId", "NOPE"),), (403, "InvalidAccessKeyId")),
        ("key-twice", (("add-query", "AWSAccessKeyId", "NOPE"),), (400, "InvalidArgument")),
        ("expires-twice", (("add-query", "Expires", "1"),), (400, "InvalidArgument")),
        ("amz-query-added", (("add-query", "x-amz-meta-evil", "1"),), SDNM),
        ("path-changed", (("sub", "target", "/{B}/", "/{B}/x"),), SDNM),
        ("mixed-with-v4", (("add-query", "X-Amz-Signature", BAD_SIG),), AQPE),
    ]
    for name, steps, (status, code) in v2q:
        row(f"v2q-{m}-{name}", "v2q", method, target, status, code, tamper=steps, link=True)
    row(f"v2q-{m}-expired", "v2q", method, target, *DENIED, clock=-700, link=True)

# --- presigned POST ----------------------------------------------------------------------------------------
POST_TARGET = "/{B}"
post_rows: list[tuple[str, tuple[Tamper, ...], tuple[int, str]]] = [
    *((f"field-{name.lower()}-missing", (("field", name, None),), (400, "InvalidArgument"))
      for name in ("policy", "x-amz-signature", "x-amz-credential", "x-amz-date", "x-amz-algorithm", "key")),
    ("policy-changed", (("field-sub", "policy", "e", "f"),), SDNM),
    ("policy-garbage", (("field", "policy", "not base64!"),), SDNM),
    ("signature-changed", (("field", "x-amz-signature", BAD_SIG),), SDNM),
    ("algorithm-wrong", (("field", "x-amz-algorithm", "AWS4-HMAC-SHA1"),), (400, "InvalidArgument")),
    ("credential-region", (("field-sub", "x-amz-credential", "us-east-1", "eu-west-1"),), AQPE),
    ("credential-unknown", (("field-sub", "x-amz-credential", "SATCHEL", "NOPE"),), (403, "InvalidAccessKeyId")),
    ("date-garbage", (("field", "x-amz-date", "today"),), (400, "InvalidArgument")),
    ("date-changed", (("field-sub", "x-amz-date", "Z", "0Z"),), (400, "InvalidArgument")),
    ("key-outside-policy", (("field", "key", "elsewhere/x.txt"),), DENIED),
    ("extra-field", (("add-field", "x-amz-meta-evil", "1"),), DENIED),
    ("field-twice", (("add-field", "key", "post/y.txt"),), (400, "InvalidArgument")),
    ("field-twice-other-case", (("add-field", "KEY", "post/y.txt"),), (400, "InvalidArgument")),
    ("non-ascii-field-name", (("add-field", "x-amz-meta-\u00e9t\u00e9", "1"),), DENIED),
    ("non-ascii-extra-value", (("add-field", "x-ignore-\u65e5", "\u65e5\u672c"),), (204, "")),
    ("invalid-utf8-value", (("add-field", "x-ignore-a", "\udcff\udcfe"),), (400, "InvalidArgument")),
    ("invalid-utf8-key", (("field", "key", "post/\udcff"),), (400, "InvalidArgument")),
    ("sse-c-field", (("add-field", "x-amz-server-side-encryption-customer-algorithm", "AES256"),), DENIED),
    ("fields-over-20k", (("add-field", "x-ignore-big", "a" * 21000),), (400, "InvalidArgument")),
    ("acl-public", (("add-field", "acl", "public-read"),), DENIED),
]
for name, steps, (status, code) in post_rows:
    if status == 204:
        continue  # accepted: not a refusal (kept out: it would change state)
    row(f"post-{name}", "post", "POST", POST_TARGET, status, code, tamper=steps, link=True)
row("post-expired", "post", "POST", POST_TARGET, *DENIED, clock=-7200, link=True)
row("post-too-large", "post", "POST", POST_TARGET, 400, "EntityTooLarge", tamper=(("file", b"x" * 2000),), link=True)
row("post-no-file", "post", "POST", POST_TARGET, 400, "InvalidArgument", tamper=(("nofile",),), link=True)
row("post-truncated", "post", "POST", POST_TARGET, 400, "MalformedPOSTRequest", tamper=(("truncate", 40),), link=True)
row("post-not-multipart", "none", "POST", POST_TARGET, 412, "PreconditionFailed",
    headers=(("Content-Type", "application/x-www-form-urlencoded"),), body=b"key=x")
row("post-boundary-missing", "none", "POST", POST_TARGET, 400, "MalformedPOSTRequest",
    headers=(("Content-Type", "multipart/form-data"),), body=b"--x\r\n", link=True)
row("post-object-path", "none", "POST", GET, 405, "MethodNotAllowed",
    headers=(("Content-Type", "multipart/form-data; boundary=x"),), body=b"--x--\r\n")

# --- aws-chunked uploads -------------------------------------------------------------------------------------
CHUNKED = "/{B}/chunked-new"
chunk_rows: list[tuple[str, tuple[Tamper, ...], tuple[int, str]]] = [
    ("chunk-signature-changed", (("chunksigflip",),), SDNM),
    ("chunk-data-changed", (("chunk", b"hostile ", b"HOSTILE "),), SDNM),
    ("final-chunk-missing", (("cut-final",),), (400, "IncompleteBody")),
    ("truncated-mid-chunk", (("truncate", 100),), (400, "IncompleteBody")),
    ("chunk-size-garbage", (("chunk", b"8;chunk", b"z;chunk"),), (400, "InvalidArgument")),
    ("chunk-size-bigger", (("chunk", b"8;chunk", b"9;chunk"),), SDNM),
    ("chunk-signature-missing", (("chunk", b";chunk-signature=", b";x="),), (400, "InvalidArgument")),
    ("data-after-final", (("append", b"8;chunk-signature=" + b"0" * 64 + b"\r\n"),), (400, "InvalidArgument")),
    ("decoded-length-smaller", (("header", "x-amz-decoded-content-length", "3"),), SDNM),
    ("decoded-length-missing", (("header", "x-amz-decoded-content-length", None),), SDNM),
    ("seed-signature-changed", (("sigflip",),), SDNM),
    ("content-encoding-missing", (("header", "Content-Encoding", None),), SDNM),
    ("trailer-in-plain-mode", (("chunk", b"0;chunk-signature=", b"0;chunk-signature="),
                               ("append-before-end", b"x-amz-checksum-crc32:AAAAAA==\r\n")), (400, "InvalidArgument")),
    ("length-lie-longer", (("header", "Content-Length", "{LEN+50}"),), (408, "")),
    ("length-lie-shorter", (("header", "Content-Length", "{LEN-20}"),), (400, "IncompleteBody")),
]
for name, steps, (status, code) in chunk_rows:
    row(f"chunked-{name}", "chunked", "PUT", CHUNKED, status, code, body=b"hostile chunked payload!", tamper=steps)

UNSIGNED_CHUNKED = b"hostile unsigned chunks"
for name, steps, (status, code) in (
    ("checksum-malformed", (("sub", "body", b"x-amz-checksum-crc32:", b"x-amz-checksum-crc32:AAAA"),),
     (400, "InvalidRequest")),
    ("checksum-garbage", (("sub", "body", b"x-amz-checksum-crc32:", b"x-amz-checksum-crc32:!!"),),
     (400, "InvalidRequest")),
    ("trailer-missing", (("sub", "body", b"x-amz-checksum-crc32:", b"x-amz-meta-other:"),),
     (400, "MalformedTrailerError")),
    ("trailer-twice", (("sub", "body", b"\r\n\r\n", b"\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"),),
     (400, "MalformedTrailerError")),
    ("trailer-other-algorithm", (("sub", "body", b"x-amz-checksum-crc32:", b"x-amz-checksum-sha1:"),),
     (400, "MalformedTrailerError")),
    ("data-changed", (("sub", "body", b"unsigned", b"UNSIGNED"),), (400, "BadDigest")),
    ("chunk-size-garbage", (("sub", "body", b"8\r\n", b"g\r\n"),), (400, "InvalidArgument")),
    ("decoded-length-changed", (("header", "x-amz-decoded-content-length", "99"),), SDNM),
    ("declared-trailer-changed", (("header", "x-amz-trailer", "x-amz-checksum-sha256"),), SDNM),
):
    row(f"chunked-unsigned-{name}", "chunked-unsigned", "PUT", CHUNKED, status, code, body=UNSIGNED_CHUNKED,
        tamper=steps)

# --- Content-Length lies and framing on plain requests ---------------------------------------------------------
# A body shorter than its Content-Length: the body timeout (1 s here) ends it with a plain 408 (protocol.py).
row("length-longer-than-body", "v4", "PUT", NEW, 408, "", body=b"payload",
    tamper=(("header", "Content-Length", "100"),))
# The same through a presigned URL: the use's one event records the 408 the client got.
row("length-longer-than-body-presigned", "v4q", "PUT", NEW, 408, "",
    tamper=(("body", b"payload"), ("header", "Content-Length", "100")), link=True)
row("length-shorter-than-body", "v4", "PUT", NEW, 400, "XAmzContentSHA256Mismatch", body=b"payload",
    tamper=(("header", "Content-Length", "3"),))
row("length-negative", "v4", "PUT", NEW, 400, "", body=b"payload", tamper=(("header", "Content-Length", "-1"),))
row("length-words", "v4", "PUT", NEW, 400, "", body=b"payload", tamper=(("header", "Content-Length", "seven"),))
row("length-twice-differing", "v4", "PUT", NEW, 400, "", body=b"payload",
    tamper=(("header", "Content-Length", "7"), ("add-header", "Content-Length", "8")))
row("length-with-chunked-te", "v4", "PUT", NEW, 400, "", body=b"payload",
    tamper=(("add-header", "Transfer-Encoding", "chunked"),))
row("length-huge", "v4", "PUT", NEW, 400, "", body=b"payload",
    tamper=(("header", "Content-Length", "99999999999999999999999"),))
row("length-over-max-put", "v4", "PUT", NEW, 400, "EntityTooLarge", body=b"",
    tamper=(("header", "Content-Length", str(5 * 1024**3 + 1)),))
row("te-chunked-bad-framing", "v4", "PUT", NEW, 400, "", body=b"payload",
    tamper=(("header", "Content-Length", None), ("add-header", "Transfer-Encoding", "chunked"),
            ("body", b"zz\r\npayload\r\n0\r\n\r\n")))

# --- keys and paths: encoded slashes, traversal, NUL, invalid UTF-8, length -----------------------------------
for name, path, expect in (
    ("traversal-dotdot", "/{B}/../{B}/{K}", (404, "NoSuchKey")),
    ("traversal-encoded", ("/{B}/../{B}/{K}", "/../", "/%2E%2E/"), (404, "NoSuchKey")),
    ("traversal-etc-passwd", "/{B}/../../../../etc/passwd", (404, "NoSuchKey")),
    ("traversal-encoded-slash", ("/{B}/../../etc/passwd", "../../etc/", "..%2F..%2Fetc%2F"), (404, "NoSuchKey")),
    ("dot-segment", "/{B}/./{K}", (404, "NoSuchKey")),
    ("double-slash", "/{B}//{K}", (404, "NoSuchKey")),
    ("encoded-slash-key", ("/{B}/dir/a%20b.txt", "dir/", "dir%2F"), (200, "")),
    ("encoded-bucket-slash", ("/{B}/{K}", "/{B}/", "/{B}%2F"), (200, "")),
    ("nul-encoded", "/{B}/obj%00.txt", (404, "NoSuchKey")),
    ("invalid-utf8", "/{B}/%FF%FE", (400, "InvalidURI")),
    ("overlong-utf8", "/{B}/%C0%AF", (400, "InvalidURI")),
    ("surrogate-utf8", "/{B}/%ED%A0%80", (400, "InvalidURI")),
    ("key-1025", "/{B}/" + "k" * 1025, (404, "NoSuchKey")),
    ("key-1025-multibyte", "/{B}/" + "%C3%A9" * 513, (404, "NoSuchKey")),
    ("bucket-traversal", "/../{B}/{K}", (400, "InvalidBucketName")),
    ("reserved-prefix", "/_satchel/{K}", (404, "")),
):
    # A tuple: signed as the first path (the form Satchel canonicalises to), sent with one part re-encoded.
    signed, steps = (path[0], (("sub", "target", path[1], path[2]),)) if isinstance(path, tuple) else (path, ())
    row(f"key-get-{name}", "v4", "GET", signed, *expect, tamper=steps)
for name, path, expect in (
    ("invalid-utf8", "/{B}/%FF", (400, "InvalidURI")),
    ("key-1025", "/{B}/" + "k" * 1025, (400, "KeyTooLongError")),
    ("key-2000-multibyte", "/{B}/" + "%E6%97%A5" * 400, (400, "KeyTooLongError")),
    ("overlong-utf8", "/{B}/%C0%AE%C0%AE", (400, "InvalidURI")),
    ("reserved-bucket", "/_satchel/x", (404, "")),
):
    row(f"key-put-{name}", "v4", "PUT", path, *expect, body=b"x")
row("key-put-raw-ff-byte", "none", "PUT", "/{B}/\udcff", 400, "", body=b"x")
row("key-presigned-invalid-utf8", "v4q", "GET", "/{B}/%FF", 400, "InvalidURI", link=True)
row("copy-source-traversal", "v4", "PUT", NEW, 404, "NoSuchKey", headers=(("x-amz-copy-source", "/{B}/../{K}"),))
row("copy-source-invalid-utf8", "v4", "PUT", NEW, 400, "InvalidArgument", headers=(("x-amz-copy-source", "/{B}/%FF"),))
row("copy-source-no-key", "v4", "PUT", NEW, 400, "InvalidArgument", headers=(("x-amz-copy-source", "/{B}"),))
row("copy-source-two-versions", "v4", "PUT", NEW, 400, "InvalidArgument",
    headers=(("x-amz-copy-source", "/{B}/{K}?versionId=a&versionId=b"),))

# --- headers: huge, many, control characters, non-ASCII --------------------------------------------------------
row("header-huge", "none", "GET", GET, 431, "", headers=(("x-big", "a" * 20000),))
row("headers-many", "none", "GET", GET, 431, "", headers=tuple((f"x-h{i}", "v" * 40) for i in range(500)))
row("header-nul-value", "none", "GET", GET, 400, "", headers=(("x-evil", "a\x00b"),))
row("header-name-space", "none", "GET", GET, 400, "", headers=(("x evil", "1"),))
row("header-cr-value", "none", "GET", GET, 400, "", headers=(("x-evil", "a\rb"),))
row("header-meta-control", "v4", "PUT", NEW, 400, "", body=b"x", headers=(("x-amz-meta-a", "a\x01b"),))
# One PUT with one header each: the header refused with its code, nothing stored.
for name, target, header, value, status, code in (
    ("header-meta-rfc2047-control", NEW, "x-amz-meta-a", "=?UTF-8?B?YQFi?=", 400, "InvalidArgument"),
    ("header-meta-bad-rfc2047", NEW, "x-amz-meta-a", "=?UTF-8?B?####?=", 400, "InvalidArgument"),
    ("header-sse-c", NEW, "x-amz-server-side-encryption-customer-algorithm", "AES256", 400, "InvalidRequest"),
    ("header-sse-kms", NEW, "x-amz-server-side-encryption", "aws:kms", 501, "NotImplemented"),
    ("header-object-lock", NEW, "x-amz-object-lock-mode", "GOVERNANCE", 501, "NotImplemented"),
    ("header-grant-unknown-id", NEW, "x-amz-grant-read", "id=x", 400, "InvalidArgument"),
    ("header-grant-garbage", NEW, "x-amz-grant-read", 'id="a" uri', 400, "InvalidArgument"),
    ("header-grant-email", NEW, "x-amz-grant-read", "emailAddress=a@b.c", 400, "UnresolvableGrantByEmailAddress"),
    ("header-grant-log-delivery", NEW, "x-amz-grant-write",
     "uri=http://acs.amazonaws.com/groups/s3/LogDelivery", 501, "NotImplemented"),
    ("header-acl-log-delivery", NEW, "x-amz-acl", "log-delivery-write", 501, "NotImplemented"),
    ("header-acl-garbage", NEW, "x-amz-acl", "everyone", 400, "InvalidArgument"),
    ("header-storage-class", NEW, "x-amz-storage-class", "CHEAP", 400, "InvalidStorageClass"),
    ("header-content-md5-wrong", NEW, "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==", 400, "BadDigest"),
    ("header-content-md5-garbage", NEW, "Content-MD5", "not-md5", 400, "InvalidDigest"),
    ("header-checksum-wrong", NEW, "x-amz-checksum-crc32", "AAAAAA==", 400, "BadDigest"),
    ("header-checksum-unknown", NEW, "x-amz-checksum-foo", "AAAAAA==", 400, "InvalidRequest"),
    ("header-if-none-match-star", "/{B}/{K}", "If-None-Match", "*", 412, "PreconditionFailed"),
    ("header-if-match-wrong", "/{B}/{K}", "If-Match", '"0000"', 412, "PreconditionFailed"),
    ("header-if-modified-put", NEW, "If-Modified-Since", "Wed, 01 May 2024 12:00:00 GMT", 501, "NotImplemented"),
):
    row(name, "v4", "PUT", target, status, code, body=b"x", headers=((header, value),))
row("header-meta-too-large", "v4", "PUT", NEW, 400, "MetadataTooLarge", body=b"x",
    headers=tuple((f"x-amz-meta-m{i}", "v" * 500) for i in range(5)))

# --- ACL and Block Public Access documents: the same parser's limits, and their own schema --------------------
for name, target, body, expect in (
    ("acl-bomb", "/{B}/{K}?acl", BOMB + b"<AccessControlPolicy><AccessControlList/></AccessControlPolicy>",
     MALFORMED_XML),
    ("acl-xxe", "/{B}?acl", XXE + b"<AccessControlPolicy><Owner><ID>&x;</ID></Owner></AccessControlPolicy>",
     MALFORMED_XML),
    ("acl-huge", "/{B}?acl", b"<AccessControlPolicy>" + b" " * (70 * 1024) + b"</AccessControlPolicy>",
     MALFORMED_XML),
    ("acl-grantee-type", "/{B}/{K}?acl",
     b'<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><AccessControlList><Grant>'
     b'<Grantee xsi:type="Nobody"/><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>',
     (400, "MalformedACLError")),
    ("acl-empty-body", "/{B}?acl", b"", (400, "MalformedACLError")),
    ("public-access-block-garbage", "/{B}?publicAccessBlock",
     b"<PublicAccessBlockConfiguration><BlockPublicAcls>sure</BlockPublicAcls></PublicAccessBlockConfiguration>",
     MALFORMED_XML),
):
    row(f"xml-{name}", "v4", "PUT", target, *expect, body=body)

# --- XML bodies: bombs, external entities, malformed, wrong roots, too many entries ------------------------------
DELETE_TARGET = "/{B}?delete"
MD5 = (("Content-MD5", "{MD5}"),)
ONE_DELETE = b"<Delete><Object><Key>obj.txt</Key></Object></Delete>"
for name, body, expect in (
    ("bomb", BOMB + b"<Delete><Object><Key>&lol3;</Key></Object></Delete>", MALFORMED_XML),
    ("xxe", XXE + b"<Delete><Object><Key>&x;</Key></Object></Delete>", MALFORMED_XML),
    ("unclosed", b"<Delete><Object><Key>obj.txt</Key></Object>", MALFORMED_XML),
    ("wrong-root", b"<Remove><Object><Key>obj.txt</Key></Object></Remove>", MALFORMED_XML),
    ("no-objects", b"<Delete></Delete>", MALFORMED_XML),
    ("no-key", b"<Delete><Object><VersionId>null</VersionId></Object></Delete>", MALFORMED_XML),
    ("key-twice", b"<Delete><Object><Key>obj.txt</Key><Key>x</Key></Object></Delete>", MALFORMED_XML),
    ("unknown-field", b"<Delete><Object><Key>obj.txt</Key><IfMatch>x</IfMatch></Object></Delete>", MALFORMED_XML),
    ("quiet-twice", b"<Delete><Quiet>true</Quiet><Quiet>false</Quiet><Object><Key>obj.txt</Key></Object></Delete>",
     MALFORMED_XML),
    ("quiet-garbage", b"<Delete><Quiet>maybe</Quiet><Object><Key>obj.txt</Key></Object></Delete>", MALFORMED_XML),
    ("too-many", b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>", MALFORMED_XML),
    ("not-xml", b"\xff\xfe\x00<", MALFORMED_XML),
    ("utf16-declared", b'<?xml version="1.0" encoding="utf-16"?><Delete/>', MALFORMED_XML),
    ("huge", b"<Delete>" + b" " * (3 * 1024 * 1024) + b"</Delete>", MALFORMED_XML),
):
    row(f"xml-delete-{name}", "v4", "POST", DELETE_TARGET, *expect, headers=MD5, body=body)
row("xml-delete-md5-wrong", "v4", "POST", DELETE_TARGET, 400, "BadDigest", body=ONE_DELETE,
    headers=(("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),))
COMPLETE = "/{B}/mp.bin?uploadId={U}"
for name, body, expect in (
    ("bomb", BOMB + b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&lol3;</ETag></Part>"
     b"</CompleteMultipartUpload>", MALFORMED_XML),
    ("xxe", XXE + b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&x;</ETag></Part>"
     b"</CompleteMultipartUpload>", MALFORMED_XML),
    ("no-parts", b"<CompleteMultipartUpload></CompleteMultipartUpload>", MALFORMED_XML),
    ("wrong-root", b"<Complete><Part><PartNumber>1</PartNumber><ETag>{E}</ETag></Part></Complete>", MALFORMED_XML),
    ("part-number-words", b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>{E}</ETag></Part>"
     b"</CompleteMultipartUpload>", MALFORMED_XML),
    ("etag-twice", b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{E}</ETag><ETag>x</ETag>"
     b"</Part></CompleteMultipartUpload>", MALFORMED_XML),
    ("unknown-field", b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{E}</ETag>"
     b"<checksumcrc32>x</checksumcrc32></Part></CompleteMultipartUpload>", MALFORMED_XML),
    ("wrong-etag", b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>0000</ETag></Part>"
     b"</CompleteMultipartUpload>", (400, "InvalidPart")),
    ("unknown-part", b"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>{E}</ETag></Part>"
     b"</CompleteMultipartUpload>", (400, "InvalidPart")),
    ("out-of-order", b"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>{E}</ETag></Part>"
     b"<Part><PartNumber>1</PartNumber><ETag>{E}</ETag></Part></CompleteMultipartUpload>", (400, "InvalidPartOrder")),
    ("part-twice", b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{E}</ETag></Part>"
     b"<Part><PartNumber>1</PartNumber><ETag>{E}</ETag></Part></CompleteMultipartUpload>", (400, "InvalidPartOrder")),
    ("wrong-checksum", b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{E}</ETag>"
     b"<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>", (400, "InvalidPart")),
):
    row(f"xml-complete-{name}", "v4", "POST", COMPLETE, *expect, body=body)
for name, body, expect in (
    ("bomb", BOMB + b"<CORSConfiguration><CORSRule><AllowedOrigin>&lol3;</AllowedOrigin><AllowedMethod>GET"
     b"</AllowedMethod></CORSRule></CORSConfiguration>", MALFORMED_XML),
    ("xxe", XXE + b"<CORSConfiguration><CORSRule><AllowedOrigin>&x;</AllowedOrigin><AllowedMethod>GET"
     b"</AllowedMethod></CORSRule></CORSConfiguration>", MALFORMED_XML),
    ("no-rules", b"<CORSConfiguration></CORSConfiguration>", MALFORMED_XML),
    ("bad-method", b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>TRACE"
     b"</AllowedMethod></CORSRule></CORSConfiguration>", (400, "InvalidRequest")),
    ("crlf-origin", b"<CORSConfiguration><CORSRule><AllowedOrigin>a&#13;&#10;Set-Cookie: x</AllowedOrigin>"
     b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", (400, "InvalidRequest")),
    ("max-age-words", b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
     b"</AllowedMethod><MaxAgeSeconds>long</MaxAgeSeconds></CORSRule></CORSConfiguration>", MALFORMED_XML),
):
    row(f"xml-cors-{name}", "v4", "PUT", "/{B}?cors", *expect, headers=MD5, body=body)
# Bucket policies: refused whole at PUT time (400 MalformedPolicy), nothing stored, never a 500.
for name, body in (
    ("not-json", b"{nope"),
    ("deep", b"[" * 20000),
    ("too-large", b'{"Statement": "' + b"x" * 21000 + b'"}'),
    ("not-utf8", b'{"Id": "\xff"}'),
    ("unknown-action", b'{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:Nope", "Resource": "*"}]}'),
    ("unknown-key", b'{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",'
                    b' "Condition": {"StringEquals": {"aws:SourceVpc": "v"}}}]}'),
    ("service-principal", b'{"Statement": [{"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "s3:*",'
                          b' "Resource": "*"}]}'),
):
    row(f"policy-{name}", "v4", "PUT", "/{B}?policy", 400, "MalformedPolicy", body=body)
row("xml-create-bucket-bomb", "v4", "PUT", "/hostile-new-bucket", *MALFORMED_XML,
    body=BOMB + b"<CreateBucketConfiguration><LocationConstraint>&lol3;</LocationConstraint>"
                b"</CreateBucketConfiguration>")
row("xml-create-bucket-region", "v4", "PUT", "/hostile-new-bucket", 400, "InvalidRequest",
    body=b"<CreateBucketConfiguration><LocationConstraint>mars-1</LocationConstraint></CreateBucketConfiguration>")
row("xml-create-bucket-malformed", "v4", "PUT", "/hostile-new-bucket", *MALFORMED_XML,
    body=b"<CreateBucketConfiguration><LocationConstraint>")

# --- ranges and part numbers -----------------------------------------------------------------------------------
for name, value, expect in (
    ("beyond-end", "bytes=100-200", (416, "InvalidRange")),
    ("suffix-zero", "bytes=-0", (416, "InvalidRange")),
    ("start-at-size", "bytes=20-", (416, "InvalidRange")),
    ("huge-start", "bytes=99999999999999999999999-", (416, "InvalidRange")),
    ("reversed", "bytes=5-2", (200, "")),
    ("words", "bytes=a-b", (200, "")),
    ("multiple", "bytes=0-1,3-4", (200, "")),
    ("other-unit", "items=0-1", (200, "")),
):
    row(f"range-{name}", "v4", "GET", GET, *expect, headers=(("Range", value),))
row("range-with-part-number", "v4", "GET", GET + "?partNumber=1", 400, "InvalidRequest",
    headers=(("Range", "bytes=0-1"),))
row("part-number-two", "v4", "GET", GET + "?partNumber=2", 416, "InvalidPartNumber")
row("part-number-zero", "v4", "GET", GET + "?partNumber=0", 400, "InvalidArgument")
row("part-number-words", "v4", "GET", GET + "?partNumber=one", 400, "InvalidArgument")
row("part-number-fullwidth", "v4", "GET", GET + "?partNumber=%EF%BC%91", 400, "InvalidArgument")
row("copy-source-range-bad", "v4", "PUT", "/{B}/mp.bin?partNumber=2&uploadId={U}", 400, "InvalidArgument",
    headers=(("x-amz-copy-source", "/{B}/{K}"), ("x-amz-copy-source-range", "bytes=5-2")))

# --- bucket names ------------------------------------------------------------------------------------------------
for name in ("ab", "a" * 64, "UPPER", "-start", "end-", "a..b", "a.-b", "192.168.1.1", "xn--evil", "evil-s3alias",
             "evil--ol-s3", "under_score", "sthree-x", "caf%C3%A9", "a%20b"):
    row(f"bucket-create-{name[:20]}", "v4", "PUT", f"/{name}", 400, "InvalidBucketName")
for name in ("_satchel", "auth", "p", "v1"):
    row(f"bucket-create-reserved-{name}", "v4", "PUT", f"/{name}", 400, "InvalidBucketName")
row("bucket-get-invalid", "v4", "GET", "/UPPER", 400, "InvalidBucketName")
row("bucket-delete-not-empty", "v4", "DELETE", "/{B}", 409, "BucketNotEmpty")
row("bucket-create-existing", "v4", "PUT", "/{B}", 200, "")  # us-east-1: AWS's legacy 200
row("bucket-object-lock", "v4", "PUT", "/hostile-lock", 501, "NotImplemented",
    headers=(("x-amz-bucket-object-lock-enabled", "true"),))

# --- multipart misuse ---------------------------------------------------------------------------------------------
row("mp-part-zero", "v4", "PUT", "/{B}/mp.bin?partNumber=0&uploadId={U}", 400, "InvalidArgument", body=b"x")
row("mp-part-10001", "v4", "PUT", "/{B}/mp.bin?partNumber=10001&uploadId={U}", 400, "InvalidArgument", body=b"x")
row("mp-part-no-upload-id", "v4", "PUT", "/{B}/mp.bin?partNumber=1", 400, "InvalidArgument", body=b"x")
row("mp-upload-id-no-part", "v4", "PUT", "/{B}/mp.bin?uploadId={U}", 400, "InvalidArgument", body=b"x")
row("mp-part-unknown-upload", "v4", "PUT", "/{B}/mp.bin?partNumber=1&uploadId=nope", 404, "NoSuchUpload", body=b"x")
row("mp-part-other-key", "v4", "PUT", "/{B}/other.bin?partNumber=1&uploadId={U}", 404, "NoSuchUpload", body=b"x")
row("mp-upload-id-twice", "v4", "PUT", "/{B}/mp.bin?partNumber=1&uploadId={U}&uploadId=x", 400, "InvalidArgument",
    body=b"x")
row("mp-complete-unknown", "v4", "POST", "/{B}/mp.bin?uploadId=nope", 404, "NoSuchUpload",
    body=b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{E}</ETag></Part>"
         b"</CompleteMultipartUpload>")
row("mp-abort-unknown", "v4", "DELETE", "/{B}/mp.bin?uploadId=nope", 404, "NoSuchUpload")
row("mp-abort-other-key", "v4", "DELETE", "/{B}/other.bin?uploadId={U}", 404, "NoSuchUpload")
row("mp-list-parts-unknown", "v4", "GET", "/{B}/mp.bin?uploadId=nope", 404, "NoSuchUpload")
row("mp-list-parts-max-words", "v4", "GET", "/{B}/mp.bin?uploadId={U}&max-parts=many", 400, "InvalidArgument")
row("mp-create-with-checksum-value", "v4", "POST", "/{B}/mp2.bin?uploads", 400, "InvalidRequest",
    headers=(("x-amz-checksum-crc32", "AAAAAA=="),))
row("mp-create-if-match", "v4", "POST", "/{B}/mp2.bin?uploads", 501, "NotImplemented", headers=(("If-Match", "*"),))
row("mp-part-wrong-checksum", "v4", "PUT", "/{B}/mp.bin?partNumber=2&uploadId={U}", 400, "BadDigest", body=b"x",
    headers=(("x-amz-checksum-crc32", "AAAAAA=="),))

# --- unknown subresources and methods ---------------------------------------------------------------------------
for method, target, expect in (
    ("GET", "/{B}?logging", (501, "NotImplemented")),
    ("PUT", "/{B}?logging", (501, "NotImplemented")),
    ("GET", "/{B}?someNewSubresource", (501, "NotImplemented")),
    ("PUT", "/{B}?defaultStorageClass", (501, "NotImplemented")),
    ("DELETE", "/{B}/{K}?someNewSubresource", (501, "NotImplemented")),
    ("PUT", "/{B}/{K}?retention", (501, "NotImplemented")),
    ("GET", "/{B}/{K}?legal-hold", (501, "NotImplemented")),
    ("GET", "/{B}/{K}?attributes", (501, "NotImplemented")),
    ("POST", "/{B}/{K}?restore", (501, "NotImplemented")),
    ("POST", "/{B}/{K}?select&select-type=2", (501, "NotImplemented")),
    ("DELETE", "/{B}/{K}?versionId=abc", (400, "InvalidArgument")),
    ("GET", "/{B}/{K}?versionId=null&versionId=x", (400, "InvalidArgument")),
    ("GET", "/{B}/{K}?versionId=" + "A" * 32, (404, "NoSuchVersion")),
    ("GET", "/{B}/{K}?versionId=..%2F" + "a" * 29, (400, "InvalidArgument")),
    ("GET", "/{B}?versions&version-id-marker=" + "A" * 32, (400, "InvalidArgument")),
    ("PUT", "/{B}?versioning", (400, "MalformedXML")),
    ("GET", "/{B}?list-type=3", (400, "InvalidArgument")),
    ("GET", "/{B}?max-keys=-1", (400, "InvalidArgument")),
    ("GET", "/{B}?max-keys=%C2%B2", (400, "InvalidArgument")),
    ("GET", "/{B}?list-type=2&continuation-token=garbage", (400, "InvalidArgument")),
    ("GET", "/{B}?encoding-type=base64", (400, "InvalidArgument")),
    ("GET", "/?max-buckets=0", (400, "InvalidArgument")),
    ("PUT", "/{B}/{K}?x-amz-meta-a", (501, "NotImplemented")),
    ("PATCH", "/{B}/{K}", (405, "MethodNotAllowed")),
    ("TRACE", "/{B}/{K}", (405, "MethodNotAllowed")),
    ("POST", "/{B}/{K}", (405, "MethodNotAllowed")),
):
    row(f"sub-{method.lower()}-{target.split('?', 1)[-1][:30]}-{target.count('/')}", "v4", method, target, *expect,
        body=b"x" if method == "PUT" else b"")
row("sub-anonymous-get", "none", "GET", GET, *DENIED)
row("sub-anonymous-put", "none", "PUT", NEW, *DENIED, body=b"x")
row("sub-anonymous-list", "none", "GET", "/{B}", *DENIED)
row("sub-query-amz-header-unsigned-v2", "v2", "PUT", NEW + "?x-amz-meta-a=1", 400, "InvalidArgument", body=b"x")

# --- management API -----------------------------------------------------------------------------------------------
API = "/_satchel/api"


def api(name: str, method: str, path: str, status: int, code: str, body: bytes = b"",
        tamper: tuple[Tamper, ...] = (), auth: str = "mgmt") -> None:
    row(f"api-{name}", auth, method, API + path, status, code, body=body, tamper=tamper)


LINK_BODY = b'{"bucket": "hostile", "keys": ["obj.txt"]}'
api("unsigned", "GET", "/links", *DENIED, auth="none")
api("sigv2", "GET", "/links", *DENIED, auth="v2")
api("presigned", "GET", "/links", *DENIED, auth="v4q")
api("signature-changed", "GET", "/links", *SDNM, tamper=(("sigflip",),))
api("unknown-key", "GET", "/links", 403, "InvalidAccessKeyId", tamper=(("sub", "auth", "Credential=", "Credential=N"),))
api("region-wrong", "GET", "/links", *AHM, tamper=(("sub", "auth", "/us-east-1/", "/eu-west-1/"),))
row("api-skewed", "mgmt", "GET", API + "/whoami", 403, "RequestTimeTooSkewed", clock=-3600)
api("body-swapped", "POST", "/links", 400, "XAmzContentSHA256Mismatch", LINK_BODY,
    (("body", b'{"bucket": "hostile", "keys": ["dir/a b.txt"]}'),))
api("payload-mode-changed", "POST", "/links", *SDNM, LINK_BODY,
    (("header", "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"),))
api("unsigned-payload-body", "POST", "/links", 400, "InvalidRequest", LINK_BODY, auth="v4unsigned")
api("chunked-body", "POST", "/links", 400, "InvalidRequest", LINK_BODY, auth="v4streaming")
for name, body in (
    ("not-json", b"{bucket: hostile}"),
    ("array", b"[1, 2]"),
    ("duplicate-name", b'{"bucket": "hostile", "bucket": "other", "keys": ["obj.txt"]}'),
    ("deep-nesting", b'{"bucket": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("lone-surrogate", b'{"bucket": "\\ud800", "keys": ["obj.txt"]}'),
    ("huge-number", b'{"bucket": "hostile", "keys": ["obj.txt"], "expires_in": 1e400}'),
    ("unknown-field", b'{"bucket": "hostile", "keys": ["obj.txt"], "public": true}'),
    ("wrong-type", b'{"bucket": "hostile", "keys": "obj.txt"}'),
    ("bool-as-int", b'{"bucket": "hostile", "keys": ["obj.txt"], "expires_in": true}'),
    ("empty-key", b'{"bucket": "hostile", "keys": [""]}'),
    ("bad-kind", b'{"bucket": "hostile", "keys": ["obj.txt"], "kind": "s3v5"}'),
    ("filename-without-download", b'{"bucket": "hostile", "keys": ["obj.txt"], "filename": "x"}'),
    ("version-bad-shape", b'{"bucket": "hostile", "keys": ["obj.txt"], "version_id": "../x"}'),
    ("version-for-a-put", b'{"bucket": "hostile", "keys": ["obj.txt"], "version_id": "null", "method": "PUT"}'),
    ("version-two-keys", b'{"bucket": "hostile", "keys": ["obj.txt", "b"], "version_id": "null"}'),
    ("max-uses-zero", b'{"bucket": "hostile", "keys": ["obj.txt"], "max_uses": 0}'),
    ("expires-negative", b'{"bucket": "hostile", "keys": ["obj.txt"], "expires_in": -1}'),
    ("expires-over-ceiling", b'{"bucket": "hostile", "keys": ["obj.txt"], "expires_in": 99999999}'),
    ("method-post", b'{"bucket": "hostile", "keys": ["obj.txt"], "method": "POST"}'),
    ("missing-bucket", b'{"keys": ["obj.txt"]}'),
    ("invalid-utf8", b'{"bucket": "hostile", "keys": ["\xff"]}'),
):
    api(f"mint-{name}", "POST", "/links", 400, "InvalidArgument", body)
api("mint-unknown-bucket", "POST", "/links", 404, "NoSuchBucket", b'{"bucket": "nope-nope", "keys": ["x"]}')
# A batch answers per key: a key that names no object is that key's error, and no link is made.
api("mint-nul-in-key", "POST", "/links", 200, "", b'{"bucket": "hostile", "keys": ["a\\u0000b"]}')
api("mint-body-too-large", "POST", "/links", 413, "EntityTooLarge",
    b'{"bucket": "hostile", "keys": ["' + b"k" * (1024 * 1024) + b'"]}')
# Bodies the revocation and link-policy routes refuse (400 InvalidArgument).
for name, method, path, body in (
    ("revoke-bad-scope", "POST", "/revocations", b'{"scope": "galaxy", "target": "x"}'),
    ("revoke-missing-target", "POST", "/revocations", b'{"scope": "bucket"}'),
    ("revoke-bucket-with-key-scope", "POST", "/revocations", b'{"scope": "key", "target": "x", "bucket": "hostile"}'),
    ("revoke-before-string", "POST", "/revocations", b'{"scope": "bucket", "target": "hostile", "before": "x"}'),
    ("revoke-before-1970", "POST", "/revocations", b'{"scope": "bucket", "target": "hostile", "before": 5}'),
    ("revoke-before-far-future", "POST", "/revocations",
     b'{"scope": "bucket", "target": "hostile", "before": 9999999999}'),
    ("policy-lifetime-zero", "PUT", "/buckets/hostile/link-policy", b'{"max_link_lifetime": 0}'),
    ("policy-lifetime-string", "PUT", "/buckets/hostile/link-policy", b'{"max_link_lifetime": "1h"}'),
    ("policy-sharing-bad", "PUT", "/buckets/hostile/link-policy", b'{"sharing": "everyone"}'),
    ("policy-unknown", "PUT", "/buckets/hostile/link-policy", b'{"public": true}'),
):
    api(name, method, path, 400, "InvalidArgument", body)
for name, body, expect in (
    ("bucket-invalid", b'{"name": "UPPER"}', (400, "InvalidBucketName")),
    ("bucket-reserved", b'{"name": "_satchel"}', (400, "InvalidBucketName")),
    ("bucket-owner-bad", b'{"name": "hostile-x", "owner": "god"}', (400, "InvalidArgument")),
    ("bucket-existing", b'{"name": "hostile"}', (409, "BucketAlreadyOwnedByYou")),
):
    api(f"create-{name}", "POST", "/buckets", *expect, body=body)
api("policy-unknown-bucket", "PUT", "/buckets/nope-nope/link-policy", 404, "NoSuchBucket", b'{"sharing": "any"}')
for name, query in (
    ("limit-words", "/links?limit=many"), ("limit-zero", "/links?limit=0"), ("limit-huge", "/links?limit=100000"),
    ("limit-superscript", "/links?limit=%C2%B2"), ("unknown-param", "/links?evil=1"),
    ("param-twice", "/links?limit=1&limit=2"), ("active-maybe", "/links?active=maybe"),
    ("audit-since-words", "/audit?since=yesterday"), ("audit-since-inf", "/audit?since=1e999"),
    ("audit-since-fullwidth", "/audit?since=%EF%BC%91"), ("audit-unknown", "/audit?evil=1"),
):
    api(f"query-{name}", "GET", query, 400, "InvalidArgument")
api("route-unknown", "GET", "/nothing-here", 404, "NotFound")
api("route-wrong-method", "PATCH", "/links", 405, "MethodNotAllowed")
api("link-unknown", "GET", "/links/nope", 404, "NotFound")
api("link-revoke-unknown", "DELETE", "/links/nope", 404, "NotFound")
api("link-id-traversal", "GET", "/links/..%2F..%2Fwhoami", 404, "NotFound")
