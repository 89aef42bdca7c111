"""Account and container listings in Swift's three formats, and the parameters that shape them.

The format comes from ``?format=json|xml|plain`` or else the ``Accept`` header; plain text is the
default. An empty plain listing is ``204 No Content``; JSON and XML answer ``200`` with an empty list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias
from xml.sax.saxutils import escape, quoteattr

from satchel.core.text import decimal, is_text, query_not_text
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


_Row: TypeAlias = "ObjectRow | ContainerRow | str"


def list_params(query: Mapping[str, str], headers: Mapping[str, str], raw_query: str = "") -> ListParams:
    """Parse and bound the listing parameters (Swift answers 412 for a bad limit or delimiter). ``raw_query``
    is the query as sent: its decoded form has replaced bytes that are not UTF-8, so it is where they show."""
    if "path" in query:
        raise SwiftError(400, "The path listing parameter is not supported: use prefix and delimiter=/.")
    values = {}
    undecodable = query_not_text(raw_query)
    for name in ("prefix", "delimiter", "marker", "end_marker"):
        value = query.get(name, "")
        if len(value.encode("utf-8", "surrogateescape")) > MAX_PARAM_BYTES:
            raise SwiftError(400, f"The {name} parameter is longer than {MAX_PARAM_BYTES} bytes.")
        if name in undecodable or "\x00" in value or not is_text(value):
            # Read as sent, not as a different name: %ff was listed as U+FFFD, and NUL names no object.
            raise SwiftError(412, "Invalid UTF8 or contains NULL")
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


def _render(fmt: str, root: str, name: str, rows: Sequence[_Row], as_json: Callable[[Any], dict[str, object]],
            as_xml: Callable[[Any], str]) -> bytes:
    """One listing in ``fmt``; ``str`` rows are subdirectories (common prefixes), the others entries."""
    if fmt == "json":
        return json.dumps([{"subdir": row} if isinstance(row, str) else as_json(row) for row in rows],
                          ensure_ascii=False).encode()
    if fmt == "xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<{root} name={quoteattr(name)}>"]
        parts.extend(f"<subdir name={quoteattr(row)}><name>{escape(row)}</name></subdir>" if isinstance(row, str)
                     else as_xml(row) for row in rows)
        parts.append(f"</{root}>")
        return "".join(parts).encode()
    return "".join((row if isinstance(row, str) else row.name) + "\n" for row in rows).encode()


def _object_json(row: ObjectRow) -> dict[str, object]:
    return {"hash": row.hash, "last_modified": swift_time(row.last_modified), "bytes": row.bytes, "name": row.name,
            "content_type": row.content_type}


def _object_xml(row: ObjectRow) -> str:
    return (f"<object><name>{escape(row.name)}</name><hash>{row.hash}</hash><bytes>{row.bytes}</bytes>"
            f"<content_type>{escape(row.content_type)}</content_type>"
            f"<last_modified>{swift_time(row.last_modified)}</last_modified></object>")


def _container_json(row: ContainerRow) -> dict[str, object]:
    return {"name": row.name, "count": row.count, "bytes": row.bytes, "last_modified": swift_time(row.last_modified)}


def _container_xml(row: ContainerRow) -> str:
    return (f"<container><name>{escape(row.name)}</name><count>{row.count}</count><bytes>{row.bytes}</bytes>"
            f"<last_modified>{swift_time(row.last_modified)}</last_modified></container>")


def container_listing(fmt: str, container: str, rows: Sequence[ObjectRow | str]) -> bytes:
    """A container's entries: objects, and ``str`` subdirectories (common prefixes)."""
    return _render(fmt, "container", container, rows, _object_json, _object_xml)


def account_listing(fmt: str, account: str, rows: Sequence[ContainerRow | str]) -> bytes:
    """An account's containers (and ``str`` common prefixes when a delimiter was given)."""
    return _render(fmt, "account", account, rows, _container_json, _container_xml)
