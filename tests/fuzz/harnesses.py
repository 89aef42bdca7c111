"""Fuzz harnesses: one strategy and one property per parser, verifier or canonicaliser a request reaches.

Every harness asserts that the code raises nothing but its documented errors (a
:class:`~satchel.core.errors.SatchelError`, which each front-end renders as a protocol error, never a
500), and where a round trip exists that it holds: a request signed by botocore verifies, and any
single-character change to an element the signature covers is refused.

The same table runs twice: briefly in the normal test suite (``tests/fuzz/test_fuzz.py``, derandomized)
and for a bounded time per harness in ``make fuzz`` (``tests/fuzz/run.py``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import quote

from hypothesis import strategies as st

from satchel.admin import schemas
from satchel.asgi import Request
from satchel.core import text
from satchel.core.errors import InvalidAccessKeyId, SatchelError
from satchel.s3 import headervalues, xml
from satchel.s3.lifecyclexml import parse_lifecycle
from satchel.s3.postform import PostForm
from satchel.s3.router import parse_copy_source, route
from satchel.s3.tagxml import parse_tagging
from satchel.signing import post_policy, sigv2
from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4 import parse
from satchel.signing.sigv4.chunked import AwsChunkedDecoder, ChunkSigner
from satchel.signing.sigv4.verify import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    verify_header_auth,
    verify_presigned,
)
from tests.fuzz import strategies as s
from tests.unit.signing import botocore_oracle as bo

REGION = bo.REGION
# python-multipart logs every malformed form it is fed at WARNING; thousands of them drown the report.
logging.getLogger("python_multipart").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Harness:
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    #: Examples in the short run of the normal test suite (expensive harnesses get fewer).
    examples: int = 60


def lookup(access_key_id: str) -> str:
    if access_key_id != bo.ACCESS_KEY:
        raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
    return bo.SECRET


def refused(call: Callable[[], object]) -> bool:
    """True when ``call`` raises a SatchelError; any other exception propagates (it is a finding)."""
    try:
        call()
    except SatchelError:
        return True
    return False


# --- SigV4: parse, canonicalise ------------------------------------------------------------------------
def _sigv4_parse(value: tuple[str, list[tuple[str, str]], str]) -> None:
    header, query, credential = value
    refused(lambda: parse.parse_authorization_header(header, region=REGION))
    refused(lambda: parse.parse_presigned_query(query, region=REGION))
    for is_query in (True, False):
        refused(lambda q=is_query: parse.parse_credential(credential, region=REGION, service="s3", query=q))  # type: ignore[misc]
    assert parse.parse_amz_date(credential) is None or len(credential) == 16
    parse.is_presigned_v4(query)


_AUTH_HEADER = st.one_of(
    s.wire_text(12),
    st.tuples(
        st.sampled_from(["AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256", "aws4-hmac-sha256 ", "AWS "]),
        st.lists(st.tuples(st.sampled_from(["Credential", "SignedHeaders", "Signature", "credential", ""]),
                           st.sampled_from(["=", "", "=="]), s.wire_text(4)), max_size=5),
        st.sampled_from([",", ", ", " ,", ";"]),
    ).map(lambda t: t[0] + t[2].join(n + eq + v for n, eq, v in t[1])),
)
_PRESIGN_QUERY = st.lists(
    st.tuples(st.sampled_from([*parse.QUERY_AUTH_PARAMS, "X-Amz-Security-Token", "x-amz-date", "other"]),
              s.wire_text(4)), max_size=9)  # fmt: skip


def _canonical(value: tuple[str, list[tuple[str, str]], str]) -> None:
    raw_path, query, header_value = value
    uri = c.canonical_uri(raw_path)
    assert c.canonical_uri(uri) == uri, "canonical URI is not a fixed point"
    assert uri.isascii()
    # Idempotent for the absolute paths requests have; a relative ".." normalises to "" (as botocore's
    # remove_dot_segments does), and "" to "/".
    normalized = c.normalize_path("/" + raw_path)
    assert c.normalize_path(normalized) == normalized, "normalize_path is not idempotent"
    c.canonical_uri(raw_path, service="iam")
    cq = c.canonical_query(query)
    assert cq.isascii()
    trimmed = c.canonical_header_value(header_value)
    assert c.canonical_header_value(trimmed) == trimmed
    c.sha256_hex(raw_path)
    c.spaced_hex(header_value)


# --- SigV4: botocore signs, we verify; a one-character change is refused ---------------------------------
_METHOD = st.sampled_from(["GET", "PUT", "DELETE", "HEAD", "POST"])
_META = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8).map(lambda n: "x-amz-meta-" + n),
    st.text(s.PRINTABLE, min_size=1, max_size=12), max_size=3)  # fmt: skip
_QUERY = st.lists(st.tuples(st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8), s.KEYS), max_size=3)
_SIGNED_REQUEST = st.tuples(_METHOD, s.KEYS, _META, _QUERY, st.binary(max_size=64), s.mutations(), st.integers(0))


def _url(key: str, query: list[tuple[str, str]]) -> str:
    url = bo.object_url("bucket", key)
    if query:
        url += "?" + "&".join(f"{quote(n, safe='-_.~')}={quote(v, safe='-_.~')}" for n, v in query)
    return url


def _v4_args(wire: bo.WireRequest) -> dict[str, Any]:
    return {"method": wire.method, "raw_path": wire.raw_path, "query": wire.query, "headers": wire.headers,
            "now": bo.NOW + 5, "region": REGION, "lookup_secret": lookup}


def _mutated_copies(wire: bo.WireRequest, header_names: list[str], query_names: list[str],
                    where: tuple[int, str], choice: int) -> dict[str, Any]:
    """The request's verify arguments with one character of one signed element changed."""
    args = _v4_args(wire)
    targets = ["raw_path", "method", *(f"h:{n}" for n in header_names if n in wire.headers),
               *(f"q:{n}" for n in query_names if any(k == n for k, _ in wire.query))]
    target = targets[choice % len(targets)]
    if target == "raw_path":
        args["raw_path"] = s.mutate(wire.raw_path, where)
    elif target == "method":
        args["method"] = s.mutate(wire.method, where, "QWXZ")
    elif target.startswith("h:"):
        name = target[2:]
        args["headers"] = {**wire.headers, name: s.mutate(wire.headers[name], where)}
    else:
        name = target[2:]
        args["query"] = [(k, s.mutate(v, where) if k == name and v else v) for k, v in wire.query]
    return args


