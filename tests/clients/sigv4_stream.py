"""An independent SigV4 signer for the payload modes botocore does not send over plain HTTP.

Written from the AWS documentation ("Signature Calculations for the Authorization Header: Transferring
Payload in Multiple Chunks" and "... Including Trailing Headers") with hmac/hashlib only, so the
server's chunk verification is checked against a second implementation rather than against itself.
The header signer is cross-checked against botocore's ``S3SigV4Auth`` in the tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Signer:
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    service: str = "s3"

    def scope(self, now: dt.datetime) -> str:
        return f"{now:%Y%m%d}/{self.region}/{self.service}/aws4_request"

    def signing_key(self, now: dt.datetime) -> bytes:
        k_date = _hmac(("AWS4" + self.secret_key).encode(), f"{now:%Y%m%d}")
        k_region = _hmac(k_date, self.region)
        k_service = _hmac(k_region, self.service)
        return _hmac(k_service, "aws4_request")

    def sign(self, method: str, url: str, headers: dict[str, str], payload_hash: str,
             now: dt.datetime) -> tuple[dict[str, str], str]:
        """Returns ``headers`` plus x-amz-date, x-amz-content-sha256 and Authorization, and the seed
        signature. ``url`` must already be percent-encoded as it goes on the wire."""
        parts = urllib.parse.urlsplit(url)
        signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
        signed["host"] = parts.netloc
        signed["x-amz-date"] = f"{now:%Y%m%dT%H%M%SZ}"
        signed["x-amz-content-sha256"] = payload_hash
        names = sorted(signed)
        query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        canonical_query = "&".join(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in query
        )
        canonical = "\n".join([
            method,
            parts.path or "/",
            canonical_query,
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_hash,
        ])
        string_to_sign = "\n".join(
            [ALGORITHM, signed["x-amz-date"], self.scope(now), _sha256_hex(canonical.encode())]
        )
        signature = hmac.new(self.signing_key(now), string_to_sign.encode(), hashlib.sha256).hexdigest()
        out = {k: v for k, v in headers.items()}
        out["x-amz-date"] = signed["x-amz-date"]
        out["x-amz-content-sha256"] = payload_hash
        out["Authorization"] = (
            f"{ALGORITHM} Credential={self.access_key}/{self.scope(now)}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return out, signature

    def chunk_signature(self, now: dt.datetime, previous: str, chunk: bytes) -> str:
        string_to_sign = "\n".join([
            "AWS4-HMAC-SHA256-PAYLOAD", f"{now:%Y%m%dT%H%M%SZ}", self.scope(now), previous, EMPTY_SHA256,
            _sha256_hex(chunk),
        ])
        return hmac.new(self.signing_key(now), string_to_sign.encode(), hashlib.sha256).hexdigest()


def split(data: bytes, chunk_size: int) -> list[bytes]:
    return [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]


def signed_chunks(signer: Signer, now: dt.datetime, seed: str, chunks: list[bytes]) -> list[tuple[bytes, str]]:
    """Each data chunk with its chained signature, followed by the final empty chunk's."""
    out: list[tuple[bytes, str]] = []
    previous = seed
    for chunk in [*chunks, b""]:
        previous = signer.chunk_signature(now, previous, chunk)
        out.append((chunk, previous))
    return out


def encode_signed(chunks: list[tuple[bytes, str]]) -> bytes:
    return b"".join(
        f"{len(data):x};chunk-signature={sig}\r\n".encode() + data + b"\r\n" for data, sig in chunks
    )


def streaming_signed_length(sizes: list[int]) -> int:
    """Encoded body length for Content-Length, which the seed signature covers."""
    sig_overhead = len(";chunk-signature=") + 64 + 4
    return sum(len(f"{n:x}") + sig_overhead + n for n in [*sizes, 0])


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def unsigned_trailer_body(chunks: list[bytes], trailer_name: str, trailer_value: str) -> Iterator[bytes]:
    """aws-chunked framing without chunk signatures, closed by the checksum trailer."""
    for chunk in chunks:
        yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield f"0\r\n{trailer_name}:{trailer_value}\r\n\r\n".encode()
