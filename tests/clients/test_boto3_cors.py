"""Bucket CORS configuration through boto3 and the browser's unsigned preflight through requests."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code

ORIGIN = "https://app.example.com"
RULES = {
    "CORSRules": [
        {
            "AllowedOrigins": [ORIGIN],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["https://*.wild.example"], "AllowedMethods": ["HEAD"]},
    ]
}


def preflight(endpoint: str, bucket: str, origin: str, method: str, headers: str | None = None) -> Any:
    extra = {"Access-Control-Request-Headers": headers} if headers else {}
    return requests.options(
        f"{endpoint}/{bucket}/some/key.txt",
        headers={"Origin": origin, "Access-Control-Request-Method": method, **extra},
        timeout=10,
    )


def test_cors_put_get_delete(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(exc.value) == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["AllowedOrigins"] == [ORIGIN]
    assert sorted(got[0]["AllowedMethods"]) == ["GET", "PUT"]
    assert got[0]["AllowedHeaders"] == ["*"]
    assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"]
    assert got[0]["MaxAgeSeconds"] == 600
    assert got[1]["AllowedOrigins"] == ["https://*.wild.example"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(exc.value) == "NoSuchCORSConfiguration"


def test_preflight_answered_from_rules(s3: Any, bucket: str, satchel_server: Any) -> None:
    endpoint = satchel_server.endpoint
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)

    ok = preflight(endpoint, bucket, ORIGIN, "PUT", "content-type, x-amz-meta-a")
    assert ok.status_code == 200, ok.text
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in ok.headers["Access-Control-Allow-Methods"]
    assert "content-type" in ok.headers["Access-Control-Allow-Headers"].lower()
    assert ok.headers["Access-Control-Max-Age"] == "600"
    assert "etag" in ok.headers["Access-Control-Expose-Headers"].lower()

    wildcard = preflight(endpoint, bucket, "https://sub.wild.example", "HEAD")
    assert wildcard.status_code == 200
    assert wildcard.headers["Access-Control-Allow-Origin"] == "https://sub.wild.example"

    for origin, method in [(ORIGIN, "DELETE"), ("https://evil.example", "GET"),
                           ("https://sub.wild.example", "GET")]:
        denied = preflight(endpoint, bucket, origin, method)
        assert denied.status_code == 403, (origin, method)
        assert "Access-Control-Allow-Origin" not in denied.headers

    s3.delete_bucket_cors(Bucket=bucket)
    assert preflight(endpoint, bucket, ORIGIN, "GET").status_code == 403


def test_actual_request_gets_cors_headers(s3_factory: Any, bucket: str) -> None:
    client = s3_factory()
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    client.put_object(Bucket=bucket, Key="k", Body=b"cors body")

    def add_origin(request: Any, **_: Any) -> None:
        request.headers["Origin"] = ORIGIN

    client.meta.events.register("before-sign.s3.GetObject", add_origin)
    got = client.get_object(Bucket=bucket, Key="k")
    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert got["Body"].read() == b"cors body"
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in headers["access-control-expose-headers"].lower()
