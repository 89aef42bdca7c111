"""The one source of "now" for expiry and skew checks.

Signing and verification functions take ``now`` as an argument; services get it from a :class:`Clock`
so tests can freeze or move time without patching globals.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, start: float) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds
