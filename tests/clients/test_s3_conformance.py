"""AWS behaviours a public S3 conformance suite (ceph/s3-tests) found Satchel getting wrong, each pinned
against a real server with boto3, or with raw HTTP where an SDK cannot send the input.

The session server is in us-east-1; one module server in eu-west-1 covers what differs by region.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory, empty_and_delete, error_code, http_status, make_client, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, configured_server


def _refused(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return http_status(exc.value), error_code(exc.value)


def _blob_sizes(server: SatchelProcess) -> list[int]:
    return [p.stat().st_size for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def eu_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "euwest", 'region = "eu-west-1"\n')


@pytest.fixture(scope="module")
def eu_s3(eu_server: SatchelProcess) -> Iterator[Any]:
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=eu_server.endpoint, region_name="eu-west-1",
                          aws_access_key_id=eu_server.access_key, aws_secret_access_key=eu_server.secret_key,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    yield client


# --- DeleteBucket with unfinished multipart uploads -----------------------------------------------------
def test_delete_bucket_holding_only_unfinished_uploads_deletes_them(s3: Any, managed_server: SatchelProcess) -> None:
    name = unique_bucket("mpdel")
    s3.create_bucket(Bucket=name)
    size = 123_457  # a size no other blob of the session has, to find this part's file
    uploads = [s3.create_multipart_upload(Bucket=name, Key=f"k{i}")["UploadId"] for i in range(2)]
    s3.upload_part(Bucket=name, Key="k0", UploadId=uploads[0], PartNumber=1, Body=b"p" * size)
    s3.upload_part(Bucket=name, Key="k0", UploadId=uploads[0], PartNumber=2, Body=b"q" * 10)
    assert size in _blob_sizes(managed_server)
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _refused(lambda: s3.head_bucket(Bucket=name))[0] == 404
    assert size not in _blob_sizes(managed_server)  # the parts' bytes released with the bucket
    s3.create_bucket(Bucket=name)  # the name's next bucket inherits no upload
    try:
        assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        assert _refused(lambda: s3.list_parts(Bucket=name, Key="k0", UploadId=uploads[0])) == (404, "NoSuchUpload")
    finally:
        empty_and_delete(s3, name)


def test_delete_bucket_with_objects_and_uploads_stays_not_empty(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.put_object(Bucket=bucket, Key="small", Body=b"1")
    assert _refused(lambda: s3.delete_bucket(Bucket=bucket)) == (409, "BucketNotEmpty")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]


# --- CreateBucket of a bucket you already own --------------------------------------------------------------
def test_recreating_your_own_bucket_in_us_east_1_answers_200(s3: Any, bucket: str,
                                                             satchel_server: ServerHandle) -> None:
    s3.put_object(Bucket=bucket, Key="kept", Body=b"1")
    again = s3.create_bucket(Bucket=bucket)
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert again["Location"] == f"/{bucket}"
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"1"
    # The legacy "US" constraint is us-east-1 too.
    configured = s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "US"})
    assert configured["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_recreating_another_users_bucket_stays_bucket_already_exists(
    s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials]
) -> None:
    assert _refused(lambda: s3_factory(member()).create_bucket(Bucket=bucket)) == (409, "BucketAlreadyExists")


def test_recreating_your_own_bucket_elsewhere_is_bucket_already_owned_by_you(eu_s3: Any) -> None:
    name = unique_bucket("eu")
    config = {"LocationConstraint": "eu-west-1"}
    eu_s3.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    try:
        assert _refused(lambda: eu_s3.create_bucket(Bucket=name, CreateBucketConfiguration=config)) == (
            409, "BucketAlreadyOwnedByYou")
        assert _refused(lambda: eu_s3.create_bucket(Bucket=name)) == (409, "BucketAlreadyOwnedByYou")
    finally:
        eu_s3.delete_bucket(Bucket=name)


# --- CORS preflight without Origin ---------------------------------------------------------------------------
def test_preflight_without_origin_or_method_is_bad_request(s3: Any, bucket: str,
                                                           satchel_server: ServerHandle) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*suffix"], "AllowedMethods": ["GET"]}]})
    url = f"{satchel_server.endpoint}/{bucket}"
    for headers in ({}, {"Origin": "foo.suffix"}, {"Origin": "bla"}, {"Access-Control-Request-Method": "GET"}):
        answer = requests.options(url, headers=headers, timeout=10)
        assert answer.status_code == 400, headers
        assert "<Code>BadRequest</Code>" in answer.text
        assert "access-control-allow-origin" not in answer.headers
    allowed = requests.options(url + "/k", headers={"Origin": "foo.suffix", "Access-Control-Request-Method": "GET"},
                               timeout=10)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "foo.suffix"
    refused = requests.options(url, headers={"Origin": "foo.bar", "Access-Control-Request-Method": "GET"},
                               timeout=10)
    assert refused.status_code == 403 and "<Code>AccessForbidden</Code>" in refused.text


# --- CompleteMultipartUpload retried, and part lists AWS refuses ------------------------------------------------
def _two_part_upload(s3: Any, bucket: str, key: str, first_size: int = 5 * 1024 * 1024,
                     ) -> tuple[str, list[dict[str, Any]]]:
    """Two parts; small ones (``first_size``) when the test completes with one part only (the last part may
    be of any size), to keep the test fast."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, body in ((1, b"a" * first_size), (2, b"tail")):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    return upload, parts


