"""The six ``response-*`` query overrides: honoured on signed GET and HEAD (SigV4 and SigV2 links), refused
with 400 InvalidRequest on anonymous requests to a public bucket, as S3 does.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.clients.boto import S3Factory
from tests.clients.server import SatchelProcess, eventually
from tests.clients.test_presign_wire import FETCHERS, assert_error, fetch_requests, query_of

#: A realistic download name: quotes, spaces, a semicolon and an RFC 5987 UTF-8 form whose value holds
#: literal ``%`` sequences (SigV2 signs these values *unencoded*).
DISPOSITION = "attachment; filename=\"annual report; 2024.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
OVERRIDES = {
    "ResponseContentType": "application/pdf",
    "ResponseContentLanguage": "de-CH",
    "ResponseExpires": dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    "ResponseCacheControl": "no-store, max-age=0",
    "ResponseContentDisposition": DISPOSITION,
    "ResponseContentEncoding": "identity",
}
EXPECTED_HEADERS = {
    "content-type": "application/pdf",
    "content-language": "de-CH",
    "expires": "Thu, 02 Jan 2031 03:04:05 GMT",
    "cache-control": "no-store, max-age=0",
    "content-disposition": DISPOSITION,
    "content-encoding": "identity",
}
QUERY_NAMES = ("response-content-type", "response-content-language", "response-expires", "response-cache-control",
               "response-content-disposition", "response-content-encoding")
ANONYMOUS_MESSAGE = "Request specific response headers cannot be used for anonymous GET requests."


@pytest.mark.parametrize("signature_version", ["s3v4", None], ids=["sigv4", "sigv2-default"])
@pytest.mark.parametrize("fetcher", ["requests", "curl"])
def test_signed_get_and_head_honour_every_override(
    signature_version: str | None, fetcher: str, s3_factory: S3Factory, s3: Any, bucket: str
) -> None:
    data = os.urandom(4_321)
    s3.put_object(Bucket=bucket, Key="docs/report.bin", Body=data, ContentType="application/octet-stream",
                  CacheControl="max-age=3600", ContentLanguage="en")
    client = s3_factory(signature_version=signature_version) if signature_version else s3_factory()
    params = {"Bucket": bucket, "Key": "docs/report.bin", **OVERRIDES}
    fetch = FETCHERS[fetcher]

    get_url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    assert set(QUERY_NAMES) <= set(query_of(get_url))
    got = fetch("GET", get_url)
    assert got.status == 200, got.describe()
    assert got.body == data
    for name, value in EXPECTED_HEADERS.items():
        assert got.headers.get(name) == value, (name, got.headers)

    head_url = client.generate_presigned_url("head_object", Params=params, ExpiresIn=300)
    head = fetch("HEAD", head_url)
    assert head.status == 200, head.describe()
    assert head.headers["content-length"] == str(len(data))
    for name, value in EXPECTED_HEADERS.items():
        assert head.headers.get(name) == value, (name, head.headers)

    # The overrides are signed: changing one after signing breaks the link.
    changed = get_url.replace("response-content-type=application%2Fpdf", "response-content-type=text%2Fhtml")
    assert changed != get_url
    assert_error(fetch("GET", changed), 403, "SignatureDoesNotMatch")

    # Overrides change the answer, never the object.
    plain = s3.head_object(Bucket=bucket, Key="docs/report.bin")
    assert plain["ContentType"] == "application/octet-stream"
    assert plain["CacheControl"] == "max-age=3600"
    assert plain["ContentLanguage"] == "en"


def test_anonymous_overrides_are_refused(
    s3: Any, bucket: str, satchel_server: Any, managed_server: SatchelProcess
) -> None:
    s3.put_object(Bucket=bucket, Key="pub.txt", Body=b"public bytes", ContentType="text/plain")
    managed_server.set_public(bucket, True)
    plain_url = f"{satchel_server.endpoint}/{bucket}/pub.txt"
    assert eventually(lambda: requests.get(plain_url, timeout=10).status_code == 200)
    assert requests.get(plain_url, timeout=10).content == b"public bytes"

    for name in QUERY_NAMES:
        value = "Thu, 02 Jan 2031 03:04:05 GMT" if name == "response-expires" else "text/html"
        url = f"{plain_url}?{name}={quote(value, safe='')}"
        refused = fetch_requests("GET", url)
        assert_error(refused, 400, "InvalidRequest", ANONYMOUS_MESSAGE)
        assert refused.headers.get("content-type", "").startswith("application/xml"), name
        head = fetch_requests("HEAD", url)
        assert head.status == 400, (name, head.describe())
        assert head.body == b"", name
