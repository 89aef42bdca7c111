"""Which answers are sandboxed: every object of every type, except one exact application/pdf."""

from __future__ import annotations

import pytest

from satchel.contentsafety import NOSNIFF, SANDBOX, isolation_headers, media_type, sandbox
from satchel.core.models import ObjectRecord
from satchel.swift.objectheaders import object_headers


@pytest.mark.parametrize(("value", "essence"), [
    ("application/pdf", "application/pdf"),
    ("Application/PDF; name=\"a b.pdf\"", "application/pdf"),
    ("application/pdf,text/html", None),  # browsers take the last type
    ('text/plain;a=",",text/html', None),
    ("text/html", "text/html"),
    ("", None),
    ("nonsense", None),
])
def test_media_type(value: str, essence: str | None) -> None:
    assert media_type(value) == essence


@pytest.mark.parametrize("value", ["text/html", "image/svg+xml", "application/pdf,text/html", "", "x", "text/plain",
                                   "application/octet-stream", "image/png"])
def test_everything_but_one_pdf_is_sandboxed(value: str) -> None:
    assert sandbox(value) == [SANDBOX]
    assert isolation_headers(value) == [NOSNIFF, SANDBOX]


def test_a_pdf_is_not() -> None:
    assert isolation_headers("application/pdf") == [NOSNIFF]


def test_swift_object_answers_are_isolated() -> None:
    html = ObjectRecord("b", "k", 1, "e", 0.0, (), headers={"content-type": "text/html"})
    pdf = ObjectRecord("b", "k", 1, "e", 0.0, (), headers={"content-type": "application/pdf"})
    assert SANDBOX in object_headers(html) and NOSNIFF in object_headers(html)
    assert SANDBOX not in object_headers(pdf) and NOSNIFF in object_headers(pdf)
