"""Account requests: GET (container listing), HEAD, POST (``X-Account-Meta-*``).

The account is the Satchel account of ``/v1/AUTH_<name>``; what it shows a caller are the containers
(buckets) that caller may see, with their object counts and bytes.
"""

from __future__ import annotations

from satchel.asgi import Response
from satchel.core import swiftmeta
from satchel.core.models import Bucket
from satchel.swift.context import SwiftContext
from satchel.swift.handlers.container import account_buckets
from satchel.swift.headers import meta_headers, x_timestamp
from satchel.swift.listing import CONTENT_TYPES, ContainerRow, ListParams, account_listing, list_params
from satchel.swift.metadata import account_changes, apply_account_meta, tempurl_key_headers


def _headers(ctx: SwiftContext, visible: list[Bucket]) -> list[tuple[str, str]]:
    meta = swiftmeta.account_metadata(ctx.node, ctx.principal, ctx.account)
    objects = used = 0
    for bucket in visible:
        count, size = swiftmeta.usage(ctx.node, ctx.principal, bucket) or (0, 0)
        objects, used = objects + count, used + size
    return [
        ("X-Account-Container-Count", str(len(visible))),
        ("X-Account-Object-Count", str(objects)),
        ("X-Account-Bytes-Used", str(used)),
        ("X-Timestamp", x_timestamp(ctx.account.created)),
        *meta_headers("account", meta),
        *tempurl_key_headers(ctx, None),
    ]


async def head_account(ctx: SwiftContext) -> Response:
    # ACCOUNT_READ before anything is shown
    await ctx.node.read(swiftmeta.account_metadata, ctx.node, ctx.principal, ctx.account)
    visible = await ctx.node.read(account_buckets, ctx)
    return Response(204, [*await ctx.node.read(_headers, ctx, visible), ("Content-Length", "0"),
                          ("Content-Type", CONTENT_TYPES["plain"])])


async def get_account(ctx: SwiftContext) -> Response:
    params = list_params(ctx.request.query_dict, ctx.request.headers, ctx.request.raw_query)
    await ctx.node.read(swiftmeta.account_metadata, ctx.node, ctx.principal, ctx.account)
    visible = await ctx.node.read(account_buckets, ctx)
    headers = await ctx.node.read(_headers, ctx, visible)
    names = _page(params, [bucket.name for bucket in visible])
    by_name = {bucket.name: bucket for bucket in visible}
    rows: list[ContainerRow | str] = []
    for name in names:
        bucket = by_name.get(name)
        if bucket is None:
            rows.append(name)  # a common prefix
            continue
        # A bucket the caller may read only part of (a prefix grant) shows no figures: they would tell
        # about keys outside the prefix.
        usage = await ctx.node.read(swiftmeta.usage, ctx.node, ctx.principal, bucket)
        count, size = usage or (0, 0)
        rows.append(ContainerRow(name, count, size, bucket.created))
    headers.append(("Content-Type", CONTENT_TYPES[params.format]))
    if not rows and params.format == "plain":
        return Response(204, headers)
    return Response(200, headers, account_listing(params.format, f"AUTH_{ctx.account.name}", rows))


def _page(params: ListParams, names: list[str]) -> list[str]:
    """prefix, delimiter, marker, end_marker, reverse and limit over the (sorted, bounded) bucket names."""
    out: list[str] = []
    if params.limit == 0:
        return out
    for name in sorted(names, reverse=params.reverse):
        if not name.startswith(params.prefix):
            continue
        if params.delimiter:
            cut = name.find(params.delimiter, len(params.prefix))
            if cut >= 0:
                name = name[: cut + 1]
        if out and out[-1] == name:
            continue
        if params.reverse:
            if (params.marker and name >= params.marker) or (params.end_marker and name <= params.end_marker):
                continue
        elif (params.marker and name <= params.marker) or (params.end_marker and name >= params.end_marker):
            continue
        out.append(name)
        if len(out) >= params.limit:
            break
    return out


async def post_account(ctx: SwiftContext) -> Response:
    await apply_account_meta(ctx, account_changes(ctx.request.headers))
    return Response(204)