def test_completing_a_completed_upload_again_answers_the_same(s3: Any, bucket: str) -> None:
    upload, parts = _two_part_upload(s3, bucket, "big")
    first = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    again = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert again["ETag"] == first["ETag"] and again["ETag"].endswith('-2"')
    # Unquoted ETags (as ceph s3-tests sends them) name the same parts.
    unquoted = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"].strip('"')} for p in parts]
    assert s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                        MultipartUpload={"Parts": unquoted})["ETag"] == first["ETag"]
    assert s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == 5 * 1024 * 1024 + 4
    # Another part list, another key, or an upload id nobody made: NoSuchUpload, and nothing changes.
    for key, upload_id, listed in (("big", upload, parts[:1]), ("other", upload, parts), ("big", "f" * 32, parts)):
        assert _refused(functools.partial(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id,
                                          MultipartUpload={"Parts": listed})) == (404, "NoSuchUpload")
    assert s3.head_object(Bucket=bucket, Key="big")["ETag"] == first["ETag"]
    assert _refused(lambda: s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)) == (
        404, "NoSuchUpload")


def test_retried_completion_is_authorised_like_the_first(s3: Any, s3_factory: S3Factory, bucket: str,
                                                         member: Callable[[], Credentials]) -> None:
    upload, parts = _two_part_upload(s3, bucket, "big", first_size=10)
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts[1:]})
    stranger = s3_factory(member())
    assert _refused(lambda: stranger.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts[1:]})) == (403, "AccessDenied")


def test_completion_naming_a_part_twice_is_invalid_part_order(s3: Any, bucket: str) -> None:
    upload, parts = _two_part_upload(s3, bucket, "big", first_size=10)
    for listed in ([parts[0], parts[0], parts[1]], [parts[1], parts[0]], [parts[1], parts[1]]):
        assert _refused(functools.partial(s3.complete_multipart_upload, Bucket=bucket, Key="big", UploadId=upload,
                                          MultipartUpload={"Parts": listed})) == (400, "InvalidPartOrder")
    # Refused lists leave the upload as it was: it still completes.
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts[1:]})


# --- UploadPartCopy with an invalid x-amz-copy-source-range ------------------------------------------------------
def test_upload_part_copy_ranges_as_aws_refuses_them(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="source", Body=b"12345")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dest")["UploadId"]

    def copy(source_range: str) -> Any:
        return s3.upload_part_copy(Bucket=bucket, Key="dest", UploadId=upload, PartNumber=1,
                                   CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange=source_range)

    # Well-formed but beyond the source: unsatisfiable (ceph s3-tests test_multipart_copy_invalid_range).
    for beyond in ("bytes=0-21", "bytes=5-5", "bytes=4-5"):
        assert _refused(functools.partial(copy, beyond)) == (416, "InvalidRange"), beyond
    # Malformed or reversed: InvalidArgument (test_multipart_copy_improper_range).
    for malformed in ("0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-", "bytes=0-2,3-5",
                      "bytes=3-1", "items=0-2"):
        assert _refused(functools.partial(copy, malformed)) == (400, "InvalidArgument"), malformed
    assert s3.list_parts(Bucket=bucket, Key="dest", UploadId=upload).get("Parts", []) == []
    copy("bytes=1-3")
    assert s3.list_parts(Bucket=bucket, Key="dest", UploadId=upload)["Parts"][0]["Size"] == 3


