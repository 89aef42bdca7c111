"""The one source of "now" for expiry and skew checks.

Signing and verification functions take ``now`` as an argument; services get it from the node's
:class:`Clock`, so another clock can be injected without patching globals.
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
