"""Text made safe to show on a terminal: a value chosen by someone else (an object key, a user agent,
an error message) must not move the cursor, recolour the screen, forge a line or reorder what is shown.

Kept apart from :mod:`satchel.cli.output` so the API client can use it without importing Rich.
"""

from __future__ import annotations

import re

# C0, DEL and C1 controls, line and paragraph separators, and the bidirectional overrides that reorder
# what a terminal shows ("Trojan Source", CVE-2021-42574).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character in its visible Python escape (ESC shows as ``\\x1b``)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
