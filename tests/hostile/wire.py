"""Requests as bytes: sign a row's request the way a real client would, apply the row's tampering to the
signed request, and send it over a raw socket (so duplicated headers, invalid UTF-8, lying lengths and
anything else a library would refuse to send go out exactly as written)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.clients.sigv4_stream import (
    STREAMING_SIGNED,
    STREAMING_UNSIGNED_TRAILER,
    Signer,
    crc32_b64,
    encode_signed,
    signed_chunks,
    unsigned_trailer_body,
)

#: One tampering step, applied in order after signing:
#: ("header", name, value|None)  set (or with None remove) every header of that name
#: ("add-header", name, value)   append one more header line (duplicates)
#: ("query", name, value|None)   set (or remove) a query parameter, value written raw
#: ("add-query", name, value)    append a query parameter, raw
#: ("sub", part, old, new)       replace text in "target", "auth" (the Authorization value) or "body"
#: ("body", bytes)               replace the body (Content-Length follows unless a header step sets it)
#: ("field", name, value|None)   POST forms: set or remove a form field; ("add-field", name, value)
#: ("chunk", old, new)           aws-chunked: replace bytes in the encoded body
Tamper = tuple[Any, ...]


@dataclass
class Prepared:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    #: Send Content-Length from the body (a row may set its own instead).
    auto_length: bool = True
    #: A POST form's fields and file (None: no file part); the body is built from them after tampering.
    fields: list[tuple[str, str]] = field(default_factory=list)
    file_data: bytes | None = b"hostile post\n"
    #: Bytes cut from the end of the body once it is built.
    truncate: int = 0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        """The error code: S3 XML ``<Code>``, management API JSON ``error.code``, else empty."""
        if self.body.lstrip().startswith(b"{"):
            try:
                return str(json.loads(self.body)["error"]["code"])
            except (ValueError, KeyError, TypeError):
                return ""
        found = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return found.group(1).decode() if found else ""


def _botocore_request(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> AWSRequest:
    return AWSRequest(method=method, url=url, headers=dict(headers), data=body)


def _from_botocore(request: AWSRequest) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = [(k, v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()
               if k.lower() != "host"]
    return target, headers


def sign(auth: str, method: str, endpoint: str, target: str, headers: list[tuple[str, str]], body: bytes,
         access_key: str, secret: str, region: str, now: float) -> Prepared:
    """The request a client holding ``access_key`` sends, signed by ``auth``'s method at ``now``."""
    url = endpoint + target
    creds = BotoCredentials(access_key, secret)
    moment = dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None)
    if auth in ("none", "raw"):
        return Prepared(method, target, list(headers), body)
    if auth in ("v4unsigned", "v4streaming"):  # payload modes botocore does not sign over plain HTTP
        mode = "UNSIGNED-PAYLOAD" if auth == "v4unsigned" else STREAMING_SIGNED
        signed, _seed = Signer(access_key, secret, region).sign(method, url, dict(headers), mode,
                                                                dt.datetime.fromtimestamp(now, dt.UTC))
        return Prepared(method, target, list(signed.items()), body)
    if auth == "chunked-unsigned":  # boto3's default over HTTPS: unsigned chunks, a CRC32 trailer
        chunks = [body[i:i + 8] for i in range(0, len(body), 8)]
        extra = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body)),
                 "x-amz-trailer": "x-amz-checksum-crc32"}
        signed, _seed = Signer(access_key, secret, region).sign(
            method, url, {**dict(headers), **extra}, STREAMING_UNSIGNED_TRAILER, dt.datetime.fromtimestamp(now, dt.UTC))
        encoded = b"".join(unsigned_trailer_body(chunks, "x-amz-checksum-crc32", crc32_b64(body)))
        return Prepared(method, target, list(signed.items()), encoded)
    if auth == "chunked":
        return _chunked(method, endpoint, target, headers, body, Signer(access_key, secret, region),
                        dt.datetime.fromtimestamp(now, dt.UTC))
    request = _botocore_request(method, url, headers, body)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment), \
            mock.patch("botocore.auth.time.time", return_value=now), \
            mock.patch("botocore.auth.formatdate", return_value=_http_date(now)):
        if auth in ("v4", "mgmt"):
            S3SigV4Auth(creds, "s3", region).add_auth(request)
        elif auth == "v4q":
            S3SigV4QueryAuth(creds, "s3", region, expires=600).add_auth(request)
        elif auth == "v2":
            HmacV1Auth(creds).add_auth(request)
        elif auth == "v2q":
            HmacV1QueryAuth(creds, expires=600).add_auth(request)
        else:
            raise ValueError(auth)
    signed_target, signed_headers = _from_botocore(request)
    return Prepared(method, signed_target, signed_headers, body)


