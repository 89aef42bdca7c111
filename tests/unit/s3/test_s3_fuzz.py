"""Bounded fuzzing of everything a request's bytes reach before a handler: no input may raise anything
but a SatchelError (which the front-end renders as an S3 error), so no bytes can make a 500.

Inputs are built from the bytes and names that matter (subresource and auth parameter names,
percent-escapes of invalid UTF-8, surrogates' sources, control characters, streaming modes) mixed at
random, decoded the way the ASGI server hands them over (Latin-1). A fixed seed keeps a failure
reproducible; ``SATCHEL_FUZZ_SEED`` and ``SATCHEL_FUZZ_SECONDS`` explore further by hand. It predates the
hypothesis harnesses of ``tests/fuzz`` (which shrink what they find and run longer in ``make fuzz``) and
stays as a quick smoke test of the same surface, with the standard library's random and a time bound.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from satchel.asgi import Request
from satchel.core.conditions import check_conditions, parse_range
from satchel.core.errors import InvalidAccessKeyId, SatchelError
from satchel.core.receive import checksum_algorithm, checksum_headers, decode_content_md5
from satchel.s3.endpoints import CopySource, Endpoint
from satchel.s3.handlers.copy import copy_range
from satchel.s3.handlers.listing import decode_token, encoding_type, max_keys
from satchel.s3.headervalues import metadata_text, wire_headers, wire_text
from satchel.s3.objectheaders import response_overrides, stored_headers, user_metadata
from satchel.s3.postform import PostForm
from satchel.s3.refusedheaders import check_protection_headers
from satchel.s3.router import parse_copy_source, route
from satchel.signing import sigv2
from satchel.signing.post_policy import verify_post_form
from satchel.signing.sigv4.verify import SigV4Result, verify_header_auth, verify_presigned

SEED = int(os.environ.get("SATCHEL_FUZZ_SEED", "20261206"))
SECONDS = float(os.environ.get("SATCHEL_FUZZ_SECONDS", "0.6"))
NOW = 1_800_000_000.0

_ATOMS = [
    "%FF", "%FE", "%C3%28", "%ED%A0%80", "%00", "%0D%0A", "%25", "%2F", "%3F", "+", "&", "=", "?", "/", "//", "..",
    "\xff", "\xc3\xa9", "\x00", "\r\n", "\t", " ", "a", "b", "key", "日本", "é", "=?UTF-8?B?w6k=?=", "=?x?q?",
    "acl", "uploads", "uploadId", "partNumber", "versionId", "cors", "delete", "list-type", "prefix", "marker",
    "x-id", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Algorithm", "X-Amz-Content-Sha256", "AWS4-HMAC-SHA256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "UNSIGNED-PAYLOAD", "AWSAccessKeyId", "Signature", "Expires", "x-amz-satchel-link-id", "response-content-type",
    "20260101T000000Z", "AKID/20260101/us-east-1/s3/aws4_request", "host;x-amz-date", "0" * 64, "-1", "99999999999",
    "x-amz-acl", "public-read", "private", "x-amz-server-side-encryption", "x-amz-grant-read", "x-amz-meta-a",
]
_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "get", ""]
_HEADER_NAMES = ["authorization", "x-amz-date", "x-amz-content-sha256", "content-type", "content-md5", "date",
                 "x-amz-copy-source", "x-amz-acl", "x-amz-meta-x", "content-disposition", "host", "range",
                 "x-amz-server-side-encryption-customer-key", "x-amz-bucket-object-lock-enabled", "expect"]


def _text(rng: random.Random, atoms: int = 6) -> str:
    out = "".join(rng.choice(_ATOMS) for _ in range(rng.randint(0, atoms)))
    if rng.random() < 0.2:
        out += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))).decode("latin-1")
    return out


def _query(rng: random.Random) -> str:
    return "&".join(f"{_text(rng, 2)}={_text(rng, 3)}" if rng.random() < 0.7 else _text(rng, 2)
                    for _ in range(rng.randint(0, 6)))


def _request(rng: random.Random) -> Request:
    path = "/" + "/".join(_text(rng, 3) for _ in range(rng.randint(0, 4)))
    headers = [(rng.choice(_HEADER_NAMES).encode(), _text(rng).encode("latin-1", "replace"))
               for _ in range(rng.randint(0, 5))]
    if rng.random() < 0.5:
        headers.append((b"authorization", f"{rng.choice(['AWS4-HMAC-SHA256 ', 'AWS '])}{_text(rng)}".encode(
            "latin-1", "replace")))
    scope = {"method": rng.choice(_METHODS), "raw_path": path.encode("latin-1", "replace"), "path": path,
             "query_string": _query(rng).encode("latin-1", "replace"), "headers": headers, "client": ("1.2.3.4", 1)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    return Request(scope, receive)


def _lookup(access_key_id: str) -> str:
    if access_key_id != "AKID":
        raise InvalidAccessKeyId()
    return "secret"


def _routed(endpoint: Endpoint) -> None:
    """What reaches a handler is text core can store: keys and buckets encode as UTF-8."""
    for name in (endpoint.bucket, endpoint.key, *(vars_of(endpoint.copy_source))):
        if name is not None:
            name.encode("utf-8")


def vars_of(source: CopySource | None) -> tuple[str | None, ...]:
    return (source.bucket, source.key) if source is not None else ()


def _verified(result: SigV4Result) -> None:
    """A URL's payload hash is one the body path can check without a chunk signer."""
    assert not result.payload_hash.startswith("STREAMING-"), result.payload_hash


