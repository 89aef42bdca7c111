"""Encryption at rest (SSE-S3 and SSE-C): the one layer every front-end's object bytes go through.

Why here: every write of object bytes goes through ``core/receive.receive`` and every read through
``core/objects.read_range``; both call into this module when the object is encrypted, so S3, Swift,
PARs, the console and minted links encrypt and decrypt the same way, and a front-end cannot forget to.

**Blob format.** An encrypted blob is ``MAGIC (4) || prefix (8 random bytes)`` followed by the plaintext
cut into :data:`CHUNK`-byte chunks (the last one shorter, or empty for an empty blob), each sealed with
AES-256-GCM: nonce = ``prefix || chunk index (4 bytes, big-endian)``, associated data says whether the
chunk is the blob's last and names the blob it was sealed as (its *origin*: the blob id it was written
under). A chunk moved, repeated or dropped does not decrypt (its index is in the nonce), and a blob cut
after a whole chunk is caught because its new last chunk was not sealed as last. A blob moved, swapped
or duplicated in storage (another part of the same upload, another copy under the same data key, an
older blob of the same part) does not decrypt either: every part of an upload shares its content key,
so without the origin in the associated data nothing would tie a blob to its place in the object.
A copy that re-links blobs under the same key (SSE-S3 to SSE-S3, Swift's copy) gets new blob ids but
keeps the sealed bytes: the new object's stored encryption records each new id's origin (``origins``).
A read that reaches a blob's end also checks that nothing follows it (bytes appended to a blob are
damage, not slack). A byte range decrypts only the chunks it covers: chunk ``i`` sits at
``HEADER + i * (CHUNK + TAG)``. Writes and reads stream; nothing holds more than a batch of chunks.

**Keys.** One content key per object (per multipart upload: every part shares it, each part blob has
its own random prefix):

- SSE-S3: a random 256-bit data key, sealed by the node master key (``core/masterkey.py``) and stored
  with the object's metadata. The blobs and the database without ``master.key`` reveal nothing.
- SSE-C: derived from the customer's key and a per-object random salt (HMAC-SHA-256); the customer's
  key is never stored or logged. A second HMAC of it under the same salt is stored to refuse a wrong
  key with 403 before any byte is decrypted, as AWS stores "a randomly salted HMAC value".

The object's encryption is kept in its stored headers under :data:`FIELD` (a name no client can send,
since stored headers are picked from a fixed list), so it travels with the record through copies,
multipart completion and every store without a schema change.

**ETags** follow AWS: SSE-S3 (and unencrypted) objects keep the MD5 of their plaintext; an SSE-C
object's ETag is not the MD5 of its bytes (which would let anyone without the key confirm a guess of
the content) but an HMAC of it under the content key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from satchel.blobs.base import BlobStore, BlobWriter
from satchel.blobs.digests import Hasher
from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
    NotImplementedFeature,
    ServerSideEncryptionConfigurationNotFoundError,
)
from satchel.core.masterkey import MasterKey, SealedValueError

if TYPE_CHECKING:
    from satchel.core.models import Bucket, Principal
    from satchel.core.node import Node

#: The reserved stored-header name holding an object's (or an upload's) encryption.
FIELD = "x-satchel-sse"
#: The one algorithm both modes use, by its S3 name.
AES256 = "AES256"
#: Plaintext bytes per sealed chunk: a range read decrypts at most one chunk more at each end.
CHUNK = 64 * 1024
TAG = 16
MAGIC = b"SSE2"
PREFIX = 8
HEADER = len(MAGIC) + PREFIX
#: Chunks sealed per batch off the event loop (1 MiB, the blob writer's own batch).
BATCH_CHUNKS = 16
MAX_CHUNKS = 2**32

_S3_AAD = b"satchel sse-s3 data key v1"
_LAST = b"satchel sse v2 last\0"
_MORE = b"satchel sse v2 more\0"

NO_KEY = ("The object was stored using a form of Server Side Encryption. The correct parameters must be "
          "provided to retrieve the object.")
NOT_APPLICABLE = "The encryption parameters are not applicable to this object."


class BlobDecryptError(OSError):
    """An encrypted blob that does not decrypt: damaged, truncated, or not this object's."""


