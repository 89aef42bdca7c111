"""Fuzz harnesses for the link kinds that landed after the S3 ones: Swift TempURL and FormPost, PAR tokens
and access URLs, and the Swift router. Same table shape as :mod:`tests.fuzz.harnesses` (and run by the same
``make fuzz`` and short tier), kept apart so each file stays about one front-end.

Each module has its own refusal type, and garbage must never raise anything else: ``TempUrlInvalid``
(signing/tempurl.py), ``FormInvalid``/``FormUnauthorized`` (signing/formpost.py, swift/formreader.py),
``SatchelError`` (PAR router, which the OCI front-end renders), ``SwiftError`` (Swift router). Where a
real client signs (``swiftclient.utils.generate_temp_url``), its URL must verify and any one-character
change to a signed element must be refused.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote
from urllib.parse import unquote as urllib_unquote

from hypothesis import strategies as st
from swiftclient.utils import generate_temp_url

from satchel.core.errors import SatchelError
from satchel.par import router as par_router
from satchel.signing import formpost, tempurl, tokens
from satchel.swift import router as swift_router
from satchel.swift.errors import SwiftError
from satchel.swift.formreader import FormReader, boundary_of
from tests.fuzz import strategies as s
from tests.fuzz.harnesses import Harness, _chunks

NOW = 1_700_000_000
ALL_DIGESTS = frozenset(tempurl.DIGEST_SIZES)
#: A second key that no drawn key (at most 24 bytes) can equal: the signing key must be the one found.
DECOY = b"\xff" * 32


def refused_by(kinds: tuple[type[BaseException], ...], call: Callable[[], object]) -> bool:
    """True when ``call`` raises one of ``kinds`` (the module's refusal); anything else is a finding."""
    try:
        call()
    except kinds:
        return True
    return False


# --- TempURL: parsing garbage ---------------------------------------------------------------------------
_HEXES = st.sampled_from([40, 64, 128, 39, 63, 127, 0, 2]).flatmap(
    lambda n: st.text("0123456789abcdefABCDEFg", min_size=n, max_size=n))
_B64 = st.binary(max_size=70).map(lambda b: base64.b64encode(b).decode())
_SIGS = st.one_of(
    _HEXES,
    st.tuples(st.sampled_from(["sha1", "sha256", "sha512", "SHA512", "md5", "", "sha256:sha512"]),
              st.one_of(_B64, _B64.map(lambda t: t.replace("+", "-").replace("/", "_").rstrip("=")),
                        _B64.map(lambda t: t + "-+"), s.wire_text(3))).map(":".join),
    s.wire_text(4),
)
_EXPIRES = st.one_of(
    st.integers(-10, 10**14).map(str),
    st.sampled_from(["2030-01-01T00:00:00Z", "2030-02-30T00:00:00Z", "2030-01-01T25:61:61Z", "9999-12-31T23:59:59Z",
                     "0000-00-00T00:00:00Z", "2030-01-01T00:00:00+01:00", "2030-01-01 00:00:00Z", "\uff11\uff12",
                     "\xb2", "1_0", " 1", "1e9", "-1", "+1", "0x10", ""]),
    s.wire_text(3),
)
_IP_RANGES = st.one_of(st.sampled_from(["127.0.0.1", "10.0.0.0/8", "10.0.0.1/8", "::1", "fe80::/10", "1.2.3.4/33",
                                        "0.0.0.0/0", "::/0", "a", "", "1.2.3.4/", "/8"]), s.wire_text(2))
_TEMPURL_QUERY = st.lists(st.tuples(
    st.sampled_from([*tempurl.QUERY_PARAMS, "temp_url_ip_range", "temp_url_sig", "temp_url_expires", "other"]),
    st.one_of(_SIGS, _EXPIRES, _IP_RANGES, s.wire_text(3))), max_size=7)
_CLIENT_IPS = st.one_of(st.none(), st.sampled_from(["127.0.0.1", "10.1.2.3", "::1", "fe80::1", "x", ""]))


def _tempurl_garbage(value: Any) -> None:
    pairs, sig, expires, ip_range, client_ip, method, path_parts = value
    invalid = (tempurl.TempUrlInvalid,)
    refused_by(invalid, lambda: tempurl.parse_signature(sig))
    refused_by(invalid, lambda: tempurl.parse_expires(expires))
    refused_by(invalid, lambda: tempurl.check_ip_range(ip_range, client_ip))
    for query in (pairs, [("temp_url_sig", sig), ("temp_url_expires", expires), *pairs]):
        try:
            params = tempurl.parse_query(query)
        except tempurl.TempUrlInvalid:
            continue
        if params is None:
            assert not {"temp_url_sig", "temp_url_expires"} & {n for n, _ in query}
            continue
        account, container, obj = path_parts
        request = tempurl.Request(method, account, container, obj, client_ip)
        refused_by(invalid, lambda p=params, r=request: tempurl.verify(  # type: ignore[misc]
            p, r, [b"k", b""], allowed=ALL_DIGESTS, now=NOW))
        params.query(sig)


_TEMPURL_GARBAGE = st.tuples(
    _TEMPURL_QUERY, _SIGS, _EXPIRES, _IP_RANGES, _CLIENT_IPS,
    st.sampled_from([*tempurl.METHODS, "OPTIONS", "get", ""]),
    st.tuples(s.unicode_text(2), s.unicode_text(2), s.unicode_text(3)),
)


# --- TempURL: the real client signs, we verify; a one-character change is refused -----------------------
#: Names a URL can carry unescaped as generate_temp_url writes it (it quotes nothing): no query syntax.
_NAME = st.text(st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="?&#=+%/"), min_size=1,
                max_size=16)