def _sigv4_header_round_trip(value: Any) -> None:
    method, key, meta, query, body, where, choice = value
    wire = bo.sign_v4_header(method, _url(key, query), headers=meta, body=body)
    result = verify_header_auth(**_v4_args(wire))
    assert result.payload_hash == hashlib.sha256(body).hexdigest()
    signed = parse.parse_authorization_header(wire.headers["authorization"], region=REGION).signed_headers
    args = _mutated_copies(wire, ["authorization", *signed], [n for n, _ in query], where, choice)
    assert refused(lambda: verify_header_auth(**args)), f"a changed request verified: {args}"


def _sigv4_presigned_round_trip(value: Any) -> None:
    method, key, meta, query, _body, where, choice = value
    wire = bo.presign_v4(method, _url(key, query), headers=meta)
    result = verify_presigned(**_v4_args(wire))
    assert result.presigned
    auth_params = [*parse.QUERY_AUTH_PARAMS, *(n for n, _ in query)]
    signed_meta = [n for n in meta if n in wire.headers]
    args = _mutated_copies(wire, ["host", *signed_meta], auth_params, where, choice)
    assert refused(lambda: verify_presigned(**args)), f"a changed URL verified: {args}"


def _sigv4_verify_garbage(value: Any) -> None:
    method, raw_path, query, headers = value
    common: dict[str, Any] = {"method": method, "raw_path": raw_path, "query": query, "headers": headers, "now": bo.NOW,
              "region": REGION, "lookup_secret": lookup}
    refused(lambda: verify_header_auth(**common))
    refused(lambda: verify_presigned(**common))
    refused(lambda: sigv2.verify_v2_header(**{k: v for k, v in common.items() if k != "region"}))
    refused(lambda: sigv2.verify_v2_presigned(**{k: v for k, v in common.items() if k != "region"}))


_HEADER_NAMES = ["authorization", "x-amz-date", "date", "x-amz-content-sha256", "host", "content-md5",
                 "content-type", "x-amz-meta-a", "x-amz-security-token", "x-amz-satchel-link-id"]
