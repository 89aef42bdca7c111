"""Digests computed while bytes stream through: MD5 for the ETag, SHA-256 for signed payloads, and the
``x-amz-checksum-*`` family (CRC32, CRC32C, SHA1, SHA256).

``update()`` runs in a worker thread (hashlib and crc32c release the GIL on large buffers), so one
upload's hashing overlaps with receiving the next chunk on the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable
from typing import Protocol

import crc32c as _crc32c

#: Checksum algorithms as they appear in ``x-amz-checksum-<name>`` (lower-case).
CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "sha1", "sha256")


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class _Crc32c:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = _crc32c.crc32c(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def new_checksum(algorithm: str) -> _Digest:
    """A fresh digest for an ``x-amz-checksum-*`` algorithm name; ``KeyError`` for unknown names."""
    factories: dict[str, Callable[[], _Digest]] = {
        "crc32": _Crc32,
        "crc32c": _Crc32c,
        "sha1": hashlib.sha1,
        "sha256": hashlib.sha256,
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
            if name == "sha256" and self._sha256 is not None:
                continue  # one SHA-256 serves both the payload hash and the checksum
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
        if algorithm == "sha256" and self._sha256 is not None and "sha256" not in self._checksums:
            return base64.b64encode(self._sha256.digest()).decode()
        return base64.b64encode(self._checksums[algorithm].digest()).decode()

    def checksums(self) -> dict[str, str]:
        return {name: self.checksum(name) for name in self._requested}
