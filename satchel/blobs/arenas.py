"""Cap glibc's malloc arenas in a process whose threads allocate large buffers, so that memory freed by
one thread is reused by the next instead of held by an arena per thread.

Why. glibc gives each thread that allocates under contention an arena of its own, up to 8 per core,
and memory freed into one arena serves only the threads allocating from it. The upstream pool's
threads each read 256 KiB chunks of blob bodies (``s3.py``) that the event loop frees after sending:
measured on the two-core development machine, 64 concurrent downloads of a 160 MiB object from an
S3-blob node peaked at 244-256 MiB RSS with glibc's defaults and 146-149 MiB with two arenas, at the
same throughput (``MALLOC_ARENA_MAX=2``; a fixed ``MALLOC_MMAP_THRESHOLD_`` of 128 KiB gave 126 MiB but
~30 % less throughput: a fresh mapping per chunk). The threads run Python, one at a time under the
GIL, so two arenas cost them no measurable contention.

An operator's ``MALLOC_ARENA_MAX`` wins: this only sets the limit when the environment does not. Not
glibc (musl, macOS): nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: ``M_ARENA_MAX`` in glibc's malloc.h.
M_ARENA_MAX = -8
#: The main arena and one for every other thread: what the figures above were measured with.
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Whether the limit was set (glibc, and no ``MALLOC_ARENA_MAX`` in the environment). Arenas that
    already exist stay; threads started afterwards share the capped set."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
