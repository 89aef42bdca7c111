"""Metric files whose every page is on disk before it is touched, so a full disk cannot kill a worker.

prometheus-client's multiprocess mode keeps each worker's values in a memory-mapped file that it
creates, and grows, with ``truncate``: a sparse file. The first write to a page of it then allocates
disk space inside a page fault, and when the data directory's disk is full the kernel answers that
fault with SIGBUS: the worker dies without a word, in the middle of its requests. A full disk makes
exactly that likely, since it brings new label values (the first ``507`` of each operation).

:func:`install` makes both places that size such a file reserve the space with ``posix_fallocate``
first: at creation (:data:`PREALLOCATED` bytes, room for a few thousand series) and on growth. A disk
too full for that gives ``OSError(ENOSPC)`` from the metric call (or from the worker's start), which
the request's error handling survives, instead of a signal. Pinned to the prometheus-client version of
requirements.lock: the wrapped methods are its ``MmapedDict.__init__`` and ``_init_value``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from prometheus_client import mmap_dict

#: Bytes reserved when a worker creates a metric file (prometheus-client's own start is 64 KiB, sparse).
PREALLOCATED = 256 * 1024
#: A key's entry is its UTF-8 bytes plus at most this much (length, padding, value, timestamp).
_ENTRY_OVERHEAD = 32


def install() -> None:
    """Wrap ``MmapedDict`` once (idempotent); a no-op where ``posix_fallocate`` does not exist."""
    cls: Any = mmap_dict.MmapedDict
    if not hasattr(os, "posix_fallocate") or getattr(cls, "_satchel_backed", False):
        return
    init: Callable[..., None] = cls.__init__
    init_value: Callable[[Any, str], None] = cls._init_value

    @functools.wraps(init)
    def backed_init(self: Any, filename: str, read_mode: bool = False) -> None:
        if not read_mode:
            fd = os.open(filename, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size == 0:
                    os.posix_fallocate(fd, 0, PREALLOCATED)
            finally:
                os.close(fd)
        init(self, filename, read_mode)

    @functools.wraps(init_value)
    def backed_init_value(self: Any, key: str) -> None:
        need = self._used + len(key.encode("utf-8")) + _ENTRY_OVERHEAD
        capacity = self._capacity
        while need > capacity:
            capacity *= 2
        if capacity > self._capacity:
            os.posix_fallocate(self._f.fileno(), 0, capacity)  # the library then truncates to this size
        init_value(self, key)

    cls.__init__ = backed_init
    cls._init_value = backed_init_value
    cls._satchel_backed = True