_GARBAGE_REQUEST = st.tuples(
    _METHOD, s.wire_text(6),
    st.one_of(s.pairs(), _PRESIGN_QUERY),
    st.one_of(s.headers(_HEADER_NAMES), st.fixed_dictionaries(
        {"authorization": _AUTH_HEADER, "x-amz-date": st.sampled_from(["20240501T120000Z", "x", ""]),
         "x-amz-content-sha256": st.sampled_from([c.UNSIGNED_PAYLOAD, c.EMPTY_SHA256, STREAMING_SIGNED, "zz"])})),
)  # fmt: skip


# --- SigV2 ------------------------------------------------------------------------------------------
def _sigv2_round_trip(value: Any) -> None:
    method, key, meta, _query, _body, where, choice = value
    url = bo.object_url("bucket", key)
    header = bo.sign_v2_header(method, url, headers=meta)
    args: dict[str, Any] = {"method": header.method, "raw_path": header.raw_path, "query": header.query,
            "headers": header.headers, "now": bo.NOW + 5, "lookup_secret": lookup}
    assert sigv2.verify_v2_header(**args).access_key_id == bo.ACCESS_KEY
    names = ["authorization", "date", *meta]
    mutated = dict(args)
    target = names[choice % len(names)]
    if choice % 5 == 0:
        mutated["raw_path"] = s.mutate(header.raw_path, where)
    else:
        mutated["headers"] = {**header.headers, target: s.mutate(header.headers[target], where)}
    assert refused(lambda: sigv2.verify_v2_header(**mutated)), f"a changed V2 request verified: {mutated}"

    presigned = bo.presign_v2(method, url)
    args = {**args, "query": presigned.query, "headers": presigned.headers, "raw_path": presigned.raw_path}
    assert sigv2.verify_v2_presigned(**args).presigned
    mutated = dict(args)
    if choice % 4 == 0:
        mutated["raw_path"] = s.mutate(presigned.raw_path, where)
    else:
        name = sigv2.QUERY_PARAMS[choice % 3]
        mutated["query"] = [(k, s.mutate(v, where) if k == name else v) for k, v in presigned.query]
    assert refused(lambda: sigv2.verify_v2_presigned(**mutated)), f"a changed V2 URL verified: {mutated}"


def _sigv2_canonical(value: tuple[str, list[tuple[str, str]], dict[str, str]]) -> None:
    raw_path, query, headers = value
    resource = sigv2.canonical_resource(raw_path, query)
    assert resource.startswith(raw_path or "/")
    amz = sigv2.canonical_amz_headers(headers.items())
    assert amz == sigv2.canonical_amz_headers(sorted(headers.items(), reverse=True)) or len(headers) > 1
    sigv2.sign(bo.SECRET, sigv2.string_to_sign("GET", "", "", "0", amz, resource))
    sigv2.fingerprint(raw_path, resource)


