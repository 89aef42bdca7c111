"""Tag validation (AWS's limits, characters, duplicates, reserved prefix) and the ``x-amz-tagging`` header form."""

from __future__ import annotations

import pytest

from satchel.core.errors import BadRequest, InvalidArgument, InvalidTag, SatchelError
from satchel.core.tagging import MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, encode_header, parse_header, validate


def test_valid_sets_keep_their_order() -> None:
    tags = (("z", "1"), ("a", ""), ("ключ", "значение"), ("k:/=+-@_. x", "v\u00a0 1"))
    assert validate(tags, MAX_OBJECT_TAGS) == tags
    assert validate([("k" * 128, "v" * 256)], MAX_OBJECT_TAGS) == (("k" * 128, "v" * 256),)
    assert len(validate([(f"k{n}", "") for n in range(50)], MAX_BUCKET_TAGS)) == 50


@pytest.mark.parametrize(("tags", "limit", "error"), [
    ([(f"k{n}", "v") for n in range(11)], MAX_OBJECT_TAGS, BadRequest),
    ([(f"k{n}", "v") for n in range(51)], MAX_BUCKET_TAGS, BadRequest),
    ([("", "v")], MAX_OBJECT_TAGS, InvalidTag),
    ([("k" * 129, "v")], MAX_OBJECT_TAGS, InvalidTag),
    ([("k", "v" * 257)], MAX_OBJECT_TAGS, InvalidTag),
    ([("aws:x", "v")], MAX_OBJECT_TAGS, InvalidTag),
    ([("AWS:x", "v")], MAX_OBJECT_TAGS, InvalidTag),
    ([("a*b", "v")], MAX_OBJECT_TAGS, InvalidTag),
    ([("k", "<script>")], MAX_OBJECT_TAGS, InvalidTag),
    ([("k", "1"), ("k", "2")], MAX_OBJECT_TAGS, InvalidTag),
])
def test_invalid_sets(tags: list[tuple[str, str]], limit: int, error: type[SatchelError]) -> None:
    with pytest.raises(error):
        validate(tags, limit)


def test_header_form() -> None:
    assert parse_header("a=1&b=two%20words&c=&d&%C3%A9=%C3%BC") == (
        ("a", "1"), ("b", "two words"), ("c", ""), ("d", ""), ("é", "ü"))
    assert parse_header("") == ()
    tags = (("a b", "c=d+e"), ("é", "=+/"))
    assert parse_header(encode_header(tags)) == tags
    for bad in ("a=1&a=2", "%FF=1", "a=1&&b=2"):
        with pytest.raises(InvalidArgument):
            parse_header(bad)
    with pytest.raises(BadRequest):
        parse_header("&".join(f"k{n}=v" for n in range(11)))
    with pytest.raises(BadRequest):
        parse_header("k=" + "v" * 100_000)  # bounded before parsing
