"""The Swift router as a table: (method, path, query, headers) → endpoint or the refusal's status."""

from __future__ import annotations

import pytest

from satchel.swift.errors import SwiftError
from satchel.swift.router import (
    ALLOWED,
    OPERATIONS,
    SwiftEndpoint,
    Target,
    check_object_name,
    operation,
    refuse_unsupported_query,
    route,
)

TOKEN = {"x-auth-token": "AUTH_tkx"}
FORM = {"content-type": "multipart/form-data; boundary=x"}

ROUTES = [
    ("GET", "/auth/v1.0", {}, {}, SwiftEndpoint(Target.AUTH)),
    ("GET", "/info", {}, {}, SwiftEndpoint(Target.INFO)),
    ("HEAD", "/info", {}, TOKEN, SwiftEndpoint(Target.INFO)),
    ("HEAD", "/auth/v1.0/", {}, {}, SwiftEndpoint(Target.AUTH)),
    ("GET", "/v1/AUTH_acme", {}, TOKEN, SwiftEndpoint(Target.ACCOUNT, "acme")),
    ("GET", "/v1/AUTH_acme/", {}, TOKEN, SwiftEndpoint(Target.ACCOUNT, "acme")),
    ("PUT", "/v1/AUTH_acme/photos", {}, TOKEN, SwiftEndpoint(Target.CONTAINER, "acme", "photos")),
    ("GET", "/v1/AUTH_acme/photos/", {}, TOKEN, SwiftEndpoint(Target.CONTAINER, "acme", "photos")),
    ("GET", "/v1/AUTH_acme/photos/a/b/c.jpg", {}, TOKEN, SwiftEndpoint(Target.OBJECT, "acme", "photos", "a/b/c.jpg")),
    ("PUT", "/v1/AUTH_acme/photos/dir/", {}, TOKEN, SwiftEndpoint(Target.OBJECT, "acme", "photos", "dir/")),
    ("COPY", "/v1/AUTH_acme/photos/o", {}, TOKEN, SwiftEndpoint(Target.OBJECT, "acme", "photos", "o")),
    ("GET", "/v1/AUTH_a.b@c/x/ü", {}, TOKEN, SwiftEndpoint(Target.OBJECT, "a.b@c", "x", "ü")),
    # Signed links, with or without a token (Swift's tempurl and formpost run before tempauth).
    ("GET", "/v1/AUTH_acme/photos/o", {"temp_url_sig": "s", "temp_url_expires": "1"}, {},
     SwiftEndpoint(Target.TEMPURL, "acme", "photos", "o")),
    ("PUT", "/v1/AUTH_acme/photos/o", {"temp_url_sig": "s"}, {}, SwiftEndpoint(Target.TEMPURL, "acme", "photos", "o")),
    ("GET", "/v1/AUTH_acme/photos/o", {"temp_url_sig": "s"}, TOKEN,
     SwiftEndpoint(Target.TEMPURL, "acme", "photos", "o")),
    ("POST", "/v1/AUTH_acme/photos", {}, FORM, SwiftEndpoint(Target.FORMPOST, "acme", "photos")),
    ("POST", "/v1/AUTH_acme/photos/pre", {}, FORM, SwiftEndpoint(Target.FORMPOST, "acme", "photos", "pre")),
    ("POST", "/v1/AUTH_acme/photos", {}, {**FORM, **TOKEN}, SwiftEndpoint(Target.FORMPOST, "acme", "photos")),
    ("POST", "/v1/AUTH_acme", {}, FORM, SwiftEndpoint(Target.ACCOUNT, "acme")),
    ("GET", "/v1/AUTH_acme/photos/o", {}, {}, SwiftEndpoint(Target.OBJECT, "acme", "photos", "o")),  # anonymous
]


@pytest.mark.parametrize(("method", "path", "query", "headers", "expected"), ROUTES,
                         ids=[f"{m} {p} {sorted(q)} {sorted(h)}" for m, p, q, h, _ in ROUTES])
def test_routes(method: str, path: str, query: dict[str, str], headers: dict[str, str],
                expected: SwiftEndpoint) -> None:
    assert route(method, path, query, headers) == expected