# --- aws-chunked -----------------------------------------------------------------------------------------
_KEY = c.signing_key(bo.SECRET, "20130524", REGION, "s3")
_SIGNER = ChunkSigner(_KEY, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", "a" * 64)


def encode_chunked(data: bytes, sizes: list[int], mode: str, trailer: dict[str, str]) -> bytes:
    """An aws-chunked body of ``data`` cut into ``sizes`` (cycled), signed where the mode says."""
    out = bytearray()
    previous = _SIGNER.seed_signature
    signed = mode != STREAMING_UNSIGNED_TRAILER
    chunks: list[bytes] = []
    i = 0
    for n in range(len(data) + 1):
        if i >= len(data):
            break
        size = max(1, sizes[n % len(sizes)])
        chunks.append(data[i : i + size])
        i += size
    for chunk in [*chunks, b""]:
        if signed:
            sts = c.chunk_string_to_sign(_SIGNER.amz_date, _SIGNER.scope, previous, hashlib.sha256(chunk).hexdigest())
            previous = c.sign(_SIGNER.signing_key, sts)
            out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode()
        else:
            out += f"{len(chunk):x}\r\n".encode()
        if chunk:
            out += chunk + b"\r\n"
    if mode == STREAMING_SIGNED:
        return bytes(out + b"\r\n")
    lines = "".join(f"{name}:{value}\n" for name, value in trailer.items())
    out += "".join(f"{name}:{value}\r\n" for name, value in trailer.items()).encode()
    if mode == STREAMING_SIGNED_TRAILER:
        sts = c.trailer_string_to_sign(_SIGNER.amz_date, _SIGNER.scope, previous, c.sha256_hex(lines))
        out += f"x-amz-trailer-signature:{c.sign(_SIGNER.signing_key, sts)}\r\n".encode()
    return bytes(out + b"\r\n")


def decode_chunked(body: bytes, mode: str, cuts: list[int], decoded_length: int | None) -> tuple[bytes, dict[str, str]]:
    decoder = AwsChunkedDecoder(mode, _SIGNER, max_chunk_size=4096, decoded_length=decoded_length)
    out = bytearray()
    start = 0
    for cut in sorted({min(cut, len(body)) for cut in cuts} | {len(body)}):
        for piece in decoder.feed(body[start:cut]):
            out += piece
        start = cut
    decoder.finish()
    return bytes(out), decoder.trailers


_MODES = st.sampled_from([STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER])
_TRAILER = st.dictionaries(st.sampled_from(["x-amz-checksum-crc32", "x-amz-checksum-sha256", "x-amz-meta-t"]),
                           st.text("abcdefABCDEF0123456789+/=", min_size=1, max_size=12), max_size=2)
_CUTS = st.lists(st.integers(0, 5000), max_size=6)
_CHUNKED = st.tuples(_MODES, st.binary(max_size=600), st.lists(st.integers(1, 300), min_size=1, max_size=4),
                     _TRAILER, _CUTS, s.mutations())


def _chunked_round_trip(value: Any) -> None:
    mode, data, sizes, trailer, cuts, where = value
    trailer = {} if mode == STREAMING_SIGNED else trailer
    body = encode_chunked(data, sizes, mode, trailer)
    decoded, trailers = decode_chunked(body, mode, cuts, len(data))
    assert decoded == data
    assert trailers == trailer
    if mode == STREAMING_UNSIGNED_TRAILER:
        return
    # Any one-byte change in a signed body is refused and releases no byte that differs from the data.
    position = where[0] % len(body)
    replacement = ord(where[1]) if body[position] != ord(where[1]) else (ord(where[1]) + 1) % 256
    tampered = body[:position] + bytes([replacement]) + body[position + 1 :]
    try:
        decoded, trailers = decode_chunked(tampered, mode, cuts, len(data))
    except SatchelError:
        return
    raise AssertionError(f"a tampered body decoded: byte {position} of {tampered!r}")


def _chunked_garbage(value: Any) -> None:
    mode, body, cuts, length = value
    refused(lambda: decode_chunked(body, mode, cuts, length))


_CHUNK_PIECES = st.sampled_from([
    b"0", b"10", b"fffffffffffffffff", b";chunk-signature=", b"a" * 64, b"\r\n", b"\n", b"\r", b"x-amz-checksum-crc32:",
    b"x-amz-trailer-signature:", b"AAAA", b":", b" ", b"\x00", b"\xff", b"1;", b";", b"-1", b"0x10",
])
_CHUNKED_GARBAGE = st.tuples(
    _MODES, st.lists(st.one_of(_CHUNK_PIECES, st.binary(max_size=8)), max_size=20).map(b"".join), _CUTS,
    st.one_of(st.none(), st.integers(0, 100)),
)  # fmt: skip


# --- POST policy and the form reader ----------------------------------------------------------------------
_POST_CLIENTS: dict[str, Any] = {}


def _post_client(version: str) -> Any:
    if version not in _POST_CLIENTS:
        import boto3
        from botocore.config import Config

        config = Config(signature_version="s3v4") if version == "v4" else None
        _POST_CLIENTS[version] = boto3.client("s3", endpoint_url=bo.ENDPOINT, region_name=REGION,
                                              aws_access_key_id=bo.ACCESS_KEY, aws_secret_access_key=bo.SECRET,
                                              config=config)
    return _POST_CLIENTS[version]


def presigned_post(version: str, key: str, fields: dict[str, str], conditions: list[Any]) -> dict[str, str]:
    with (
        mock.patch("botocore.signers.get_current_datetime", return_value=bo.frozen()),
        mock.patch("botocore.auth.get_current_datetime", return_value=bo.frozen()),
    ):
        post = _post_client(version).generate_presigned_post("bucket", key, Fields=fields, Conditions=conditions,
                                                             ExpiresIn=3600)
    return dict(post["fields"])


def _verify_form(form: dict[str, str], filename: str | None = None) -> Any:
    return post_policy.verify_post_form(form, bucket="bucket", region=REGION, now=bo.NOW + 60, lookup_secret=lookup,
                                        filename=filename)


def _post_round_trip(value: Any) -> None:
    version, key, meta, where, choice = value
    form = presigned_post(version, key, meta, [{name: v} for name, v in meta.items()])
    result = _verify_form(form)
    assert result.fields["key"] == key
    name = sorted(form)[choice % len(form)]
    tampered = {**form, name: s.mutate(form[name], where)}
    assert refused(lambda: _verify_form(tampered)), f"a changed form verified: {name}={tampered[name]!r}"


_POST_FIELDS = ["key", "policy", "x-amz-signature", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                "AWSAccessKeyId", "signature", "Content-Type", "acl", "success_action_status", "x-ignore-a",
                "X-Amz-Signature", "file", "bucket"]
_POLICY_NAMES = ["expiration", "conditions", "eq", "starts-with", "content-length-range", "$key", "key", "bucket",
                 "x-amz-date", "$x-amz-date", "2030-01-01T00:00:00Z", "success_action_status"]


def _policy_b64() -> st.SearchStrategy[str]:
    condition = st.one_of(
        st.lists(st.one_of(st.sampled_from(_POLICY_NAMES), s.JSON_SCALARS), max_size=4),
        st.dictionaries(st.sampled_from(_POLICY_NAMES), s.JSON_SCALARS, max_size=2),
        s.json_values(_POLICY_NAMES),
    )
    document = st.one_of(
        st.fixed_dictionaries({"expiration": st.one_of(st.sampled_from(["2030-01-01T00:00:00Z",
                                                                          "2030-01-01T00:00:00+99:00", "x"]),
                                                         s.JSON_SCALARS),
                               "conditions": st.lists(condition, max_size=5)}),
        s.json_values(_POLICY_NAMES),
    )
    encoded = document.map(lambda d: base64.b64encode(json.dumps(d).encode()).decode())
    return st.one_of(encoded, s.wire_text(4))


_POST_GARBAGE = st.tuples(
    st.dictionaries(st.one_of(st.sampled_from(_POST_FIELDS), s.wire_text(2)),
                    st.one_of(s.wire_text(5), st.sampled_from(["AWS4-HMAC-SHA256", bo.ACCESS_KEY,
                                                               f"{bo.ACCESS_KEY}/20240501/us-east-1/s3/aws4_request",
                                                               "20240501T120000Z"])), max_size=10),
    _policy_b64(), st.one_of(st.none(), s.unicode_text(3)),
)  # fmt: skip


def _post_garbage(value: Any) -> None:
    form, policy, filename = value
    refused(lambda: _verify_form({**form, "policy": policy}, filename))
    refused(lambda: post_policy.decode_policy(policy))


async def _chunks(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for cut in [*sorted({min(c_, len(body)) for c_ in cuts}), len(body)]:
        if cut > start:
            yield body[start:cut]
            start = cut


async def _read_form(boundary: str, body: bytes, cuts: list[int]) -> tuple[dict[str, str], bytes]:
    form = PostForm(boundary, _chunks(body, cuts))
    fields = await form.read_fields()
    data = b"".join([piece async for piece in form.file_data()])
    return fields, data


_DISPOSITIONS = st.one_of(
    st.sampled_from(['form-data; name="key"', 'form-data; name="file"; filename="a.txt"', "form-data",
                     "form-data; name=\"file\"; filename*=UTF-8''%E6%97%A5.txt", "form-data; name*=x''%FF",
                     "form-data; filename*=bogus''%FF; name=file", 'form-data; name="Key"', 'form-data; name=""']),
    s.wire_text(5).map(lambda t: "form-data; name=" + t),
)  # fmt: skip


def _multipart(boundary: str, parts: list[tuple[str, bytes]], tail: bytes) -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Disposition: " + d.encode("latin-1") + b"\r\n\r\n" + data
                    + b"\r\n" for d, data in parts)
    return body + tail


_FORM = st.tuples(
    st.sampled_from(["XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a"]),
    st.lists(st.tuples(_DISPOSITIONS, st.one_of(st.binary(max_size=30), s.wire_text(3).map(
        lambda t: t.encode("latin-1")))), max_size=5),
    st.sampled_from([b"--XyZ--\r\n", b"", b"--", b"\r\n--a--", b"--XyZ"]), _CUTS,
)  # fmt: skip


def _post_form_reader(value: Any) -> None:
    boundary, parts, tail, cuts = value
    body = _multipart(boundary, parts, tail)
    refused(lambda: asyncio.run(_read_form(boundary, body, cuts)))


# --- router, XML, management API, header values, core/text -------------------------------------------------
def request_from(method: str, raw_path: str, raw_query: str, headers: dict[str, str]) -> Request:
    scope = {"method": method, "raw_path": raw_path.encode("latin-1"), "path": raw_path,
             "query_string": raw_query.encode("latin-1"),
             "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers.items()]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    return Request(scope, receive)


_ROUTE_HEADERS = ["host", "x-amz-copy-source", "content-type", "range", "if-match", "if-modified-since",
                  "x-amz-acl", "x-amz-server-side-encryption", "x-amz-tagging", "x-amz-storage-class",
                  "x-amz-grant-read", "x-amz-bucket-object-lock-enabled", "x-amz-checksum-crc32"]
_ROUTE = st.tuples(
    st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "get", "CONNECT"]),
    st.lists(s.wire_text(3), max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.lists(st.one_of(s.wire_text(2), st.tuples(s.wire_text(2), s.wire_text(3)).map("=".join)),
             max_size=5).map("&".join),
    s.headers(_ROUTE_HEADERS), st.sampled_from([None, "s3.example.com"]),
)  # fmt: skip


def _router(value: Any) -> None:
    method, raw_path, raw_query, headers, domain = value
    request = request_from(method, raw_path, raw_query, headers)
    try:
        endpoint = route(request.method, request.path, request.query, request.headers, domain=domain)
    except SatchelError:
        return
    for name in (endpoint.bucket, endpoint.key):
        if name is not None:
            assert text.is_text(name), f"a routed name is not text: {name!r}"
    if endpoint.copy_source is not None:
        assert text.is_text(endpoint.copy_source.bucket) and text.is_text(endpoint.copy_source.key)
    refused(lambda: parse_copy_source(raw_query))


_XML_NAMES = ["CompleteMultipartUpload", "Part", "PartNumber", "ETag", "ChecksumCRC32", "ChecksumSHA256",
              "ChecksumCRC64NVME", "Delete", "Object", "Key", "VersionId", "Quiet", "CreateBucketConfiguration",
              "LocationConstraint", "CORSConfiguration", "CORSRule", "AllowedOrigin", "AllowedMethod",
              "AllowedHeader", "ExposeHeader", "MaxAgeSeconds", "ID", "Size", "LastModifiedTime", "x",
              # tagging and lifecycle
              "Tagging", "TagSet", "Tag", "Value", "LifecycleConfiguration", "Rule", "Status", "Filter", "Prefix",
              "And", "Expiration", "Days", "Date", "ObjectSizeGreaterThan", "ObjectSizeLessThan",
              "ExpiredObjectDeleteMarker", "AbortIncompleteMultipartUpload", "DaysAfterInitiation", "Transition"]
_XML_TEXT = st.one_of(st.sampled_from(["1", "10001", "-1", "true", "GET", "*", "\"etag\"", "&quot;e&quot;", "",
                                       "http://a.example", "x\r\ny", "99999999999999999999", " 1 ", "Enabled",
                                       "2030-01-01T00:00:00Z", "2030-13-01", "aws:x"]),
                      st.text(max_size=6).map(lambda t: "".join(ch for ch in t if ch.isprintable())))


def _element(name: str, children: list[str]) -> str:
    return f"<{name}>{''.join(children)}</{name}>"


_XML_TREE = st.recursive(
    _XML_TEXT.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;")),
    lambda inner: st.tuples(st.sampled_from(_XML_NAMES), st.lists(inner, max_size=4)).map(lambda t: _element(*t)),
    max_leaves=16,
)
_XML_PREFIX = st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>',
                               '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
                               '<!DOCTYPE x SYSTEM "file:///etc/passwd">', '<?xml version="1.0" encoding="utf-16"?>'])
