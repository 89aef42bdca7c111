"""PutBucketVersioning, GetBucketVersioning, ListObjectVersions, and the version headers of answers."""

from __future__ import annotations

from collections.abc import Mapping

from satchel.asgi import Response
from satchel.core import versioning
from satchel.core.errors import NotImplementedFeature
from satchel.core.models import ObjectRecord
from satchel.core.node import Node
from satchel.s3 import versioning_xml, xml
from satchel.s3.body import read_document
from satchel.s3.context import S3Context
from satchel.s3.handlers.listing import XML, encoding_type, max_keys
from satchel.s3.xml import _el


def version_headers(version_id: str | None, delete_marker: bool = False) -> list[tuple[str, str]]:
    """``x-amz-version-id`` (and ``x-amz-delete-marker``) of an answer; none in a bucket never versioned."""
    out = [("x-amz-version-id", version_id)] if version_id is not None else []
    if delete_marker:
        out.append(("x-amz-delete-marker", "true"))
    return out


def written_version_headers(version_id: str | None) -> list[tuple[str, str]]:
    """``x-amz-version-id`` of a write's answer: only for a real version id. A write while versioning is
    suspended (the ``null`` version) answers none, as AWS does (ceph/s3-tests checks it)."""
    return version_headers(version_id if version_id != "null" else None)


async def source_version_headers(node: Node, source: ObjectRecord) -> list[tuple[str, str]]:
    """``x-amz-copy-source-version-id`` of a copy: the version read, in a versioned source bucket (``null``
    for an object written there before versioning, as a GET of it says)."""
    version_id = await node.read(versioning.shown_version_id, node, source)
    return [("x-amz-copy-source-version-id", version_id)] if version_id is not None else []


def deleted_versions(outcomes: Mapping[int, tuple[str | None, versioning.Deleted]]) -> dict[int, str]:
    """DeleteObjects' version elements per ``<Deleted>`` entry: the version removed (when one was
    named) or the delete marker made, as AWS writes them."""
    out: dict[int, str] = {}
    for index, (asked, outcome) in outcomes.items():
        if asked is not None:
            marker = f"<DeleteMarker>true</DeleteMarker>{_el('DeleteMarkerVersionId', asked)}" \
                if outcome.delete_marker else ""
            out[index] = f"{_el('VersionId', asked)}{marker}"
        elif outcome.version_id is not None:
            out[index] = f"<DeleteMarker>true</DeleteMarker>{_el('DeleteMarkerVersionId', outcome.version_id)}"
    return out


async def get_bucket_versioning(node: Node, ctx: S3Context) -> Response:
    state = await node.read(versioning.get_state, node, ctx.auth.principal, ctx.bucket)
    return Response(200, [XML], versioning_xml.versioning_configuration(state))


async def put_bucket_versioning(node: Node, ctx: S3Context) -> Response:
    if "x-amz-mfa" in ctx.request.headers:
        raise NotImplementedFeature("Satchel does not implement MFA delete.", Header="x-amz-mfa")
    state = versioning_xml.parse_versioning(await read_document(ctx, xml.MAX_CONFIG_XML))
    await versioning.put_state(node, ctx.auth.principal, ctx.bucket, state)
    return Response(200)


def _owner_names(node: Node, page: versioning.VersionPage) -> dict[str, str]:
    owners: dict[str, str] = {}
    for entry in page.entries:
        if entry.owner_user_id and entry.owner_user_id not in owners:
            owners[entry.owner_user_id] = node.store.user_name(entry.owner_user_id)
    return owners


async def list_object_versions(node: Node, ctx: S3Context) -> Response:
    query = ctx.request.query_dict
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    key_marker = query.get("key-marker") or None
    version_id_marker = query.get("version-id-marker") or None
    limit = max_keys(query)
    encoding = encoding_type(query)
    page = await node.read(versioning.list_versions, node, ctx.auth.principal, ctx.bucket, prefix=prefix,
                           delimiter=delimiter, key_marker=key_marker, version_id_marker=version_id_marker,
                           max_keys=limit)
    owners: dict[str, str] = await node.read(_owner_names, node, page)
    body = versioning_xml.list_versions(ctx.bucket, page, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
                                        version_id_marker=version_id_marker, max_keys=limit,
                                        encoding_type=encoding, owners=owners)
    return Response(200, [XML], body)