_OBJECT = st.lists(_NAME, min_size=1, max_size=3).map("/".join)
_TEMPURL_SIGNED = st.tuples(
    st.sampled_from(tempurl.METHODS), _NAME, _NAME, _OBJECT, st.integers(1, 10**6), st.booleans(),
    st.one_of(st.none(), st.integers(0, 8)), st.one_of(st.none(), st.sampled_from(["127.0.0.1", "127.0.0.0/8",
                                                                                    "::1/128"])),
    st.sampled_from(sorted(ALL_DIGESTS)), st.binary(min_size=1, max_size=24), s.mutations(), st.integers(0),
    st.sampled_from(tempurl.METHODS),
)  # fmt: skip


def _tempurl_round_trip(value: Any) -> None:
    (method, account, container, obj, lifetime, iso, prefix_len, ip_range, digest, key, where, choice,
     other_method) = value
    account = "AUTH_" + account
    prefix = None if prefix_len is None else obj[:prefix_len]
    signed_path = tempurl.object_path(account, container, obj if prefix is None else prefix)
    url = generate_temp_url(signed_path, NOW + lifetime, key, method, absolute=True, prefix=prefix is not None,
                            iso8601=iso, ip_range=ip_range, digest=digest)
    path, _, query = url.partition("?temp_url_sig=")
    assert path == signed_path
    pairs = parse_qsl("temp_url_sig=" + query, keep_blank_values=True)
    client_ip = "::1" if ip_range == "::1/128" else "127.0.0.1"
    params = tempurl.parse_query(pairs)
    assert params is not None and params.prefix == prefix and params.ip_range == ip_range
    request = tempurl.Request(method, account, container, obj, client_ip)
    assert tempurl.verify(params, request, [DECOY, key], allowed=ALL_DIGESTS, now=NOW) == 1

    def verifies(p: tempurl.TempUrlParams, r: tempurl.Request) -> bool:
        return not refused_by((tempurl.TempUrlInvalid,), lambda: tempurl.verify(p, r, [key], allowed=ALL_DIGESTS,
                                                                                 now=NOW))

    # Another method: only a HEAD of a URL signed for GET, HEAD, POST or PUT is allowed (Swift's rule).
    if other_method != method:
        allowed = other_method == "HEAD" and method in tempurl.HEAD_SIGNATURES
        assert verifies(params, tempurl.Request(other_method, account, container, obj, client_ip)) is allowed
    targets = ["sig", "expires", "account", "container", "object" if prefix is None else "prefix"]
    if ip_range:
        targets.append("ip")
    target = targets[choice % len(targets)]
    changed_params, changed_request = params, request
    raw = dict(pairs)
    if target in ("sig", "expires", "ip"):
        name = {"sig": "temp_url_sig", "expires": "temp_url_expires", "ip": "temp_url_ip_range"}[target]
        raw[name] = s.mutate(raw[name], where)
        try:
            changed_params = tempurl.parse_query(raw.items())  # type: ignore[assignment]
        except tempurl.TempUrlInvalid:
            return
        assert changed_params is not None
        if target == "sig" and changed_params.signature == params.signature:
            return  # unused trailing bits of base64: the same signature spelled another way
    elif target == "prefix" and prefix:
        changed_obj = s.mutate(prefix, where) + obj[len(prefix):]
        changed_request = tempurl.Request(method, account, container, changed_obj, client_ip)
    elif target == "prefix":  # an empty prefix signs the whole container: change the container instead
        changed_request = tempurl.Request(method, account, s.mutate(container, where), obj, client_ip)
    else:
        fields = {"account": account, "container": container, "object": obj}
        fields[target] = s.mutate(fields[target], where)
        changed_request = tempurl.Request(method, fields["account"], fields["container"], fields["object"], client_ip)
    assert not verifies(changed_params, changed_request), f"a changed TempURL verified: {target}"