def test_operations_are_a_fixed_set() -> None:
    """The metrics' operation label of every request is one of OPERATIONS, never ``unknown`` (attack finding)."""
    seen = {operation(method, route(method, path, query, headers)) for method, path, query, headers, _ in ROUTES}
    seen |= {operation(method, SwiftEndpoint(target, "a", "c", "o")) for target in Target
             for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "PATCH", "BREW")
             if target not in ALLOWED or method in ALLOWED[target]}
    seen.add(operation("GET", None))
    assert seen <= OPERATIONS
    assert {"GET object", "PUT container", "tempurl GET", "tempurl other", "formpost", "auth", "refused"} <= seen


REFUSALS = [
    ("GET", "/auth/v2.0", 404),
    ("POST", "/auth/v1.0", 405),
    ("GET", "/v1", 404),
    ("GET", "/v1/", 404),
    ("GET", "/v1/acme", 404),
    ("GET", "/v1/AUTH_", 404),
    ("GET", "/v1/AUTH_acme//o", 404),
    ("PUT", "/v1/AUTH_acme", 405),
    ("DELETE", "/v1/AUTH_acme", 405),
    ("COPY", "/v1/AUTH_acme/c", 405),
    ("PATCH", "/v1/AUTH_acme/c/o", 405),
    ("GET", "/v1/AUTH_acme/c/\udcff", 412),
    ("GET", "/v1/AUTH_acme/c/a\x00b", 412),
    ("GET", "/v1/AUTH_acme/c/" + "k" * 1025, 400),
]


@pytest.mark.parametrize(("method", "path", "status"), REFUSALS, ids=[f"{m} {p[:40]!r}" for m, p, _ in REFUSALS])
def test_refusals(method: str, path: str, status: int) -> None:
    with pytest.raises(SwiftError) as caught:
        route(method, path, {}, TOKEN)
    assert caught.value.status == status


def test_405_says_what_is_allowed() -> None:
    with pytest.raises(SwiftError) as caught:
        route("PUT", "/v1/AUTH_acme", {}, TOKEN)
    assert caught.value.headers == [("Allow", "GET, HEAD, POST")]


@pytest.mark.parametrize(("method", "target", "query", "refused"), [
    ("POST", Target.ACCOUNT, {"bulk-delete": ""}, True),
    ("PUT", Target.OBJECT, {"extract-archive": "tar"}, True),
    ("PUT", Target.CONTAINER, {"extract-archive": "tar.gz"}, True),
    ("PUT", Target.OBJECT, {"multipart-manifest": "put"}, True),
    ("GET", Target.OBJECT, {"multipart-manifest": "get"}, False),
    ("HEAD", Target.OBJECT, {"multipart-manifest": "GET"}, False),
    ("DELETE", Target.OBJECT, {"multipart-manifest": "delete"}, False),
    ("GET", Target.CONTAINER, {"multipart-manifest": "get"}, True),
    ("HEAD", Target.OBJECT, {"symlink": "get"}, False),
    ("PUT", Target.OBJECT, {"symlink": "get"}, True),
    ("GET", Target.CONTAINER, {"versions": ""}, True),
    ("DELETE", Target.OBJECT, {"version-id": "1"}, True),
    ("GET", Target.CONTAINER, {"format": "json", "prefix": "a"}, False),
])
def test_middleware_queries(method: str, target: Target, query: dict[str, str], refused: bool) -> None:
    if refused:
        with pytest.raises(SwiftError) as caught:
            refuse_unsupported_query(method, target, query)
        assert caught.value.status == 400 and "not supported" in (caught.value.message or "")
    else:
        refuse_unsupported_query(method, target, query)


@pytest.mark.parametrize(("name", "status"), [("a\x00b", 412), ("\udcff", 412), ("x" * 1025, 400), ("é" * 513, 400),
                                              ("x" * 1024, None), ("a/b c", None)])
def test_object_names(name: str, status: int | None) -> None:
    if status is None:
        check_object_name(name)
        return
    with pytest.raises(SwiftError) as caught:
        check_object_name(name)
    assert caught.value.status == status
