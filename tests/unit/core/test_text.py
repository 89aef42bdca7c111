"""The one reading of a client's text and numbers (``core/text.py``)."""

from __future__ import annotations

import pytest

from satchel.core.text import decimal, is_text, query_not_text


@pytest.mark.parametrize(("value", "digits", "expected"), [
    ("0", 19, 0), ("42", 19, 42), ("9" * 19, 19, int("9" * 19)), ("12345", 5, 12345),
    ("", 19, None), ("123456", 5, None), ("9" * 5000, 19, None), ("²", 19, None), ("\uff11", 19, None),
    ("-1", 19, None), ("+1", 19, None), (" 1", 19, None), ("1_000", 19, None), ("0x1", 19, None),
])
def test_decimal_takes_bounded_ascii_digits_only(value: str, digits: int, expected: int | None) -> None:
    assert decimal(value, digits) == expected


def test_is_text_refuses_lone_surrogates() -> None:
    assert is_text("plain") and is_text("zoë ✓")
    assert not is_text("bad\udcff")


def test_query_not_text() -> None:
    """The parameters whose value is not UTF-8 as sent; their decoded form (U+FFFD) would name another thing."""
    assert query_not_text("") == set()
    assert query_not_text("key=a%20b&prefix=%C3%A9t%C3%A9&x=%EF%BF%BD&plain=ok&flag") == set()
    assert query_not_text("key=%ff&a=%c0%af&b=%ED%A0%80&c=%e9+x&d=%C3") == {"key", "a", "b", "c", "d"}
    assert query_not_text("na%6De=%ff") == {"name"}
