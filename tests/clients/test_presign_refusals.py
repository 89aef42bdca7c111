"""Every way a presigned URL is refused, asserted by status, S3 error code, message and the extra XML
elements AWS sends (reference: s3-presign-and-peers.md sections 1-2). The URLs are signed by botocore — at
another moment where a test needs one, by moving botocore's clock — never by Satchel's own signer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.clients.boto import S3Factory
from tests.clients.server import Credentials, ServerHandle
from tests.clients.test_presign_wire import (
    assert_error,
    fetch_curl,
    fetch_requests,
    now_utc,
    presign_at,
    query_of,
)

EXPIRED = "Request has expired"
NOT_YET = "Request is not valid yet"
MISSING_V4 = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
    "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
TOO_LONG = (
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than "
    "604800 seconds"
)
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing "
    "method."
)
UNKNOWN_KEY = "The AWS Access Key Id you provided does not exist in our records."
NOT_SIGNED = "There were headers present in the request which were not signed"
BOTH = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter "
    "or the Authorization header should be specified"
)
BODY = b"refusals never leak this"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _server_time_is_now(value: str) -> None:
    server_time = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((server_time - now_utc()).total_seconds()) < 30, value


@pytest.fixture
def v4(s3_factory: S3Factory) -> Any:
    return s3_factory(signature_version="s3v4")


@pytest.fixture
def v2(s3_factory: S3Factory) -> Any:
    """botocore's default in us-east-1: SigV2 query auth."""
    return s3_factory()


@pytest.fixture
def obj(s3: Any, bucket: str) -> dict[str, str]:
    s3.put_object(Bucket=bucket, Key="secret/doc.txt", Body=BODY)
    return {"Bucket": bucket, "Key": "secret/doc.txt"}


# --- time ----------------------------------------------------------------------------------------------
def test_expired_v4_url(v4: Any, obj: dict[str, str]) -> None:
    signed_at = (now_utc() - dt.timedelta(hours=1)).replace(microsecond=0)
    url = presign_at(v4, signed_at, "get_object", obj, 60)
    assert query_of(url)["X-Amz-Date"] == signed_at.strftime("%Y%m%dT%H%M%SZ")
    doc = assert_error(fetch_requests("GET", url), 403, "AccessDenied", EXPIRED)
    assert doc.elements["X-Amz-Expires"] == "60"
    assert doc.elements["Expires"] == _iso(signed_at + dt.timedelta(seconds=60))
    _server_time_is_now(doc.elements["ServerTime"])
    # Stretching X-Amz-Expires after signing does not revive the link: it is part of the signature.
    stretched = url.replace("X-Amz-Expires=60", "X-Amz-Expires=86400")
    assert_error(fetch_requests("GET", stretched), 403, "SignatureDoesNotMatch", MISMATCH)
    # AWS/MinIO order: expiry is decided before the signature is compared.
    signature = query_of(url)["X-Amz-Signature"]
    forged = url.replace(signature, _flip_last_hex(signature))
    assert_error(fetch_requests("GET", forged), 403, "AccessDenied", EXPIRED)


def test_expired_v2_url(v2: Any, obj: dict[str, str]) -> None:
    signed_at = (now_utc() - dt.timedelta(hours=1)).replace(microsecond=0)
    url = presign_at(v2, signed_at, "get_object", obj, 60)
    expires = int(signed_at.timestamp()) + 60
    assert query_of(url)["Expires"] == str(expires)
    doc = assert_error(fetch_curl("GET", url), 403, "AccessDenied", EXPIRED)
    assert "X-Amz-Expires" not in doc.elements
    assert doc.elements["Expires"] == _iso(dt.datetime.fromtimestamp(expires, dt.UTC))
    _server_time_is_now(doc.elements["ServerTime"])
    stretched = url.replace(f"Expires={expires}", f"Expires={expires + 86400}")
    assert_error(fetch_curl("GET", stretched), 403, "SignatureDoesNotMatch", MISMATCH)


def test_links_die_on_the_real_clock(v4: Any, v2: Any, obj: dict[str, str]) -> None:
    """No mocked clock: short links work at once and are refused once their time is up.

    X-Amz-Date has whole seconds, so a link lives between ExpiresIn - 1 and ExpiresIn seconds; 3 s
    leaves room for a loaded machine to make the first fetch in time."""
    urls = [v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=3),
            v2.generate_presigned_url("get_object", Params=obj, ExpiresIn=3)]
    for url in urls:
        fresh = fetch_requests("GET", url)
        assert fresh.status == 200, fresh.describe()
        assert fresh.body == BODY
    time.sleep(4.1)
    for url in urls:
        assert_error(fetch_requests("GET", url), 403, "AccessDenied", EXPIRED)


