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
import datetime
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, unquote_plus

from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG
from uvicorn.logging import AccessFormatter, DefaultFormatter

from satchel.requestinfo import RequestInfo

#: Every bearer secret a link kind puts in a URL, the one list a new link kind extends: a query
#: parameter (or POST form field) name, lower-case, whose value is the secret; or a path prefix,
#: starting and ending with "/", whose next segment is the secret. SigV4 and SigV2 signatures, the id
#: of a minted link (in a link's URL, and where the management API names one: ``/_satchel/api/links/<id>``
#: and the audit query's ``link_id``), a session token, a POST policy and its signature, Swift TempURL's
#: signature, the token of a pre-authenticated request (``/p/<token>/...``) and the id of a console share
#: page (``/s/<id>``: whoever holds it opens the page).
LINK_SECRETS = (
    "x-amz-signature",
    "signature",
    "x-amz-satchel-link-id",
    "link_id",
    "x-amz-security-token",
    "policy",
    "temp_url_sig",
    # SSE-C keys: a presigned URL carries them in its query (core/sse.py never stores or logs them).
    "x-amz-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "/p/",
    "/s/",
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


#: Path segments a client, a proxy or a server may drop or resolve away: never part of a prefix's match.
_SKIPPED_SEGMENTS = ("", ".", "..")


def _secret_segment(segments: list[str], prefix: str) -> int | None:
    """The index of the segment holding ``prefix``'s secret, matching the way a lenient router could read
    the path: segments compared case-insensitively, empty, ``.`` and ``..`` segments skipped (``//p/T``,
    ``/./p/T``, ``/P/T``, ``/p//T``, ``/p/../T`` all name the token ``T``)."""
    wanted = prefix.strip("/").lower().split("/")
    index = 0
    for part in wanted:
        while index < len(segments) and segments[index] in _SKIPPED_SEGMENTS:
            index += 1
        if index >= len(segments) or segments[index].lower() != part:
            return None
        index += 1
    # After the prefix too: ``/s/../ID`` and ``/p/%2e%2e/T`` still carry the secret (the hostile catalogue's
    # finding: their second segment was logged).
    while index < len(segments) and segments[index] in _SKIPPED_SEGMENTS:
        index += 1
    return index if index < len(segments) else None


def _redact_path(match: re.Match[str]) -> str:
    path = match.group(0)
    plain = unquote(path) if "%" in path else path
    segments = plain.split("/")[1:]
    for prefix in SECRET_PATH_PREFIXES:
        found = _secret_segment(segments, prefix)
        if found is not None:
            segments[found] = REDACTED
            return "/" + "/".join(segments)
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


def log_config(level: str, log_format: str = "text") -> dict[str, Any]:
    """uvicorn's logging configuration with redacting formatters, and the root logger (Satchel's own
    errors, garbage collection, audit, and any library's) on a redacting handler too, so that no line
    escapes redaction. ``json``: every line, uvicorn's included, is one JSON object (:class:`JsonFormatter`).

    Access lines come from Satchel's dispatch (``satchel.access``, with request id, operation and
    principal), not from uvicorn, whose access log stays off."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.RedactingFormatter"
    config["formatters"]["access"]["()"] = f"{__name__}.RedactingAccessFormatter"
    config["formatters"]["satchel"] = {
        "()": f"{__name__}.RedactingFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
        "use_colors": False,
    }
    config["formatters"]["satchel_access"] = {"()": f"{__name__}.RedactingPlainFormatter",
                                              "fmt": "%(asctime)s %(message)s"}
    config["formatters"]["json"] = {"()": f"{__name__}.JsonFormatter"}
    config["handlers"]["satchel"] = {"formatter": "satchel", "class": "logging.StreamHandler",
                                     "stream": "ext://sys.stderr"}
    config["handlers"]["satchel_access"] = {"formatter": "satchel_access", "class": "logging.StreamHandler",
                                            "stream": "ext://sys.stdout"}
    if log_format == "json":
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
    config["loggers"]["satchel.access"] = {"handlers": ["satchel_access"], "level": "INFO", "propagate": False}
    config["root"] = {"handlers": ["satchel"], "level": level_number(level)}
    return config

#: What ``log_format`` accepts: uvicorn's text lines, or one JSON object per line.
LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``process``, ``message``,
    a traceback as ``exception``, and an access line's fields (``extra={"fields": {...}}``) at the top
    level. Every string is redacted, so no field escapes what the text formatters hide."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps({k: redact(v) if isinstance(v, str) else v for k, v in entry.items()},
                          ensure_ascii=False, default=str)


class RedactingPlainFormatter(logging.Formatter):
    """For access lines: the message (already complete) with a time in front, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _iso_time(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def access_line(scope: Mapping[str, Any], info: RequestInfo, duration: float) -> tuple[str, dict[str, Any]]:
    """One request as a text line (uvicorn's access format, then Satchel's fields) and as JSON fields."""
    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "-"
    target = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        target = f"{target}?{query}"
    method, version = scope.get("method", "-"), scope.get("http_version", "1.1")
    fields = {
        "request_id": info.request_id, "client": client[0] if client else None, "method": method,
        "target": target, "http_version": version, "status": info.status, "frontend": info.frontend or "other",
        "operation": info.operation or None, "bucket": info.bucket, "principal": info.principal,
        "access_key_id": info.access_key_id, "bytes_in": info.bytes_in, "bytes_out": info.bytes_out,
        "duration_ms": round(duration * 1000, 3),
    }
    message = (f'{peer} - "{method} {target} HTTP/{version}" {info.status} {info.bytes_out} '
               f"{fields['duration_ms']}ms id={info.request_id} op={info.operation or '-'} "
               f"principal={info.principal or '-'}")
    return message, fields
