"""Minting SigV4 presigned URLs: byte-identical to botocore's S3SigV4QueryAuth, and they verify."""

from __future__ import annotations

from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config

from satchel.core.errors import InvalidArgument
from satchel.signing.sigv4.presign import PresignerV4, presign_v4_url
from satchel.signing.sigv4.verify import verify_presigned
from tests.unit.signing import botocore_oracle as bo

EXTRA = [
    ("response-content-disposition", 'attachment; filename="r\u00e9sum\u00e9 1+1.pdf"'),
    ("x-satchel-link-id", "lnk_01HX/=+"),
]


def ours(method: str, key: str, **kwargs: object) -> str:
    args: dict[str, object] = {
        "method": method,
        "endpoint": bo.ENDPOINT,
        "bucket": "bucket",
        "key": key,
        "access_key_id": bo.ACCESS_KEY,
        "secret": bo.SECRET,
        "region": bo.REGION,
        "expires": 900,
        "now": bo.NOW,
    }
    args.update(kwargs)
    return presign_v4_url(**args)  # type: ignore[arg-type]


def botocore_url(method: str, url: str, extra: list[tuple[str, str]], token: str | None = None) -> str:
    if extra:
        url += "?" + "&".join(f"{k}={v}" for k, v in bo.to_wire_pairs(extra))
    return bo.presign_v4(method, url, expires=900, token=token).url


@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("extra", [[], EXTRA], ids=["plain", "extra-query"])
def test_identical_to_botocore(key: str, method: str, extra: list[tuple[str, str]]) -> None:
    expected = botocore_url(method, bo.object_url("bucket", key), extra)
    assert ours(method, key, extra_query=extra) == expected


def test_identical_with_session_token_and_virtual_host() -> None:
    expected = botocore_url("GET", "https://bucket.s3.example.com/a%20b", [], token="FwoGZXIvYXdzE//token+=")
    url = ours(
        "GET", "a b", endpoint="https://s3.example.com", virtual_hosted=True, security_token="FwoGZXIvYXdzE//token+="
    )
    assert url == expected


@pytest.mark.parametrize("key", ["a b", "dir/\u00e9t\u00e9 1+1.txt"])
def test_identical_with_endpoint_path_prefix(key: str) -> None:
    # A Satchel behind a reverse proxy at /store/s3: the prefix is part of the signed path.
    endpoint = "https://proxy.example.com/store/s3%20x"
    expected = botocore_url("PUT", bo.object_url("bucket", key, endpoint), EXTRA)
    assert ours("PUT", key, endpoint=endpoint, extra_query=EXTRA) == expected


def test_one_presigner_signs_a_batch_like_single_calls() -> None:
    signer = PresignerV4(method="GET", endpoint=bo.ENDPOINT, bucket="bucket", access_key_id=bo.ACCESS_KEY,
                         secret=bo.SECRET, region=bo.REGION, expires=900, now=bo.NOW)
    for i, key in enumerate(bo.TRICKY_KEYS):
        extra = [("x-amz-satchel-link-id", f"{i:032x}")] if i % 2 else []
        assert signer.url(key, extra) == ours("GET", key, extra_query=extra)
        assert signer.url(key, extra) == botocore_url("GET", bo.object_url("bucket", key), extra)


@pytest.mark.parametrize("extra", [
    [("A-first", "1")],
    [("X-Amz-Aaa", "v"), ("x-amz-satchel-link-id", "0" * 32)],
    [("Y-after", "2"), ("X-Amz-Zzz", "3")],
    [("response-content-type", "text/plain"), ("Z", "")],
], ids=["before", "among", "after-and-among", "lower-case-and-after"])
def test_extra_parameters_sorting_anywhere_among_the_auth_ones(extra: list[tuple[str, str]]) -> None:
    # The batch signer splices extras after the X-Amz-* block when they sort after it; every other
    # order must fall back to a full sort, as botocore's canonical query does.
    signer = PresignerV4(method="GET", endpoint=bo.ENDPOINT, bucket="bucket", access_key_id=bo.ACCESS_KEY,
                         secret=bo.SECRET, region=bo.REGION, expires=900, now=bo.NOW)
    assert signer.url("k", extra) == botocore_url("GET", bo.object_url("bucket", "k"), extra)


def test_default_port_is_not_signed() -> None:
    signed = dict(parse_qsl(urlsplit(ours("GET", "k", endpoint="https://S3.Example.com:443")).query))
    reference = dict(
        parse_qsl(urlsplit(bo.presign_v4("GET", "https://S3.Example.com:443/bucket/k", expires=900).url).query)
    )
    assert signed["X-Amz-Signature"] == reference["X-Amz-Signature"]


@pytest.mark.parametrize("key", bo.TRICKY_KEYS)
def test_minted_urls_verify(key: str) -> None:
    url = urlsplit(ours("GET", key, extra_query=EXTRA))
    result = verify_presigned(
        method="GET",
        raw_path=url.path,
        query=parse_qsl(url.query, keep_blank_values=True),
        headers={"host": url.netloc},
        now=bo.NOW + 899,
        region=bo.REGION,
        lookup_secret=lambda _: bo.SECRET,
    )
    assert result.expires_at == bo.NOW + 900


def test_boto3_client_presigned_url_verifies() -> None:
    client = boto3.client(
        "s3",
        endpoint_url=bo.ENDPOINT,
        region_name=bo.REGION,
        aws_access_key_id=bo.ACCESS_KEY,
        aws_secret_access_key=bo.SECRET,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=bo.frozen()):
        url = client.generate_presigned_url(
            "get_object",
            Params={"Bucket": "bucket", "Key": "dir/ünï code+.txt", "ResponseContentType": "text/plain"},
            ExpiresIn=900,
        )
    assert url == ours("GET", "dir/ünï code+.txt", extra_query=[("response-content-type", "text/plain")])


@pytest.mark.parametrize("expires", [0, 604801])
def test_expiry_range(expires: int) -> None:
    with pytest.raises(InvalidArgument):
        ours("GET", "k", expires=expires)


@pytest.mark.parametrize("endpoint", ["ftp://s3.example.com", "s3.example.com", "https://"])
def test_endpoint_must_be_http(endpoint: str) -> None:
    with pytest.raises(InvalidArgument):
        ours("GET", "k", endpoint=endpoint)
