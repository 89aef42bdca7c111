"""CORS as S3 does it: preflights answered from the bucket's rules without any signature, and the
``Access-Control-*`` headers added to real responses whose Origin a rule allows.

Rules are tried in order; the first whose origin, method and requested headers all match wins.
``*`` works as a wildcard in origins and headers (one ``*`` anywhere, as S3 allows).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from satchel.asgi import Request, Response
from satchel.core.errors import CORSBadRequest, CORSForbidden, NoSuchBucket
from satchel.core.models import CorsRule
from satchel.core.node import Node


def _match(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if "*" in pattern:
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return pattern.lower() == value.lower()


def find_rule(
    rules: tuple[CorsRule, ...] | None, origin: str, method: str, request_headers: list[str]
) -> CorsRule | None:
    for rule in rules or ():
        if not any(_match(o, origin) for o in rule.allowed_origins):
            continue
        if method not in rule.allowed_methods:
            continue
        if all(any(_match(h, wanted) for h in rule.allowed_headers) for wanted in request_headers):
            return rule
    return None


def _allow_headers(rule: CorsRule, origin: str) -> list[tuple[str, str]]:
    wildcard = "*" in rule.allowed_origins
    out = [
        ("Access-Control-Allow-Origin", "*" if wildcard else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
    ]
    if not wildcard:
        out.append(("Access-Control-Allow-Credentials", "true"))
        out.append(("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"))
    if rule.expose_headers:
        out.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        out.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    return out


def preflight(node: Node, bucket_name: str | None, headers: Mapping[str, str]) -> Response:
    """Answer an OPTIONS preflight; 403 AccessForbidden when no rule allows it.

    Without ``Origin`` or ``Access-Control-Request-Method`` it is no preflight: 400 BadRequest, as S3
    answers (ceph s3-tests ``test_cors_origin_response``), before the bucket is even looked up."""
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    if not origin:
        raise CORSBadRequest()
    if not method:
        raise CORSBadRequest("Invalid Access-Control-Request-Method: null")
    if bucket_name is None:
        raise CORSForbidden()
    bucket = node.bucket(bucket_name)
    if bucket is None:
        raise NoSuchBucket(BucketName=bucket_name)
    requested = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()]
    rule = find_rule(bucket.cors, origin, method, requested)
    if rule is None:
        raise CORSForbidden(Method=method, ResourceType="OBJECT")
    out = _allow_headers(rule, origin)
    if requested:
        out.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    return Response(200, out)


def response_headers(node: Node, bucket_name: str, request: Request) -> list[tuple[str, str]]:
    """CORS headers for an actual (non-preflight) request carrying an Origin."""
    bucket = node.bucket(bucket_name)
    if bucket is None or not bucket.cors:
        return []
    origin = request.headers["origin"]
    rule = find_rule(bucket.cors, origin, request.method, [])
    return _allow_headers(rule, origin) if rule else []
