"""A bucket's CORS rules over the management API (issue 13): S3's CORSConfiguration in JSON, checked by the
same core function as S3's PutBucketCors, stored where S3 reads it (boto3 sees it, a real preflight obeys it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import error_code
from tests.clients.server import Credentials, ServerHandle
from tests.clients.test_boto3_cors import ORIGIN, RULES, preflight


def _cors(bucket: str) -> str:
    return f"/buckets/{bucket}/cors"


def test_rules_set_over_the_api_are_s3s_rules(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    missing = mgmt.call(satchel_server, None, "GET", _cors(bucket))
    assert (missing.status_code, mgmt.error_code(missing)) == (404, "NoSuchCORSConfiguration")
    stored = mgmt.ok(mgmt.call(satchel_server, None, "PUT", _cors(bucket), RULES))
    assert stored == mgmt.ok(mgmt.call(satchel_server, None, "GET", _cors(bucket)))
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["AllowedOrigins"] == [ORIGIN] and got[0]["MaxAgeSeconds"] == 600
    assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"]
    assert got[1]["AllowedOrigins"] == ["https://*.wild.example"]
    assert mgmt.ok(mgmt.call(satchel_server, None, "GET", f"/buckets/{bucket}"))["cors"] is True

    allowed = preflight(satchel_server.endpoint, bucket, ORIGIN, "PUT", "content-type")
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["Access-Control-Max-Age"] == "600"
    assert preflight(satchel_server.endpoint, bucket, ORIGIN, "DELETE").status_code == 403

    assert mgmt.ok(mgmt.call(satchel_server, None, "DELETE", _cors(bucket))) == {"done": True}
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(exc.value) == "NoSuchCORSConfiguration"
    assert preflight(satchel_server.endpoint, bucket, ORIGIN, "GET").status_code == 403


def test_rules_set_with_boto3_are_read_over_the_api(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"ID": "one", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    assert mgmt.ok(mgmt.call(satchel_server, None, "GET", _cors(bucket))) == {"CORSRules": [
        {"ID": "one", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": [], "ExposeHeaders": []}]}


def _rule(**fields: Any) -> dict[str, Any]:
    return {"CORSRules": [{"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"], **fields}]}


#: The S3 path's refusals, each with its S3 text, and the JSON shape's own (400 InvalidArgument).
REFUSALS = [
    (_rule(AllowedMethods=["PATCH"]), "InvalidRequest", "Unsupported method is PATCH"),
    (_rule(AllowedOrigins=["https://a.example\r\nX-Evil: 1"]), "InvalidRequest", "contains invalid character"),
    (_rule(AllowedHeaders=["x-*-*"]), "InvalidRequest", "can not have more than one wildcard"),
    (_rule(ExposeHeaders=["x-*"]), "InvalidRequest", "do not support wildcard for ExposeHeader"),
    (_rule(ID="i" * 256), "InvalidArgument", "ID length should not exceed"),
    (_rule(MaxAgeSeconds=-1), "InvalidArgument", "MaxAgeSeconds"),
    (_rule(MaxAgeSeconds="600"), "InvalidArgument", "MaxAgeSeconds"),
    (_rule(AllowedOrigins=[]), "InvalidArgument", "AllowedOrigins"),
    (_rule(Unknown=1), "InvalidArgument", "Unknown field"),
    ({"CORSRules": []}, "InvalidArgument", "CORSRules"),
    ({"CORSRules": _rule()["CORSRules"] * 101}, "InvalidArgument", "CORSRules"),
    ({"CORSRules": ["GET"]}, "InvalidArgument", "CORSRules"),
    (_rule(AllowedOrigins=[f"https://{i}.{'o' * 900}.example" for i in range(80)]), "InvalidArgument",
     "larger than the maximum allowed size"),
]


@pytest.mark.parametrize(("body", "code", "text"), REFUSALS, ids=[r[2] + str(i) for i, r in enumerate(REFUSALS)])
def test_bad_rules_are_refused_and_change_nothing(satchel_server: ServerHandle, s3: Any, bucket: str,
                                                  body: dict[str, Any], code: str, text: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    reply = mgmt.call(satchel_server, None, "PUT", _cors(bucket), body)
    assert (reply.status_code, mgmt.error_code(reply)) == (400, code), reply.text
    assert text in reply.json()["error"]["message"]
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 2


def test_the_s3_path_refuses_with_the_same_words(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    body = _rule(AllowedMethods=["PATCH"])
    api = mgmt.call(satchel_server, None, "PUT", _cors(bucket), body)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=body)
    assert exc.value.response["Error"]["Message"] == api.json()["error"]["message"]


def test_both_paths_share_aws_size_limit(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    """One bound (64 KB, AWS's) for the S3 XML and the JSON: a configuration S3's PutBucketCors refuses as too
    large is refused over the management API too, and one just under it is taken by both."""
    big = _rule(AllowedOrigins=[f"https://{i}.{'o' * 900}.example" for i in range(80)])  # ~75 KB either way
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=big)
    assert error_code(exc.value) == "MalformedXML"
    reply = mgmt.call(satchel_server, None, "PUT", _cors(bucket), big)
    assert (reply.status_code, mgmt.error_code(reply)) == (400, "InvalidArgument")
    fits = _rule(AllowedOrigins=[f"https://{i}.{'o' * 900}.example" for i in range(50)])  # ~47 KB
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=fits)
    assert len(mgmt.ok(mgmt.call(satchel_server, None, "PUT", _cors(bucket), fits))["CORSRules"][0]
               ["AllowedOrigins"]) == 50


def test_cors_is_the_controllers_business(satchel_server: ServerHandle, bucket: str,
                                          member: Callable[[], Credentials], managed_server: Any) -> None:
    reader = member()
    managed_server.grant(reader.user, bucket, "read-write")
    for method, body in (("GET", None), ("PUT", RULES), ("DELETE", None)):
        reply = mgmt.call(satchel_server, reader, method, _cors(bucket), body)
        assert (reply.status_code, mgmt.error_code(reply)) == (403, "AccessDenied"), method
    absent = mgmt.call(satchel_server, None, "PUT", _cors("no-such-bucket-here-at-all"), RULES)
    assert (absent.status_code, mgmt.error_code(absent)) == (404, "NoSuchBucket")
