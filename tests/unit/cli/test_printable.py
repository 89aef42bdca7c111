"""What a terminal is shown of text chosen by others: every control character as its visible escape."""

from __future__ import annotations

import pytest

from satchel.cli.printable import printable


@pytest.mark.parametrize(("text", "shown"), [
    ("plain/key.txt", "plain/key.txt"),
    ("zoë/日本語 [b]x[/b]", "zoë/日本語 [b]x[/b]"),  # markup is Rich's business (output.py uses Text)
    ("a\x1b[2Jb", "a\\x1b[2Jb"),
    ("row\nforged\r", "row\\x0aforged\\x0d"),
    ("\x00\x07\x7f\x85\x9b", "\\x00\\x07\\x7f\\x85\\x9b"),
    ("abc\u202edcba\u2066", "abc\\u202edcba\\u2066"),
    ("line\u2028sep", "line\\u2028sep"),
])
def test_control_characters_become_visible(text: str, shown: str) -> None:
    assert printable(text) == shown