# --- FormPost: signed attributes ------------------------------------------------------------------------
_FORM_NAMES = [*formpost.REQUIRED, "redirect", "x_delete_at", "x_delete_after", "max_file_size", "expires"]
_DECIMALS = st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(["", " 1", "1_0", "\xb2", "\uff11", "0x1",
                                                                         "1e3", "99999999999999999999999"]))
_REDIRECTS = st.one_of(st.sampled_from(["", "https://a.example/done", "http://a.example/?x=1", "//a.example",
                                        "javascript:alert(1)", "https://a.example/\r\nX: y", "https:/a", "http://",
                                        "https://a.example/\u00e9", "HTTPS://A.EXAMPLE", "https://a\\b.example"]),
                       s.wire_text(3))
_FORM_ATTRIBUTES = st.dictionaries(st.sampled_from(_FORM_NAMES),
                                   st.one_of(_DECIMALS, _REDIRECTS, _SIGS, s.wire_text(3)), max_size=8)


def _formpost_garbage(value: Any) -> None:
    attributes, path = value
    try:
        spec = formpost.parse_attributes(attributes, max_put_size=5 * 2**30)
    except formpost.FormInvalid:
        return
    refused_by((formpost.FormUnauthorized,), lambda: formpost.verify(spec, path, [b"k"], allowed=ALL_DIGESTS,
                                                                     now=NOW))
    location = formpost.redirect_location(spec.redirect, 201, "x")
    assert b"<a href=\"" + location.replace("&", "&amp;").encode() + b"\"" in formpost.redirect_body(location)


def _swift_formpost_signature(key: bytes, message: bytes, digest: str) -> str:
    """As Swift's formpost documentation writes it: hex, or ``<digest>:<base64>``."""
    mac = hmac.new(key, message, digest).digest()
    return mac.hex() if digest != "sha512" else "sha512:" + base64.b64encode(mac).decode()


def _same_signature(changed: str, original: str) -> bool:
    """Whether a changed signature text is the original one spelled differently (base64's unused bits)."""
    try:
        return tempurl.parse_signature(changed) == tempurl.parse_signature(original)
    except tempurl.TempUrlInvalid:
        return False


_FORM_SIGNED = st.tuples(_NAME, _OBJECT, st.sampled_from(["", "https://a.example/done", "http://b.example/x?y=1"]),
                         st.integers(0, 5 * 2**30), st.integers(1, formpost.MAX_FILE_COUNT), st.integers(1, 10**6),
                         st.sampled_from(sorted(ALL_DIGESTS)), st.binary(min_size=1, max_size=24), s.mutations(),
                         st.integers(0))  # fmt: skip


def _formpost_round_trip(value: Any) -> None:
    container, prefix, redirect, size, count, lifetime, digest, key, where, choice = value
    path = f"/v1/AUTH_acme/{container}/{prefix}"
    texts = {"max_file_size": str(size), "max_file_count": str(count), "expires": str(NOW + lifetime)}
    message = f"{path}\n{redirect}\n{texts['max_file_size']}\n{texts['max_file_count']}\n{texts['expires']}"
    attributes = {**texts, "redirect": redirect, "signature": _swift_formpost_signature(key, message.encode(), digest)}
    spec = formpost.parse_attributes(attributes, max_put_size=5 * 2**30)
    assert formpost.verify(spec, path, [DECOY, key], allowed=ALL_DIGESTS, now=NOW) == 1
    names = ["path", *(n for n in attributes if attributes[n])]
    name = names[choice % len(names)]
    if name == "path":
        path = s.mutate(path, where)
    else:
        attributes = {**attributes, name: s.mutate(attributes[name], where)}
    try:
        changed = formpost.parse_attributes(attributes, max_put_size=5 * 2**30)
    except formpost.FormInvalid:
        return
    if name == "signature" and _same_signature(changed.signature, spec.signature):
        return  # unused trailing bits of base64
    assert refused_by((formpost.FormUnauthorized,),
                      lambda: formpost.verify(changed, path, [key], allowed=ALL_DIGESTS, now=NOW)), \
        f"a changed form verified: {name}"


# --- FormPost: the streamed form reader ------------------------------------------------------------------
async def _read(boundary: str, body: bytes, cuts: list[int], limit: int) -> list[tuple[str | None, str | None, bytes]]:
    """Every part as the FormPost handler reads it: attributes into memory (bounded), files streamed."""
    reader = FormReader(boundary, _chunks(body, cuts))
    parts = []
    while (part := await reader.next_part()) is not None:
        if part.filename is None:
            data = await reader.value(limit)
        else:
            data = b"".join([piece async for piece in reader.data()])
        parts.append((part.name, part.filename, data))
    return parts


def _encode_form(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


_FIELD_NAME = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_VALID_FORM = st.tuples(
    st.sampled_from(["XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a'b()+_,-./:=?"]),
    st.lists(st.tuples(_FIELD_NAME, st.one_of(st.none(), _NAME.filter(lambda n: '"' not in n and "\\" not in n)),
                       st.binary(max_size=80)), max_size=5),
    st.lists(st.integers(0, 800), max_size=6),
)


def _form_reader_round_trip(value: Any) -> None:
    boundary, parts, cuts = value
    content_type = f'multipart/form-data; boundary="{boundary}"'
    assert boundary_of(content_type) == boundary
    body = _encode_form(boundary, parts)
    expected = [(name, filename or None, data) for name, filename, data in parts]
    # A body that happens to contain the boundary line is not this form any more: nothing to compare.
    if any(b"--" + boundary.encode() in data or data.endswith(b"\r") for _, _, data in parts):
        refused_by((formpost.FormInvalid,), lambda: asyncio.run(_read(boundary, body, cuts, 100)))
        return
    assert asyncio.run(_read(boundary, body, cuts, 100)) == expected
    # Anywhere before the close delimiter's final "--" (its CRLF and any epilogue are optional).
    cut_at = cuts[0] % (len(body) - 3) if cuts else len(body) // 2
    try:
        asyncio.run(_read(boundary, body[:cut_at], cuts, 100))
    except formpost.FormCutOff:
        pass
    else:
        raise AssertionError(f"a form cut at byte {cut_at} of {len(body)} read as complete")


_PIECES = st.sampled_from([b"--XyZ", b"--XyZ--", b"\r\n", b"\n", b"\r", b"Content-Disposition: ", b"form-data",
                           b'; name="a"', b'; filename="f"', b"; filename*=UTF-8''%FF", b"Content-Type: text/plain",
                           b":", b"\x00", b"\xff", b"-", b" ", b"a" * 300, b"X" * 9000])
_FORM_GARBAGE = st.tuples(
    st.one_of(st.sampled_from(['multipart/form-data; boundary=XyZ', "multipart/form-data", "text/plain",
                               'multipart/form-data; boundary=""', "multipart/form-data; boundary=" + "b" * 201,
                               "multipart/form-data; boundary*=UTF-8''%FF", "multipart/mixed; boundary=XyZ"]),
              s.wire_text(4).map(lambda t: "multipart/form-data; boundary=" + t)),
    st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=25).map(b"".join),
    st.lists(st.integers(0, 10000), max_size=6),
)