# --- SigV2 header dates, POST policy expiration ------------------------------------------------------------------
def _v2_with_headers(satchel_server: ServerHandle, headers: dict[str, str]) -> Any:
    """A SigV2 (HMAC-SHA1 header) client that adds ``headers`` before signing, so they are signed, as ceph
    s3-tests does: a refusal is about the date, never about the signature."""
    client = make_client(satchel_server, signature_version="s3")
    client.meta.events.register("before-call.s3.PutObject",
                                lambda params, **_: params["headers"].update(headers))
    return client


def test_sigv2_with_an_empty_or_bad_x_amz_date_is_refused(satchel_server: ServerHandle, bucket: str) -> None:
    for headers in ({"x-amz-date": ""}, {"x-amz-date": "Bad Date"},
                    {"x-amz-date": "Tue, 07 Jul 1950 21:53:04 GMT"}):
        client = _v2_with_headers(satchel_server, headers)
        put = functools.partial(client.put_object, Bucket=bucket, Key="k", Body=b"x")
        assert _refused(put) == (403, "AccessDenied"), headers
    skewed = _v2_with_headers(satchel_server, {"x-amz-date": "Tue, 07 Jul 2010 21:53:04 GMT"})
    assert _refused(lambda: skewed.put_object(Bucket=bucket, Key="k", Body=b"x")) == (403, "RequestTimeTooSkewed")
    # A valid x-amz-date with an empty Date is fine (the AWS guide's variant).
    now = email.utils.formatdate(usegmt=True)
    _v2_with_headers(satchel_server, {"x-amz-date": now}).put_object(Bucket=bucket, Key="k", Body=b"x")


def test_sigv2_with_empty_date_and_no_x_amz_date_is_refused(satchel_server: ServerHandle, bucket: str) -> None:
    client = make_client(satchel_server, signature_version="s3")
    client.meta.events.register("before-send.s3.PutObject", _blank_date)  # after signing: Date sent empty
    assert _refused(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"x")) == (403, "AccessDenied")


def _blank_date(request: Any, **_: Any) -> None:
    request.headers["Date"] = ""


def _post_v2(satchel_server: ServerHandle, bucket: str, expiration: str) -> requests.Response:
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": [
        {"bucket": bucket}, ["starts-with", "$key", ""], ["content-length-range", 0, 1024]]}).encode())
    signature = base64.b64encode(hmac.new(satchel_server.secret_key.encode(), policy, hashlib.sha1).digest())
    fields = {"key": "posted.txt", "AWSAccessKeyId": satchel_server.access_key, "policy": policy.decode(),
              "signature": signature.decode()}
    return requests.post(f"{satchel_server.endpoint}/{bucket}", data=fields,
                         files={"file": ("posted.txt", b"bar")}, timeout=10)


def test_post_policy_expiration_must_be_iso_8601(s3: Any, satchel_server: ServerHandle, bucket: str) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for expiration in (str(later), later.strftime("%Y-%m-%d"), later.strftime("%Y%m%dT%H%M%SZ")):
        refused = requests_answer(_post_v2(satchel_server, bucket, expiration))
        assert refused == (400, "InvalidPolicyDocument"), expiration
    assert _refused(lambda: s3.head_object(Bucket=bucket, Key="posted.txt"))[0] == 404
    accepted = _post_v2(satchel_server, bucket, later.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert accepted.status_code == 204, accepted.text
    assert s3.get_object(Bucket=bucket, Key="posted.txt")["Body"].read() == b"bar"


def requests_answer(answer: requests.Response) -> tuple[int, str]:
    code = answer.text.partition("<Code>")[2].partition("</Code>")[0]
    return answer.status_code, code


# --- encoding-type=url: exactly the fields AWS encodes -----------------------------------------------------------
ENCODED_KEYS = ("a b/1", "a b/2", "c+d", "e\x01f", "ü/z")


def test_list_objects_v1_url_encodes_the_documented_fields(s3: Any, bucket: str) -> None:
    """Delimiter, Marker, Prefix, NextMarker, Key and CommonPrefixes/Prefix (the ListObjects reference); asked
    for explicitly, botocore hands the encoded values back as sent."""
    for key in ENCODED_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    page = s3.list_objects(Bucket=bucket, EncodingType="url", Delimiter="/", Marker="a a", MaxKeys=1)
    assert (page["EncodingType"], page["Marker"], page["Delimiter"], page["Prefix"]) == ("url", "a%20a", "/", "")
    assert page["IsTruncated"] and page["NextMarker"] == "a%20b/"
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a%20b/"]
    rest = s3.list_objects(Bucket=bucket, EncodingType="url", Delimiter="/", Marker="a b/")
    assert [o["Key"] for o in rest["Contents"]] == ["c%2Bd", "e%01f"]
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["%C3%BC/"]
    spaced = s3.list_objects(Bucket=bucket, EncodingType="url", Prefix="a b/", Delimiter=" ")
    assert (spaced["Prefix"], spaced["Delimiter"]) == ("a%20b/", "%20")
    assert [o["Key"] for o in spaced["Contents"]] == ["a%20b/1", "a%20b/2"]
    # Left to botocore (it sets encoding-type itself and decodes what it set), every key comes back whole.
    plain = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="a a")
    assert (plain["Marker"], [o["Key"] for o in plain["Contents"]]) == ("a a", ["c+d", "e\x01f"])
    assert [p["Prefix"] for p in plain["CommonPrefixes"]] == ["a b/", "ü/"]