def test_v4_date_in_the_future(v4: Any, obj: dict[str, str]) -> None:
    later = presign_at(v4, now_utc() + dt.timedelta(minutes=20), "get_object", obj, 3600)
    assert_error(fetch_requests("GET", later), 403, "AccessDenied", NOT_YET)
    # Within the 15-minute allowance a clock running ahead is tolerated.
    slightly = presign_at(v4, now_utc() + dt.timedelta(minutes=10), "get_object", obj, 3600)
    ok = fetch_requests("GET", slightly)
    assert ok.status == 200, ok.describe()
    assert ok.body == BODY


def test_v4_expires_cap(v4: Any, obj: dict[str, str]) -> None:
    too_long = v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=604801)
    assert query_of(too_long)["X-Amz-Expires"] == "604801"
    assert_error(fetch_requests("GET", too_long), 400, "AuthorizationQueryParametersError", TOO_LONG)
    week = v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=604800)
    ok = fetch_requests("GET", week)
    assert ok.status == 200, ok.describe()
    assert ok.body == BODY


# --- malformed query ---------------------------------------------------------------------------------------
def _drop_param(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p.split("=", 1)[0] != name]
    assert len(kept) == query.count("&"), (name, url)
    return f"{base}?{'&'.join(kept)}"


@pytest.mark.parametrize("name", ["X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"])
def test_v4_missing_parameter(name: str, v4: Any, obj: dict[str, str]) -> None:
    url = _drop_param(v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=300), name)
    assert_error(fetch_requests("GET", url), 400, "AuthorizationQueryParametersError", MISSING_V4)


def _set_param(url: str, name: str, value: str) -> str:
    base, _, query = url.partition("?")
    pairs = [p.split("=", 1) for p in query.split("&")]
    assert any(k == name for k, _ in pairs), (name, url)
    return f"{base}?{'&'.join(f'{k}={value if k == name else v}' for k, v in pairs)}"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA1", None),
    ("X-Amz-Expires", "abc", "X-Amz-Expires should be a number"),
    ("X-Amz-Expires", "-1", "X-Amz-Expires must be non-negative"),
    ("X-Amz-Date", "20261301T000000Z", None),
    ("X-Amz-Date", "yesterday", None),
])
def test_v4_malformed_parameter(name: str, value: str, message: str | None, v4: Any, obj: dict[str, str]) -> None:
    url = _set_param(v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=300), name, value)
    assert_error(fetch_requests("GET", url), 400, "AuthorizationQueryParametersError", message)


def test_v4_credential_date_differs_from_amz_date(v4: Any, obj: dict[str, str]) -> None:
    url = v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    amz_date = query_of(url)["X-Amz-Date"]
    day_before = (dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ") - dt.timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    doc = assert_error(fetch_requests("GET", _set_param(url, "X-Amz-Date", day_before)), 400,
                       "AuthorizationQueryParametersError")
    assert doc.message.startswith("Error parsing the X-Amz-Credential parameter; "), doc


def test_v4_expires_zero(v4: Any, obj: dict[str, str]) -> None:
    """Issue 3: X-Amz-Expires outside 1..604800 is AuthorizationQueryParametersError (Ceph refuses 0)."""
    url = v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=0)
    assert query_of(url)["X-Amz-Expires"] == "0"
    assert_error(fetch_requests("GET", url), 400, "AuthorizationQueryParametersError")


@pytest.mark.parametrize("name", ["Expires", "Signature", "AWSAccessKeyId"])
def test_v2_missing_parameter(name: str, v2: Any, obj: dict[str, str]) -> None:
    url = _drop_param(v2.generate_presigned_url("get_object", Params=obj, ExpiresIn=300), name)
    assert_error(fetch_requests("GET", url), 403, "AccessDenied",
                 "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_appended_override_breaks_signature(signature_version: str, s3_factory: S3Factory,
                                            obj: dict[str, str]) -> None:
    """Whoever holds a link cannot add response-* overrides the signer did not choose."""
    url = s3_factory(signature_version=signature_version).generate_presigned_url(
        "get_object", Params=obj, ExpiresIn=300)
    for extra in ("response-content-type=text%2Fhtml", "response-content-disposition=attachment"):
        assert_error(fetch_requests("GET", f"{url}&{extra}"), 403, "SignatureDoesNotMatch", MISMATCH)