def _form_reader_garbage(value: Any) -> None:
    content_type, body, cuts = value
    try:
        boundary = boundary_of(content_type)
    except formpost.FormInvalid:
        boundary = "XyZ"
    refused_by((formpost.FormInvalid,), lambda: asyncio.run(_read(boundary, body, cuts, 256)))


# --- PAR: tokens and access URLs ------------------------------------------------------------------------
_TOKENS = st.one_of(st.builds(tokens.new_token), st.text("ABCXYZabcxyz0189-_", min_size=42, max_size=44),
                    s.wire_text(3), s.unicode_text(3))


def _par_tokens(value: Any) -> None:
    candidate, other = value
    if tokens.well_formed(candidate):
        assert len(candidate) == 43 and candidate.isascii()
        digest = tokens.token_hash(candidate)
        assert len(digest) == 64 and tokens.same_hash(digest, tokens.token_hash(candidate))
        # The server hashes only what is well formed (core/par/use.py); those never collide.
        if tokens.well_formed(other):
            assert tokens.same_hash(digest, tokens.token_hash(other)) is (other == candidate)
    fresh = tokens.new_token()
    assert tokens.well_formed(fresh) and fresh != tokens.new_token()


_SEGMENT = st.one_of(s.wire_text(3), st.sampled_from(["", ".", "..", "%2F", "%2e%2e", "%", "%G0", "%FF", "%C3%A9",
                                                      "a%2Fb", "x" * 5000, "%00", "id", "u", "o", "n", "b", "p"]))
_PAR_PATH = st.one_of(
    st.lists(_SEGMENT, max_size=12).map(lambda p: "/p/" + "/".join(p)),
    st.tuples(st.one_of(st.builds(tokens.new_token), _SEGMENT), _SEGMENT, _SEGMENT, st.sampled_from(["o", "u", "x"]),
              st.lists(_SEGMENT, max_size=6).map("/".join))
    .map(lambda t: f"/p/{t[0]}/n/{t[1]}/b/{t[2]}/{t[3]}/{t[4]}"),
    s.wire_text(6),
)  # fmt: skip
_PAR_HEADERS = st.one_of(st.none(), st.dictionaries(st.sampled_from(["opc-multipart", "content-type"]),
                                                    st.sampled_from(["true", "TRUE ", "false", "", "yes"]), max_size=2))


def _par_router(value: Any) -> None:
    method, raw_path, headers = value
    try:
        target = par_router.parse_target(raw_path)
    except SatchelError:
        return
    refused_by((SatchelError,), lambda: par_router.route(method, target, headers))


_PLAIN = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12)


def _par_router_round_trip(value: Any) -> None:
    """An access URL built by quoting each name routes to exactly those names (an encoded slash in the
    namespace or bucket never moves a boundary; the object's slashes are its own)."""
    token, namespace, bucket, key, method = value
    path = f"/p/{token}/n/{quote(namespace, safe='')}/b/{quote(bucket, safe='')}/o/{quote(key, safe='/')}"
    target = par_router.parse_target(path)
    assert (target.token, target.namespace, target.bucket, target.key) == (token, namespace, bucket, key)
    try:
        endpoint = par_router.route(method, target)
    except SatchelError:
        assert method not in ("GET", "HEAD", "PUT") or any(seg in (".", "..") for seg in key.split("/"))
        return
    assert endpoint.key == key and endpoint.op.value.endswith("Object")


# --- Swift router ---------------------------------------------------------------------------------------
_SWIFT_PATH = st.one_of(
    st.lists(st.one_of(s.unicode_text(2), st.sampled_from(["v1", "AUTH_", "AUTH_acme", "", "..", "auth", "v1.0",
                                                           "info", "\x00", "\udcff", "x" * 1100])),
             max_size=6).map(lambda p: "/" + "/".join(p)),
    st.sampled_from(["/auth/v1.0", "/auth/v1.0/", "/auth", "/info", "/info/", "/v1", "/v1/", "/v1/AUTH_",
                     "/v1/AUTH_a//o", "/v1/AUTH_a/c/", "/v1/AUTH_a/c//"]),
)
_SWIFT_QUERY = st.dictionaries(st.sampled_from([*swift_router.UNSUPPORTED_QUERY, "temp_url_sig", "temp_url_expires",
                                                "format", "prefix", "x"]),
                               st.sampled_from(["", "get", "delete", "GET ", "json", "x"]), max_size=3)
