"""The OpenAPI document of the management API checked against a running server (issue 13), with
schemathesis: for every operation it generates requests from the document, signs each one with SigV4 as
any SDK would (botocore's signer, through a requests auth hook), sends it to a fresh server of this file's
own, and checks that the server never answers 5xx and that each answer's status, content type and body
are what the document says; then it sends bodies the document calls invalid (wrong types, missing or
undocumented fields, numbers out of range), which must all be refused with a 4xx. A second pass does the
same with a console session (cookie + CSRF token), a third on a bucket that exists.

Bounded for ``make test``: a few examples per operation, derandomized (the same cases every run), no
example database. ``SATCHEL_OPENAPI_EXAMPLES`` raises the count for a longer hunt.

Separately, every JSON request schema is closed (``additionalProperties: false``, nested objects too) and
the server refuses a body that carries one field the document does not name with 400 InvalidArgument,
whatever else the body holds: undocumented fields are never ignored.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.clients import mgmt
from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess, configured_server

PREFIX = "/_satchel/api"
EXAMPLES = int(os.environ.get("SATCHEL_OPENAPI_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: For data the document says is invalid (a wrong type, a missing or undocumented field, a number out of
#: range): it must be refused (a 4xx), never accepted or a 5xx.
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
TIMEOUT = 30


#: What schemathesis generates for the document's security schemes (random values): each auth below puts
#: the real credentials of its way in instead.
_GENERATED_AUTH = ("Authorization", "Cookie", "X-CSRF-Token")


def _without_generated_auth(prepared: requests.PreparedRequest) -> None:
    for name in _GENERATED_AUTH:
        prepared.headers.pop(name, None)


class SigV4(requests.auth.AuthBase):
    """Signs a prepared request as botocore signs S3 calls: the body's SHA-256 signed too."""

    def __init__(self, access_key: str, secret_key: str, region: str) -> None:
        self.credentials = BotoCredentials(access_key, secret_key)
        self.region = region

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        _without_generated_auth(prepared)
        raw = prepared.body or b""
        body = raw.encode() if isinstance(raw, str) else raw
        assert isinstance(body, bytes), "schemathesis sends whole bodies"
        request = AWSRequest(method=prepared.method, url=prepared.url, data=body,
                             headers={k: v for k, v in prepared.headers.items()
                                      if k.lower() not in ("authorization", "x-amz-date", "x-amz-content-sha256")})
        request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        S3SigV4Auth(self.credentials, "s3", self.region).add_auth(request)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"):
            prepared.headers[name] = request.headers[name]
        return prepared


class ConsoleSession(requests.auth.AuthBase):
    """A signed-in console: the session cookie, and the CSRF token on every call."""

    def __init__(self, cookie: str, csrf_token: str) -> None:
        self.cookie, self.csrf_token = cookie, csrf_token

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        _without_generated_auth(prepared)
        prepared.headers["Cookie"] = f"satchel_session={self.cookie}"
        prepared.headers["X-CSRF-Token"] = self.csrf_token
        return prepared


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    """A server of this file's own: generated calls create and delete users, keys, accounts and buckets, and
    fail to sign in (with random names and passwords) more often than the default lockout allows."""
    return configured_server(tmp_path_factory, request, "openapi", "console_max_failures = 100000\n")


@pytest.fixture(scope="module")
def document(server: SatchelProcess) -> dict[str, Any]:
    reply = requests.get(f"{server.endpoint}{PREFIX}/openapi.json", timeout=TIMEOUT)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    return dict(reply.json())


@pytest.fixture(scope="module")
def stocked(server: SatchelProcess) -> str:
    """A bucket with an object, a minted link, a PAR, a grant and a revocation, so that the listings the
    generated calls read hold entries whose every field is checked against the document."""
    bucket = f"openapi-{uuid.uuid4().hex[:12]}"
    mgmt.ok(mgmt.call(server, None, "POST", "/buckets", {"name": bucket}))
    make_client(server).put_object(Bucket=bucket, Key="folder/object.txt", Body=b"kept")
    mgmt.ok(mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["folder/object.txt"]}))
    mgmt.ok(mgmt.call(server, None, "POST", "/pars", {
        "bucket": bucket, "name": "p", "accessType": "ObjectRead", "objectName": "folder/object.txt",
        "timeExpires": "2999-01-01T00:00:00Z"}))
    reader = server.create_user(f"r{uuid.uuid4().hex[:10]}")
    mgmt.ok(mgmt.call(server, None, "POST", "/grants", {"user": reader.user, "bucket": bucket, "permission": "read"}))
    mgmt.ok(mgmt.call(server, None, "POST", "/revocations", {"scope": "prefix", "bucket": bucket, "target": "old/"}))
    return bucket


