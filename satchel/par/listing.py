"""ListObjects through a PAR whose ``bucketListingAction`` is ``ListObjects``, in OCI's JSON shape::

    GET /p/{token}/n/{ns}/b/{bucket}/o/?prefix=&start=&end=&startAfter=&limit=&delimiter=/&fields=name,size

    {"objects": [{"name": "reports/q1.pdf", "size": 1234}], "prefixes": ["reports/2024/"],
     "nextStartWith": "reports/q2.pdf"}

``start`` is inclusive, ``startAfter`` and ``end`` exclusive (``end``: names strictly before it), ``limit``
1 to 1000 (default 1000), ``delimiter`` only ``/`` (as OCI), ``fields`` among name, size, etag, md5,
timeCreated, timeModified, storageTier, archivalState (name always). A prefix PAR lists inside its prefix
only: a ``prefix`` outside it lists nothing. ``nextStartWith`` is the first name of the next page (absent
on the last). Each listing is one use of the PAR. ``?format=zip[&prefix=]`` answers the objects themselves
as one zip archive instead (``archive.py``).
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson

from satchel.asgi import Response
from satchel.core import listing
from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.models import ObjectSummary
from satchel.core.node import Node
from satchel.core.objects import MAX_KEY_BYTES
from satchel.core.par import use
from satchel.core.par.manage import plain_text
from satchel.core.par.use import Operation
from satchel.core.text import decimal
from satchel.par import archive
from satchel.par.handlers import ParContext, admit, no_query
from satchel.par.headers import md5_base64

MAX_LIMIT = 1000
FIELDS = ("name", "size", "etag", "md5", "timeCreated", "timeModified", "storageTier", "archivalState")
_QUERY = frozenset({"prefix", "start", "end", "startAfter", "limit", "delimiter", "fields"})
_ZIP_QUERY = frozenset({"format", "prefix"})
#: Sorts after every character a name can hold: "start minus one step" for an inclusive ``start``.
_MAX_CHAR = "\U0010ffff"


def rfc3339(when: float) -> str:
    moment = datetime.datetime.fromtimestamp(when, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _fields(text: str | None) -> tuple[str, ...]:
    if not text:
        return ("name",)
    asked = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    unknown = [name for name in asked if name not in FIELDS]
    if unknown:
        raise InvalidArgument(f"Unknown field {unknown[0][:64]!r}; fields are {', '.join(FIELDS)}.")
    return ("name", *(name for name in asked if name != "name"))


def _summary(item: ObjectSummary, fields: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": item.key, "size": item.size, "etag": item.etag, "md5": md5_base64(item.etag),
        "timeCreated": rfc3339(item.last_modified), "timeModified": rfc3339(item.last_modified),
        "storageTier": "Standard", "archivalState": None,
    }
    return {name: values[name] for name in fields}


def _marker(query: dict[str, str]) -> str | None:
    start, after = query.get("start"), query.get("startAfter")
    if start and after:
        raise InvalidArgument("Give start or startAfter, not both.")
    if start:
        # Strictly after "start minus one step", so that an object named exactly ``start`` is listed.
        before = ord(start[-1]) - 1
        if 0xD800 <= before <= 0xDFFF:
            before = 0xD7FF  # surrogates cannot be stored: the step skips them, as UTF-8 order does
        return start[:-1] + chr(before) + _MAX_CHAR if before >= 0 else start[:-1]
    return after or None


def _names(query: dict[str, str]) -> dict[str, str]:
    """Names in the query (prefix, start, startAfter, end) are object names: at most 1024 bytes of text."""
    for name in ("prefix", "start", "startAfter", "end"):
        value = query.get(name)
        if value is not None and (len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
                                  or not plain_text(value)):
            raise InvalidArgument(f"{name} must be at most {MAX_KEY_BYTES} bytes of text without control characters.")
    return query


async def list_objects(node: Node, ctx: ParContext) -> Response:
    if any(name == "format" for name, _ in ctx.request.query):
        return await _zip(node, ctx)
    query = _names(no_query(ctx.request, _QUERY))
    limit = MAX_LIMIT
    if "limit" in query:
        parsed = decimal(query["limit"], 4)
        if parsed is None or not 1 <= parsed <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}.")
        limit = parsed
    delimiter = query.get("delimiter", "")
    if delimiter not in ("", "/"):
        raise InvalidArgument("The only delimiter supported is '/'.")
    fields = _fields(query.get("fields"))
    prefix = use.listing_prefix(ctx.par, query.get("prefix", ""))
    # Admitted (and counted) with the prefix it acts on; outside the PAR's prefix it is the PAR's own (empty).
    admission = await node.read(admit, ctx=ctx, node=node,
                                key=prefix if prefix is not None else ctx.par.object_name or "",
                                operation=Operation.LIST)
    objects: list[dict[str, Any]] = []
    prefixes: list[str] = []
    next_start = None
    if prefix is not None:
        page = await node.read(listing.list_objects, node, admission.principal, admission.bucket.name, prefix=prefix,
                                    delimiter=delimiter, marker=_marker(query), max_keys=limit + 1)
        end = query.get("end")
        entries = [entry for entry in page.entries if not end or entry.key < end]
        if len(entries) > limit:
            next_start = entries[limit].key
            entries = entries[:limit]
        for entry in entries:
            if entry.record is None:
                prefixes.append(entry.key)
            else:
                objects.append(_summary(entry.record, fields))
    await use.count_use(node, ctx.par)
    ctx.summary = f"listed {len(objects)} object(s) and {len(prefixes)} prefix(es) under {prefix or ''!r}"
    answer: dict[str, Any] = {"objects": objects}
    if delimiter:
        answer["prefixes"] = prefixes
    if next_start is not None:
        answer["nextStartWith"] = next_start
    return Response(200, [("Content-Type", "application/json")], orjson.dumps(answer))


async def _zip(node: Node, ctx: ParContext) -> Response:
    query = _names(no_query(ctx.request, _ZIP_QUERY))
    if query["format"] != "zip":
        raise InvalidArgument("format must be zip.")
    prefix = use.listing_prefix(ctx.par, query.get("prefix", ""))
    if prefix is None:
        raise InvalidArgument("The prefix lies outside the pre-authenticated request's scope.")
    admission = await node.read(admit, ctx=ctx, node=node, key=prefix, operation=Operation.LIST)
    if not ctx.par.access_type.reads:
        raise AccessDenied("An archive needs a read access type.")
    answer = await node.read(archive.response, node, ctx, admission, prefix)  # it lists the store: off the loop
    await use.count_use(node, ctx.par)
    return answer
