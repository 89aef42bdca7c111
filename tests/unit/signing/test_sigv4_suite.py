"""The AWS SigV4 test suite (2015-08-30 edition), stage by stage: .req → .creq → .sts → .authz.

The suite signs for service "service", which normalizes and double-encodes paths, so these cases run
the canonical functions in generic mode; S3's encode-once rule is covered in test_sigv4_s3_vectors.py.
Files live in tests/unit/vectors/aws4_testsuite/<case>/ (see the README there for their origin).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from satchel.signing.sigv4 import canonical as c
from satchel.signing.sigv4.parse import parse_authorization_header

SUITE = Path(__file__).parent.parent / "vectors" / "aws4_testsuite"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCESS_KEY = "AKIDEXAMPLE"
REGION = "us-east-1"
SERVICE = "service"
CASES = sorted(p.name for p in SUITE.iterdir() if p.is_dir())
# get-utf8 is published with .req and .authz only; the other stages run where the suite has them.
CREQ_CASES = [case for case in CASES if (SUITE / case / f"{case}.creq").exists()]
STS_CASES = [case for case in CASES if (SUITE / case / f"{case}.sts").exists()]


@dataclass
class Request:
    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


def read(case: str, ext: str) -> str | None:
    path = SUITE / case / f"{case}.{ext}"
    return path.read_text(encoding="utf-8") if path.exists() else None


def parse_req(text: str) -> Request:
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    path, _, query_string = target.partition("?")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.lower()
        # An HTTP parser strips optional whitespace; repeats arrive comma-joined (the ASGI contract).
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
    return Request(
        method=method,
        # ASGI hands the path over as the wire bytes decoded as latin-1.
        raw_path=path.encode("utf-8").decode("latin-1"),
        query=parse_qsl(query_string, keep_blank_values=True),
        headers=headers,
        body=body.encode("utf-8"),
    )


def build_creq(req: Request) -> tuple[str, list[str]]:
    signed = sorted(req.headers)  # the suite signs every header it sends
    creq = c.canonical_request(
        req.method,
        c.canonical_uri(req.raw_path, service=SERVICE),
        c.canonical_query(req.query, exclude=None),
        c.canonical_headers(req.headers, signed),
        c.signed_headers_string(signed),
        hashlib.sha256(req.body).hexdigest(),
    )
    return creq, signed


def test_suite_is_present() -> None:
    assert len(CASES) >= 25
    assert len(CREQ_CASES) == len(STS_CASES) == len(CASES) - 1


@pytest.mark.parametrize("case", CREQ_CASES)
def test_canonical_request(case: str) -> None:
    expected = read(case, "creq")
    creq, _ = build_creq(parse_req(read(case, "req") or ""))
    assert creq == expected


@pytest.mark.parametrize("case", STS_CASES)
def test_string_to_sign(case: str) -> None:
    expected = read(case, "sts")
    req = parse_req(read(case, "req") or "")
    creq, _ = build_creq(req)
    scope = c.credential_scope(req.headers["x-amz-date"][:8], REGION, SERVICE)
    assert c.string_to_sign(req.headers["x-amz-date"], scope, creq) == expected


@pytest.mark.parametrize("case", CASES)
def test_authorization_header(case: str) -> None:
    expected = read(case, "authz")
    assert expected is not None
    req = parse_req(read(case, "req") or "")
    creq, signed = build_creq(req)
    amz_date = req.headers["x-amz-date"]
    scope = c.credential_scope(amz_date[:8], REGION, SERVICE)
    signature = c.sign(c.signing_key(SECRET, amz_date[:8], REGION, SERVICE), c.string_to_sign(amz_date, scope, creq))
    authz = (
        f"{c.ALGORITHM} Credential={ACCESS_KEY}/{scope}, "
        f"SignedHeaders={c.signed_headers_string(signed)}, Signature={signature}"
    )
    assert authz == expected


@pytest.mark.parametrize("case", CASES)
def test_authorization_header_parses(case: str) -> None:
    parsed = parse_authorization_header(read(case, "authz") or "", region=REGION, service=SERVICE)
    assert parsed.access_key_id == ACCESS_KEY
    assert parsed.credential.scope == f"20150830/{REGION}/{SERVICE}/aws4_request"
    assert "host" in parsed.signed_headers
    assert len(parsed.signature) == 64
