"""The request query parser must agree with urllib's parse_qsl, which signature code was written for."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from satchel.asgi import parse_query


@pytest.mark.parametrize(
    "raw",
    [
        "a=1&b=&c",
        "x=%2F%20+y&&k%3D=v%26",
        "a==b",
        "list-type=2&prefix=a%2Bb+c&delimiter=%2F",
        "=v",
        "a;b=c",
        "X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=ab12",
        "k=%E2%82%AC%20%F0%9F%98%80",
        "uploads",
        "&&&",
    ],
)
def test_parse_query_matches_parse_qsl(raw: str) -> None:
    assert parse_query(raw) == parse_qsl(raw, keep_blank_values=True)
