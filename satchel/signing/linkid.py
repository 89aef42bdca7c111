"""The registry id a minted link carries, read with the same rules its signature used.

A minted S3 link is a standard presigned URL plus ``x-amz-satchel-link-id=<id>``. Both signatures
cover it, but by different rules: SigV4 signs the query exactly (a name spelled differently is another,
equally signed, parameter), while SigV2 lower-cases ``x-amz-*`` query names and lets a header of the
same name stand in for the parameter. Whatever the spelling or placement, the id the registry checks
must be the one the signature covered, so the verifiers call :func:`signed_link_id` once and pass the
value on; nothing downstream reads the raw query again.

One rule for both protocols: every query parameter whose name equals ``x-amz-satchel-link-id``
ignoring case, and the header of that name, are claims to a link id. They must agree; two different
values are refused rather than resolved (either choice would let a signer's URL be read as another
link, or as no link at all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from satchel.core.errors import InvalidArgument

LINK_ID_PARAM = "x-amz-satchel-link-id"


def link_id_claims(query: Sequence[tuple[str, str]], headers: Mapping[str, str]) -> set[str]:
    """Every value offered as the link id, in any spelling or placement."""
    values = {value for name, value in query if name.lower() == LINK_ID_PARAM}
    header = headers.get(LINK_ID_PARAM)
    if header is not None:
        values.add(header.strip())
    return values


def signed_link_id(query: Sequence[tuple[str, str]], headers: Mapping[str, str]) -> str | None:
    """The link id of a verified request, or None; InvalidArgument when the claims disagree."""
    values = link_id_claims(query, headers)
    if len(values) > 1:
        raise InvalidArgument(
            f"The {LINK_ID_PARAM} parameter was given more than once with different values.",
            ArgumentName=LINK_ID_PARAM,
        )
    return values.pop() if values else None
