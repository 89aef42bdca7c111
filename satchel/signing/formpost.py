"""OpenStack Swift FormPost: signed browser form uploads, compatible with Swift's ``formpost`` middleware.

A web page lets its visitors upload files straight into a container, without credentials, with a form
signed by the same TempURL keys (account or container, see ``signing/tempurl.py``)::

    <form action="https://satchel.example.com/v1/AUTH_acme/uploads/inbox/" method="POST"
          enctype="multipart/form-data">
      <input type="hidden" name="redirect" value="https://example.com/thanks" />
      <input type="hidden" name="max_file_size" value="104857600" />
      <input type="hidden" name="max_file_count" value="10" />
      <input type="hidden" name="expires" value="1700000000" />
      <input type="hidden" name="signature" value="<hmac>" />
      <input type="file" name="file1" />
      <input type="submit" />
    </form>

The signature (:func:`hmac_message`) covers the form's path (``/v1/<account>/<container>[/<prefix>]``,
decoded), the redirect (empty when the form has none), both limits and the expiry, exactly as sent::

    hmac(key, f"{path}\\n{redirect}\\n{max_file_size}\\n{max_file_count}\\n{expires}", sha256).hexdigest()

as hex or ``<digest>:<base64>``, with the digests TempURLs allow. Each file becomes the object
``<prefix><filename>`` (a path ending without ``/`` at container level gets one). Attributes must come
before the files: an attribute after a file is not read. Optional attributes: ``content-type`` and
``content-encoding`` (for every file; a file part's own ``Content-Type`` otherwise).

Answers: with ``redirect``, ``303`` to ``<redirect>?status=<code>&message=<text>``; without, the status
as text. ``400 FormPost: max_file_size exceeded`` / ``max file count exceeded`` / ``no files to process``;
``401 FormPost: Invalid Signature`` / ``Form Expired``.

Pure: parsing limits, the message, the check. The streaming reader lives with the front-end.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from satchel.core.text import decimal, is_text
from satchel.signing.tempurl import TempUrlInvalid, parse_signature, sign

#: Swift's ``MAX_VALUE_LENGTH``: an attribute's value is read up to this many bytes (we refuse longer).
MAX_VALUE_LENGTH = 4096
#: Attributes read before the first file; more is not a form a browser sends.
MAX_ATTRIBUTES = 64
#: Bytes of one part's header block (Content-Disposition and Content-Type).
MAX_PART_HEADER_BYTES = 8 * 1024
#: The most files one form may declare (``max_file_count``).
MAX_FILE_COUNT = 1000
#: Required attributes; the form is refused (400) without them.
REQUIRED = ("max_file_size", "max_file_count", "expires", "signature")
#: Attributes passed on to each file's PUT when present.
PASSED_ON = ("content-type", "content-encoding")
#: Swift attributes Satchel cannot honour: refused, never ignored (the files would never expire).
REFUSED = {"x_delete_at": "x_delete_at is not supported: the uploaded files would never be deleted",
           "x_delete_after": "x_delete_after is not supported: the uploaded files would never be deleted"}


class FormInvalid(Exception):
    """400 ``FormPost: <message>``."""


class FormCutOff(FormInvalid):
    """The form ended before its closing boundary (the client went away or sent a truncated form)."""


class FormUnauthorized(Exception):
    """401 ``FormPost: <Message Titled>``; ``reason`` says why for the audit trail."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FormSpec:
    """The signed attributes of a form, parsed; the upload acts on these values."""

    redirect: str
    max_file_size: int
    max_file_count: int
    expires: int
    signature: str
    #: As sent: the signature covers the text, not the number.
    texts: tuple[str, str, str]


