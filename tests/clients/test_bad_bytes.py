"""Bad bytes get a 4xx S3 error, never a 500 with a traceback in the log (issue 9, point 8).

Before: a key that is not UTF-8 once percent-decoded (``/bucket/%FF``) answered 500 with one
traceback per request, even anonymously (a log flood for anyone); a presigned URL that signed a
streaming ``X-Amz-Content-Sha256`` mode answered 500 too.
"""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status
from tests.clients.server import SatchelProcess


def _raw(server: SatchelProcess, head: bytes) -> tuple[int, bytes]:
    """One request written byte for byte: (status, S3 error code)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + b"\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    code = re.search(rb"<Code>(.*?)</Code>", data)
    return status, code.group(1) if code else b""


def _tracebacks(server: SatchelProcess) -> int:
    return server.log_path.read_text(errors="replace").count("Traceback")


@pytest.fixture
def public_bucket(managed_server: SatchelProcess, bucket: str, s3: Any) -> str:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    managed_server.set_public(bucket, True)
    return bucket


@pytest.mark.parametrize("line", [
    "GET /{b}/%FF", "HEAD /{b}/%FF", "GET /{b}/dir/%C3%28/x", "PUT /{b}/%FF", "DELETE /{b}/%ED%A0%80", "GET /%FF/k",
])
def test_key_that_is_not_utf8(managed_server: SatchelProcess, public_bucket: str, line: str) -> None:
    before = _tracebacks(managed_server)
    status, code = _raw(managed_server, f"{line.format(b=public_bucket)} HTTP/1.1".encode())
    assert status == 400
    assert code in (b"InvalidURI", b"")  # HEAD answers have no body
    assert _tracebacks(managed_server) == before


def test_signed_put_of_a_key_that_is_not_utf8(s3_factory: Any, s3: Any, bucket: str) -> None:
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.url = request.url.replace("/placeholder", "/%FF")

    client.meta.events.register("before-sign.s3.PutObject", hook)
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket=bucket, Key="placeholder", Body=b"x")
    assert (http_status(caught.value), error_code(caught.value)) == (400, "InvalidURI")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_copy_source_and_listing_values_that_are_not_utf8(managed_server: SatchelProcess, s3_factory: Any,
                                                         public_bucket: str) -> None:
    before = _tracebacks(managed_server)
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        request.headers["x-amz-copy-source"] = f"/{public_bucket}/%FF"

    client.meta.events.register("before-sign.s3.CopyObject", hook)
    with pytest.raises(ClientError) as caught:
        client.copy_object(Bucket=public_bucket, Key="copy", CopySource={"Bucket": public_bucket, "Key": "a"})
    assert (http_status(caught.value), error_code(caught.value)) == (400, "InvalidArgument")
    for query in ("prefix=%FF", "marker=%FF%FE", "list-type=2&start-after=%FF&delimiter=%FE", "uploads&key-marker=%FF"):
        status, _ = _raw(managed_server, f"GET /{public_bucket}?{query} HTTP/1.1".encode())
        assert status < 500, query
    assert _tracebacks(managed_server) == before


@pytest.mark.parametrize("mode", [
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
])
def test_presigned_url_signing_a_streaming_mode(managed_server: SatchelProcess, s3: Any, bucket: str,
                                                mode: str) -> None:
    """botocore's own query signer, told to sign ``mode`` as the payload hash (as a hand-rolled
    presigner might): the URL is refused up front, with nothing stored."""

    class StreamingQueryAuth(S3SigV4QueryAuth):  # type: ignore[misc]
        def payload(self, request: Any) -> str:
            return mode

    url = f"{managed_server.endpoint}/{bucket}/st?X-Amz-Content-Sha256={mode}&x-amz-decoded-content-length=5"
    request = AWSRequest("PUT", url)
    credentials = Credentials(managed_server.access_key, managed_server.secret_key)
    StreamingQueryAuth(credentials, "s3", managed_server.region, expires=300).add_auth(request)
    before = _tracebacks(managed_server)
    reply = requests.put(request.url, data=b"5\r\nhello\r\n0\r\n\r\n", timeout=10)
    assert (reply.status_code, b"<Code>InvalidArgument</Code>" in reply.content) == (400, True), reply.content
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert _tracebacks(managed_server) == before
