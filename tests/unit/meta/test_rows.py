"""Row encoding helpers, above all the prefix upper bound that listing relies on."""

from __future__ import annotations

import random

import pytest

from satchel.core.models import CorsRule, Segment
from satchel.meta import rows

# Code points at the edges: ASCII, the end of the BMP before and after the surrogates, the end of the
# BMP, the first astral plane, and the very last code point.
EDGES = ["a", "z", "\x7f", "\x80", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0010ffff"]


def _utf8(s: str) -> bytes:
    return s.encode("utf-8")


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("", None),
        ("a", "b"),
        ("photos/", "photos0"),
        ("\ud7ff", "\ue000"),
        ("x\uffff", "x\U00010000"),
        ("x\U0010ffff", "y"),
        ("x\U0010ffff\U0010ffff", "y"),
        ("\U0010ffff", None),
    ],
)
def test_prefix_upper_bound_examples(prefix: str, bound: str | None) -> None:
    assert rows.prefix_upper_bound(prefix) == bound


def test_prefix_upper_bound_brackets_exactly_the_prefixed_strings() -> None:
    """In UTF-8 byte order: every string with the prefix is in [prefix, bound), no other is."""
    rng = random.Random(7)
    alphabet = [*EDGES, "b", "/"]
    for _ in range(3000):
        prefix = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        candidate = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        bound = rows.prefix_upper_bound(prefix)
        inside = _utf8(prefix) <= _utf8(candidate) and (bound is None or _utf8(candidate) < _utf8(bound))
        assert inside == candidate.startswith(prefix), (prefix, candidate, bound)


def test_json_columns_round_trip() -> None:
    segments = (Segment("a" * 32, 5), Segment("b" * 32, 0))
    assert rows.load_segments(rows.dump_segments(segments)) == segments
    assert rows.load_segments(rows.dump_segments(segments[:1])) == segments[:1]
    assert rows.load_segments(rows.dump_segments(())) == ()
    meta = {"naïve": "ça va", "k": ""}
    assert rows.load_map(rows.dump_map(meta)) == meta
    assert rows.dump_map({}) == "{}"
    cors = (CorsRule(("*",), ("GET",), ("x-a",), ("etag",), 30, "r1"), CorsRule(("https://a",), ("PUT",)))
    assert rows.load_cors(rows.dump_cors(cors)) == cors
    assert rows.load_cors(rows.dump_cors(None)) is None
    assert rows.load_cors(rows.dump_cors(())) == ()
