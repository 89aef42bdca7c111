"""Metadata headers in (limits, removal, refusals, the TempURL keys never stored) and errors out."""

from __future__ import annotations

import pytest

from satchel.core import errors as core
from satchel.core.errors import InvalidArgument
from satchel.swift.errors import SwiftError, error_body, status_of
from satchel.swift.headers import meta_changes, meta_headers, text_in, text_out
from satchel.swift.metadata import PUBLIC_READ_ACL, account_changes, container_changes


def test_meta_changes() -> None:
    headers = {"x-container-meta-color": "blue", "x-container-meta-gone": " ", "x-remove-container-meta-old": "x",
               "x-object-meta-ignored": "1", "content-type": "text/plain"}
    assert meta_changes(headers, "container") == {"color": "blue", "gone": None, "old": None}
    assert meta_changes({"x-remove-object-meta-a": "x", "x-object-meta-b": "2"}, "object") == {"b": "2"}


@pytest.mark.parametrize("headers", [
    {"x-container-meta-" + "n" * 129: "v"},
    {"x-container-meta-big": "v" * 257},
    {f"x-container-meta-k{i}": "v" for i in range(91)},
    {"x-container-meta-bad": "a\nb"},
    {"x-container-meta-bad": "\xff\xfe"},  # the Latin-1 view of bytes that are not UTF-8
    {"x-container-meta-sp(ace)": "v"},
])
def test_meta_refusals(headers: dict[str, str]) -> None:
    with pytest.raises(SwiftError) as caught:
        meta_changes(headers, "container")
    assert caught.value.status == 400 and caught.value.message


def test_utf8_values_round_trip() -> None:
    wire = "bär".encode().decode("latin-1")
    assert text_in(wire, "x") == "bär"
    assert text_out("bär") == wire
    assert meta_headers("object", {"long-name": "bär"}) == [("X-Object-Meta-Long-Name", wire)]


@pytest.mark.parametrize(("level", "header"), [
    ("account", "x-account-meta-temp-url-key"), ("account", "x-account-meta-temp-url-key-2"),
    ("account", "x-remove-account-meta-temp-url-key"), ("container", "x-container-meta-temp-url-key"),
    ("container", "x-remove-container-meta-temp-url-key-2"),
])
def test_tempurl_keys_are_never_metadata(level: str, header: str) -> None:
    parse = account_changes if level == "account" else container_changes
    changes = parse({header: "secret-key-123"})
    name = header.split("-meta-", 1)[1]
    assert changes.meta == {}
    assert changes.tempurl_keys == {name: None if header.startswith("x-remove-") else "secret-key-123"}
    if not header.startswith("x-remove-"):
        with pytest.raises(InvalidArgument):  # no key at all: refused before anything changes
            parse({header: "short"})


def test_container_read_acl() -> None:
    assert container_changes({"x-container-read": ".r:*"}).public is True
    assert container_changes({"x-container-read": " .r:* , .rlistings "}).public is True
    assert container_changes({"x-container-read": PUBLIC_READ_ACL}).public is True
    assert container_changes({"x-container-read": ""}).public is False
    assert container_changes({"x-remove-container-read": "x"}).public is False
    assert container_changes({}).public is None
    for acl in (".r:example.com", "acct:user", ".r:*,acct:user"):
        with pytest.raises(SwiftError):
            container_changes({"x-container-read": acl})


@pytest.mark.parametrize(("exc", "anonymous", "status"), [
    (core.AccessDenied(), True, 401), (core.AccessDenied(), False, 403), (core.NoSuchKey(), False, 404),
    (core.NoSuchBucket(), False, 404), (core.BucketNotEmpty(), False, 409), (core.PreconditionFailed(), False, 412),
    (core.InvalidRange(), False, 416), (core.BadDigest(), False, 422), (core.EntityTooLarge(), False, 413),
    (core.KeyTooLongError(Size="2000"), False, 400), (core.IncompleteBody(), False, 499),
    (core.SlowDown(), False, 503), (ValueError(), False, 500), (SwiftError(411), False, 411),
])
def test_status_of(exc: BaseException, anonymous: bool, status: int) -> None:
    assert status_of(exc, anonymous=anonymous)[0] == status


def test_error_bodies() -> None:
    assert error_body(404, None) == ("text/html; charset=UTF-8",
                                     b"<html><h1>Not Found</h1><p>The resource could not be found.</p></html>")
    assert error_body(400, "why") == ("text/plain; charset=UTF-8", b"why\n")
    assert status_of(ValueError("secret detail"), anonymous=False) == (500, None)  # internals never shown