def _targets(request: Request, domain: str | None) -> list[Callable[[], object]]:
    common: dict[str, Any] = {"method": request.method, "raw_path": request.raw_path, "query": request.query,
                              "headers": request.headers, "now": NOW, "lookup_secret": _lookup}
    fields = {name: value for name, value in request.query}
    return [
        lambda: _routed(route(request.method, request.path, request.query, request.headers, domain=domain)),
        lambda: verify_header_auth(region="us-east-1", **common),
        lambda: _verified(verify_presigned(region="us-east-1", **common)),
        lambda: sigv2.verify_v2_header(**common),
        lambda: sigv2.verify_v2_presigned(**common),
        lambda: verify_post_form(fields, bucket="b", region="us-east-1", now=NOW, lookup_secret=_lookup,
                                 filename=request.path),
        lambda: parse_copy_source(request.headers.get("x-amz-copy-source", request.path)),
        lambda: stored_headers(request.headers),
        lambda: user_metadata({**request.headers, **{f"x-amz-meta-{k}": v for k, v in request.query}}, wire=False),
        lambda: response_overrides(request.query_dict, anonymous=False),
        lambda: check_protection_headers((k.lower(), v) for k, v in [*request.headers.items(), *request.query]),
        lambda: [metadata_text(wire_text(value)) for value in request.headers.values()],
        lambda: check_conditions(_as_conditions(request), etag="abc", last_modified=NOW),
        lambda: parse_range(request.headers.get("range", request.path), 1000),
        lambda: copy_range(request.headers.get("range", request.path)),
        lambda: checksum_headers({f"x-amz-checksum-{k.lower()}": v for k, v in request.query}),
        lambda: decode_content_md5(request.headers.get("content-md5", request.path)),
        lambda: [checksum_algorithm(name) for name, _ in request.query],
        lambda: (max_keys(request.query_dict), encoding_type(request.query_dict)),
        lambda: decode_token(request.query_dict.get("continuation-token", request.path)),
        lambda: asyncio.run(_post_form(request)),
    ]


def _as_conditions(request: Request) -> dict[str, str]:
    names = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
    return {name: value for name, (_, value) in zip(names, request.query, strict=False)}


async def _post_form(request: Request) -> None:
    """The multipart parser of POST uploads, fed the request's text as a form body."""
    body = request.path.encode("latin-1", "replace") + b"\r\n--B\r\n" + request.raw_query.encode("latin-1", "replace")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"--B\r\nContent-Disposition: form-data; name=\"" + body[:40] + b"\"\r\n\r\n" + body

    form = PostForm("B", chunks())
    await form.read_fields()
    async for _ in form.file_data():
        pass


def test_request_bytes_only_ever_raise_s3_errors() -> None:
    rng = random.Random(SEED)
    deadline = time.monotonic() + SECONDS
    runs = 0
    while time.monotonic() < deadline or runs < 200:
        request = _request(rng)
        for target in _targets(request, rng.choice([None, "s3.example.com"])):
            try:
                target()
            except SatchelError:
                pass
            except Exception as exc:  # pragma: no cover - the failure report
                raise AssertionError(f"{type(exc).__name__}: {exc} for {request.scope!r} (seed {SEED})") from exc
        runs += 1


def test_every_response_header_value_can_be_sent() -> None:
    rng = random.Random(SEED + 1)
    deadline = time.monotonic() + SECONDS / 2
    while time.monotonic() < deadline:
        headers = [(rng.choice(["x-amz-meta-a", "Content-Disposition", "ETag", "Location"]), _text(rng))
                   for _ in range(rng.randint(1, 4))]
        for _, value in wire_headers(headers):
            value.encode("latin-1")
            assert "\r" not in value and "\n" not in value
