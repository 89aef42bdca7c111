"""Account and container listings in Swift's three formats, and the parameters that shape them.

The format comes from ``?format=json|xml|plain`` or else the ``Accept`` header; plain text is the
default. An empty plain listing is ``204 No Content``; JSON and XML answer ``200`` with an empty list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from satchel.core.text import decimal
from satchel.swift.errors import SwiftError
from satchel.swift.headers import is_true

#: Swift's ``CONTAINER_LISTING_LIMIT`` and ``ACCOUNT_LISTING_LIMIT``: the default and the largest page.
LISTING_LIMIT = 10000
#: Longest prefix, marker and end_marker accepted (an object name's limit).
MAX_PARAM_BYTES = 1024

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}
DEFAULT_OBJECT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class ListParams:
    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = LISTING_LIMIT
    reverse: bool = False
    format: str = "plain"


@dataclass(frozen=True, slots=True)
class ObjectRow:
    name: str
    hash: str
    bytes: int
    content_type: str
    last_modified: float


@dataclass(frozen=True, slots=True)
class ContainerRow:
    name: str
    count: int
    bytes: int
    last_modified: float


def list_params(query: Mapping[str, str], headers: Mapping[str, str]) -> ListParams:
    """Parse and bound the listing parameters (Swift answers 412 for a bad limit or delimiter)."""
    if "path" in query:
        raise SwiftError(400, "The path listing parameter is not supported: use prefix and delimiter=/.")
    values = {}
    for name in ("prefix", "delimiter", "marker", "end_marker"):
        value = query.get(name, "")
        if len(value.encode("utf-8", "surrogateescape")) > MAX_PARAM_BYTES:
            raise SwiftError(400, f"The {name} parameter is longer than {MAX_PARAM_BYTES} bytes.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SwiftError(412, "Invalid UTF8 or contains NULL") from None
        values[name] = value
    if len(values["delimiter"]) > 1:
        raise SwiftError(412, "Bad delimiter")
    limit = LISTING_LIMIT
    if "limit" in query:
        number = decimal(query["limit"].strip())
        if number is None:
            raise SwiftError(412, "Value of limit must be a positive integer")
        if number > LISTING_LIMIT:
            raise SwiftError(412, f"Maximum limit is {LISTING_LIMIT}")
        limit = number
    return ListParams(values["prefix"], values["delimiter"], values["marker"], values["end_marker"], limit,
                      is_true(query.get("reverse")), listing_format(query, headers))


def listing_format(query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    fmt = query.get("format", "").strip().lower()
    if fmt in CONTENT_TYPES:
        return fmt
    if fmt:
        return "plain"
    accept = headers.get("accept", "").lower()
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"


def swift_time(timestamp: float) -> str:
    """Listings' ``last_modified``: ISO 8601 in UTC with microseconds, no zone (as Swift writes it)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def container_listing(fmt: str, container: str, rows: Sequence[ObjectRow | str]) -> bytes:
    """A container's entries: objects, and ``str`` subdirectories (common prefixes)."""
    if fmt == "json":
        out: list[dict[str, object]] = []
        for row in rows:
            if isinstance(row, str):
                out.append({"subdir": row})
            else:
                out.append({"hash": row.hash, "last_modified": swift_time(row.last_modified), "bytes": row.bytes,
                            "name": row.name, "content_type": row.content_type})
        return json.dumps(out, ensure_ascii=False).encode()
    if fmt == "xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<container name={quoteattr(container)}>"]
        for row in rows:
            if isinstance(row, str):
                parts.append(f"<subdir name={quoteattr(row)}><name>{escape(row)}</name></subdir>")
            else:
                parts.append(f"<object><name>{escape(row.name)}</name><hash>{row.hash}</hash>"
                             f"<bytes>{row.bytes}</bytes><content_type>{escape(row.content_type)}</content_type>"
                             f"<last_modified>{swift_time(row.last_modified)}</last_modified></object>")
        parts.append("</container>")
        return "".join(parts).encode()
    return "".join((row if isinstance(row, str) else row.name) + "\n" for row in rows).encode()


def account_listing(fmt: str, account: str, rows: Sequence[ContainerRow | str]) -> bytes:
    if fmt == "json":
        out: list[dict[str, object]] = []
        for row in rows:
            if isinstance(row, str):
                out.append({"subdir": row})
            else:
                out.append({"name": row.name, "count": row.count, "bytes": row.bytes,
                            "last_modified": swift_time(row.last_modified)})
        return json.dumps(out, ensure_ascii=False).encode()
    if fmt == "xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<account name={quoteattr(account)}>"]
        for row in rows:
            if isinstance(row, str):
                parts.append(f"<subdir name={quoteattr(row)}><name>{escape(row)}</name></subdir>")
            else:
                parts.append(f"<container><name>{escape(row.name)}</name><count>{row.count}</count>"
                             f"<bytes>{row.bytes}</bytes><last_modified>{swift_time(row.last_modified)}"
                             "</last_modified></container>")
        parts.append("</account>")
        return "".join(parts).encode()
    return "".join((row if isinstance(row, str) else row.name) + "\n" for row in rows).encode()
