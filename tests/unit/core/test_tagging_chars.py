"""Tag characters (core/tagging.py): AWS's ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`` on keys and values, whatever
way the tags came — line breaks, tabs and other control characters are refused, Unicode letters, numbers
and spaces are not."""

from __future__ import annotations

import pytest

from satchel.core import tagging
from satchel.core.errors import InvalidTag


@pytest.mark.parametrize("text", ["project", "Größe", "数据", "٣٤", "a b", "a\u00a0b", "a\u2028b", "_.:/=+-@", "Ⅻ"])
def test_allowed(text: str) -> None:
    assert tagging.allowed(text)
    assert tagging.validate([(text, text)], tagging.MAX_OBJECT_TAGS) == ((text, text),)


@pytest.mark.parametrize("text", ["a\nb", "a\rb", "a\tb", "a\x00b", "a\x1fb", "a\x85b", "a\u200bb", "a#b", "a,b",
                                  "a\u0301", "😀"])
def test_refused_in_keys_and_values(text: str) -> None:
    assert not tagging.allowed(text)
    with pytest.raises(InvalidTag):
        tagging.validate([(text, "v")], tagging.MAX_OBJECT_TAGS)
    with pytest.raises(InvalidTag):
        tagging.validate([("k", text)], tagging.MAX_OBJECT_TAGS)


@pytest.mark.parametrize("header", ["a%0A=b", "a=b%0D%0A", "a%09=b", "k=%00"])
def test_refused_in_the_header(header: str) -> None:
    with pytest.raises(InvalidTag):
        tagging.parse_header(header)
