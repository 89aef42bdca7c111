"""The link id a verified request carries: one rule for every spelling and placement."""

from __future__ import annotations

import pytest

from satchel.core.errors import InvalidArgument
from satchel.signing.linkid import signed_link_id


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ([], {}, None),
        ([("x-amz-satchel-link-id", "L1")], {}, "L1"),
        ([("X-Amz-Satchel-Link-Id", "L1")], {}, "L1"),  # any case names the parameter
        ([], {"x-amz-satchel-link-id": " L1 "}, "L1"),  # a header stands in for it (SigV2 strips it)
        ([("x-amz-satchel-link-id", "L1"), ("X-AMZ-SATCHEL-LINK-ID", "L1")], {"x-amz-satchel-link-id": "L1"}, "L1"),
        ([("x-amz-satchel-link-id", "")], {}, ""),  # present but empty: a claim the registry refuses
        ([("x-amz-satchel-link-idx", "L1")], {}, None),
    ],
)
def test_claims_that_agree(query: list[tuple[str, str]], headers: dict[str, str], expected: str | None) -> None:
    assert signed_link_id(query, headers) == expected


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ([("x-amz-satchel-link-id", "L1"), ("X-Amz-Satchel-Link-Id", "L2")], {}),
        ([("x-amz-satchel-link-id", "L1")], {"x-amz-satchel-link-id": "L2"}),
        ([("x-amz-satchel-link-id", "L1"), ("x-amz-satchel-link-id", "")], {}),
    ],
)
def test_claims_that_disagree_are_refused(query: list[tuple[str, str]], headers: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        signed_link_id(query, headers)
    assert refused.value.extra["ArgumentName"] == "x-amz-satchel-link-id"
