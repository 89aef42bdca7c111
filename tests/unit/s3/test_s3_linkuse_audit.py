"""What a link use's audit event says beyond its URL: a DeleteObjects' summary (bounded, unambiguous) and
the source event of a copy (the refusal's detail on the side that refused). Real-server tests:
tests/clients/test_link_audit.py."""

from __future__ import annotations

from typing import Any

import pytest

from satchel.core.errors import AccessDenied, NoSuchKey
from satchel.core.models import AuditEvent
from satchel.s3 import linkuse
from satchel.s3.endpoints import CopySource


def test_summary_names_the_first_keys_and_counts_the_rest() -> None:
    deleted = [f"k{i}" for i in range(25)]
    refused = [(f"r{i}", "AccessDenied", "Access Denied") for i in range(12)]
    text = linkuse.delete_summary(37, deleted, refused)
    assert text.startswith('25 of 37 keys deleted: "k0", "k1", ')
    assert '"k9" and 15 more; 12 refused: "r0" (AccessDenied: Access Denied), ' in text
    assert text.endswith('"r9" (AccessDenied: Access Denied) and 2 more')
    assert '"k10"' not in text and '"r10"' not in text


def test_summary_quotes_and_cuts_keys() -> None:
    long_key = "x" * 1024
    text = linkuse.delete_summary(2, ['a "b", c\nd'], [(long_key, "AccessDenied", "Access Denied")])
    assert text == ('1 of 2 keys deleted: "a \\"b\\", c\\nd"; 1 refused: "' + "x" * linkuse.SUMMARY_KEY_CHARS
                    + '…" (AccessDenied: Access Denied)')
    assert linkuse.delete_summary(0, [], []) == "0 of 0 keys deleted"


class _Ctx:
    """The two fields of S3Context the source event reads."""

    def __init__(self, source_failure: Any = None, source_bytes: int = 0) -> None:
        self.source_failure, self.source_bytes = source_failure, source_bytes


def _destination() -> AuditEvent:
    return AuditEvent(time=1.0, action="use", outcome="allowed", kind="s3v4", link_id="L", user_id="u",
                      access_key_id="AK", bucket="dst", key="copy", method="PUT", status=200, bytes=0,
                      request_id="R", bucket_id="DST")


def test_source_event_of_an_allowed_copy() -> None:
    event = linkuse.copy_source_event(_destination(), CopySource("src", "a.txt"), _Ctx(source_bytes=7),  # type: ignore[arg-type]
                                      None, None)
    assert event is not None
    assert (event.bucket, event.key, event.method, event.bytes, event.outcome, event.reason, event.bucket_id) == (
        "src", "a.txt", "COPY-SOURCE", 7, "allowed", None, None)
    assert (event.request_id, event.link_id, event.user_id) == ("R", "L", "u")


def test_a_refusal_is_detailed_only_on_the_side_that_refused() -> None:
    revoked = AccessDenied("The link was revoked (object revocation R1).")
    ctx = _Ctx(source_failure=revoked, source_bytes=0)
    source = linkuse.copy_source_event(_destination(), CopySource("src", "a.txt"), ctx, revoked, None)  # type: ignore[arg-type]
    assert source is not None and source.reason == "AccessDenied: The link was revoked (object revocation R1)."
    destination = linkuse.use_reason(ctx, revoked, None)  # type: ignore[arg-type]
    assert destination is not None and "R1" not in destination
    assert destination.startswith("AccessDenied: The copy source was refused")

    at_destination = AccessDenied("The link was revoked (object revocation R2).")
    source = linkuse.copy_source_event(_destination(), CopySource("src", "a.txt"), _Ctx(), at_destination,  # type: ignore[arg-type]
                                       "AK")
    assert source is not None and "R2" not in (source.reason or "")
    assert source.reason == ("AccessDenied: The copy was refused; the event of its destination says why."
                             " [access key id AK claimed, signature not verified]")


@pytest.mark.parametrize("source", [CopySource("NO_SUCH..BUCKET", "k"), CopySource("src", "\udcff"),
                                    CopySource("src", "k" * 1025)])
def test_no_source_event_for_what_no_bucket_can_hold(source: CopySource) -> None:
    assert linkuse.copy_source_event(_destination(), source, None, NoSuchKey(), None) is None
