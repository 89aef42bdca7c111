"""Conditional headers and byte ranges, row by row against RFC 9110 as S3 applies it."""

from __future__ import annotations

import pytest

from satchel.core import errors
from satchel.core.conditions import (
    ByteRange,
    DeleteConditions,
    check_conditions,
    delete_precondition,
    parse_range,
    requested_range,
    write_precondition,
)
from satchel.core.errors import InvalidRange, NotModified, PreconditionFailed
from satchel.core.models import ObjectRecord

ETAG = "9bb58f26192e4ba00f01e2e7b136bbd8"
MODIFIED = 1_700_000_000.5  # Tue, 14 Nov 2023 22:13:20 GMT
BEFORE = "Tue, 14 Nov 2023 22:13:19 GMT"
SAME = "Tue, 14 Nov 2023 22:13:20 GMT"
AFTER = "Tue, 14 Nov 2023 22:13:21 GMT"


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({}, None),
        ({"if-match": f'"{ETAG}"'}, None),
        ({"if-match": "*"}, None),
        ({"if-match": '"other", ' + f'"{ETAG}"'}, None),
        ({"if-match": '"other"'}, PreconditionFailed),
        # RFC 9110: If-Match compares strongly, a weak tag never matches; If-None-Match weakly.
        ({"if-match": f'W/"{ETAG}"'}, PreconditionFailed),
        ({"if-match": f'W/"{ETAG}", "{ETAG}"'}, None),
        ({"if-none-match": f'"{ETAG}"'}, NotModified),
        ({"if-none-match": f'W/"{ETAG}"'}, NotModified),
        ({"if-none-match": "*"}, NotModified),
        ({"if-none-match": '"other"'}, None),
        ({"if-modified-since": SAME}, NotModified),
        ({"if-modified-since": AFTER}, NotModified),
        ({"if-modified-since": BEFORE}, None),
        ({"if-modified-since": "not a date"}, None),
        ({"if-unmodified-since": BEFORE}, PreconditionFailed),
        ({"if-unmodified-since": SAME}, None),
        # S3: a matching If-Match wins over a failing If-Unmodified-Since.
        ({"if-match": f'"{ETAG}"', "if-unmodified-since": BEFORE}, None),
        # S3: a non-matching If-None-Match makes If-Modified-Since irrelevant.
        ({"if-none-match": '"other"', "if-modified-since": AFTER}, None),
        ({"if-match": '"other"', "if-none-match": f'"{ETAG}"'}, PreconditionFailed),
    ],
)
def test_read_conditions(headers: dict[str, str], outcome: type[Exception] | None) -> None:
    if outcome is None:
        check_conditions(headers, etag=ETAG, last_modified=MODIFIED)
    else:
        with pytest.raises(outcome):
            check_conditions(headers, etag=ETAG, last_modified=MODIFIED)


@pytest.mark.parametrize("name", ["x-amz-copy-source-if-unmodified-since", "x-amz-copy-source-if-modified-since"])
def test_a_copy_source_date_that_is_no_date_is_refused(name: str) -> None:
    """A read ignores it (above); a copy would be made whatever the source's state."""
    with pytest.raises(errors.InvalidArgument):
        check_conditions({name: "garbage"}, etag=ETAG, last_modified=MODIFIED, prefix="x-amz-copy-source-if-",
                         read=False)


def test_write_conditions_fail_with_412_not_304() -> None:
    with pytest.raises(PreconditionFailed):
        check_conditions({"if-none-match": "*"}, etag=ETAG, last_modified=MODIFIED, read=False)


