"""The S3 front-end's operations in-process, driven by boto3 (its requests answered by the app without a
socket): buckets, objects, listings, copies, multipart, CORS and POST uploads, each with the answer boto3
parses and the refusals it raises."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from satchel.core.models import Permission, Role
from tests.app.driver import InProcessApp

MiB = 1024 * 1024


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    error = excinfo.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]


def test_buckets(app: InProcessApp, unique: Callable[[str], str]) -> None:
    s3 = app.boto3()
    name = unique("ops-")
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=unique("ops-"))
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    page = s3.list_buckets(MaxBuckets=1)
    assert len(page["Buckets"]) == 1 and page.get("ContinuationToken")
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    acl = s3.get_bucket_acl(Bucket=name)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL" and acl["Owner"]["DisplayName"] == "root"
    s3.head_bucket(Bucket=name)
    # us-east-1 (the node's region here): re-creating your own bucket answers 200, as AWS does there.
    assert s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    bad = app.s3("GET", "/?max-buckets=0")
    assert (bad.status, bad.code) == (400, "InvalidArgument")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as gone:
        s3.head_bucket(Bucket=name)
    assert _code(gone)[0] == 404


def test_objects_ranges_conditions_and_acl(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    put = s3.put_object(Bucket=bucket, Key="o.txt", Body=b"0123456789", ContentType="text/plain",
                        Metadata={"colour": "blue"}, ChecksumAlgorithm="CRC32")
    assert put["ChecksumCRC32"]
    got = s3.get_object(Bucket=bucket, Key="o.txt", Range="bytes=2-4")
    assert got["Body"].read() == b"234" and got["ContentRange"] == "bytes 2-4/10"
    head = s3.head_object(Bucket=bucket, Key="o.txt", ChecksumMode="ENABLED")
    assert head["Metadata"] == {"colour": "blue"} and head["ContentLength"] == 10
    assert head["ChecksumCRC32"] == put["ChecksumCRC32"]
    whole = s3.get_object(Bucket=bucket, Key="o.txt", PartNumber=1)
    # Part 1 of an object stored in one piece is all of it, as a range; no parts count (AWS sends none either).
    assert whole["Body"].read() == b"0123456789" and whole["ContentRange"] == "bytes 0-9/10"
    assert "PartsCount" not in whole
    with pytest.raises(ClientError) as unsatisfiable:
        s3.get_object(Bucket=bucket, Key="o.txt", Range="bytes=50-60")
    assert _code(unsatisfiable) == (416, "InvalidRange")
    with pytest.raises(ClientError) as no_part:
        s3.get_object(Bucket=bucket, Key="o.txt", PartNumber=2)
    assert _code(no_part) == (416, "InvalidPartNumber")
    with pytest.raises(ClientError) as changed:
        s3.get_object(Bucket=bucket, Key="o.txt", IfMatch='"nope"')
    assert _code(changed) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as exists:
        s3.put_object(Bucket=bucket, Key="o.txt", Body=b"x", IfNoneMatch="*")
    assert _code(exists) == (412, "PreconditionFailed")
    assert s3.get_object_acl(Bucket=bucket, Key="o.txt")["Grants"][0]["Permission"] == "FULL_CONTROL"
    s3.delete_object(Bucket=bucket, Key="o.txt")
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="o.txt")
    assert _code(missing) == (404, "NoSuchKey")


def test_delete_objects(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    for key in ("d/1", "d/2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    done = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/1"}, {"Key": "d/2"},
                                                                {"Key": "d/none"}, {"Key": "d/x", "VersionId": "v1"}]})
    assert sorted(d["Key"] for d in done["Deleted"]) == ["d/1", "d/2", "d/none"]
    assert [(e["Key"], e["Code"]) for e in done["Errors"]] == [("d/x", "InvalidArgument")]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/3"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket, Prefix="d/")["KeyCount"] == 0


def test_listings(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    for key in ("a/1", "a/2", "b/1", "c", "sp ace"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    v2 = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2, FetchOwner=True)
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["a/", "b/"] and v2["IsTruncated"]
    rest = s3.list_objects_v2(Bucket=bucket, Delimiter="/", ContinuationToken=v2["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == ["c", "sp ace"]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/1", EncodingType="url")
    assert [o["Key"] for o in after["Contents"]] == ["c", "sp%20ace"]  # asked for by the caller: left encoded
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/", MaxKeys=1)
    assert [o["Key"] for o in v1["Contents"]] == ["a/1"] and v1["IsTruncated"]
    v1_next = s3.list_objects(Bucket=bucket, Prefix="a/", Marker="a/1")
    assert [o["Key"] for o in v1_next["Contents"]] == ["a/2"]
    for bad in ("max-keys=-1", "continuation-token=***", "encoding-type=base64"):
        refused = app.s3("GET", f"/{bucket}?list-type=2&{bad}")
        assert (refused.status, refused.code) == (400, "InvalidArgument"), (bad, refused.body)


def test_copy(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    s3.put_object(Bucket=bucket, Key="src", Body=b"source bytes", Metadata={"k": "v"}, ContentType="text/plain")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"]
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"k": "v"}
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"new": "1"}, ContentType="application/x-new")
    head = s3.head_object(Bucket=bucket, Key="dst2")
    assert head["Metadata"] == {"new": "1"} and head["ContentType"] == "application/x-new"
    with pytest.raises(ClientError) as same:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert _code(same) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as failed:
        s3.copy_object(Bucket=bucket, Key="dst3", CopySource=f"{bucket}/src", CopySourceIfMatch='"other"')
    assert _code(failed) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as missing:
        s3.copy_object(Bucket=bucket, Key="dst3", CopySource=f"{bucket}/none")
    assert _code(missing) == (404, "NoSuchKey")


def test_multipart(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    s3.put_object(Bucket=bucket, Key="copy-src", Body=b"c" * (5 * MiB))
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="application/x-mp")["UploadId"]
    one = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"a" * (5 * MiB))
    two = s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2,
                              CopySource=f"{bucket}/copy-src", CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    three = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=3, Body=b"end")
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload, MaxParts=2)
    assert [p["PartNumber"] for p in parts["Parts"]] == [1, 2] and parts["IsTruncated"]
    more = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload, PartNumberMarker=2)
    assert [p["PartNumber"] for p in more["Parts"]] == [3]
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix="mp")
    assert [u["UploadId"] for u in uploads["Uploads"]] == [upload]
    with pytest.raises(ClientError) as order:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 3, "ETag": three["ETag"]}, {"PartNumber": 1, "ETag": one["ETag"]}]})
    assert _code(order) == (400, "InvalidPartOrder")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": two["CopyPartResult"]["ETag"]},
        {"PartNumber": 3, "ETag": three["ETag"]}]})
    assert done["ETag"].endswith('-3"')
    body = s3.get_object(Bucket=bucket, Key="mp")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(b"a" * (5 * MiB) + b"c" * (5 * MiB) + b"end").digest()
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=3)["Body"].read() == b"end"

    tiny = s3.create_multipart_upload(Bucket=bucket, Key="tiny")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="tiny", UploadId=tiny, PartNumber=n, Body=b"t")["ETag"] for n in (1, 2)]
    with pytest.raises(ClientError) as small:
        s3.complete_multipart_upload(Bucket=bucket, Key="tiny", UploadId=tiny, MultipartUpload={"Parts": [
            {"PartNumber": n, "ETag": etag} for n, etag in zip((1, 2), etags, strict=True)]})
    assert _code(small) == (400, "EntityTooSmall")

    gone = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=gone)
    with pytest.raises(ClientError) as aborted:
        s3.upload_part(Bucket=bucket, Key="gone", UploadId=gone, PartNumber=1, Body=b"x")
    assert _code(aborted) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as number:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=str(uuid.uuid4()), PartNumber=10001, Body=b"x")
    assert _code(number)[0] == 400


def test_cors(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    with pytest.raises(ClientError) as none:
        s3.get_bucket_cors(Bucket=bucket)
    assert _code(none) == (404, "NoSuchCORSConfiguration")
    rules: dict[str, Any] = {"CORSRules": [{
        "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]}
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=rules)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["https://*.example.com"]
    preflight = app.request("OPTIONS", f"/{bucket}/k", [
        ("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "X-Amz-Date, Content-Type")])
    assert preflight.status == 200, preflight.body
    assert preflight.header("access-control-allow-origin") == "https://app.example.com"
    assert preflight.header("access-control-allow-methods") == "GET, PUT"
    assert preflight.header("access-control-max-age") == "600"
    refused = app.request("OPTIONS", f"/{bucket}/k", [("Origin", "https://evil.test"),
                                                       ("Access-Control-Request-Method", "PUT")])
    assert refused.status == 403 and refused.code == "AccessForbidden"
    bad_header = app.request("OPTIONS", f"/{bucket}/k", [("Origin", "https://app.example.com"),
                                                          ("Access-Control-Request-Method", "GET"),
                                                          ("Access-Control-Request-Headers", "authorization")])
    assert bad_header.status == 403
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    simple = app.s3("GET", f"/{bucket}/k", [("Origin", "https://app.example.com")])
    assert simple.header("access-control-allow-origin") == "https://app.example.com"
    assert simple.header("access-control-expose-headers") == "ETag"
    s3.delete_bucket_cors(Bucket=bucket)
    no_bucket = app.request("OPTIONS", "/no-such-bucket-here/k", [("Origin", "https://a.example.com"),
                                                                 ("Access-Control-Request-Method", "GET")])
    assert (no_bucket.status, no_bucket.code) == (404, "NoSuchBucket")


def _form(fields: dict[str, str], content: bytes, boundary: str = "----satchelform") -> tuple[str, bytes]:
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n' \
           f"Content-Type: text/plain\r\n\r\n".encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out


def test_post_object(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    post = s3.generate_presigned_post(bucket, "up/${filename}", Fields={"success_action_status": "201"},
                                      Conditions=[["starts-with", "$key", "up/"], {"success_action_status": "201"},
                                                  ["content-length-range", 1, 100]], ExpiresIn=300)
    content_type, body = _form(post["fields"], b"posted bytes")
    made = app.request("POST", f"/{bucket}", [("Content-Type", content_type)], body)
    assert made.status == 201, made.body
    assert b"<Key>up/f.txt</Key>" in made.body
    assert s3.get_object(Bucket=bucket, Key="up/f.txt")["Body"].read() == b"posted bytes"

    too_big_type, too_big = _form(post["fields"], b"x" * 101)
    refused = app.request("POST", f"/{bucket}", [("Content-Type", too_big_type)], too_big)
    assert refused.status == 400 and refused.code == "EntityTooLarge", refused.body
    tampered = dict(post["fields"], key="elsewhere/f.txt")
    tampered_type, tampered_body = _form(tampered, b"x")
    forbidden = app.request("POST", f"/{bucket}", [("Content-Type", tampered_type)], tampered_body)
    assert forbidden.status == 403 and forbidden.code == "AccessDenied", forbidden.body
    not_form = app.request("POST", f"/{bucket}", [("Content-Type", "text/plain")], b"x")
    assert not_form.status in (400, 412) and not_form.code in ("InvalidArgument", "PreconditionFailed",
                                                               "MalformedPOSTRequest"), not_form.body
    redirect = s3.generate_presigned_post(bucket, "r.txt", Fields={"success_action_redirect": "https://x.test/done"},
                                          Conditions=[{"success_action_redirect": "https://x.test/done"}])
    redirect_type, redirect_body = _form(redirect["fields"], b"r")
    moved = app.request("POST", f"/{bucket}", [("Content-Type", redirect_type)], redirect_body)
    assert moved.status == 303 and str(moved.header("location")).startswith("https://x.test/done?bucket=")


def test_member_without_grant(app: InProcessApp, bucket: str, unique: Callable[[str], str]) -> None:
    app.boto3().put_object(Bucket=bucket, Key="private", Body=b"x")
    reader = app.boto3(app.user(unique("ro"), Role.MEMBER, [(bucket, Permission.READ)]))
    assert reader.get_object(Bucket=bucket, Key="private")["Body"].read() == b"x"
    with pytest.raises(ClientError) as denied:
        reader.put_object(Bucket=bucket, Key="private", Body=b"y")
    assert _code(denied) == (403, "AccessDenied")
    with pytest.raises(ClientError) as cors:
        reader.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    assert _code(cors) == (403, "AccessDenied")
    assert [b["Name"] for b in reader.list_buckets()["Buckets"]] == [bucket]
