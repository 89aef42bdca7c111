"""The S3 front-end's request facts for bucket policy conditions: built once from the request as the server
saw it (client address and scheme after the trusted-proxy rule), its signature and its S3 keys."""

from __future__ import annotations

from typing import Any

from satchel.asgi import Request
from satchel.core.models import ANONYMOUS
from satchel.core.requestfacts import AUTH_HEADER, AUTH_QUERY, SIGV2, SIGV4
from satchel.s3.auth import AuthMethod, AuthResult
from satchel.s3.endpoints import Endpoint, Op
from satchel.s3.policyfacts import post_facts, s3_facts


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _request(query: str = "", headers: tuple[tuple[str, str], ...] = (), scheme: str = "http",
             client: str = "192.0.2.4") -> Request:
    scope = {"type": "http", "method": "GET", "path": "/b", "raw_path": b"/b", "query_string": query.encode(),
             "headers": [(k.encode(), v.encode()) for k, v in headers], "scheme": scheme, "client": (client, 5000)}
    return Request(scope, _receive)


def test_header_signed_listing() -> None:
    request = _request("list-type=2&prefix=home%2Fbob%2F&max-keys=50&delimiter=%2F",
                       (("user-agent", "aws-cli/2"), ("referer", "https://example.com/")), scheme="https")
    facts = s3_facts(request, Endpoint(Op.ListObjectsV2, "b", None), AuthResult(ANONYMOUS, AuthMethod.HEADER_V4),
                     now=100.0)
    assert (facts.source_ip, facts.secure, facts.auth_type, facts.signature_version) == (
        "192.0.2.4", True, AUTH_HEADER, SIGV4)
    assert (facts.user_agent, facts.referer, facts.operation) == ("aws-cli/2", "https://example.com/", "ListObjectsV2")
    assert (facts.key("s3:prefix"), facts.key("s3:max-keys"), facts.key("s3:delimiter")) == ("home/bob/", "50", "/")
    assert facts.signed_at is None and facts.signature_age_ms is None  # only links have a signature age


def test_presigned_url_with_a_hoisted_header() -> None:
    request = _request("X-Amz-Date=20270101T000000Z&x-amz-acl=public-read", (("x-amz-storage-class", "STANDARD"),))
    auth = AuthResult(ANONYMOUS, AuthMethod.QUERY_V4, issued_at=90.0)
    facts = s3_facts(request, Endpoint(Op.PutObject, "b", "k"), auth, now=100.5)
    assert (facts.auth_type, facts.signature_version, facts.signature_age_ms) == (AUTH_QUERY, SIGV4, 10500.0)
    assert facts.key("s3:x-amz-acl") == "public-read"
    assert facts.key("s3:x-amz-storage-class") == "STANDARD"
    assert not facts.secure


def test_anonymous_and_post() -> None:
    facts = s3_facts(_request(), Endpoint(Op.GetObject, "b", "k"), AuthResult(ANONYMOUS, AuthMethod.ANONYMOUS),
                     now=1.0)
    assert facts.auth_type is None and facts.signature_version is None
    posted = post_facts(facts, sigv4=False, signed_at=0.5)
    assert posted is not None and (posted.auth_type, posted.signature_version) == ("POST", SIGV2)
    assert post_facts(None, sigv4=True, signed_at=None) is None
