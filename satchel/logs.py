"""Logging for the server processes, with every bearer secret of a link redacted from every line.

A presigned URL is a bearer credential: whoever reads it from a log can use it. So the values of the
query parameters named in :data:`LINK_SECRETS` (compared case-insensitively and after
percent-decoding, because that is how the signature code reads them) and the path segment after each
path prefix there are replaced by ``REDACTED`` in every line the server logs:
uvicorn's access and error lines, Satchel's own lines and the tracebacks they carry.

Example: ``GET /photos/cat.jpg?X-Amz-Credential=AK%2F...&X-Amz-Signature=3f2a...`` is logged as
``GET /photos/cat.jpg?X-Amz-Credential=AK%2F...&X-Amz-Signature=REDACTED``.

A new link kind adds its secret parameter or path prefix to :data:`LINK_SECRETS`, and only there.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG
from uvicorn.logging import AccessFormatter, DefaultFormatter

#: Every bearer secret a link kind puts in a URL, the one list a new link kind extends: a query
#: parameter (or POST form field) name, lower-case, whose value is the secret; or a path prefix,
#: starting and ending with "/", whose next segment is the secret. SigV4 and SigV2 signatures, the id
#: of a minted link (in a link's URL, and where the management API names one: ``/_satchel/api/links/<id>``
#: and the audit query's ``link_id``), a session token, a POST policy and its signature, Swift TempURL's
#: signature, and the token of a pre-authenticated request (``/p/<token>/...``).
LINK_SECRETS = (
    "x-amz-signature",
    "signature",
    "x-amz-satchel-link-id",
    "link_id",
    "x-amz-security-token",
    "policy",
    "temp_url_sig",
    "/p/",
    "/_satchel/api/links/",
)
SECRET_QUERY_PARAMETERS = frozenset(name for name in LINK_SECRETS if not name.startswith("/"))
SECRET_PATH_PREFIXES = tuple(prefix for prefix in LINK_SECRETS if prefix.startswith("/"))
REDACTED = "REDACTED"

# One name=value pair: what comes before it (a query separator, or the start of a word, so that an
# exception message quoting a form field is caught too), its name, and its value up to the next
# separator or the end of the request target (a space or a quote in a log line).
_PAIR = re.compile(r"(^|[?&;,\s\"'(])([^=&;,\s\"'?#(]*)=([^&;,\s\"'#]*)")
# A path at the start of a request target: after a space, a quote or the start of the text.
_PATH = re.compile(r"(?:(?<=[\s\"'(])|^)/[^\s\"'?#]*")


def _redact_pair(match: re.Match[str]) -> str:
    name = match.group(2)
    plain = unquote_plus(name) if "%" in name or "+" in name else name
    # Blanks around the name too: ``X-Amz-Signature%20=...`` is refused, yet its value is a signature.
    if plain.strip().lower() in SECRET_QUERY_PARAMETERS:
        return f"{match.group(1)}{name}={REDACTED}"
    return match.group(0)


def _redact_path(match: re.Match[str]) -> str:
    path = match.group(0)
    plain = unquote(path) if "%" in path else path
    for prefix in SECRET_PATH_PREFIXES:
        if plain.startswith(prefix) and len(plain) > len(prefix):
            rest = plain[len(prefix):]
            _, slash, tail = rest.partition("/")
            return f"{prefix}{REDACTED}{slash}{tail}"
    return path


def redact(text: str) -> str:
    """``text`` (a request target, a log line, a traceback) with every link secret replaced."""
    if "=" in text:
        text = _PAIR.sub(_redact_pair, text)
    if "/" in text:
        text = _PATH.sub(_redact_path, text)
    return text


class RedactingFormatter(DefaultFormatter):
    """uvicorn's default formatter, redacting the whole formatted line (traceback included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingAccessFormatter(AccessFormatter):
    """uvicorn's access-line formatter, redacting the request target."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def level_number(level: str) -> int:
    """The logging module's number for one of uvicorn's level names (``trace`` is below ``debug``)."""
    return int(LOG_LEVELS.get(level.lower(), logging.INFO))


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with redacting formatters, and the root logger (Satchel's own
    errors, garbage collection, audit, and any library's) on a redacting handler too, so that no line
    escapes redaction."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.RedactingFormatter"
    config["formatters"]["access"]["()"] = f"{__name__}.RedactingAccessFormatter"
    config["formatters"]["satchel"] = {
        "()": f"{__name__}.RedactingFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
        "use_colors": False,
    }
    config["handlers"]["satchel"] = {"formatter": "satchel", "class": "logging.StreamHandler",
                                     "stream": "ext://sys.stderr"}
    config["root"] = {"handlers": ["satchel"], "level": level_number(level)}
    return config
