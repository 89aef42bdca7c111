"""Listing parameters and the three formats, against what Swift's container and account servers send."""

from __future__ import annotations

import json

import pytest

from satchel.swift.errors import SwiftError
from satchel.swift.listing import (
    ContainerRow,
    ListParams,
    ObjectRow,
    account_listing,
    container_listing,
    list_params,
    swift_time,
)

ROWS: list[ObjectRow | str] = [ObjectRow("a&b", "d41d8cd98f00b204e9800998ecf8427e", 0, "text/plain", 1700000000.5),
                               "dir/"]


def test_params_defaults_and_values() -> None:
    assert list_params({}, {}) == ListParams()
    got = list_params({"prefix": "p", "delimiter": "/", "marker": "m", "end_marker": "n", "limit": "5",
                       "reverse": "yes", "format": "JSON"}, {})
    assert got == ListParams("p", "/", "m", "n", 5, True, "json")
    assert list_params({}, {"accept": "application/json;q=0.9"}).format == "json"
    assert list_params({}, {"accept": "text/xml"}).format == "xml"
    assert list_params({"format": "xml"}, {"accept": "application/json"}).format == "xml"
    assert list_params({"format": "html"}, {}).format == "plain"
    assert list_params({"limit": "0"}, {}).limit == 0


@pytest.mark.parametrize(("query", "status"), [
    ({"limit": "10001"}, 412), ({"limit": "-1"}, 412), ({"limit": "x"}, 412), ({"limit": "²"}, 412),
    ({"delimiter": "ab"}, 412), ({"prefix": "p" * 1025}, 400), ({"marker": "\udcff"}, 412), ({"path": "a"}, 400),
])
def test_params_refused(query: dict[str, str], status: int) -> None:
    with pytest.raises(SwiftError) as caught:
        list_params(query, {})
    assert caught.value.status == status


@pytest.mark.parametrize(("query", "raw"), [
    ({"prefix": "\ufffd"}, "prefix=%ff"), ({"marker": "\ufffd\ufffd"}, "marker=%c0%af"),
    ({"prefix": "a\x00"}, "prefix=a%00"),
    ({"end_marker": "\ufffd"}, "x=1&end_marker=%ED%A0%80"), ({"delimiter": "\x00"}, "delimiter=%00"),
])
def test_params_not_utf8_as_sent(query: dict[str, str], raw: str) -> None:
    """The decoded query has replaced the bytes that are not UTF-8: the raw one shows them (412, as the
    path's NUL or invalid UTF-8), rather than listing under another name."""
    with pytest.raises(SwiftError) as caught:
        list_params(query, {}, raw)
    assert caught.value.status == 412
    assert list_params({"prefix": "\ufffd"}, {}, "prefix=%EF%BF%BD").prefix == "\ufffd"  # U+FFFD itself is text


def test_swift_time() -> None:
    assert swift_time(1700000000.5) == "2023-11-14T22:13:20.500000"


def test_container_formats() -> None:
    assert container_listing("plain", "c", ROWS) == b"a&b\ndir/\n"
    assert json.loads(container_listing("json", "c", ROWS)) == [
        {"hash": "d41d8cd98f00b204e9800998ecf8427e", "last_modified": "2023-11-14T22:13:20.500000", "bytes": 0,
         "name": "a&b", "content_type": "text/plain"},
        {"subdir": "dir/"},
    ]
    assert container_listing("xml", 'c"1', ROWS) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<container name=\'c"1\'><object><name>a&amp;b</name>'
        b"<hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>text/plain</content_type>"
        b"<last_modified>2023-11-14T22:13:20.500000</last_modified></object>"
        b'<subdir name="dir/"><name>dir/</name></subdir></container>')
    assert container_listing("json", "c", []) == b"[]"


def test_account_formats() -> None:
    rows: list[ContainerRow | str] = [ContainerRow("photos", 3, 42, 1700000000.0)]
    assert account_listing("plain", "AUTH_a", rows) == b"photos\n"
    assert json.loads(account_listing("json", "AUTH_a", rows)) == [
        {"name": "photos", "count": 3, "bytes": 42, "last_modified": "2023-11-14T22:13:20.000000"}]
    assert account_listing("xml", "AUTH_a", rows).endswith(
        b'<account name="AUTH_a"><container><name>photos</name><count>3</count><bytes>42</bytes>'
        b"<last_modified>2023-11-14T22:13:20.000000</last_modified></container></account>")
