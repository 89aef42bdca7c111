"""Header values in and out of the Swift front-end, and the metadata headers of each level.

Swift carries metadata values as UTF-8 bytes in headers (no RFC 2047): the server sees the Latin-1
view of those bytes (``asgi.Request``) and must send the same bytes back. Values are kept as text,
so the S3 front-end returns the same metadata as ``x-amz-meta-*``.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping

from satchel.core.swiftmeta import MAX_META_COUNT
from satchel.swift.errors import SwiftError

#: Swift's constraints (``swift/common/constraints.py`` defaults).
MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
#: An HTTP field name (RFC 9110 §5.1), lower-cased: what a metadata name must be to go back out.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})


def text_in(value: str, name: str) -> str:
    """The text a client sent as UTF-8 in a header (400 when it is not UTF-8 or holds control bytes)."""
    if not value.isascii():
        try:
            value = value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise SwiftError(400, f"The value of {name} is not UTF-8.") from None
    if _CONTROL.search(value):
        raise SwiftError(400, f"The value of {name} holds control characters.")
    return value


def text_out(value: str) -> str:
    """The Latin-1 string whose bytes are ``value`` in UTF-8 (what ``Response`` sends)."""
    return value if value.isascii() else value.encode("utf-8", "surrogateescape").decode("latin-1")


def is_true(value: str | None) -> bool:
    """Swift's ``config_true_value``."""
    return value is not None and value.strip().lower() in _TRUE


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(int(timestamp), usegmt=True)


def x_timestamp(timestamp: float) -> str:
    """Swift's ``X-Timestamp`` (``Timestamp.normal``): seconds with five decimals."""
    return f"{timestamp:016.5f}"


def meta_changes(headers: Mapping[str, str], level: str) -> dict[str, str | None]:
    """``X-<Level>-Meta-<name>`` (set; empty removes) and ``X-Remove-<Level>-Meta-<name>`` (remove), by
    lower-case name with ``-`` for ``_`` (:func:`_check_name`). ``level`` is ``account``, ``container`` or
    ``object`` (objects have no remove form)."""
    prefix, remove = f"x-{level}-meta-", f"x-remove-{level}-meta-"
    changes: dict[str, str | None] = {}
    for header, value in headers.items():
        seen = header.replace("_", "-")  # as Swift sees it (:func:`_check_name`)
        if seen.startswith(prefix):
            name = seen[len(prefix):]
            text = text_in(value, header)
            changes[_check_name(name, header)] = text.strip() or None
            if len(text.encode()) > MAX_META_VALUE_LENGTH:
                raise SwiftError(400, f"Metadata value longer than {MAX_META_VALUE_LENGTH}: {header}")
        elif seen.startswith(remove) and level != "object":
            changes.setdefault(_check_name(seen[len(remove):], header), None)
    if sum(value is not None for value in changes.values()) > MAX_META_COUNT:
        raise SwiftError(400, f"Too many metadata items; max {MAX_META_COUNT}")
    return changes


def _check_name(name: str, header: str) -> str:
    """The metadata name of ``header``, normalised as Swift sees it: behind WSGI, ``_`` and ``-`` in a header
    name are the same character (``HTTP_X_ACCOUNT_META_TEMP_URL_KEY``), so ``Temp_URL_Key`` *is*
    ``Temp-URL-Key`` — and must meet the same reserved-name checks (the TempURL keys are secrets)."""
    if not name:
        raise SwiftError(400, "Metadata name cannot be empty")
    if len(name.encode()) > MAX_META_NAME_LENGTH:
        raise SwiftError(400, f"Metadata name too long; max {MAX_META_NAME_LENGTH}")
    if not _TOKEN.fullmatch(name):
        raise SwiftError(400, f"Metadata names must be HTTP field names: {header}")
    return name


def meta_headers(level: str, metadata: Mapping[str, str]) -> list[tuple[str, str]]:
    """``X-<Level>-Meta-<Name>`` response headers, title-cased as Swift sends them."""
    prefix = f"X-{level.capitalize()}-Meta-"
    return [(prefix + "-".join(part.capitalize() for part in name.split("-")), text_out(value))
            for name, value in metadata.items()]
