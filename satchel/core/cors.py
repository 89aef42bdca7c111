"""A bucket's CORS rules as S3 accepts them (PutBucketCors), whichever front-end sets them: the S3 API's
XML (``s3/xml.py``) and the management API's JSON (``admin/nodeschemas.py``) both build their rules with
:func:`cors_rule`, so both refuse the same values with S3's own messages.

Each wire checks its own shape (a rule without AllowedOrigin or AllowedMethod, more than
:data:`MAX_CORS_RULES` rules, a MaxAgeSeconds that is not a whole number up to :data:`MAX_AGE_SECONDS`):
MalformedXML in S3, 400 InvalidArgument in JSON. The values go back out in ``Access-Control-*`` headers
(``s3/cors.py``), so anything that is not a header value (origins) or a field name (headers) is refused
here, never encoded on the way out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from satchel.core.errors import InvalidArgument, InvalidRequest
from satchel.core.models import CorsRule

MAX_CORS_RULES = 100
#: The most bytes a CORS configuration document may have, AWS's limit (64 KB): the S3 API's XML and the
#: management API's JSON alike, so neither wire stores what the other would refuse.
MAX_CORS_CONFIG_BYTES = 64 * 1024
CORS_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
#: S3's MaxAgeSeconds is an integer; ours has at most 9 digits (the XML parser's bound).
MAX_AGE_SECONDS = 999_999_999
MAX_ID_LENGTH = 255
#: An origin is visible US-ASCII (a serialized origin, or a pattern with one ``*``); header names are
#: RFC 9110 tokens (``*`` is a token character).
_ORIGIN = re.compile(r"[\x21-\x7e]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]*")


def cors_rule(*, origins: Sequence[str], methods: Sequence[str], headers: Sequence[str] = (),
              expose: Sequence[str] = (), max_age: int | None = None, rule_id: str | None = None) -> CorsRule:
    """One rule, its values checked as S3 checks them (InvalidRequest / InvalidArgument with S3's text)."""
    for method in methods:
        if method not in CORS_METHODS:
            raise InvalidRequest(f"Found unsupported HTTP method in CORS config. Unsupported method is {method}")
    for kind, values, allowed in (("AllowedOrigin", origins, _ORIGIN), ("AllowedHeader", headers, _HEADER_NAME),
                                  ("ExposeHeader", expose, _HEADER_NAME)):
        for value in values:
            if not allowed.fullmatch(value):
                raise InvalidRequest(f'{kind} "{value}" contains invalid character.')
            if value.count("*") > 1:
                raise InvalidRequest(f'{kind} "{value}" can not have more than one wildcard.')
    for value in expose:
        if "*" in value:
            raise InvalidRequest(
                f'ExposeHeader "{value}" contains wildcard. We currently do not support wildcard for ExposeHeader.'
            )
    if rule_id is not None and len(rule_id) > MAX_ID_LENGTH:
        raise InvalidArgument(f"ID length should not exceed allowed limit of {MAX_ID_LENGTH}")
    return CorsRule(allowed_origins=tuple(origins), allowed_methods=tuple(methods), allowed_headers=tuple(headers),
                    expose_headers=tuple(expose), max_age_seconds=max_age, id=rule_id)
