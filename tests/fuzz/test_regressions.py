"""Findings of the fuzz harnesses, each kept as the smallest example that showed it."""

from __future__ import annotations

import asyncio
import base64

import pytest

from satchel.core.errors import InvalidArgument
from satchel.signing import formpost, tempurl
from satchel.signing.formpost import FormCutOff
from satchel.signing.sigv4.verify import STREAMING_SIGNED_TRAILER
from tests.fuzz.harnesses import decode_chunked, encode_chunked
from tests.fuzz.links import _encode_form, _read


def test_bytes_after_the_trailer_signature_without_a_final_newline_are_refused() -> None:
    """chunked-round-trip: the closing CRLF of a signed-trailer body replaced by "\\r0" decoded anyway
    (finish() took the state after the trailer signature as complete with a partial line pending)."""
    data = b"\x00" * 17
    body = encode_chunked(data, [17], STREAMING_SIGNED_TRAILER, {})
    assert body.endswith(b"\r\n\r\n")
    assert decode_chunked(body, STREAMING_SIGNED_TRAILER, [], len(data))[0] == data
    assert decode_chunked(body[:-2], STREAMING_SIGNED_TRAILER, [], len(data))[0] == data  # closing line left out
    with pytest.raises(InvalidArgument, match="data after the trailer signature"):
        decode_chunked(body[:-1] + b"0", STREAMING_SIGNED_TRAILER, [], len(data))


def test_a_formpost_form_is_complete_at_its_close_delimiter_and_cut_off_before_it() -> None:
    """formpost-reader-round-trip (first long run): a form cut right after ``--XyZ--`` read as complete. That
    is RFC 2046 (the CRLF after the close delimiter and the epilogue are optional), so the harness cuts before
    the final ``--``; pinned here so that neither side drifts."""
    body = _encode_form("XyZ", [("a", None, b"1")])
    assert asyncio.run(_read("XyZ", body, [], 10)) == [("a", None, b"1")]
    assert asyncio.run(_read("XyZ", body[:-2], [], 10)) == [("a", None, b"1")]
    for cut in (len(body) - 4, len(body) // 2, 0):
        with pytest.raises(FormCutOff):
            asyncio.run(_read("XyZ", body[:cut], [], 10))


def test_base64_signature_spellings_differing_in_unused_bits_are_one_signature() -> None:
    """tempurl-round-trip / formpost-round-trip: changing the last character of an unpadded sha512 base64
    signature may change only bits base64 drops; it is then the same signature (as in Swift), never a
    different one that verifies."""
    digest = bytes(range(64))
    text = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert text.endswith("w")  # the last character carries 2 bits of data and 4 unused ones
    same = tempurl.parse_signature("sha512:" + text[:-1] + "x")
    assert same == tempurl.parse_signature("sha512:" + text) and same.digest == digest
    assert tempurl.parse_signature("sha512:" + text[:-1] + "A").digest != digest


def test_a_tempurl_or_formpost_path_that_is_not_utf8_text_is_refused_not_raised() -> None:
    """tempurl-garbage (90 s run): ``verify`` with an object name holding a lone surrogate (what a
    surrogate-escaped decode of ``%FF`` gives) raised UnicodeEncodeError while encoding the HMAC message.
    The Swift router refuses such paths first (412), so no request reached it; the verifiers now refuse it
    themselves, as they refuse everything else they were not signed for."""
    params = tempurl.parse_query([("temp_url_sig", "0" * 40), ("temp_url_expires", "2030-01-01T00:00:00Z")])
    assert params is not None
    request = tempurl.Request("GET", "%FF", "%FF", "\udcff", "127.0.0.1")
    with pytest.raises(tempurl.TempUrlInvalid, match="not UTF-8"):
        tempurl.verify(params, request, [b"k"], allowed={"sha1"}, now=0)
    spec = formpost.parse_attributes({"max_file_size": "1", "max_file_count": "1", "expires": "9999999999",
                                      "signature": "0" * 64}, max_put_size=10)
    with pytest.raises(formpost.FormUnauthorized) as refused:
        formpost.verify(spec, "/v1/AUTH_a/c/\udcff", [b"k"], allowed={"sha256"}, now=0)
    assert refused.value.reason == "the path is not UTF-8 text"