@dataclass(frozen=True, slots=True)
class CustomerKey:
    """An SSE-C key a request carried, its MD5 already checked. Never stored, logged or shown."""

    key: bytes = field(repr=False)
    md5_b64: str

    @classmethod
    def parse(cls, algorithm: str | None, key_b64: str | None, md5_b64: str | None,
              prefix: str = "x-amz-server-side-encryption-customer-") -> CustomerKey:
        """Check the three SSE-C values as AWS does (each missing or wrong one is its own 400)."""
        if algorithm is None:
            raise InvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must "
                                  "provide a valid encryption algorithm.", ArgumentName=prefix + "algorithm")
        if algorithm != AES256:
            raise InvalidArgument("The encryption request you specified is not valid. Supported value: AES256.",
                                  ArgumentName=prefix + "algorithm", ArgumentValue=algorithm[:64])
        if not key_b64:
            raise InvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must "
                                  "provide an appropriate secret key.", ArgumentName=prefix + "key")
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise InvalidArgument("The secret key was invalid for the specified algorithm.",
                                  ArgumentName=prefix + "key")
        if not md5_b64:
            raise InvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must "
                                  "provide the client calculated MD5 of the secret key.",
                                  ArgumentName=prefix + "key-MD5")
        expected = base64.b64encode(hashlib.md5(key, usedforsecurity=False).digest()).decode()
        if not hmac.compare_digest(expected.encode(), md5_b64.strip().encode()):
            raise InvalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.",
                                  ArgumentName=prefix + "key-MD5")
        return cls(key, expected)


@dataclass(frozen=True, slots=True)
class Encrypt:
    """What a write asks for: SSE-S3 (``customer`` None) or SSE-C with that key."""

    customer: CustomerKey | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """An object's encryption, opened: the content key and what to store and answer about it."""

    customer: bool
    key: bytes = field(repr=False)
    #: The value stored under :data:`FIELD`.
    stored: str
    #: SSE-C: the key's MD5 the request sent (echoed in answers).
    customer_md5: str | None = None
    #: Blob id -> the blob id it was sealed under, for blobs a copy re-linked (absent: itself).
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)

    def origin(self, blob_id: str) -> str:
        return self.origins.get(blob_id, blob_id)

    def etag(self, md5_hex: str) -> str:
        """The ETag of a blob (or part) whose plaintext MD5 is ``md5_hex``."""
        if not self.customer:
            return md5_hex
        return hmac.new(self.key, b"etag" + bytes.fromhex(md5_hex), hashlib.sha256).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _customer_keys(customer: CustomerKey, salt: bytes) -> tuple[bytes, bytes]:
    """(content key, check value) of a customer key under an object's salt: two independent PRF outputs."""
    content = hmac.new(customer.key, b"satchel sse-c content key v1" + salt, hashlib.sha256).digest()
    check = hmac.new(customer.key, b"satchel sse-c key check v1" + salt, hashlib.sha256).digest()
    return content, check


def new_plan(master: MasterKey, wanted: Encrypt) -> Plan:
    """A fresh content key for a new object or upload, as ``wanted`` asks."""
    if wanted.customer is None:
        data_key = secrets.token_bytes(32)
        stored = json.dumps({"v": 1, "mode": "S3", "key": _b64(master.seal(data_key, _S3_AAD))},
                            separators=(",", ":"))
        return Plan(False, data_key, stored)
    salt = secrets.token_bytes(16)
    content, check = _customer_keys(wanted.customer, salt)
    stored = json.dumps({"v": 1, "mode": "C", "salt": _b64(salt), "check": _b64(check)}, separators=(",", ":"))
    return Plan(True, content, stored, wanted.customer.md5_b64)


def opens_stored_key(master: MasterKey, stored_headers: Mapping[str, str]) -> bool:
    """Whether ``master`` opens the data key an object's stored headers seal (True when they seal none:
    unencrypted, or SSE-C, whose key is the customer's)."""
    text = stored_headers.get(FIELD)
    if text is None:
        return True
    info = json.loads(text)
    if info.get("mode") != "S3":
        return True
    try:
        master.unseal(base64.b64decode(info["key"]), _S3_AAD)
    except SealedValueError:
        return False
    return True


