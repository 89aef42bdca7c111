"""IAM wildcard matching (core/wildcard.py): the same answers as the regular-expression reading of ``*`` and
``?``, and no backtracking blow-up on the shapes that hung a worker (issue 16's blind attack)."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satchel.core.wildcard import matches


def _regex(pattern: str, text: str) -> bool:
    """The old matcher's meaning, used as the oracle on small inputs only (it is the one that blows up)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(body, text, re.DOTALL) is not None


@pytest.fixture
def hang_guard() -> Iterator[None]:
    """A hang guard, not a benchmark: a backtracking matcher takes hours on these, a linear one milliseconds."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("wildcard matching hung")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("", "", True), ("", "a", False), ("*", "", True), ("*", "anything/at all", True), ("?", "", False),
    ("?", "x", True), ("a*", "a", True), ("*a", "ba", True), ("*a", "ab", False), ("a?c", "abc", True),
    ("a?c", "ac", False), ("a*b*c", "aXbYc", True), ("a*b*c", "acb", False), ("*.txt", "dir/x.txt", True),
    ("s3:get*", "s3:getobject", True), ("s3:get*", "s3:putobject", False), ("a*a", "a", False),
    ("**", "", True), ("*?*", "", False), ("*?*", "z", True), ("a.c", "abc", False), ("[ab]", "a", False),
    ("x*?y?*z", "xAyBz", True), ("x*?y?*z", "xyz", False), ("\n*", "\nline", True),
])
def test_table(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected
    assert _regex(pattern, text) is expected


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab", max_size=10))
def test_agrees_with_the_regex_reading(pattern: str, text: str) -> None:
    assert matches(pattern, text) == _regex(pattern, text)


@pytest.mark.usefixtures("hang_guard")
@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("arn:aws:s3:::bobb/" + "*a" * 12 + "*b", "arn:aws:s3:::bobb/" + "a" * 60, False),  # the attack
    ("arn:aws:s3:::bobb/" + "*a" * 12 + "*b", "arn:aws:s3:::bobb/" + "a" * 60 + "b", True),
    ("*a" * 2000 + "*b", "a" * 8000, False),
    (("*" + "a?" * 200) * 20 + "b", "a" * 1024, False),
    ("*" + "?" * 1000 + "*b", "a" * 8000, False),
    ("*" + "a" * 500 + "?*", "a" * 8000, True),
])
def test_attack_shapes_answer_right(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected
