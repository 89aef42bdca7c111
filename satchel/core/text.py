"""What counts as text, and as a number, in what a client sends.

Text: a string every store, log line and response can carry as UTF-8.

Python strings may hold lone surrogates (a path percent-decoded with surrogate escapes, a codec such as
``utf-7`` asked to decode hostile bytes); encoding one raises, deep in a store or a renderer, as a 500.
Front-ends refuse such values at the edge with this one test.
"""

from __future__ import annotations

from urllib.parse import unquote_plus, unquote_to_bytes


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text (UTF-8 encodable: no lone surrogates)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decimal(value: str, max_digits: int = 19) -> int | None:
    """``value`` as a non-negative integer when it is 1 to ``max_digits`` ASCII digits, else None.

    Not ``str.isdigit()``, which takes "²" (``int()`` then refuses it: a 500) and strings of any length
    (``int()`` refuses more than 4300 digits); 19 digits fit a signed 64-bit integer."""
    if not 0 < len(value) <= max_digits or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def query_not_text(raw_query: str) -> set[str]:
    """The names of the parameters of a raw query string whose value, percent-decoded, is not UTF-8. The
    decoded query (``asgi.parse_query``) has replaced those bytes with U+FFFD: acting on it would act on
    another value than the one sent (``key=%ff`` uploaded the object ``\ufffd``)."""
    names = set()
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        if "%" not in value:
            continue
        try:
            unquote_to_bytes(value.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            names.add(unquote_plus(name, errors="replace"))
    return names
