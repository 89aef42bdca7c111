"""Hypothesis strategies for what arrives on the wire: text built from the atoms that matter to a parser
(auth parameter names, percent-escapes of invalid UTF-8, control bytes, streaming modes ...) mixed with
arbitrary Latin-1 characters, which is how the ASGI server hands request bytes over."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

ATOMS = [
    "%FF", "%FE", "%C3%28", "%ED%A0%80", "%00", "%0D%0A", "%25", "%2F", "%3F", "+", "&", "=", "?", "/", "//", "..",
    "\xff", "\xc3\xa9", "\x00", "\r\n", "\t", " ", ",", ";", ":", "a", "key", "\u65e5", "\xe9", "=?UTF-8?B?w6k=?=",
    "acl", "uploads", "uploadId", "partNumber", "versionId", "cors", "delete", "list-type", "prefix", "x-id",
    "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Algorithm",
    "X-Amz-Content-Sha256", "X-Amz-Security-Token", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "AWS ",
    "Credential=", "SignedHeaders=", "Signature=", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "UNSIGNED-PAYLOAD",
    "AWSAccessKeyId", "Signature", "Expires", "x-amz-satchel-link-id", "response-content-type",
    "20240501T120000Z", "20240501", "AKID/20240501/us-east-1/s3/aws4_request", "us-east-1", "s3", "aws4_request",
    "host;x-amz-date", "host", "0" * 64, "-1", "0", "99999999999", "\xb2", "\uff11", "1_0", "1e400",
    "x-amz-acl", "x-amz-meta-a", "x-amz-copy-source", "x-amz-server-side-encryption", "bucket", "b/k",
]  # fmt: skip
LATIN1 = st.characters(min_codepoint=0, max_codepoint=255)
#: The atoms as the ASGI server would hand them over: text above U+00FF arrives as its UTF-8 bytes.
WIRE_ATOMS = [atom if max(map(ord, atom)) < 256 else atom.encode("utf-8").decode("latin-1") for atom in ATOMS]


def wire_text(max_atoms: int = 8) -> st.SearchStrategy[str]:
    """Latin-1 text as a header or path arrives: mostly meaningful atoms, some arbitrary bytes."""
    piece = st.one_of(st.sampled_from(WIRE_ATOMS), st.text(LATIN1, min_size=1, max_size=4))
    return st.lists(piece, max_size=max_atoms).map("".join)


def unicode_text(max_atoms: int = 8) -> st.SearchStrategy[str]:
    """Any Python text, lone surrogates included (what a surrogate-escaped decode can produce)."""
    piece = st.one_of(st.sampled_from(ATOMS), st.text(max_size=4), st.sampled_from(["\udcff", "\ud800", "\udc80"]))
    return st.lists(piece, max_size=max_atoms).map("".join)


def pairs(max_size: int = 6) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(wire_text(3), wire_text(4)), max_size=max_size)


def headers(names: list[str], max_size: int = 6) -> st.SearchStrategy[dict[str, str]]:
    name = st.one_of(st.sampled_from(names), wire_text(2).map(str.lower))
    return st.dictionaries(name, wire_text(6), max_size=max_size)


#: Printable ASCII without whitespace: header values botocore and we canonicalise identically.
PRINTABLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
#: Object keys: any text (no surrogates, no NUL), up to 60 characters.
KEYS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=60)

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=12), st.sampled_from(ATOMS),
)  # fmt: skip


def json_values(names: list[str]) -> st.SearchStrategy[Any]:
    """JSON values whose objects mostly use ``names`` (the fields a parser looks for)."""
    key = st.one_of(st.sampled_from(names), st.text(max_size=6))
    return st.recursive(
        JSON_SCALARS,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=5)),
        max_leaves=12,
    )


def json_bytes(names: list[str]) -> st.SearchStrategy[bytes]:
    """A JSON document (an object most of the time), sometimes cut or with stray bytes."""
    document = st.one_of(
        st.dictionaries(st.sampled_from(names), json_values(names), max_size=6),
        json_values(names),
    ).map(lambda value: json.dumps(value).encode())
    return st.one_of(
        document,
        st.tuples(document, st.integers(0, 200)).map(lambda t: t[0][: t[1]]),
        st.binary(max_size=40),
        st.sampled_from([b'{"a":1,"a":2}', b"[" * 2000, b'{"x":"\\ud800"}', b'{"n":1e400}', b"\xff", b""]),
    )


def mutations(alphabet: str = "0123456789") -> st.SearchStrategy[tuple[int, str]]:
    """(position seed, replacement seed) for one single-character substitution."""
    return st.tuples(st.integers(min_value=0), st.sampled_from(alphabet))


def mutate(value: str, where: tuple[int, str], alphabet: str = "0123456789") -> str:
    """``value`` with one character replaced by a different one (always a change)."""
    position, replacement = where
    index = position % len(value)
    if value[index] == replacement:
        replacement = alphabet[(alphabet.index(replacement) + 1) % len(alphabet)]
    return value[:index] + replacement + value[index + 1 :]