def parse_attributes(attributes: Mapping[str, str], *, max_put_size: int) -> FormSpec:
    """The form's attributes (names lower-cased) → :class:`FormSpec`; :class:`FormInvalid` for a missing
    or unreadable one. ``max_file_size`` beyond the server's largest PUT is refused: the form could
    never deliver it."""
    for name in REQUIRED:
        if not attributes.get(name):
            raise FormInvalid(f"{name} is missing")
    for name, why in REFUSED.items():
        if name in attributes:
            raise FormInvalid(why)
    texts = (attributes["max_file_size"], attributes["max_file_count"], attributes["expires"])
    size, count, expires = (decimal(text) for text in texts)
    if size is None:
        raise FormInvalid("max_file_size not an integer")
    if count is None:
        raise FormInvalid("max_file_count not an integer")
    if expires is None:
        raise FormInvalid("expired not an integer")
    if size > max_put_size:
        raise FormInvalid(f"max_file_size above this server's largest upload ({max_put_size} bytes)")
    if count > MAX_FILE_COUNT:
        raise FormInvalid(f"max_file_count above {MAX_FILE_COUNT}")
    redirect = attributes.get("redirect", "")
    if redirect:
        check_redirect(redirect)
    return FormSpec(redirect, size, count, expires, attributes["signature"], texts)


def check_redirect(redirect: str) -> None:
    """A redirect becomes a ``Location`` header: an absolute ``http``/``https`` URL of printable ASCII only
    (a CR, LF, DEL or other control character would break the answer after the files are stored; a
    ``javascript:``, ``data:`` or scheme-relative ``//host`` one is no place to send a browser)."""
    if any(not 0x21 <= ord(char) <= 0x7E for char in redirect) or "\\" in redirect:
        raise FormInvalid("redirect is not a URL (control, space or non-ASCII characters)")
    parts = urlsplit(redirect)
    absolute = redirect[len(parts.scheme) + 1:].startswith("//")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not absolute:
        raise FormInvalid("redirect is not an absolute http or https URL")


def hmac_message(path: str, redirect: str, max_file_size: str, max_file_count: str, expires: str) -> bytes:
    """Swift's message: the five values as sent, joined by ``\\n``."""
    return f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}".encode()


def generate(key: bytes, path: str, redirect: str, max_file_size: int, max_file_count: int, expires: int,
             algorithm: str = "sha256") -> str:
    """The ``signature`` value of a form (hex)."""
    message = hmac_message(path, redirect, str(max_file_size), str(max_file_count), str(expires))
    return sign(key, message, algorithm).hex()


def verify(spec: FormSpec, path: str, keys: Sequence[bytes], *, allowed: Iterable[str], now: float) -> int:
    """The index in ``keys`` of the key that signed the form, in Swift's order: expiry, then signature.
    :class:`FormUnauthorized` otherwise."""
    if spec.expires < now:
        raise FormUnauthorized("form expired", "form expired")
    try:
        signature = parse_signature(spec.signature)
    except TempUrlInvalid as exc:
        raise FormUnauthorized("invalid signature", exc.reason) from None
    if signature.algorithm not in allowed:
        raise FormUnauthorized("invalid signature", f"digest {signature.algorithm} is not allowed on this server")
    if not keys:
        raise FormUnauthorized("invalid signature", "no TempURL key is set on this account or container")
    if not is_text(path):
        # The signed message is UTF-8; a path no UTF-8 spells was never signed (and would not encode).
        raise FormUnauthorized("invalid signature", "the path is not UTF-8 text")
    message = hmac_message(path, spec.redirect, *spec.texts)
    matched = -1
    for index, key in enumerate(keys):
        if hmac.compare_digest(sign(key, message, signature.algorithm), signature.digest) and matched < 0:
            matched = index
    if matched < 0:
        raise FormUnauthorized("invalid signature", "signature does not match (wrong key, path or attribute)")
    return matched


def object_name(prefix: str, filename: str) -> str:
    """The object a file becomes: the form's object prefix (what follows the container in its path)
    plus the file's name (``filename`` when the browser sent none)."""
    return prefix + (filename or "filename")


def redirect_location(redirect: str, status: int, message: str) -> str:
    """``<redirect>?status=<code>&message=<text>`` (``&`` when the redirect has a query already)."""
    return f"{redirect}{'&' if '?' in redirect else '?'}status={status}&message={quote(message)}"


def redirect_body(location: str) -> bytes:
    return (f'<html><body><p><a href="{_html(location)}">Click to continue...</a></p></body></html>').encode()


def _html(text: str) -> str:
    # Swift writes the location as is; an attribute value is escaped here so a redirect cannot add markup.
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
