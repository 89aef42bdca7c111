"""Conditional requests (RFC 9110 §13) as S3 evaluates them, and byte ranges.

S3's order: If-Match, else If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since
(304 for GET/HEAD). Copy-source conditions use the same rules but every failure is a 412.
Last-Modified compares at one-second granularity, as HTTP dates carry no fractions.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass

from satchel.core.errors import InvalidRange, NotModified, PreconditionFailed


def parse_http_date(value: str) -> float | None:
    """Epoch seconds of an HTTP date; None for a malformed one (S3 then ignores the condition)."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == "*" or candidate.strip('"') == bare:
            return True
    return False


def check_conditions(
    headers: Mapping[str, str],
    *,
    etag: str,
    last_modified: float,
    prefix: str = "if-",
    read: bool = True,
) -> None:
    """Raise ``PreconditionFailed`` or ``NotModified`` when the request's conditions say so.

    ``prefix`` selects the header family: ``if-`` or ``x-amz-copy-source-if-``. ``read`` is true for
    GET/HEAD, where a failed If-None-Match / If-Modified-Since means 304 rather than 412.
    """
    modified = int(last_modified)
    if_match = headers.get(prefix + "match")
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise PreconditionFailed(Condition=_name(prefix, "If-Match"))
    else:
        since = headers.get(prefix + "unmodified-since")
        when = parse_http_date(since) if since else None
        if when is not None and modified > when:
            raise PreconditionFailed(Condition=_name(prefix, "If-Unmodified-Since"))
    fail: type[NotModified | PreconditionFailed] = NotModified if read else PreconditionFailed
    if_none_match = headers.get(prefix + "none-match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag):
            raise fail(Condition=_name(prefix, "If-None-Match"))
    else:
        since = headers.get(prefix + "modified-since")
        when = parse_http_date(since) if since else None
        if when is not None and modified <= when:
            raise fail(Condition=_name(prefix, "If-Modified-Since"))


def _name(prefix: str, header: str) -> str:
    return header if prefix == "if-" else "x-amz-copy-source-" + header.lower()


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    #: Inclusive, as in Content-Range.
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range S3 would serve, or None for the whole object.

    Malformed headers and multiple ranges are ignored (the whole object is served, as S3 does);
    a well-formed range that selects nothing raises ``InvalidRange`` (416).
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    try:
        if not first:
            if not last.isdigit():
                return None
            suffix = int(last)
            if suffix == 0 or size == 0:
                raise InvalidRange(RangeRequested=header, ActualObjectSize=str(size))
            return ByteRange(max(0, size - suffix), size - 1)
        if not first.isdigit() or (last and not last.isdigit()):
            return None
        start = int(first)
        end = int(last) if last else None
    except ValueError:
        return None
    if end is not None and end < start:
        return None
    if start >= size:
        raise InvalidRange(RangeRequested=header, ActualObjectSize=str(size))
    return ByteRange(start, size - 1 if end is None else min(end, size - 1))