@pytest.fixture(scope="module")
def signed(server: SatchelProcess) -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = SigV4(server.root.access_key, server.root.secret_key, server.region)
    yield session
    session.close()


@pytest.fixture(scope="module")
def console(server: SatchelProcess) -> Iterator[requests.Session]:
    answer = requests.post(f"{server.endpoint}{PREFIX}/session", json={"user": "root", "password": server.password},
                           timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.auth = ConsoleSession(answer.cookies["satchel_session"] or "", answer.json()["csrf_token"])
    yield session
    session.close()


#: Operations that end the caller's own way in: signing out mid-run would leave the other cases unsigned.
_SKIP = {("DELETE", f"{PREFIX}/session")}


def _conformance_failures(server: SatchelProcess, document: dict[str, Any], session: requests.Session,
                          statuses: dict[str, set[int]], bucket: str | None = None,
                          mode: GenerationMode = GenerationMode.POSITIVE) -> list[str]:
    """Every operation's failures (all of them, not the first), and the statuses each one answered. With
    ``bucket``, only the operations on a bucket, on that one (which exists, so answers are not all 404)."""
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the document itself is broken there: report it, check the others
            failures.append(f"invalid operation: {result.err()}"[:2000])
            continue
        operation = result.ok()
        if (operation.method.upper(), operation.path) in _SKIP:
            continue
        if bucket is not None and "{bucket}" not in operation.path:
            continue
        if mode.is_negative and "application/json" not in operation.definition.raw.get("requestBody", {}).get(
                "content", {}):
            continue  # only bodies are worth negating: path and query parameters are free strings
        fixed = {"bucket": bucket} if bucket is not None else None

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode, path_parameters=fixed))
        def run(case: Any) -> None:
            response = case.call(base_url=server.endpoint, session=session, timeout=TIMEOUT)
            statuses.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
            case.validate_response(response, checks=NEGATIVE_CHECKS if mode.is_negative else CHECKS)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    return failures


#: Calls that must have succeeded at least once in a run: proof that the cases were signed and accepted,
#: not all refused (an error answer conforms to the document too).
MUST_SUCCEED = ("GET /_satchel/api/whoami", "GET /_satchel/api/accounts", "GET /_satchel/api/buckets",
                "GET /_satchel/api/users", "GET /_satchel/api/access-keys", "GET /_satchel/api/capabilities")


#: The same on the bucket the file makes (GET /buckets/{bucket} and its settings answer 200 then).
MUST_SUCCEED_ON_BUCKET = ("GET /_satchel/api/buckets/{bucket}", "GET /_satchel/api/buckets/{bucket}/link-policy",
                          "GET /_satchel/api/buckets/{bucket}/objects", "GET /_satchel/api/buckets/{bucket}/par-policy")


def _check(server: SatchelProcess, document: dict[str, Any], session: requests.Session,
           bucket: str | None = None) -> None:
    statuses: dict[str, set[int]] = {}
    failures = _conformance_failures(server, document, session, statuses, bucket)
    negative: dict[str, set[int]] = {}
    failures += _conformance_failures(server, document, session, negative, bucket, GenerationMode.NEGATIVE)
    assert not failures, "\n\n".join(failures)
    for name, found in (("valid", statuses), ("invalid", negative)):  # what -s shows
        print(name, {call: sorted(seen) for call, seen in sorted(found.items())})
    for name in MUST_SUCCEED_ON_BUCKET if bucket else MUST_SUCCEED:
        assert 200 in statuses.get(name, set()), (name, statuses.get(name))


def test_every_operation_conforms_with_sigv4(server: SatchelProcess, document: dict[str, Any],
                                             signed: requests.Session, stocked: str) -> None:
    _check(server, document, signed)


def test_every_operation_conforms_with_a_console_session(server: SatchelProcess, document: dict[str, Any],
                                                         console: requests.Session, stocked: str) -> None:
    _check(server, document, console)


def test_every_bucket_operation_conforms_on_a_real_bucket(server: SatchelProcess, document: dict[str, Any],
                                                         signed: requests.Session, stocked: str) -> None:
    _check(server, document, signed, stocked)