def test_list_objects_v2_url_encodes_the_documented_fields_and_never_the_token(s3: Any, bucket: str) -> None:
    """Delimiter, Prefix, Key, StartAfter and CommonPrefixes/Prefix; continuation tokens are opaque."""
    for key in ENCODED_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    first = s3.list_objects_v2(Bucket=bucket, EncodingType="url", StartAfter="a a", Delimiter="/", MaxKeys=2)
    assert (first["StartAfter"], first["Delimiter"], first["KeyCount"]) == ("a%20a", "/", 2)
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["a%20b/"]
    assert [o["Key"] for o in first["Contents"]] == ["c%2Bd"]
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=bucket, EncodingType="url", ContinuationToken=token, Delimiter="/")
    assert second["ContinuationToken"] == token  # echoed as sent, never encoded
    assert [o["Key"] for o in second["Contents"]] == ["e%01f"]
    assert [p["Prefix"] for p in second["CommonPrefixes"]] == ["%C3%BC/"]
    assert s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="ü")["Prefix"] == "%C3%BC"


# --- ListMultipartUploads with a delimiter (adjacent: it was ignored) --------------------------------------------
def test_list_multipart_uploads_rolls_up_common_prefixes(s3: Any, bucket: str) -> None:
    made = {key: s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            for key in ("a/1", "a/2", "b", "c/d/e", "c/x", "z")}
    whole = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in whole["Uploads"]] == ["b", "z"]
    assert [p["Prefix"] for p in whole["CommonPrefixes"]] == ["a/", "c/"]
    assert not whole["IsTruncated"]
    nested = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", Prefix="c/")
    assert [u["Key"] for u in nested["Uploads"]] == ["c/x"]
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["c/d/"]
    # Prefixes and uploads count together against max-uploads; a page may end on either.
    seen: list[str] = []
    markers: dict[str, str] = {}
    for _ in range(6):
        page = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=1, **markers)
        seen += [u["Key"] for u in page.get("Uploads", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        markers = {"KeyMarker": page["NextKeyMarker"]}
        if page.get("NextUploadIdMarker"):
            markers["UploadIdMarker"] = page["NextUploadIdMarker"]
    assert seen == ["a/", "b", "c/", "z"]
    flat = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["UploadId"] for u in flat["Uploads"]] == list(made.values())


def test_concurrent_completions_of_one_upload_all_answer_the_same(s3: Any, bucket: str) -> None:
    """The completions that lose the race to publish answer as the winner did, not NoSuchUpload."""
    from concurrent.futures import ThreadPoolExecutor

    upload, parts = _two_part_upload(s3, bucket, "raced", first_size=10)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: s3.complete_multipart_upload(
            Bucket=bucket, Key="raced", UploadId=upload, MultipartUpload={"Parts": parts[1:]}), range(4)))
    assert {a["ResponseMetadata"]["HTTPStatusCode"] for a in answers} == {200}
    assert len({a["ETag"] for a in answers}) == 1
    assert s3.head_object(Bucket=bucket, Key="raced")["ETag"] == answers[0]["ETag"]
