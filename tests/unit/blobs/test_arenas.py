"""The malloc arena cap of processes with an upstream pool (``blobs/arenas.py``): set on glibc, and
never over an operator's own ``MALLOC_ARENA_MAX``."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from satchel.blobs import arenas


def test_an_operators_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert arenas.limit_arenas() is False


def test_without_a_c_library_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert arenas.limit_arenas() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_glibc_takes_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert arenas.limit_arenas() is True
