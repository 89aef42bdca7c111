"""S3 bucket naming: which names a bucket may have, wherever it is created (S3, the management API).

The first path segments in :data:`RESERVED_PREFIXES` belong to Satchel's other front-ends on the same
port (management API, pre-authenticated requests, Swift, its ``/auth/v1.0`` and ``/info``, the console's
share pages ``/s/``), so they can never be buckets.
"""

from __future__ import annotations

import re

RESERVED_PREFIXES: frozenset[str] = frozenset({"_satchel", "p", "v1", "auth", "info", "s"})

_IP_ADDRESS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Prefixes and suffixes AWS reserves for its own naming schemes (access points, directory and
# table buckets, documentation examples): refusing them keeps our names portable to AWS.
_RESERVED_NAME_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_NAME_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def valid_bucket_name(name: str) -> bool:
    """S3 general-purpose bucket naming rules, plus Satchel's reserved path prefixes."""
    return (
        _BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and _IP_ADDRESS.fullmatch(name) is None
        and not name.startswith(_RESERVED_NAME_PREFIXES)
        and not name.endswith(_RESERVED_NAME_SUFFIXES)
        and name not in RESERVED_PREFIXES
    )
