"""aws-chunked uploads (signed chunks, unsigned payload with a checksum trailer) and Expect: 100-continue."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from tests.clients.boto import http_status
from tests.clients.content import file_sha256, sha256
from tests.clients.sigv4_stream import (
    STREAMING_SIGNED,
    STREAMING_UNSIGNED_TRAILER,
    Signer,
    crc32_b64,
    encode_signed,
    signed_chunks,
    split,
    streaming_signed_length,
    unsigned_trailer_body,
)

CHUNK = 16 * 1024


def _signer(server: Any) -> Signer:
    return Signer(server.access_key, server.secret_key, server.region)


def _url(server: Any, bucket: str, key: str) -> str:
    return f"{server.endpoint}/{bucket}/{urllib.parse.quote(key, safe='/~')}"


def _code(resp: requests.Response) -> str | None:
    return ET.fromstring(resp.content).findtext("Code") if resp.content else None


def test_signer_agrees_with_botocore() -> None:
    url = "http://127.0.0.1:9000/bkt/some%20key?partNumber=1&uploadId=abc%2Fdef"
    headers = {"x-amz-content-sha256": hashlib.sha256(b"body").hexdigest(), "content-type": "text/plain",
               "x-amz-meta-note": "  spaced   value "}
    request = AWSRequest(method="PUT", url=url, headers=dict(headers), data=b"body")
    S3SigV4Auth(BotoCredentials("AKIDEXAMPLE", "secret/EXAMPLE"), "s3", "us-east-1").add_auth(request)
    now = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    mine, _ = Signer("AKIDEXAMPLE", "secret/EXAMPLE").sign("PUT", url, headers, headers["x-amz-content-sha256"],
                                                           now)
    assert mine["Authorization"] == request.headers["Authorization"]


def test_signer_reproduces_the_aws_streaming_example() -> None:
    """The worked example of the AWS "Transferring Payload in Multiple Chunks" page: 66560 bytes of 'a'
    in 64 KiB chunks, with its published seed and chunk signatures."""
    signer = Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    now = dt.datetime(2013, 5, 24, tzinfo=dt.UTC)
    headers = {"x-amz-storage-class": "REDUCED_REDUNDANCY", "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": "66560", "content-length": "66824"}
    _, seed = signer.sign("PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt", headers,
                          STREAMING_SIGNED, now)
    assert seed == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    framed = signed_chunks(signer, now, seed, split(b"a" * 66560, 65536))
    assert [sig for _, sig in framed] == [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]
    assert len(encode_signed(framed)) == streaming_signed_length([65536, 1024]) == 66824


def streaming_put(server: Any, bucket: str, key: str, data: bytes,
                  tamper: Callable[[list[tuple[bytes, str]]], list[tuple[bytes, str]]] | None = None) -> Any:
    signer = _signer(server)
    now = dt.datetime.now(dt.UTC)
    chunks = split(data, CHUNK)
    url = _url(server, bucket, key)
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "content-length": str(streaming_signed_length([len(c) for c in chunks])),
        "content-type": "application/x-streamed",
    }
    headers, seed = signer.sign("PUT", url, headers, STREAMING_SIGNED, now)
    framed = signed_chunks(signer, now, seed, chunks)
    if tamper is not None:
        framed = tamper(framed)
    body = encode_signed(framed)
    assert len(body) == int(headers["content-length"])
    return requests.put(url, data=body, headers=headers, timeout=20)


def test_streaming_signed_upload(s3: Any, bucket: str, satchel_server: Any) -> None:
    data = os.urandom(5 * CHUNK + 1234)
    resp = streaming_put(satchel_server, bucket, "streamed.bin", data)
    assert resp.status_code == 200, resp.text
    assert resp.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'  # noqa: S324 - S3 ETag
    got = s3.get_object(Bucket=bucket, Key="streamed.bin")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ContentLength"] == len(data)
    assert got["ContentType"] == "application/x-streamed"
    # aws-chunked is a transfer detail, never part of the stored object's encoding.
    assert "aws-chunked" not in got.get("ContentEncoding", "")


def _flip_data(framed: list[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    data, sig = framed[2]
    return [*framed[:2], (bytes([data[0] ^ 1]) + data[1:], sig), *framed[3:]]


def _bad_final_signature(framed: list[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    return [*framed[:-1], (b"", "0" * 64)]


def _drop_chunk(framed: list[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    # Same length overall (the last data chunk repeated in place of another) but out of chain.
    return [framed[0], framed[2], framed[2], *framed[3:]]


@pytest.mark.parametrize("tamper", [_flip_data, _bad_final_signature, _drop_chunk])
def test_tampered_chunk_is_rejected(
    s3: Any, bucket: str, satchel_server: Any, tamper: Callable[[list[tuple[bytes, str]]], Any]
) -> None:
    data = os.urandom(4 * CHUNK)
    s3.put_object(Bucket=bucket, Key="existing", Body=b"before")
    for key in ("fresh", "existing"):
        try:
            resp = streaming_put(satchel_server, bucket, key, data, tamper)
        except requests.ConnectionError:
            resp = None  # closing the connection after the bad chunk is an acceptable refusal too
        if resp is not None:
            assert resp.status_code == 403, resp.text
            assert _code(resp) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="fresh")
    assert http_status(exc.value) == 404
    assert s3.get_object(Bucket=bucket, Key="existing")["Body"].read() == b"before"


def trailer_put(server: Any, bucket: str, key: str, data: bytes, checksum: str | None,
                extra: dict[str, str] | None = None) -> requests.Response:
    """An aws-chunked PUT declaring a CRC32 trailer; ``checksum=None`` leaves the trailer out."""
    url = _url(server, bucket, key)
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        **(extra or {}),
    }
    headers, _ = _signer(server).sign("PUT", url, headers, STREAMING_UNSIGNED_TRAILER, dt.datetime.now(dt.UTC))
    # A generator body makes requests send HTTP Transfer-Encoding: chunked, as SDKs do for streams.
    if checksum is None:
        body: Any = iter([*(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in split(data, CHUNK)), b"0\r\n\r\n"])
    else:
        body = unsigned_trailer_body(split(data, CHUNK), "x-amz-checksum-crc32", checksum)
    return requests.put(url, data=body, headers=headers, timeout=20)


def test_unsigned_payload_with_crc32_trailer(s3: Any, bucket: str, satchel_server: Any) -> None:
    data = os.urandom(3 * CHUNK + 99)
    resp = trailer_put(satchel_server, bucket, "trailed", data, crc32_b64(data))
    assert resp.status_code == 200, resp.text
    assert resp.request.headers.get("Transfer-Encoding") == "chunked"
    got = s3.get_object(Bucket=bucket, Key="trailed", ChecksumMode="ENABLED")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ChecksumCRC32"] == crc32_b64(data)


def test_wrong_trailer_checksum_is_bad_digest(s3: Any, bucket: str, satchel_server: Any) -> None:
    s3.put_object(Bucket=bucket, Key="trailed", Body=b"unchanged")
    data = os.urandom(2 * CHUNK + 5)
    resp = trailer_put(satchel_server, bucket, "trailed", data, crc32_b64(data + b"!"))
    assert resp.status_code == 400, resp.text
    assert _code(resp) == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="trailed")["Body"].read() == b"unchanged"


@pytest.mark.parametrize("order", ["wrong-then-right", "right-then-wrong"])
def test_a_duplicated_trailer_is_refused(s3: Any, bucket: str, satchel_server: Any, order: str) -> None:
    """Hostile review C: the CRC32 trailer sent twice (wrong, then right) was stored, the last one
    winning. Which was meant is not ours to guess: 400 MalformedTrailerError, nothing stored."""
    data = os.urandom(CHUNK + 3)
    right, wrong = crc32_b64(data), crc32_b64(data + b"!")
    first, second = (wrong, right) if order == "wrong-then-right" else (right, wrong)
    resp = trailer_put(satchel_server, bucket, "twice", data, f"{first}\r\nx-amz-checksum-crc32:{second}")
    assert (resp.status_code, _code(resp)) == (400, "MalformedTrailerError"), resp.text
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="twice")
    assert http_status(exc.value) == 404


def test_declared_trailer_that_never_comes_is_refused(s3: Any, bucket: str, satchel_server: Any) -> None:
    """Hostile review B: ``x-amz-trailer`` promised a CRC32 the body never carried, and the object was
    stored unchecked. AWS answers 400 MalformedTrailerError; nothing is stored."""
    resp = trailer_put(satchel_server, bucket, "untrailed", os.urandom(CHUNK + 7), None)
    assert (resp.status_code, _code(resp)) == (400, "MalformedTrailerError"), resp.text
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="untrailed")
    assert http_status(exc.value) == 404


def test_checksum_header_beside_a_trailer_is_refused(s3: Any, bucket: str, satchel_server: Any) -> None:
    """Hostile review B: a wrong ``x-amz-checksum-crc32`` header beside a right trailer was stored (only
    the trailer was checked). Two checksums for one body is InvalidRequest, as on AWS."""
    data = os.urandom(CHUNK + 3)
    resp = trailer_put(satchel_server, bucket, "twice", data, crc32_b64(data),
                       extra={"x-amz-checksum-crc32": crc32_b64(b"other")})
    assert (resp.status_code, _code(resp)) == (400, "InvalidRequest"), resp.text
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="twice")
    assert http_status(exc.value) == 404


def _curl(*args: str) -> subprocess.CompletedProcess[str]:
    # Callers pass -H "x-amz-content-sha256: UNSIGNED-PAYLOAD": curl 7.88's --aws-sigv4 does not add that
    # header, which S3 requires with header auth (AWS answers 400 without it); later curls send it.
    return subprocess.run(["curl", "-sS", "-v", *args], capture_output=True, text=True, timeout=120, check=False)


def test_curl_expect_100_continue(s3: Any, bucket: str, satchel_server: Any,
                                  random_file: Callable[[str, int], Path], tmp_path: Path) -> None:
    src = random_file("upload.bin", 3 * 1024 * 1024 + 7)
    url = _url(satchel_server, bucket, "curl/upload.bin")
    # curl 7.88 does not add x-amz-content-sha256 itself; S3 requires it with SigV4, and curl signs
    # the x-amz-* headers it is given.
    auth = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{satchel_server.access_key}:{satchel_server.secret_key}",
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    put = _curl(*auth, "-H", "Expect: 100-continue", "-T", str(src), "-o", "/dev/null", "-w", "%{http_code}", url)
    assert put.returncode == 0, put.stderr[-2000:]
    assert put.stdout == "200", put.stderr[-2000:]
    assert "> Expect: 100-continue" in put.stderr
    assert "< HTTP/1.1 100 Continue" in put.stderr
    assert sha256(s3.get_object(Bucket=bucket, Key="curl/upload.bin")["Body"].read()) == file_sha256(src)

    down = tmp_path / "down.bin"
    get = _curl(*auth, "-o", str(down), "-w", "%{http_code}", url)
    assert get.stdout == "200", get.stderr[-2000:]
    assert file_sha256(down) == file_sha256(src)


def test_curl_expect_refused_before_body(bucket: str, satchel_server: Any,
                                         random_file: Callable[[str, int], Path]) -> None:
    src = random_file("upload.bin", 2 * 1024 * 1024)
    url = _url(satchel_server, bucket, "curl/denied.bin")
    auth = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{satchel_server.access_key}:wrong-secret",
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    put = _curl(*auth, "-H", "Expect: 100-continue", "-T", str(src), "-w", "%{http_code}", url)
    assert put.stdout.endswith("403"), put.stderr[-2000:]
    assert "SignatureDoesNotMatch" in put.stdout
    # The point of Expect: a request that will be refused is refused before the body is invited.
    assert "< HTTP/1.1 100 Continue" not in put.stderr


def test_signed_payload_hash_mismatch_is_refused(s3: Any, bucket: str, satchel_server: Any) -> None:
    """A body whose SHA-256 is not the signed x-amz-content-sha256 never becomes an object."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    url = _url(satchel_server, bucket, "mismatch.bin")
    claimed = hashlib.sha256(b"what was signed").hexdigest()
    # botocore hashes the body it is given into x-amz-content-sha256; another body is then sent.
    request = AWSRequest(method="PUT", url=url, data=b"what was signed")
    S3SigV4Auth(BotoCredentials(satchel_server.access_key, satchel_server.secret_key), "s3", "us-east-1").add_auth(
        request)
    assert request.headers["X-Amz-Content-SHA256"] == claimed
    resp = requests.put(url, data=b"what was sent!!", headers=dict(request.headers.items()), timeout=30)
    assert resp.status_code == 400, resp.text
    assert _code(resp) == "XAmzContentSHA256Mismatch"
    assert f"<ClientComputedContentSHA256>{claimed}</ClientComputedContentSHA256>" in resp.text
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="mismatch.bin")
    assert http_status(exc.value) == 404
