"""Digests computed while bytes stream through: MD5 for the ETag, SHA-256 for signed payloads, and the
``x-amz-checksum-*`` family (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5; not the XXHASH ones).

``update()`` runs in a worker thread (hashlib and crc32c release the GIL on large buffers), so one
upload's hashing overlaps with receiving the next chunk on the event loop. CRC64NVME comes from anycrc's
catalogue model (the same values as awscrt, which botocore uses; awscrt itself is not a dependency
because merely installing it switches every botocore client in the process to its CRT signers).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable
from typing import Protocol

import anycrc
import crc32c as _crc32c

#: Checksum algorithms as they appear in ``x-amz-checksum-<name>`` (lower-case).
CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256", "sha512", "md5")
#: Digest sizes in bytes (what a base64 value must decode to).
CHECKSUM_SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32, "sha512": 64, "md5": 16}
#: Algorithms S3 defines that Satchel cannot compute (yet): asked for, they are refused, never ignored.
UNSUPPORTED_CHECKSUMS = ("xxhash64", "xxhash3", "xxhash128")


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


_CRC64NVME = anycrc.Model("CRC64-NVME")


class _Crc:
    """A CRC as a hashlib-style digest: ``step(data, crc) -> crc`` folded over the chunks."""

    __slots__ = ("_size", "_step", "value")

    def __init__(self, step: Callable[[bytes, int], int], size: int) -> None:
        self._step, self._size, self.value = step, size, 0

    def update(self, data: bytes) -> None:
        self.value = self._step(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._size, "big")


def combine_crc64nvme(first: bytes, second: bytes, second_length: int) -> bytes:
    """The CRC64NVME of two byte strings joined, from their CRCs: a multipart object's full-object value."""
    value = _CRC64NVME.combine(int.from_bytes(first, "big"), int.from_bytes(second, "big"), second_length)
    return int(value).to_bytes(8, "big")


def new_checksum(algorithm: str) -> _Digest:
    """A fresh digest for an ``x-amz-checksum-*`` algorithm name; ``KeyError`` for unknown names."""
    factories: dict[str, Callable[[], _Digest]] = {
        "crc32": lambda: _Crc(zlib.crc32, 4),
        "crc32c": lambda: _Crc(_crc32c.crc32c, 4),
        "crc64nvme": lambda: _Crc(_CRC64NVME.calc, 8),
        "sha1": hashlib.sha1,
        "sha256": hashlib.sha256,
        "sha512": hashlib.sha512,
        "md5": lambda: hashlib.md5(usedforsecurity=False),
    }
    return factories[algorithm]()


class Hasher:
    """Feeds every requested digest from one pass over the bytes."""

    def __init__(self, *, sha256: bool = False, checksums: Iterable[str] = ()) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256() if sha256 else None
        self._checksums: dict[str, _Digest] = {}
        self._requested = tuple(dict.fromkeys(checksums))
        for name in self._requested:
            if name == "md5" or (name == "sha256" and self._sha256 is not None):
                continue  # one MD5 (the ETag's) and one SHA-256 (the payload hash's) serve as checksums too
            self._checksums[name] = new_checksum(name)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        self._md5.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        for digest in self._checksums.values():
            digest.update(data)  # type: ignore[arg-type]

    def md5(self) -> bytes:
        return self._md5.digest()

    def md5_hex(self) -> str:
        return self._md5.hexdigest()

    def sha256_hex(self) -> str:
        if self._sha256 is None:
            raise ValueError("SHA-256 was not requested")
        return self._sha256.hexdigest()

    def checksum(self, algorithm: str) -> str:
        """The base64 value S3 puts in ``x-amz-checksum-<algorithm>``."""
        if algorithm == "md5":
            return base64.b64encode(self._md5.digest()).decode()
        if algorithm == "sha256" and self._sha256 is not None and "sha256" not in self._checksums:
            return base64.b64encode(self._sha256.digest()).decode()
        return base64.b64encode(self._checksums[algorithm].digest()).decode()

    def checksums(self) -> dict[str, str]:
        return {name: self.checksum(name) for name in self._requested}