def _http_date(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _chunked(method: str, endpoint: str, target: str, headers: list[tuple[str, str]], body: bytes,
             signer: Signer, now: dt.datetime) -> Prepared:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload of ``body`` in 8-byte chunks. Content-Length is left
    out of the signed headers (SDKs may sign it or not), so a cut body reaches the chunk decoder."""
    chunks = [body[i:i + 8] for i in range(0, len(body), 8)]
    extra = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body))}
    signed, seed = signer.sign(method, endpoint + target, {**dict(headers), **extra}, STREAMING_SIGNED, now)
    encoded = encode_signed(signed_chunks(signer, now, seed, chunks))
    return Prepared(method, target, list(signed.items()), encoded)


def apply(prepared: Prepared, steps: tuple[Tamper, ...]) -> Prepared:
    for step in steps:
        kind = step[0]
        if kind == "header":
            _, name, value = step
            prepared.headers = [(k, v) for k, v in prepared.headers if k.lower() != name.lower()]
            if value is not None:
                prepared.headers.append((name, value))
            if name.lower() == "content-length":
                prepared.auto_length = False
        elif kind == "add-header":
            prepared.headers.append((step[1], step[2]))
        elif kind in ("query", "add-query"):
            prepared.target = _with_query(prepared.target, step[1], step[2], replace=kind == "query")
        elif kind == "sub":
            _, part, old, new = step
            if part == "target":
                assert old in prepared.target, (old, prepared.target)
                prepared.target = prepared.target.replace(old, new, 1)
            elif part == "auth":
                prepared.headers = [(k, v.replace(old, new, 1) if k.lower() == "authorization" else v)
                                    for k, v in prepared.headers]
            else:
                prepared.body = prepared.body.replace(old, new, 1)
        elif kind == "body":
            prepared.body = step[1]
        elif kind == "chunk":
            assert step[1] in prepared.body, step[1]
            prepared.body = prepared.body.replace(step[1], step[2], 1)
        elif kind == "method":
            prepared.method = step[1]
        elif kind == "upper":
            prepared.target = _map_query(prepared.target, step[1], str.upper)
        elif kind == "subq":
            _, name, old, new = step
            prepared.target = _map_query(prepared.target, name, lambda v, o=old, n=new: v.replace(o, n, 1))
        elif kind in ("sigflip", "sigset"):
            value = step[1] if kind == "sigset" else None
            prepared.headers = [(k, _set_signature(v, value) if k.lower() == "authorization" else v)
                                for k, v in prepared.headers]
        elif kind == "chunksigflip":
            marker = prepared.body.index(b"chunk-signature=") + len(b"chunk-signature=")
            flipped = b"1" if prepared.body[marker:marker + 1] != b"1" else b"2"
            prepared.body = prepared.body[:marker] + flipped + prepared.body[marker + 1:]
        elif kind == "field-sub":
            _, name, old, new = step
            prepared.fields = [(k, v.replace(old, new, 1) if k.lower() == name.lower() else v)
                               for k, v in prepared.fields]
        elif kind == "file":
            prepared.file_data = step[1]
        elif kind == "nofile":
            prepared.file_data = None
        elif kind == "truncate":
            prepared.truncate = step[1]
        elif kind == "cut-final":
            prepared.body = prepared.body[:prepared.body.rindex(b"0;chunk-signature=")]
        elif kind == "append":
            prepared.body += step[1]
        elif kind == "append-before-end":
            assert prepared.body.endswith(b"\r\n\r\n")
            prepared.body = prepared.body[:-2] + step[1] + b"\r\n"
        elif kind in ("field", "add-field"):
            if kind == "field":
                prepared.fields = [(k, v) for k, v in prepared.fields if k.lower() != step[1].lower()]
            if step[2] is not None:
                prepared.fields.append((step[1], step[2]))
        else:
            raise ValueError(step)
    return prepared


def _with_query(target: str, name: str, value: str | None, *, replace: bool) -> str:
    path, _, query = target.partition("?")
    pairs = [p for p in query.split("&") if p] if query else []
    if replace:
        pairs = [p for p in pairs if p.split("=", 1)[0] != name]
    if value is not None:
        pairs.append(f"{name}={value}" if value != "\0valueless" else name)
    return path + ("?" + "&".join(pairs) if pairs else "")


def _map_query(target: str, name: str, change: Any) -> str:
    path, _, query = target.partition("?")
    pairs = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        pairs.append(f"{key}={change(value)}" if key == name else pair)
    return path + "?" + "&".join(pairs)


def _set_signature(authorization: str, value: str | None) -> str:
    """The Authorization header with its Signature replaced (``None``: first hex digit changed)."""
    head, mark, signature = authorization.rpartition("Signature=")
    if not mark:
        return authorization
    if value is None:
        value = ("1" if signature[:1] != "1" else "2") + signature[1:]
    return head + mark + value


BOUNDARY = "HostileBoundary7MA4YWxkTrZu0gW"


def form_body(fields: list[tuple[str, str]], file_data: bytes, filename: str = "f.txt") -> bytes:
    out = bytearray()
    for name, value in fields:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode()
        out += value.encode("utf-8", "surrogateescape") + b"\r\n"
    out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + file_data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def to_bytes(prepared: Prepared, host: str) -> bytes:
    lines = [f"{prepared.method} {prepared.target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in prepared.headers]
    if prepared.auto_length and (prepared.body or prepared.method in ("PUT", "POST")):
        lines.append(f"Content-Length: {len(prepared.body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "surrogateescape")
    return head + prepared.body


def exchange(host: str, port: int, raw: bytes, timeout: float = 10.0) -> Reply:
    """Send ``raw`` and read the answer until the server closes (``Connection: close``). No half-close:
    a server may take the end of its input for the client's departure and drop the request."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before reading it all
            sock.sendall(raw)
        data = bytearray()
        while True:
            try:
                piece = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not piece:
                break
            data += piece
    return parse_reply(bytes(data))


def parse_reply(data: bytes) -> Reply:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if lines else None
    if match is None:
        return Reply(0, {}, data)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return Reply(int(match.group(1)), headers, body)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return bytes(out)