def test_v4_wrong_region(satchel_server: ServerHandle, obj: dict[str, str]) -> None:
    client = boto3.client(
        "s3", endpoint_url=satchel_server.endpoint, region_name="eu-central-1",
        aws_access_key_id=satchel_server.access_key, aws_secret_access_key=satchel_server.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url = client.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    assert "%2Feu-central-1%2Fs3%2F" in url
    doc = assert_error(fetch_requests("GET", url), 400, "AuthorizationQueryParametersError")
    assert doc.message.startswith("Error parsing the X-Amz-Credential parameter; "), doc
    assert "eu-central-1" in doc.message and "us-east-1" in doc.message, doc
    assert doc.elements.get("Region") == "us-east-1", doc


# --- signature and key ------------------------------------------------------------------------------------
def _flip_last_hex(signature: str) -> str:
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


def test_v4_tampered_signature(v4: Any, obj: dict[str, str], satchel_server: ServerHandle) -> None:
    url = v4.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    query = query_of(url)
    forged = _flip_last_hex(query["X-Amz-Signature"])
    doc = assert_error(fetch_requests("GET", url.replace(query["X-Amz-Signature"], forged)), 403,
                       "SignatureDoesNotMatch", MISMATCH)
    assert doc.elements["AWSAccessKeyId"] == satchel_server.access_key
    assert doc.elements["SignatureProvided"] == forged
    creq, sts = doc.elements["CanonicalRequest"], doc.elements["StringToSign"]
    scope = query["X-Amz-Credential"].split("/", 1)[1]
    assert sts == "\n".join(["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope,
                             hashlib.sha256(creq.encode()).hexdigest()])
    assert creq.startswith(f"GET\n/{obj['Bucket']}/secret/doc.txt\n"), creq
    assert creq.endswith("\nhost\nUNSIGNED-PAYLOAD"), creq
    assert "StringToSignBytes" in doc.elements
    assert "CanonicalRequestBytes" in doc.elements
    assert satchel_server.secret_key not in str(doc)


def test_v2_tampered_signature(v2: Any, obj: dict[str, str], satchel_server: ServerHandle) -> None:
    url = v2.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    signature = query_of(url)["Signature"]
    forged_url = url.replace("Signature=", "Signature=AAAA", 1)
    doc = assert_error(fetch_requests("GET", forged_url), 403, "SignatureDoesNotMatch", MISMATCH)
    assert doc.elements["AWSAccessKeyId"] == satchel_server.access_key
    assert doc.elements.get("SignatureProvided") == "AAAA" + signature, doc
    assert "StringToSign" in doc.elements, doc


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_unknown_access_key(signature_version: str, satchel_server: ServerHandle, obj: dict[str, str],
                            s3_factory: S3Factory) -> None:
    stranger = s3_factory(Credentials("AKIANOSUCHKEY0000000", "x" * 40), signature_version=signature_version)
    url = stranger.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    doc = assert_error(fetch_requests("GET", url), 403, "InvalidAccessKeyId", UNKNOWN_KEY)
    assert doc.elements["AWSAccessKeyId"] == "AKIANOSUCHKEY0000000"


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_edited_key_or_bucket(signature_version: str, s3_factory: S3Factory, s3: Any, obj: dict[str, str],
                              bucket_factory: Any) -> None:
    client = s3_factory(signature_version=signature_version)
    s3.put_object(Bucket=obj["Bucket"], Key="secret/other.txt", Body=b"other")
    other_bucket = bucket_factory("other")
    s3.put_object(Bucket=other_bucket, Key="secret/doc.txt", Body=b"other bucket")
    url = client.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    for edited in (url.replace("/secret/doc.txt?", "/secret/other.txt?"),
                   url.replace(f"/{obj['Bucket']}/", f"/{other_bucket}/")):
        assert edited != url
        assert_error(fetch_requests("GET", edited), 403, "SignatureDoesNotMatch", MISMATCH)
    assert fetch_requests("GET", url).body == BODY


def test_unsigned_amz_header_refused(v4: Any, s3: Any, bucket: str) -> None:
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "meta.txt"}, ExpiresIn=300)
    reply = fetch_requests("PUT", url, data=b"smuggled", headers={"x-amz-meta-foo": "1"})
    doc = assert_error(reply, 403, "AccessDenied", NOT_SIGNED)
    assert doc.elements["HeadersNotSigned"] == "x-amz-meta-foo"
    reply = fetch_curl("PUT", url, data=b"smuggled", headers={"x-amz-acl": "private", "X-Amz-Meta-Bar": "2"})
    doc = assert_error(reply, 403, "AccessDenied", NOT_SIGNED)
    assert doc.elements["HeadersNotSigned"] == "x-amz-acl, x-amz-meta-bar"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    ok = fetch_requests("PUT", url, data=b"clean")
    assert ok.status == 200, ok.describe()


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_authorization_header_and_query_signature(signature_version: str, s3_factory: S3Factory,
                                                  obj: dict[str, str], satchel_server: ServerHandle) -> None:
    client = s3_factory(signature_version=signature_version)
    url = client.generate_presigned_url("get_object", Params=obj, ExpiresIn=300)
    header = (f"AWS4-HMAC-SHA256 Credential={satchel_server.access_key}/20260101/us-east-1/s3/aws4_request, "
              f"SignedHeaders=host, Signature={'0' * 64}")
    doc = assert_error(fetch_requests("GET", url, headers={"Authorization": header}), 400, "InvalidArgument", BOTH)
    assert doc.elements.get("ArgumentName") == "Authorization"
