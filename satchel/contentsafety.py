"""What keeps a stored object's bytes from running script under Satchel's origin, whichever front-end
serves them.

The console, its session and the management API share one origin with every object (one port, one
URL for users to configure). An object's Content-Type is whatever its writer said — ``text/html``,
``image/svg+xml``, or ``text/plain,text/html``, which browsers read as its *last* type — so an object
opened in a browser tab (a presigned URL, a public bucket, a TempURL, a PAR) could otherwise run script
that reads the console's CSRF token and acts with the session of whoever opened it. AWS keeps user
content on origins of its own (bucket domains); on one origin the answer itself must isolate it:

- ``Content-Security-Policy: sandbox`` on every answer carrying an object's bytes: the document gets a
  unique opaque origin, runs no script, submits no form, opens no popup — text, images, audio and video
  still show. PDFs are the exception when their Content-Type is exactly one ``application/pdf``:
  Chromium's viewer refuses to render in a sandboxed document, and a PDF's own script never runs with
  the page's origin.
- ``X-Content-Type-Options: nosniff``: no browser guesses a more dangerous type than the stored one.

Error answers carry ``nosniff`` too, on every front-end (:func:`error_headers`, applied once where every
answer leaves the application, ``app.py``): their bodies echo what the client sent (a key, a header, a
bucket name), which a browser must not take for HTML.
"""

from __future__ import annotations

import re

NOSNIFF = ("X-Content-Type-Options", "nosniff")
SANDBOX = ("Content-Security-Policy", "sandbox")

#: RFC 9110 ``token`` characters.
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
#: One media type: ``type/subtype`` and parameters whose values are tokens or quoted strings.
_MEDIA_TYPE = re.compile(
    rf'\s*({_TCHARS})/({_TCHARS})\s*(?:;\s*{_TCHARS}\s*=\s*(?:{_TCHARS}|"(?:[^"\\\x00-\x1f\x7f]|\\.)*")\s*)*;?\s*')


def media_type(content_type: str) -> str | None:
    """The essence (``type/subtype``, lower case) of a value that is exactly one media type; None for any
    other value: a comma anywhere (even quoted: browsers split on it and take the last type), or anything
    that does not parse."""
    if "," in content_type:
        return None
    found = _MEDIA_TYPE.fullmatch(content_type)
    return f"{found.group(1)}/{found.group(2)}".lower() if found else None


def sandbox(content_type: str) -> list[tuple[str, str]]:
    """The sandbox policy for an answer of this Content-Type (none for exactly one ``application/pdf``)."""
    return [] if media_type(content_type) == "application/pdf" else [SANDBOX]


_RAW_NOSNIFF = (b"x-content-type-options", b"nosniff")


def error_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """An error answer's ASGI headers with ``nosniff`` (added once: some front-ends send it already)."""
    if any(name.lower() == _RAW_NOSNIFF[0] for name, _ in headers):
        return headers
    return [*headers, _RAW_NOSNIFF]


def isolation_headers(content_type: str) -> list[tuple[str, str]]:
    """``nosniff`` and the sandbox policy: what every answer carrying an object's bytes adds."""
    return [NOSNIFF, *sandbox(content_type)]