def open_plan(master: MasterKey, stored_headers: Mapping[str, str], customer: CustomerKey | None) -> Plan | None:
    """The encryption of a stored object or upload, opened with the request's SSE-C key if it has one.

    An unencrypted object read with an SSE-C key, or an SSE-S3 one, is AWS's 400 (the parameters do not
    apply); an SSE-C object without a key is 400 InvalidRequest, with another key 403 AccessDenied.
    """
    text = stored_headers.get(FIELD)
    if text is None:
        if customer is not None:
            raise InvalidRequest(NOT_APPLICABLE)
        return None
    info = json.loads(text)
    if info["mode"] == "S3":
        if customer is not None:
            raise InvalidRequest(NOT_APPLICABLE)
        return Plan(False, master.unseal(base64.b64decode(info["key"]), _S3_AAD), text,
                    origins=info.get("origins", {}))
    if customer is None:
        raise InvalidRequest(NO_KEY)
    content, check = _customer_keys(customer, base64.b64decode(info["salt"]))
    if not hmac.compare_digest(check, base64.b64decode(info["check"])):
        raise AccessDenied("The SSE-C key you provided does not match the key this object was encrypted with.")
    return Plan(True, content, text, customer.md5_b64, info.get("origins", {}))


def relinked(plan: Plan, links: Sequence[tuple[str, str]]) -> Plan:
    """``plan`` for an object whose blobs are new links (``(source blob id, new blob id)``) of the sealed
    blobs of another object under the same key: the new ids' origins recorded, so they still decrypt."""
    info = json.loads(plan.stored)
    origins = {new: plan.origin(old) for old, new in links}
    info["origins"] = origins
    return Plan(plan.customer, plan.key, json.dumps(info, separators=(",", ":")), plan.customer_md5, origins)


def shows_plaintext_digests(node: Node, stored_headers: Mapping[str, str], customer: CustomerKey | None) -> bool:
    """Whether an answer may show the object's plaintext checksums: always unless it is SSE-C, then only
    to a request with its key (403 with another)."""
    if not is_customer(stored_headers):
        return True
    return customer is not None and for_read(node, stored_headers, customer) is not None


def is_encrypted(stored_headers: Mapping[str, str]) -> bool:
    return FIELD in stored_headers


def is_customer(stored_headers: Mapping[str, str]) -> bool:
    text = stored_headers.get(FIELD)
    return text is not None and json.loads(text)["mode"] == "C"


def refuse_link(stored_headers: Mapping[str, str]) -> None:
    """A link Satchel hands out (minted link, PAR, TempURL, console share) carries no SSE-C key, nor does
    a Swift request: refused clearly, and the front-end audits the refusal like any other."""
    if is_customer(stored_headers):
        raise InvalidRequest("This object is encrypted with a customer-provided key (SSE-C), which only an S3 "
                             "request can supply in its SSE-C headers: a link, PAR, TempURL, Swift or console "
                             "request cannot.")


def bucket_default(algorithm: str) -> str:
    """Validate a bucket's default SSEAlgorithm: AES256 only, since no KMS is available."""
    if algorithm == AES256:
        return algorithm
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        raise NotImplementedFeature(f"{algorithm} needs a key management service, which Satchel does not "
                                    "have; use AES256 (SSE-S3).")
    raise MalformedXML()


# --- chunk arithmetic -------------------------------------------------------------------------------
def chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK))


def sealed_size(size: int) -> int:
    """The bytes an encrypted blob of ``size`` plaintext bytes takes."""
    return HEADER + size + TAG * chunk_count(size)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _aad(origin: bytes, last: bool) -> bytes:
    return (_LAST if last else _MORE) + origin


def _seal_chunks(aead: AESGCM, prefix: bytes, origin: bytes, first: int, data: bytes, hasher: Hasher,
                 last: bool) -> bytes:
    """Hash and seal ``data`` (whole chunks, the final one the blob's last when ``last``)."""
    hasher.update(data)
    out = bytearray()
    count = chunk_count(len(data)) if last else len(data) // CHUNK
    for i in range(count):
        piece = data[i * CHUNK:(i + 1) * CHUNK]
        final = last and i == count - 1
        out += aead.encrypt(_nonce(prefix, first + i), piece, _aad(origin, final))
    return bytes(out)


class _NoHash(Hasher):
    """The inner writer's hasher: it sees ciphertext, which nobody needs a digest of."""

    def update(self, data: bytes | memoryview) -> None:
        pass