def test_copy_source_conditions_use_their_own_headers() -> None:
    headers = {"if-match": '"other"', "x-amz-copy-source-if-match": f'"{ETAG}"'}
    check_conditions(headers, etag=ETAG, last_modified=MODIFIED, prefix="x-amz-copy-source-if-", read=False)
    with pytest.raises(PreconditionFailed) as info:
        check_conditions({"x-amz-copy-source-if-none-match": ETAG}, etag=ETAG, last_modified=MODIFIED,
                         prefix="x-amz-copy-source-if-", read=False)
    assert info.value.extra["Condition"] == "x-amz-copy-source-if-none-match"


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, ByteRange(0, 9)),
        ("bytes=10-", 100, ByteRange(10, 99)),
        ("bytes=-5", 100, ByteRange(95, 99)),
        ("bytes=-500", 100, ByteRange(0, 99)),
        ("bytes=90-1000", 100, ByteRange(90, 99)),
        ("bytes=0-0", 1, ByteRange(0, 0)),
        # Ignored as S3 does: malformed, multiple ranges, other units.
        ("bytes=5-2", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=0-1,5-6", 100, None),
        ("items=0-1", 100, None),
        ("bytes", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=200-300", 100), ("bytes=0-", 0),
                                              ("bytes=-0", 100), ("bytes=-1", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(InvalidRange) as info:
        parse_range(header, size)
    assert info.value.extra["ActualObjectSize"] == str(size)


def test_content_range_header() -> None:
    assert ByteRange(95, 99).content_range(100) == "bytes 95-99/100"
    assert ByteRange(95, 99).length == 5


# --- conditional writes and deletes ----------------------------------------------------------------
def _current(size: int = 8) -> ObjectRecord:
    return ObjectRecord("b", "k", size, ETAG, MODIFIED, ())


@pytest.mark.parametrize(
    ("etag", "modified", "size", "outcome"),
    [
        (None, None, None, None),
        (f'"{ETAG}"', SAME, "8", None),
        ("*", None, None, None),
        ('"other"', None, None, PreconditionFailed),
        (None, BEFORE, None, PreconditionFailed),
        (None, AFTER, None, PreconditionFailed),
        (None, None, "7", PreconditionFailed),
        (f'"{ETAG}"', SAME, "9", PreconditionFailed),
    ],
)
def test_delete_conditions(etag: str | None, modified: str | None, size: str | None,
                           outcome: type[Exception] | None) -> None:
    check = delete_precondition("k", DeleteConditions.parse(etag, modified, size))
    if check is None:
        assert outcome is None and etag is None
        return
    if outcome is None:
        check(_current())
    else:
        with pytest.raises(outcome):
            check(_current())


def test_delete_conditions_on_a_missing_key() -> None:
    only_size = delete_precondition("k", DeleteConditions.parse(None, SAME, "8"))
    assert only_size is not None
    only_size(None)  # AWS: 204
    with_etag = delete_precondition("k", DeleteConditions.parse("*", None, None))
    assert with_etag is not None
    with pytest.raises(errors.NoSuchKey):
        with_etag(None)


@pytest.mark.parametrize(("modified", "size"), [("yesterday", None), (None, "-1"), (None, "8.0"), (None, "")])
def test_unreadable_delete_conditions_are_refused(modified: str | None, size: str | None) -> None:
    with pytest.raises(errors.InvalidArgument):
        DeleteConditions.parse(None, modified, size)


def test_write_conditions() -> None:
    assert write_precondition("k", {}) is None
    create = write_precondition("k", {"if-none-match": "*"})
    assert create is not None
    create(None)
    with pytest.raises(PreconditionFailed):
        create(_current())
    replace = write_precondition("k", {"if-match": f'"{ETAG}"'})
    assert replace is not None
    replace(_current())
    with pytest.raises(errors.NoSuchKey):
        replace(None)
    with pytest.raises(errors.NotImplementedFeature):
        write_precondition("k", {"if-none-match": f'"{ETAG}"'})


_IF_RANGE_RECORD = ObjectRecord("b", "k", 100, ETAG, MODIFIED, ())


@pytest.mark.parametrize(
    ("if_range", "ranged"),
    [
        (None, True),
        (f'"{ETAG}"', True),
        (f' "{ETAG}" ', True),
        (ETAG, True),  # Swift's unquoted ETag, echoed as received
        (SAME, True),  # exactly the Last-Modified second
        ("Tue, 14 Nov 2023 22:13:20 +0000", True),
        (BEFORE, False),
        (AFTER, False),  # a date is compared for equality, not "not modified since"
        (f'W/"{ETAG}"', False),  # weak tags never validate a range (strong comparison)
        ('"0123"', False),
        (f'"{ETAG}', False),  # unterminated
        ('""', False),
        ("*", False),  # not an entity tag: no wildcard in If-Range
        (f'"{ETAG}", "{ETAG}"', False),  # one validator, not a list
        ("", False),
        ("garbage", False),
    ],
)
def test_if_range(if_range: str | None, ranged: bool) -> None:
    """RFC 9110 §13.1.5: a validator that does not name the object makes the server ignore Range (200)."""
    headers = {"range": "bytes=10-19"} | ({"if-range": if_range} if if_range is not None else {})
    assert requested_range(headers, _IF_RANGE_RECORD) == (ByteRange(10, 19) if ranged else None)


def test_if_range_without_range_is_ignored_and_a_stale_one_lifts_a_416() -> None:
    assert requested_range({"if-range": f'"{ETAG}"'}, _IF_RANGE_RECORD) is None
    assert requested_range({"range": "bytes=500-", "if-range": BEFORE}, _IF_RANGE_RECORD) is None
    with pytest.raises(InvalidRange):
        requested_range({"range": "bytes=500-", "if-range": SAME}, _IF_RANGE_RECORD)
    multipart = ObjectRecord("b", "k", 100, f"{ETAG}-2", MODIFIED, (), parts_count=2)
    assert requested_range({"range": "bytes=0-0", "if-range": f'"{ETAG}-2"'}, multipart) == ByteRange(0, 0)