_XML = st.one_of(
    st.tuples(_XML_PREFIX, st.sampled_from(["CompleteMultipartUpload", "Delete", "CreateBucketConfiguration",
                                                  "CORSConfiguration", "Tagging", "LifecycleConfiguration"]),
              st.lists(_XML_TREE, max_size=5), st.sampled_from(["", ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"']))
    .map(lambda t: f"{t[0]}<{t[1]}{t[3]}>{''.join(t[2])}</{t[1]}>".encode()),
    st.binary(max_size=60),
)  # fmt: skip


def _xml_parsers(body: bytes) -> None:
    for parser in (xml.parse_complete_multipart, xml.parse_delete, xml.parse_create_bucket, xml.parse_cors,
                   lambda b: parse_tagging(b, 50), parse_lifecycle):
        refused(lambda p=parser: p(body))  # type: ignore[misc]


_ADMIN_NAMES = ["bucket", "keys", "prefix", "method", "expires_in", "kind", "mode", "filename", "max_uses", "name",
                "owner", "scope", "target", "before", "max_link_lifetime", "sharing"]
_ADMIN_QUERY = st.lists(st.tuples(st.sampled_from(["limit", "since", "until", "prefix", "kind", "outcome", "active",
                                                   "action", "link_id", "x"]), s.wire_text(3)), max_size=5)


def _admin_schemas(value: tuple[bytes, list[tuple[str, str]]]) -> None:
    body, query = value
    for parser in (schemas.link_spec, schemas.bucket_request, schemas.revocation_request, schemas.link_policy):
        refused(lambda p=parser: p(body))  # type: ignore[misc]
    try:
        params = schemas.query_params(query, ("limit", "since", "until", "prefix", "kind", "outcome", "active",
                                              "action", "link_id"))
    except SatchelError:
        return
    refused(lambda: schemas.audit_query(params, None))
    refused(lambda: schemas.flag(params, "active"))
    refused(lambda: schemas.limit(params))


_HEADER_VALUE = st.one_of(s.wire_text(6), s.unicode_text(4), st.sampled_from(
    ["=?UTF-8?B?w6k=?=", "=?utf-7?B?K2w=?=", "=?UTF-8?B?####?=", "=?iso-8859-1?q?caf=E9?=", "=?UTF-8?Q?=FF?="]))


def _header_values(value: tuple[str, str]) -> None:
    name, header = value
    received = headervalues.wire_text(header)
    assert isinstance(received, str)
    try:
        stored = headervalues.metadata_text(received, name)
    except SatchelError:
        return
    # What was accepted for storage can always be sent back: Latin-1 encodable, no CR/LF/NUL.
    for out_name in (name, "content-disposition", "x-amz-meta-a"):
        sent = headervalues.wire_value(out_name, stored)
        raw = sent.encode("latin-1")
        assert not any(b in raw for b in b"\r\n\x00"), f"unsendable header {out_name}: {raw!r}"
    refused(lambda: headervalues.check_stored_value("content-type", stored))


def _core_text(value: tuple[str, int]) -> None:
    candidate, number = value
    try:
        candidate.encode("utf-8")
        encodable = True
    except UnicodeEncodeError:
        encodable = False
    assert text.is_text(candidate) is encodable
    parsed = text.decimal(candidate)
    assert parsed is None or (candidate.isascii() and candidate.isdigit() and parsed == int(candidate))
    assert text.decimal(str(number)) == (number if len(str(number)) <= 19 else None)


# --- the whole application in-process: no request may be answered with a 500 -------------------------------
_APP_PARAMS = ["acl", "uploads", "uploadId", "partNumber", "versionId", "cors", "delete", "list-type", "prefix",
               "delimiter", "max-keys", "marker", "continuation-token", "start-after", "encoding-type",
               "response-content-type", "response-content-disposition", "location", "x-id", "tagging",
               "max-parts", "part-number-marker", "max-uploads", "fetch-owner", "x-amz-meta-q", "limit", "since"]
_APP_HEADERS = ["range", "if-match", "if-none-match", "if-modified-since", "content-md5", "content-type",
                "x-amz-copy-source", "x-amz-copy-source-range", "x-amz-meta-a", "x-amz-checksum-crc32",
                "x-amz-sdk-checksum-algorithm", "x-amz-trailer", "content-encoding", "x-amz-decoded-content-length",
                "x-amz-acl", "x-amz-storage-class", "x-amz-metadata-directive", "expect", "origin",
                "access-control-request-method", "x-amz-checksum-type", "x-amz-object-attributes"]
_APP_VALUES = st.one_of(s.wire_text(4), st.sampled_from([
    "bytes=0-3", "bytes=-2", "bytes=9999-", "*", '"etag"', "/fuzz/obj.txt", "/fuzz/obj.txt?versionId=null",
    "bytes=0-1", "CRC32", "x-amz-checksum-crc32", "aws-chunked", "11", "REPLACE", "COPY", "100-continue",
    "http://a.example", "GET", "FULL_OBJECT", "COMPOSITE", "AAAAAA==", "1B2M2Y8AsgTpgAmY7PhCfg==", "private"]))
_APP_REQUEST = st.tuples(
    st.sampled_from(["none", "v4", "v4", "v4q"]),
    st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]),
    st.one_of(st.sampled_from(["/fuzz", "/fuzz/obj.txt", "/fuzz/new.txt", "/", "/fuzz/dir/", "/nope/x",
                               "/_satchel/api/links", "/_satchel/api/audit", "/_satchel/api/revocations",
                               "/_satchel/api/buckets", "/_satchel/api/links/x", "/_satchel/api/whoami"]),
              st.lists(s.wire_text(2), min_size=1, max_size=3).map(lambda p: "/fuzz/" + "/".join(p))),
    st.lists(st.tuples(st.sampled_from(_APP_PARAMS), st.one_of(st.just(""), _APP_VALUES)), max_size=4),
    st.dictionaries(st.sampled_from(_APP_HEADERS), _APP_VALUES, max_size=4),
    st.one_of(st.just(b""), st.binary(max_size=64), _XML, s.json_bytes(_ADMIN_NAMES)),
)  # fmt: skip


def _s3_app(value: Any) -> None:
    from hypothesis import reject

    from tests.fuzz import app

    auth, method, path, query, headers, body = value
    target = path + ("?" + "&".join(f"{quote(n, safe='-_.~')}={quote(v, safe='-_.~')}" if v else n
                                    for n, v in query) if query else "")
    try:
        target, signed = app.sign(auth, method, target, list(headers.items()), body)
    except Exception:  # botocore cannot sign some hostile shapes at all; nothing to send then
        reject()
    status = app.instance().request(method, target, signed, body).status
    assert status != 0, "no answer"
    assert status != 500, f"500 for {method} {target}"  # 501 NotImplemented is an answer


HARNESSES: tuple[Harness, ...] = (
    Harness("sigv4-parse", st.tuples(_AUTH_HEADER, _PRESIGN_QUERY, s.wire_text(6)), _sigv4_parse),
    Harness("sigv4-canonical", st.tuples(s.wire_text(8), s.pairs(), s.wire_text(6)), _canonical),
    Harness("sigv4-verify-garbage", _GARBAGE_REQUEST, _sigv4_verify_garbage),
    Harness("sigv4-header-round-trip", _SIGNED_REQUEST, _sigv4_header_round_trip, examples=25),
    Harness("sigv4-presigned-round-trip", _SIGNED_REQUEST, _sigv4_presigned_round_trip, examples=25),
    Harness("sigv2-round-trip", _SIGNED_REQUEST, _sigv2_round_trip, examples=25),
    Harness("sigv2-canonical", st.tuples(s.wire_text(6), s.pairs(), s.headers(["x-amz-meta-a", "x-amz-date"])),
            _sigv2_canonical),
    Harness("chunked-round-trip", _CHUNKED, _chunked_round_trip, examples=40),
    Harness("chunked-garbage", _CHUNKED_GARBAGE, _chunked_garbage),
    Harness("post-policy-round-trip", st.tuples(st.sampled_from(["v4", "v2"]), s.KEYS, _META, s.mutations(),
                                                st.integers(0)), _post_round_trip, examples=20),
    Harness("post-policy-garbage", _POST_GARBAGE, _post_garbage),
    Harness("post-form-reader", _FORM, _post_form_reader, examples=40),
    Harness("s3-router", _ROUTE, _router, examples=80),
    Harness("s3-xml", _XML, _xml_parsers, examples=80),
    Harness("admin-schemas", st.tuples(s.json_bytes(_ADMIN_NAMES), _ADMIN_QUERY), _admin_schemas, examples=80),
    Harness("header-values", st.tuples(st.sampled_from(["x-amz-meta-a", "content-type", "content-disposition"]),
                                       _HEADER_VALUE), _header_values, examples=80),
    Harness("s3-app", _APP_REQUEST, _s3_app, examples=60),
    Harness("core-text", st.tuples(s.unicode_text(4), st.integers(min_value=0, max_value=10**25)), _core_text),
)