class EncryptingWriter(BlobWriter):
    """A :class:`BlobWriter` that hashes plaintext (for the ETag and checksums) and stores it sealed."""

    def __init__(self, blobs: BlobStore, hasher: Hasher, key: bytes) -> None:
        self._inner = blobs.writer(_NoHash())
        self._hasher = hasher
        self._aead = AESGCM(key)
        self._prefix = secrets.token_bytes(PREFIX)
        self._pending = bytearray()
        self._index = 0
        self._started = False
        self.blob_id = self._inner.blob_id
        self._origin = self.blob_id.encode()
        self.size = 0
        self.committed = False

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            await self._inner.write(MAGIC + self._prefix)

    async def write(self, data: bytes) -> None:
        await self._start()
        self.size += len(data)
        self._pending += data
        # Keep at least one byte back: only at commit is it known which chunk is the last.
        if len(self._pending) > BATCH_CHUNKS * CHUNK:
            count = (len(self._pending) - 1) // CHUNK
            await self._flush(bytes(self._pending[:count * CHUNK]), last=False)
            del self._pending[:count * CHUNK]

    async def _flush(self, data: bytes, *, last: bool) -> None:
        if self._index + chunk_count(len(data)) > MAX_CHUNKS:
            raise OSError("blob too large to encrypt")
        if len(data) > CHUNK:
            sealed = await asyncio.to_thread(_seal_chunks, self._aead, self._prefix, self._origin, self._index, data,
                                             self._hasher, last)
        else:
            sealed = _seal_chunks(self._aead, self._prefix, self._origin, self._index, data, self._hasher, last)
        self._index += chunk_count(len(data)) if last else len(data) // CHUNK
        await self._inner.write(sealed)

    async def commit(self) -> None:
        await self._start()
        await self._flush(bytes(self._pending), last=True)
        self._pending.clear()
        await self._inner.commit()
        self.committed = True

    async def abort(self) -> None:
        await self._inner.abort()


def writer(blobs: BlobStore, hasher: Hasher, plan: Plan | None) -> BlobWriter:
    """The writer of a new blob: sealing when the object is encrypted."""
    return blobs.writer(hasher) if plan is None else EncryptingWriter(blobs, hasher, plan.key)


# --- reading ----------------------------------------------------------------------------------------
#: One plaintext stretch of one blob: (blob id, the blob's plaintext size, offset, length).
PlainPiece = tuple[str, int, int, int]


class _Exact:
    """Takes exact byte counts from a stream of arbitrary chunks."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = await anext(self._stream, None)
            if chunk is None:
                raise BlobDecryptError("encrypted blob ends early")
            self._buffer += chunk
        out = bytes(self._buffer[:count])
        del self._buffer[:count]
        return out

    async def at_end(self) -> bool:
        while not self._buffer:
            chunk = await anext(self._stream, None)
            if chunk is None:
                return True
            self._buffer += chunk
        return False


def _cipher_pieces(pieces: Sequence[PlainPiece]) -> list[tuple[str, int, int | None]]:
    """The stretches of the blob files a plaintext read needs: each blob's header, then its chunks. A
    stretch that reaches the blob's last chunk reads to the end of the file, so that bytes appended to
    the blob reach the decryptor, which refuses them."""
    out: list[tuple[str, int, int | None]] = []
    for blob_id, size, offset, length in pieces:
        first, last = offset // CHUNK, (offset + max(length, 1) - 1) // CHUNK
        start = HEADER + first * (CHUNK + TAG)
        end: int | None = HEADER + last * (CHUNK + TAG) + _chunk_len(size, last) + TAG
        if last == chunk_count(size) - 1:
            end = None
        if first == 0:
            out.append((blob_id, 0, end))
        else:
            out.append((blob_id, 0, HEADER))
            out.append((blob_id, start, None if end is None else end - start))
    return out


def _chunk_len(size: int, index: int) -> int:
    return max(0, min(CHUNK, size - index * CHUNK))


def read_pieces(blobs: BlobStore, plan: Plan, pieces: Sequence[PlainPiece]) -> AsyncIterator[bytes]:
    """Stream the plaintext of ``pieces``. Every blob file is opened before the first byte, as for an
    unencrypted read (``BlobStore.read_pieces``), so a concurrent delete cannot cut the body short."""
    return _decrypt(blobs.read_pieces(_cipher_pieces(pieces)), AESGCM(plan.key), plan, pieces)


async def _decrypt(raw: AsyncIterator[bytes], aead: AESGCM, plan: Plan,
                   pieces: Sequence[PlainPiece]) -> AsyncIterator[bytes]:
    """The plaintext of ``pieces``. Each piece's last plaintext is held back until the next one is
    decrypted, and the very last until the stream is known to end where the blobs should: a blob
    with bytes appended (which shifts every later stretch) fails before its end is sent."""
    source = _Exact(raw)
    pending = b""
    try:
        for blob_id, size, offset, length in pieces:
            header = await source.take(HEADER)
            if header[:len(MAGIC)] != MAGIC:
                raise BlobDecryptError(f"blob {blob_id} is not an encrypted blob of this format")
            prefix = header[len(MAGIC):]
            origin = plan.origin(blob_id).encode()
            count = chunk_count(size)
            first, last = offset // CHUNK, (offset + max(length, 1) - 1) // CHUNK
            for index in range(first, last + 1):
                sealed = await source.take(_chunk_len(size, index) + TAG)
                try:
                    plain = aead.decrypt(_nonce(prefix, index), sealed, _aad(origin, index == count - 1))
                except InvalidTag:
                    raise BlobDecryptError(f"blob {blob_id} does not decrypt: damaged, moved or not this "
                                           "object's") from None
                lo = offset - index * CHUNK if index == first else 0
                hi = min(len(plain), offset + length - index * CHUNK)
                if hi > lo:
                    if pending:
                        yield pending
                    pending = plain[lo:hi]
        if not await source.at_end():
            raise BlobDecryptError("an encrypted blob is longer than its chunks: bytes were appended")
        if pending:
            yield pending
    finally:
        closer = getattr(raw, "aclose", None)
        if closer is not None:
            await closer()


# --- what the rest of core calls ------------------------------------------------------------------
def for_write(node: Node, bucket: Bucket, wanted: Encrypt | None) -> Plan | None:
    """The encryption of a new object (or upload) in ``bucket``: what the request asked for, else the
    bucket's default (PutBucketEncryption), else none."""
    if wanted is None and node.store.get_bucket_encryption(bucket.id) is not None:
        wanted = Encrypt()
    return None if wanted is None else new_plan(node.credentials.master_key, wanted)