# --- undocumented fields are refused ----------------------------------------------------------------------
def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _open_objects(document: dict[str, Any], schema: dict[str, Any], where: str) -> Iterator[str]:
    """Every object schema reachable from ``schema`` that lets an undocumented field through."""
    schema = _resolve(document, schema)
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        yield where
    for name, inner in schema.get("properties", {}).items():
        yield from _open_objects(document, inner, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _open_objects(document, schema["items"], f"{where}[]")


def _json_request_schemas(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found[(method.upper(), path.removeprefix(PREFIX))] = content["application/json"]["schema"]
    return found


def test_every_json_request_schema_is_closed(document: dict[str, Any]) -> None:
    schemas = _json_request_schemas(document)
    assert len(schemas) >= 19
    open_ones = [where for (method, path), schema in schemas.items()
                 for where in _open_objects(document, schema, f"{method} {path}")]
    assert not open_ones


BUCKET = f"openapi-fields-{uuid.uuid4().hex[:8]}"
FAR_FUTURE = "2999-01-01T00:00:00Z"
#: One valid body for each route that takes JSON (path parameters: ``{bucket}`` is BUCKET, ``{name}`` a user
#: of the file's own, ``{id}`` the root key for /access-keys, anything for the others).
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/links"): {"bucket": BUCKET, "keys": ["k"]},
    ("POST", "/revocations"): {"scope": "bucket", "target": BUCKET},
    ("POST", "/buckets"): {"name": f"openapi-new-{uuid.uuid4().hex[:8]}"},
    ("PUT", "/buckets/{bucket}/link-policy"): {"max_link_lifetime": 600},
    ("POST", "/pars"): {"bucket": BUCKET, "name": "p", "accessType": "ObjectRead", "objectName": "k",
                        "timeExpires": FAR_FUTURE},
    ("PUT", "/buckets/{bucket}/par-policy"): {"inlineActiveTypes": False},
    ("POST", "/session"): {"user": "root", "password": "not the password"},
    ("PUT", "/buckets/{bucket}/settings"): {"public_read": False},
    ("POST", "/buckets/{bucket}/uploads/{upload_id}/complete"): {"parts": [{"part": 1, "etag": "e"}]},
    ("POST", "/access-keys"): {"user": None},
    ("PUT", "/access-keys/{id}"): {"status": "active"},
    ("POST", "/users"): {"name": f"new{uuid.uuid4().hex[:8]}"},
    ("PUT", "/users/{name}"): {"role": "member"},
    ("POST", "/grants"): {"user": "root", "bucket": BUCKET, "permission": "read"},
    ("PUT", "/buckets/{bucket}/tempurl-key"): {"slot": 1},
    ("POST", "/shares"): {"link_id": "0" * 32},
    ("POST", "/accounts"): {"name": f"acct{uuid.uuid4().hex[:8]}"},
    ("PUT", "/buckets/{bucket}/owner"): {"owner": "account"},
    ("PUT", "/buckets/{bucket}/cors"): {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]},
    ("PUT", "/buckets/{bucket}/webhook"): {"url": "https://receiver.example/hook"},
    ("PUT", "/accounts/{name}/public-access-block"): {"block_public_acls": False},
}
#: Objects nested in a body, each also closed: the path to one inside a valid body.
NESTED = {("POST", "/buckets/{bucket}/uploads/{upload_id}/complete"): ("parts", 0),
          ("PUT", "/buckets/{bucket}/cors"): ("CORSRules", 0)}


def test_every_json_route_has_a_case(document: dict[str, Any]) -> None:
    assert set(_json_request_schemas(document)) == set(VALID_BODIES)


@pytest.fixture(scope="module")
def targets(server: SatchelProcess) -> dict[str, str]:
    mgmt.ok(mgmt.call(server, None, "POST", "/buckets", {"name": BUCKET}))
    return {"bucket": BUCKET, "name": server.create_user(f"f{uuid.uuid4().hex[:10]}").user,
            "id": server.root.access_key, "upload_id": "0" * 32}


def _refused(server: SatchelProcess, signed: requests.Session, targets: dict[str, str], route: tuple[str, str],
             sent: dict[str, Any]) -> None:
    method, path = route
    reply = signed.request(method, f"{server.endpoint}{PREFIX}{path.format(**targets)}", json=sent, timeout=TIMEOUT)
    assert (reply.status_code, mgmt.error_code(reply)) == (400, "InvalidArgument"), reply.text
    assert "x-undocumented" in reply.json()["error"]["message"]


@pytest.mark.parametrize("route", sorted(VALID_BODIES), ids=[f"{m} {p}" for m, p in sorted(VALID_BODIES)])
def test_an_undocumented_field_is_refused(server: SatchelProcess, signed: requests.Session, targets: dict[str, str],
                                          route: tuple[str, str]) -> None:
    _refused(server, signed, targets, route, {**VALID_BODIES[route], "x-undocumented": 1})


@pytest.mark.parametrize("route", sorted(NESTED), ids=[f"{m} {p}" for m, p in sorted(NESTED)])
def test_an_undocumented_nested_field_is_refused(server: SatchelProcess, signed: requests.Session,
                                                 targets: dict[str, str], route: tuple[str, str]) -> None:
    body = VALID_BODIES[route]
    name, index = NESTED[route]
    items = [dict(item) for item in body[name]]
    items[index]["x-undocumented"] = 1
    _refused(server, signed, targets, route, {**body, name: items})
