"""Conditional requests (RFC 9110 §13) as S3 evaluates them, and byte ranges.

S3's order: If-Match, else If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since
(304 for GET/HEAD). Copy-source conditions use the same rules but every failure is a 412.
Last-Modified compares at one-second granularity, as HTTP dates carry no fractions.

Conditional writes (If-Match / If-None-Match on PutObject, CopyObject's destination and
CompleteMultipartUpload) and conditional deletes (If-Match, ``x-amz-if-match-last-modified-time``,
``x-amz-if-match-size``) are evaluated by the store inside the transaction that replaces or removes
the object (:func:`write_precondition`, :func:`delete_precondition`): a concurrent writer cannot
slip between the check and the change.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from satchel.core.errors import (
    InvalidArgument,
    InvalidRange,
    NoSuchKey,
    NotImplementedFeature,
    NotModified,
    PreconditionFailed,
)
from satchel.core.models import ObjectRecord
from satchel.core.text import decimal

#: What a store calls, inside its transaction, with the key's current record (None when absent).
Precondition = Callable[[ObjectRecord | None], None]



def parse_http_date(value: str) -> float | None:
    """Epoch seconds of an HTTP date; None for a malformed one (S3 then ignores the condition)."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _etag_matches(header: str, etag: str, *, weak: bool = False) -> bool:
    """Whether ``header`` names ``etag`` (or is ``*``). If-Match takes RFC 9110's strong comparison,
    where a weak tag (``W/"..."``) never matches; If-None-Match the weak one, where it does."""
    bare = etag.strip('"')
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            if not weak:
                continue
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
    A date a read cannot parse is ignored (RFC 9110, and S3 on GET/HEAD); on a write or copy it is a
    400, as ignoring it would let through the change it guards.
    """
    modified = int(last_modified)

    def date(name: str) -> float | None:
        value = headers.get(prefix + name)
        if read:
            return parse_http_date(value) if value else None
        return condition_date(value, prefix + name)

    unmodified_since, modified_since = date("unmodified-since"), date("modified-since")
    if_match = headers.get(prefix + "match")
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise PreconditionFailed(Condition=_name(prefix, "If-Match"))
    elif unmodified_since is not None and modified > unmodified_since:
        raise PreconditionFailed(Condition=_name(prefix, "If-Unmodified-Since"))
    fail: type[NotModified | PreconditionFailed] = NotModified if read else PreconditionFailed
    if_none_match = headers.get(prefix + "none-match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag, weak=True):
            raise fail(Condition=_name(prefix, "If-None-Match"))
    elif modified_since is not None and modified <= modified_since:
        raise fail(Condition=_name(prefix, "If-Modified-Since"))


def condition_date(value: str | None, name: str) -> float | None:
    """The date of a write's or delete's condition; 400 when unreadable, as ignoring it would let
    the change through."""
    if value is None:
        return None
    when = parse_http_date(value)
    if when is None:
        raise InvalidArgument(f"The {name} condition is not a valid HTTP date.", ArgumentName=name,
                              ArgumentValue=value)
    return when


def write_precondition(key: str, conditions: Mapping[str, str]) -> Precondition | None:
    """If-Match / If-None-Match of a write, as a check of the record it would replace.

    If-Match on a missing key is ``404 NoSuchKey``, as AWS answers it; None when nothing is asked.
    If-None-Match takes only ``*`` (create if absent), as on AWS: an ETag there is ``501``.
    """
    if not conditions:
        return None
    none_match = conditions.get("if-none-match")
    if none_match is not None and none_match.strip() != "*":
        raise NotImplementedFeature("If-None-Match on a write only takes '*'.", Header="If-None-Match")

    def check(current: ObjectRecord | None) -> None:
        if current is None:
            if "if-match" in conditions:
                raise NoSuchKey(Key=key)
            return
        check_conditions(conditions, etag=current.etag, last_modified=current.last_modified, read=False)

    return check


@dataclass(frozen=True, slots=True)
class DeleteConditions:
    """DeleteObject's If-Match, ``x-amz-if-match-last-modified-time`` and ``x-amz-if-match-size``, or
    the ``<ETag>``, ``<LastModifiedTime>`` and ``<Size>`` of one DeleteObjects entry."""

    etag: str | None = None
    last_modified: float | None = None
    size: int | None = None

    @classmethod
    def parse(cls, etag: str | None, last_modified: str | None, size: str | None) -> DeleteConditions:
        """Refuse (400) a date or size we cannot read: ignoring it would delete what it protects."""
        when = condition_date(last_modified, "x-amz-if-match-last-modified-time")
        number = decimal(size.strip()) if size is not None else None
        if size is not None and number is None:
            raise InvalidArgument("The size condition is not a non-negative integer.",
                                  ArgumentName="x-amz-if-match-size", ArgumentValue=size)
        return cls(etag, when, number)

    def __bool__(self) -> bool:
        return self.etag is not None or self.last_modified is not None or self.size is not None


def delete_precondition(key: str, conditions: DeleteConditions) -> Precondition | None:
    """The delete's conditions as a check of the current record.

    As AWS documents: a missing key with If-Match is ``404 NoSuchKey``; with only the time or size
    conditions the delete of a missing key succeeds (204). Any condition that fails is 412.
    """
    if not conditions:
        return None

    def check(current: ObjectRecord | None) -> None:
        if current is None:
            if conditions.etag is not None:
                raise NoSuchKey(Key=key)
            return
        if conditions.etag is not None and not _etag_matches(conditions.etag, current.etag):
            raise PreconditionFailed(Condition="If-Match")
        if conditions.last_modified is not None and int(current.last_modified) != int(conditions.last_modified):
            raise PreconditionFailed(Condition="x-amz-if-match-last-modified-time")
        if conditions.size is not None and current.size != conditions.size:
            raise PreconditionFailed(Condition="x-amz-if-match-size")

    return check


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


def requested_range(headers: Mapping[str, str], record: ObjectRecord) -> ByteRange | None:
    """The byte range a GET or HEAD of ``record`` serves: its ``Range`` (see :func:`parse_range`), unless
    an ``If-Range`` names another version, when the whole object is served (200), per RFC 9110 §13.1.5.

    A client resuming a download sends the validator of the copy it holds; ignoring it would splice the
    tail of a newer version onto the head of an older one.
    """
    header = headers.get("range")
    if header and "if-range" in headers and not if_range_holds(headers["if-range"], record):
        return None
    return parse_range(header, record.size)


def if_range_holds(value: str, record: ObjectRecord) -> bool:
    """Whether an ``If-Range`` validator names ``record`` (RFC 9110 §13.1.5).

    An entity tag is compared strongly: a weak one (``W/"..."``) never holds, nor does ``*``. A bare,
    unquoted tag is accepted too, as Swift sends its ETag unquoted and clients echo it. An HTTP date
    holds only when it is exactly the Last-Modified second: RFC 9110 lets a client send one only when it
    knew it strong (its response's Date at least a second later), so no other version shares the second.
    Anything unreadable does not hold: the whole object is the safe answer.
    """
    value = value.strip()
    bare = record.etag.strip('"')
    if value.startswith("W/") or not value or value == "*":
        return False
    if value.startswith('"'):
        return len(value) > 2 and value.endswith('"') and value[1:-1] == bare
    when = parse_http_date(value)
    if when is not None:
        return when == int(record.last_modified)
    return value == bare


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
