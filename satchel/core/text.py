"""What counts as text: a string every store, log line and response can carry as UTF-8.

Python strings may hold lone surrogates (a path percent-decoded with surrogate escapes, a codec such as
``utf-7`` asked to decode hostile bytes); encoding one raises, deep in a store or a renderer, as a 500.
Front-ends refuse such values at the edge with this one test.
"""

from __future__ import annotations


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text (UTF-8 encodable: no lone surrogates)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