_SWIFT_HEADERS = st.dictionaries(st.sampled_from(["content-type", "x-auth-token"]),
                                 st.sampled_from(["multipart/form-data; boundary=x", "MULTIPART/FORM-DATA",
                                                  "text/plain", "", "t"]), max_size=2)
_SWIFT_METHODS = st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS", "PATCH", "get", ""])


def _swift_router(value: Any) -> None:
    method, path, query, headers = value
    try:
        endpoint = swift_router.route(method, path, query, headers)
    except SwiftError as exc:
        assert 400 <= exc.status < 500, exc.status
        assert swift_router.operation(method, None) == "refused"
        return
    assert swift_router.operation(method, endpoint) in swift_router.OPERATIONS
    if endpoint.target in (swift_router.Target.ACCOUNT, swift_router.Target.CONTAINER, swift_router.Target.OBJECT):
        refused_by((SwiftError,), lambda: swift_router.refuse_unsupported_query(method, endpoint.target, query))
        built = "/".join(p for p in ("", "v1", "AUTH_" + (endpoint.account or ""), endpoint.container, endpoint.obj)
                         if p is not None)
        assert built == path.rstrip("/") or path.endswith("/"), (built, path)


# --- the whole application in-process on /p/ and /v1/: never a 5xx ------------------------------------------
_APP_SEGMENT = st.one_of(_SEGMENT.filter(lambda x: len(x) < 300), _NAME.map(lambda n: quote(n, safe="")))
_APP_OBJECT = st.one_of(st.sampled_from(["obj.txt", "new.txt", "", "dir/", "a%2Fb", "../obj.txt", "%FF", "x" * 1100]),
                        st.lists(_APP_SEGMENT, min_size=1, max_size=3).map("/".join))
_APP_HEADER_NAMES = ["range", "if-match", "if-none-match", "content-type", "content-md5", "opc-multipart",
                     "content-length", "x-auth-token", "destination", "x-copy-from", "x-object-meta-a",
                     "x-delete-at", "content-disposition", "transfer-encoding", "expect", "origin"]
_APP_HEADER_VALUES = st.one_of(s.wire_text(3), st.sampled_from([
    "bytes=0-3", "bytes=-2", "bytes=9-", "*", "true", "false", "0", "99", "-1", "multipart/form-data; boundary=XyZ",
    "multipart/form-data", "fuzz/obj.txt", "/fuzz/obj.txt", "1B2M2Y8AsgTpgAmY7PhCfg==", "chunked", "100-continue"]))
#: Mostly the real token, namespace and signature, so that requests get past the refusal into the handlers.
_MOSTLY = st.sampled_from([True, True, True, False])
_LINK_REQUEST = st.tuples(
    st.sampled_from(["par", "par", "tempurl", "tempurl", "formpost", "swift"]),
    st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS"]),
    st.tuples(_MOSTLY, _MOSTLY, st.sampled_from(["o", "o", "u", "x"])),
    _APP_OBJECT,
    st.lists(st.tuples(st.sampled_from(["temp_url_sig", "temp_url_expires", "temp_url_prefix", "temp_url_ip_range",
                                        "filename", "inline", "format", "multipart-manifest", "uploadId", "x"]),
                       st.one_of(_SIGS, _EXPIRES, s.wire_text(2))), max_size=3),
    st.dictionaries(st.sampled_from(_APP_HEADER_NAMES), _APP_HEADER_VALUES, max_size=3),
    st.one_of(st.just(b""), st.binary(max_size=48)),
    st.one_of(st.integers(60, 6 * 86400), st.just(-5)), s.mutations(), _MOSTLY.map(lambda real: not real),
)  # fmt: skip


def _q(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(n, safe='')}={quote(v, safe='', errors='surrogateescape')}" for n, v in pairs)


def _links_app(value: Any) -> None:
    from tests.fuzz import app

    kind, method, (real_token, real_ns, op), obj, extra, headers, body, lifetime, where, tamper = value
    world = app.link_world()
    expires = int(time.time()) + lifetime  # within the server's lifetime ceiling (7 days) unless negative
    decoded = urllib_unquote(obj)
    if kind == "par":
        token = world["token"] if real_token else s.mutate(world["token"], where)
        namespace = world["namespace"] if real_ns else "other"
        target = f"/p/{token}/n/{namespace}/b/{app.BUCKET}/{op}/{obj}" + (f"?{_q(extra)}" if extra else "")
    elif kind == "tempurl":
        signed = tempurl.generate(app.TEMPURL_KEY, method, expires,
                                  tempurl.object_path(app.SWIFT_ACCOUNT, app.BUCKET, decoded))
        sig = s.mutate(signed, where) if tamper else signed
        query = [("temp_url_sig", sig), ("temp_url_expires", str(expires)), *extra]
        target = f"/v1/{app.SWIFT_ACCOUNT}/{app.BUCKET}/{obj}?{_q(query)}"
    elif kind == "formpost":
        method = "POST"
        headers = {**headers, "content-type": "multipart/form-data; boundary=XyZ"}
        target = f"/v1/{app.SWIFT_ACCOUNT}/{app.BUCKET}/{obj}"
        texts = {"max_file_size": "100", "max_file_count": "2", "expires": str(expires), "redirect": ""}
        signature = formpost.generate(app.TEMPURL_KEY, f"/v1/{app.SWIFT_ACCOUNT}/{app.BUCKET}/{decoded}", "", 100, 2,
                                      expires)
        fields = {**texts, "signature": s.mutate(signature, where) if tamper else signature, **dict(extra)}
        body = _encode_form("XyZ", [*((n, None, v.encode("utf-8", "surrogateescape")) for n, v in fields.items()),
                                    ("file", "f.txt", body)])
    else:
        target = f"/v1/{app.SWIFT_ACCOUNT}/{app.BUCKET}/{obj}" + (f"?{_q(extra)}" if extra else "")
    try:
        target.encode("latin-1")
    except UnicodeEncodeError:
        return
    status = app.instance().request(method, target, list(headers.items()), body).status
    assert status != 0, "no answer"
    assert status < 500 or status == 501, f"{status} for {method} {target}"


HARNESSES: tuple[Harness, ...] = (
    Harness("tempurl-garbage", _TEMPURL_GARBAGE, _tempurl_garbage, examples=80),
    Harness("tempurl-round-trip", _TEMPURL_SIGNED, _tempurl_round_trip, examples=60),
    Harness("formpost-garbage", st.tuples(_FORM_ATTRIBUTES, st.one_of(s.wire_text(4), s.unicode_text(3))),
            _formpost_garbage, examples=80),
    Harness("formpost-round-trip", _FORM_SIGNED, _formpost_round_trip, examples=60),
    Harness("formpost-reader-round-trip", _VALID_FORM, _form_reader_round_trip, examples=40),
    Harness("formpost-reader-garbage", _FORM_GARBAGE, _form_reader_garbage, examples=40),
    Harness("par-tokens", st.tuples(_TOKENS, _TOKENS), _par_tokens, examples=60),
    Harness("par-router", st.tuples(st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "get"]), _PAR_PATH,
                                    _PAR_HEADERS), _par_router, examples=80),
    Harness("par-router-round-trip", st.tuples(st.builds(tokens.new_token), _PLAIN, _PLAIN,
                                               st.lists(st.one_of(_PLAIN, st.sampled_from([".", ".."])), min_size=1,
                                                        max_size=3).map("/".join),
                                               st.sampled_from(["GET", "HEAD", "PUT", "DELETE"])),
            _par_router_round_trip, examples=60),
    Harness("swift-router", st.tuples(_SWIFT_METHODS, _SWIFT_PATH, _SWIFT_QUERY, _SWIFT_HEADERS), _swift_router,
            examples=80),
    Harness("links-app", _LINK_REQUEST, _links_app, examples=60),
)