def for_read(node: Node, stored_headers: Mapping[str, str], customer: CustomerKey | None) -> Plan | None:
    """The opened encryption of a stored object or upload (see :func:`open_plan`)."""
    if customer is None and FIELD not in stored_headers:
        return None  # the common case: no key to open
    return open_plan(node.credentials.master_key, stored_headers, customer)


def with_plan(headers: Mapping[str, str], plan: Plan | None) -> dict[str, str]:
    """Stored headers carrying ``plan`` (and no other object's encryption)."""
    out = {name: value for name, value in headers.items() if name != FIELD}
    if plan is not None:
        out[FIELD] = plan.stored
    return out


def describe(stored_headers: Mapping[str, str], customer: CustomerKey | None = None) -> list[tuple[str, str]]:
    """The encryption headers of an answer about a stored object, without opening its key."""
    if not is_encrypted(stored_headers):
        return []
    if not is_customer(stored_headers):
        return [("x-amz-server-side-encryption", AES256)]
    out = [("x-amz-server-side-encryption-customer-algorithm", AES256)]
    if customer is not None:
        out.append(("x-amz-server-side-encryption-customer-key-MD5", customer.md5_b64))
    return out


# --- a bucket's default encryption (Get/Put/DeleteBucketEncryption) ----------------------------------
def get_bucket_default(node: Node, principal: Principal, name: str) -> str:
    """The bucket's default algorithm; AWS's 404 when it has none."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    algorithm = node.store.get_bucket_encryption(bucket.id)
    if algorithm is None:
        raise ServerSideEncryptionConfigurationNotFoundError(BucketName=name)
    return algorithm


async def set_bucket_default(node: Node, principal: Principal, name: str, algorithm: str | None) -> None:
    """Set (``AES256``) or remove (None) the bucket's default; objects already stored keep theirs."""
    bucket = bucket_for(node, principal, name, Action.BUCKET_ADMIN)
    if algorithm is not None:
        bucket_default(algorithm)
    await node.write(node.store.set_bucket_encryption, bucket.id, algorithm, node.clock.now())


def visible_headers(stored_headers: Mapping[str, str]) -> dict[str, str]:
    """Stored headers as shown to people (the console): without the encryption's internals."""
    return {name: value for name, value in stored_headers.items() if name != FIELD}


def stored_size_fits(path: Path, size: int) -> bool:
    """Whether the blob file at ``path`` holds ``size`` plaintext bytes: as sent, or sealed (its header
    says so; ``satchel admin verify`` checks blobs without any key)."""
    actual = path.stat().st_size
    if actual == size:
        return True
    if actual != sealed_size(size):
        return False
    with path.open("rb") as blob:
        return blob.read(len(MAGIC)) == MAGIC


def kept(stored_headers: Mapping[str, str]) -> Encrypt | None:
    """The encryption a copy keeps from its source when its front-end cannot ask for one (Swift): SSE-S3
    stays SSE-S3 (an SSE-C source cannot be read there at all)."""
    return Encrypt() if is_encrypted(stored_headers) and not is_customer(stored_headers) else None
