"""``GET /info``: Swift's capabilities (``swift capabilities``, ``swiftclient.client.get_capabilities``).

Clients read it to decide what to use (swiftclient sends bulk deletes and SLO uploads only to a cluster
that lists ``bulk_delete`` / ``slo``), so it names exactly what this server serves and the limits it
enforces, and nothing else: no ``bulk_delete``, ``bulk_upload``, ``slo``, ``dlo``, ``symlink``,
``versioned_writes``, ``container_quotas``, ``staticweb``.
"""

from __future__ import annotations

import json

from satchel.asgi import Response
from satchel.core import swiftmeta
from satchel.core.node import Node
from satchel.signing import tempurl as signing
from satchel.swift import headers, listing, router
from satchel.swift.metadata import STORAGE_POLICY

#: Container names are bucket names.
MAX_CONTAINER_NAME_LENGTH = 63


def capabilities(node: Node) -> dict[str, object]:
    allowed = sorted(node.settings.tempurl_allowed_digests)
    deprecated = sorted(signing.DEPRECATED_DIGESTS & set(allowed))
    return {
        "swift": {
            "version": "satchel",
            "max_file_size": node.settings.max_put_size,
            "max_meta_name_length": headers.MAX_META_NAME_LENGTH,
            "max_meta_value_length": headers.MAX_META_VALUE_LENGTH,
            "max_meta_count": swiftmeta.MAX_META_COUNT,
            "max_meta_overall_size": swiftmeta.MAX_META_BYTES,
            "max_object_name_length": router.MAX_OBJECT_NAME_BYTES,
            "max_container_name_length": MAX_CONTAINER_NAME_LENGTH,
            "container_listing_limit": listing.LISTING_LIMIT,
            "account_listing_limit": listing.LISTING_LIMIT,
            "valid_api_versions": ["v1"],
            "policies": [{"name": STORAGE_POLICY, "default": True}],
        },
        "tempurl": {
            "methods": list(signing.METHODS),
            "allowed_digests": allowed,
            "deprecated_digests": deprecated,
            "incoming_remove_headers": list(signing.INCOMING_REMOVE_HEADERS),
            "incoming_allow_headers": list(signing.INCOMING_ALLOW_HEADERS),
            "outgoing_remove_headers": list(signing.OUTGOING_REMOVE_HEADERS),
            "outgoing_allow_headers": list(signing.OUTGOING_ALLOW_HEADERS),
        },
        "formpost": {"allowed_digests": allowed, "deprecated_digests": deprecated},
    }


def serve(node: Node) -> Response:
    body = json.dumps(capabilities(node), sort_keys=True).encode()
    return Response(200, [("Content-Type", "application/json; charset=utf-8")], body)
