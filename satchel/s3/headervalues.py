"""Header values between text and the wire: one place decodes what arrives, one place encodes what leaves.

HTTP field values are bytes; ASGI servers hand them over decoded as Latin-1 and take them back
encoded as Latin-1, so a value with a character above U+00FF cannot be sent at all (it used to end a
response in a 500 after the object was stored). Satchel keeps header values as *text*:

* in: :func:`wire_text` turns the Latin-1 view of the bytes back into the UTF-8 text a client meant
  (falling back to Latin-1 for bytes that are not UTF-8), and user metadata sent RFC 2047-encoded is
  decoded, as AWS does ("Working with object metadata": values with non-US-ASCII characters are
  decoded per RFC 2047 before storing and encoded per RFC 2047 before returning). Only the MIME
  charsets of :data:`MIME_CHARSETS` are decoded, strictly: a word whose bytes are not text in its
  charset is refused with InvalidArgument and nothing is stored. A value with a word in any other
  charset is kept as sent, undecoded, like one in an unknown charset (it goes back as the same ASCII
  for the client to decode): Python's codecs are not MIME charsets, and ``utf-7``, ``unicode_escape``
  or ``punycode`` would turn a header into lone surrogates or escapes. A malformed word is not a
  word: the value is kept as sent.
* out: :func:`wire_headers` is the one place every S3 response goes through before it is sent.
  Printable US-ASCII passes untouched; ``x-amz-meta-*`` values with anything else are returned as one
  RFC 2047 ``=?UTF-8?B?...?=`` word (AWS's rule); any other header with non-ASCII text is sent as its
  UTF-8 bytes (what browsers read in ``Content-Disposition``), and one with control characters — which
  input checks refuse, so only a bug can produce it — is RFC 2047-encoded too, never sent raw.

A Content-Type must be a token/quoted-string media type (RFC 9110 §8.3.1): there is no encoding for
non-ASCII in it, so :func:`check_stored_value` refuses one with InvalidArgument when an object is
written (nothing is stored) and when a ``response-content-type`` override asks for one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.errors
import email.header
import re

from satchel.core.errors import InvalidArgument
from satchel.core.text import is_text

#: Printable US-ASCII plus tab: what goes on the wire as is.
_PLAIN = re.compile(r"[\t\x20-\x7e]*")
#: Control characters (other than tab), C1 (U+0080-U+009F, e.g. NEL) as well as C0: never in a stored value.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: An RFC 2047 encoded word: charset, encoding (B or Q), encoded text.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
_META = "x-amz-meta-"
#: The charsets an RFC 2047 word in user metadata may name (lower-case MIME names): AWS's examples use
#: UTF-8 and ISO-8859-1, and US-ASCII is their common subset.
MIME_CHARSETS = frozenset({"utf-8", "us-ascii", "iso-8859-1"})


def wire_text(value: str) -> str:
    """The text a client sent, from the Latin-1 view of the header's bytes."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def metadata_text(value: str, name: str = "x-amz-meta-") -> str:
    """A user-metadata value as stored: RFC 2047 encoded words in :data:`MIME_CHARSETS` decoded (as AWS
    stores them); see the module docstring for the rest.

    InvalidArgument for a word whose bytes are not text in its charset, and for any value that is not
    text (lone surrogates: a POST form field read with surrogate escapes), which no response could
    carry and no store would take."""
    if "=?" in value:
        for charset, encoding, text in _ENCODED_WORD.findall(value):
            # The email package decodes bad base64 to nothing: the client's value would be lost.
            if encoding in "Bb" and charset.lower() in MIME_CHARSETS and not _strict_base64(text):
                raise _not_text(name, value)
        try:
            parts = email.header.decode_header(value)
        except (email.errors.HeaderParseError, binascii.Error, ValueError):
            parts = []  # malformed: not an encoded word, kept as sent
        words = [(data, charset.lower()) for data, charset in parts if charset is not None]
        if words and all(charset in MIME_CHARSETS for _, charset in words):
            for data, charset in words:
                _check_word(name, value, data, charset)
            # Unencoded non-ASCII text around a word: the value is kept as sent.
            with contextlib.suppress(email.errors.HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
                value = str(email.header.make_header(parts))
    if not is_text(value):
        raise _not_text(name, value)
    check_stored_value(name, value)  # what a word decodes to, too: no control characters
    return value


def _strict_base64(text: str) -> bool:
    try:
        binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return False
    return True


def _check_word(name: str, value: str, data: bytes | str, charset: str) -> None:
    try:
        (data.encode("latin-1") if isinstance(data, str) else data).decode(charset)
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise _not_text(name, value) from None


def _escaped(value: str) -> str:
    return value.encode("unicode_escape").decode("ascii")


def _not_text(name: str, value: str) -> InvalidArgument:
    return InvalidArgument(f"The value of the {name} header does not decode to text.", ArgumentName=name,
                           ArgumentValue=_escaped(value))


def check_stored_value(name: str, value: str) -> None:
    """Refuse a representation header that could not be returned as sent."""
    if _CONTROL.search(value) or (name.lower() == "content-type" and not _PLAIN.fullmatch(value)):
        raise InvalidArgument(f"The value of the {name} header cannot be represented in an HTTP response.",
                              ArgumentName=name, ArgumentValue=_escaped(value))


def rfc2047(value: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii") + "?="


def wire_value(name: str, value: str) -> str:
    """The Latin-1 string whose bytes are the header value to send (see the module docstring)."""
    if _PLAIN.fullmatch(value):
        return value
    if name.lower().startswith(_META) or _CONTROL.search(value):
        return rfc2047(value)
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


def wire_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every value made sendable; header names are ours (ASCII) or checked S3 metadata names."""
    if all(_PLAIN.fullmatch(value) for _, value in headers):
        return headers
    return [(name, wire_value(name, value)) for name, value in headers]
