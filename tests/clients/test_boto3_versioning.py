"""Versioning through boto3 against a real server: bucket state, version ids on every write, reads and
deletes of versions, delete markers, ListObjectVersions paging, copies from a version, and a presigned
URL naming a version that keeps serving its bytes after the key is overwritten."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, unique_bucket


def _drop_all_versions(s3: Any, name: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def vbucket(s3: Any) -> Iterator[str]:
    """A bucket with versioning enabled, emptied of every version afterwards."""
    name = unique_bucket("v")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    _drop_all_versions(s3, name)


def _versions(s3: Any, bucket: str, **kwargs: Any) -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is latest, is delete marker), in the answer's order per kind merged by key."""
    got = s3.list_object_versions(Bucket=bucket, **kwargs)
    rows = [(v["Key"], v["VersionId"], v["IsLatest"], False) for v in got.get("Versions", [])]
    rows += [(d["Key"], d["VersionId"], d["IsLatest"], True) for d in got.get("DeleteMarkers", [])]
    return rows


def test_bucket_versioning_state(s3: Any, bucket_factory: Callable[..., str]) -> None:
    name = bucket_factory()
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    s3.put_object(Bucket=name, Key="plain", Body=b"x")
    put = s3.put_object(Bucket=name, Key="plain", Body=b"y")
    assert "VersionId" not in put  # never versioned: no version ids, overwrites replace
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                                 MFA="123456 654321")
    assert http_status(caught.value) == 501
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Sometimes"})
    assert error_code(caught.value) == "MalformedXML"
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    s3.delete_object(Bucket=name, Key="plain", VersionId="null")
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_versioning(Bucket="no-such-bucket-versioning")
    assert error_code(caught.value) == "NoSuchBucket"


def test_versions_marker_and_reads(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="doc", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    assert s3.get_object(Bucket=vbucket, Key="doc")["Body"].read() == b"two"
    got = s3.get_object(Bucket=vbucket, Key="doc", VersionId=v1)
    assert got["Body"].read() == b"one" and got["VersionId"] == v1
    assert s3.head_object(Bucket=vbucket, Key="doc", VersionId=v2)["VersionId"] == v2
    assert s3.get_object_acl(Bucket=vbucket, Key="doc", VersionId=v2)["Owner"]
    assert s3.get_object_acl(Bucket=vbucket, Key="doc", VersionId=v1)["Owner"]  # each version has its own
    with pytest.raises(ClientError) as caught:
        s3.get_object_acl(Bucket=vbucket, Key="doc", VersionId="B" * 32)  # never the current one's instead
    assert error_code(caught.value) == "NoSuchVersion"

    deleted = s3.delete_object(Bucket=vbucket, Key="doc")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=vbucket, Key="doc")
    assert error_code(caught.value) == "NoSuchKey"
    headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=vbucket, Key="doc", VersionId=marker)
    assert http_status(caught.value) == 405
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=vbucket, Key="doc", VersionId="A" * 32)
    assert error_code(caught.value) == "NoSuchVersion"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=vbucket, Key="doc", VersionId="not a version")
    assert error_code(caught.value) == "InvalidArgument"
    assert s3.list_objects_v2(Bucket=vbucket).get("KeyCount") == 0  # the key reads as deleted

    assert _versions(s3, vbucket) == [("doc", v2, False, False), ("doc", v1, False, False),
                                      ("doc", marker, True, True)]
    # Deleting the marker by id brings the newest version back.
    removed = s3.delete_object(Bucket=vbucket, Key="doc", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=vbucket, Key="doc")["Body"].read() == b"two"
    # Deleting the current version by id promotes the previous one.
    s3.delete_object(Bucket=vbucket, Key="doc", VersionId=v2)
    assert s3.get_object(Bucket=vbucket, Key="doc")["Body"].read() == b"one"
    assert _versions(s3, vbucket) == [("doc", v1, True, False)]
    # A bucket with versions left is not empty.
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=vbucket)
    assert error_code(caught.value) == "BucketNotEmpty"


def test_suspended_writes_the_null_version(s3: Any, bucket_factory: Callable[..., str]) -> None:
    name = bucket_factory()
    s3.put_object(Bucket=name, Key="k", Body=b"before")  # written before versioning: the null version
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=name, Key="k", Body=b"enabled")["VersionId"]
    assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"before"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert "VersionId" not in s3.put_object(Bucket=name, Key="k", Body=b"s1")  # as AWS: none for a null write
    s3.put_object(Bucket=name, Key="k", Body=b"s2")  # replaces the null version
    assert s3.head_object(Bucket=name, Key="k")["VersionId"] == "null"
    assert _versions(s3, name) == [("k", "null", True, False), ("k", v1, False, False)]
    assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"s2"
    deleted = s3.delete_object(Bucket=name, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    assert _versions(s3, name) == [("k", v1, False, False), ("k", "null", True, True)]
    s3.delete_object(Bucket=name, Key="k", VersionId="null")
    s3.delete_object(Bucket=name, Key="k", VersionId=v1)
    assert _versions(s3, name) == []


def test_list_object_versions_paging_and_prefixes(s3: Any, vbucket: str) -> None:
    expected = []
    for key in ("a", "b/1", "b/2", "c"):
        ids = [s3.put_object(Bucket=vbucket, Key=key, Body=str(i).encode())["VersionId"] for i in range(3)]
        expected += [(key, vid) for vid in reversed(ids)]
    seen = []
    pages = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, PaginationConfig={"PageSize": 5}):
        pages += 1
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    assert seen == expected and pages == 3
    got = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in got["CommonPrefixes"]] == ["b/"]
    assert {v["Key"] for v in got["Versions"]} == {"a", "c"}
    got = s3.list_object_versions(Bucket=vbucket, Prefix="b/", MaxKeys=2)
    assert got["IsTruncated"] and got["NextKeyMarker"] == "b/1"
    rest = s3.list_object_versions(Bucket=vbucket, Prefix="b/", KeyMarker=got["NextKeyMarker"],
                                   VersionIdMarker=got["NextVersionIdMarker"])
    assert [(v["Key"], v["IsLatest"]) for v in rest["Versions"]] == [("b/1", False), ("b/2", True), ("b/2", False),
                                                                    ("b/2", False)]
    got = s3.list_object_versions(Bucket=vbucket, Delimiter="/", MaxKeys=2)
    assert got["IsTruncated"] and got["NextKeyMarker"] == "a"
    after = s3.list_object_versions(Bucket=vbucket, Delimiter="/", KeyMarker="a")
    assert [p["Prefix"] for p in after["CommonPrefixes"]] == ["b/"]


def test_copy_and_multipart_and_bulk_delete(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"second")
    copied = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1 and copied["VersionId"]
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == b"first"

    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    part = s3.upload_part_copy(Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1,
                               CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert part["CopySourceVersionId"] == v1
    done = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert done["VersionId"]
    assert s3.get_object(Bucket=vbucket, Key="mp")["Body"].read() == b"first"

    result = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "dst"}, {"Key": "src", "VersionId": v1}]})
    by_key = {d["Key"]: d for d in result["Deleted"]}
    assert by_key["dst"]["DeleteMarker"] is True and by_key["dst"]["DeleteMarkerVersionId"]
    assert by_key["src"]["VersionId"] == v1
    with pytest.raises(ClientError):
        s3.get_object(Bucket=vbucket, Key="src", VersionId=v1)
    assert s3.get_object(Bucket=vbucket, Key="src")["Body"].read() == b"second"


def test_presigned_url_keeps_serving_its_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="shared.txt", Body=b"version one")["VersionId"]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": vbucket, "Key": "shared.txt", "VersionId": v1},
                                    ExpiresIn=300)
    s3.put_object(Bucket=vbucket, Key="shared.txt", Body=b"version two")
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"version one"
    assert got.headers["x-amz-version-id"] == v1
    s3.delete_object(Bucket=vbucket, Key="shared.txt", VersionId=v1)
    gone = requests.get(url, timeout=10)
    assert gone.status_code == 404 and b"NoSuchVersion" in gone.content


def test_list_object_versions_edges(s3: Any, vbucket: str) -> None:
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    empty = s3.list_object_versions(Bucket=vbucket, MaxKeys=0)
    assert not empty["IsTruncated"] and "Versions" not in empty
    with pytest.raises(ClientError) as caught:
        s3.list_object_versions(Bucket=vbucket, VersionIdMarker="A" * 32)  # without a key marker
    assert error_code(caught.value) == "InvalidArgument"
    with pytest.raises(ClientError) as caught:
        s3.list_object_versions(Bucket=vbucket, KeyMarker="k", VersionIdMarker="not-an-id")
    assert error_code(caught.value) == "InvalidArgument"
    assert s3.list_object_versions(Bucket=vbucket, KeyMarker="k", VersionIdMarker="A" * 32).get("Versions") is None


def test_a_post_upload_gets_a_version(s3: Any, vbucket: str) -> None:
    first = s3.put_object(Bucket=vbucket, Key="form.txt", Body=b"before")["VersionId"]
    post = s3.generate_presigned_post(vbucket, "form.txt", ExpiresIn=300)
    sent = requests.post(post["url"], data=post["fields"], files={"file": ("form.txt", b"posted")}, timeout=10)
    assert sent.status_code == 204, sent.text
    made = sent.headers["x-amz-version-id"]
    assert made != first and s3.get_object(Bucket=vbucket, Key="form.txt")["VersionId"] == made
    assert s3.get_object(Bucket=vbucket, Key="form.txt", VersionId=first)["Body"].read() == b"before"


def test_copying_an_old_version_over_its_key_restores_it(s3: Any, vbucket: str) -> None:
    old = s3.put_object(Bucket=vbucket, Key="r", Body=b"good")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="r", Body=b"bad")
    restored = s3.copy_object(Bucket=vbucket, Key="r", CopySource={"Bucket": vbucket, "Key": "r", "VersionId": old})
    assert restored["CopySourceVersionId"] == old and restored["VersionId"] != old
    assert s3.get_object(Bucket=vbucket, Key="r")["Body"].read() == b"good"
    assert len(s3.list_object_versions(Bucket=vbucket, Prefix="r")["Versions"]) == 3
    with pytest.raises(ClientError) as caught:  # the current version onto itself, unchanged: still refused
        s3.copy_object(Bucket=vbucket, Key="r", CopySource={"Bucket": vbucket, "Key": "r"})
    assert error_code(caught.value) == "InvalidRequest"


def test_a_bucket_policy_names_the_version_actions(s3: Any, vbucket: str) -> None:
    import json

    first = s3.put_object(Bucket=vbucket, Key="p", Body=b"one")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="p", Body=b"two")
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Resource": f"arn:aws:s3:::{vbucket}/*",
         "Action": ["s3:GetObjectVersion", "s3:DeleteObjectVersion"]},
        {"Effect": "Deny", "Principal": "*", "Resource": f"arn:aws:s3:::{vbucket}", "Action": "s3:ListBucketVersions"},
    ]}
    s3.put_bucket_policy(Bucket=vbucket, Policy=json.dumps(deny))
    try:
        assert s3.get_object(Bucket=vbucket, Key="p")["Body"].read() == b"two"  # s3:GetObject is not denied
        calls: tuple[Callable[[], object], ...] = (
                     lambda: s3.get_object(Bucket=vbucket, Key="p", VersionId=first),
                     lambda: s3.delete_object(Bucket=vbucket, Key="p", VersionId=first),
                     lambda: s3.list_object_versions(Bucket=vbucket),
                     lambda: s3.copy_object(Bucket=vbucket, Key="c",
                                            CopySource={"Bucket": vbucket, "Key": "p", "VersionId": first}))
        for call in calls:
            with pytest.raises(ClientError) as caught:
                call()
            assert error_code(caught.value) == "AccessDenied"
        bulk = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "p", "VersionId": first}]})
        assert [e["Code"] for e in bulk["Errors"]] == ["AccessDenied"]
    finally:
        s3.delete_bucket_policy(Bucket=vbucket)
    assert s3.get_object(Bucket=vbucket, Key="p", VersionId=first)["Body"].read() == b"one"


def test_each_version_keeps_its_own_tags(s3: Any, vbucket: str) -> None:
    old = s3.put_object(Bucket=vbucket, Key="t", Body=b"1", Tagging="v=1")["VersionId"]
    new = s3.put_object(Bucket=vbucket, Key="t", Body=b"2", Tagging="v=2")["VersionId"]
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=new)["TagSet"] == [{"Key": "v", "Value": "2"}]
    got = s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=old)
    assert got["TagSet"] == [{"Key": "v", "Value": "1"}] and got["VersionId"] == old
    assert s3.get_object(Bucket=vbucket, Key="t", VersionId=old)["TagCount"] == 1
    s3.put_object_tagging(Bucket=vbucket, Key="t", VersionId=old,
                          Tagging={"TagSet": [{"Key": "x", "Value": "y"}, {"Key": "z", "Value": ""}]})
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=old)["TagSet"] == [
        {"Key": "x", "Value": "y"}, {"Key": "z", "Value": ""}]
    assert s3.get_object(Bucket=vbucket, Key="t", VersionId=old)["TagCount"] == 2
    assert s3.get_object_tagging(Bucket=vbucket, Key="t")["TagSet"] == [{"Key": "v", "Value": "2"}]  # untouched
    # A copy of the old version takes that version's tags.
    s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "t", "VersionId": old})
    assert s3.get_object_tagging(Bucket=vbucket, Key="copy")["TagSet"] == [
        {"Key": "x", "Value": "y"}, {"Key": "z", "Value": ""}]
    s3.delete_object_tagging(Bucket=vbucket, Key="t", VersionId=old)
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=old)["TagSet"] == []
    assert s3.get_object_tagging(Bucket=vbucket, Key="t")["TagSet"] == [{"Key": "v", "Value": "2"}]
    # Removing the current version brings the old one back with its own tags, not the removed one's.
    s3.put_object_tagging(Bucket=vbucket, Key="t", VersionId=old, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object(Bucket=vbucket, Key="t", VersionId=new)
    assert s3.get_object_tagging(Bucket=vbucket, Key="t")["TagSet"] == [{"Key": "a", "Value": "b"}]
    marker = s3.delete_object(Bucket=vbucket, Key="t")["VersionId"]
    unknown: tuple[Callable[[], object], ...] = (
        lambda: s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId="C" * 32),
        lambda: s3.put_object_tagging(Bucket=vbucket, Key="t", VersionId="C" * 32, Tagging={"TagSet": []}))
    for call in unknown:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_code(caught.value) == "NoSuchVersion"
    with pytest.raises(ClientError) as caught:
        s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=marker)  # a delete marker has no tags
    assert http_status(caught.value) == 405


def test_each_version_keeps_its_own_acl(s3: Any, vbucket: str) -> None:
    old = s3.put_object(Bucket=vbucket, Key="a", Body=b"1", ACL="public-read")["VersionId"]
    new = s3.put_object(Bucket=vbucket, Key="a", Body=b"2")["VersionId"]

    def public(version_id: str) -> bool:
        grants = s3.get_object_acl(Bucket=vbucket, Key="a", VersionId=version_id)["Grants"]
        return any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants)

    assert public(old) and not public(new)
    anonymous_old = f"{s3.meta.endpoint_url}/{vbucket}/a?versionId={old}"
    assert requests.get(anonymous_old, timeout=10).status_code == 200  # the old version's own ACL
    s3.put_object_acl(Bucket=vbucket, Key="a", VersionId=old, ACL="private")
    assert not public(old)
    assert requests.get(anonymous_old, timeout=10).status_code == 403
    s3.put_object_acl(Bucket=vbucket, Key="a", VersionId=new, ACL="public-read")
    assert public(new) and not public(old)
    assert requests.get(f"{s3.meta.endpoint_url}/{vbucket}/a", timeout=10).content == b"2"
    with pytest.raises(ClientError) as caught:
        s3.put_object_acl(Bucket=vbucket, Key="a", VersionId="D" * 32, ACL="private")
    assert error_code(caught.value) == "NoSuchVersion"


def test_a_policy_names_the_version_tagging_and_acl_actions(s3: Any, vbucket: str) -> None:
    old = s3.put_object(Bucket=vbucket, Key="p", Body=b"1", Tagging="a=1")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="p", Body=b"2", Tagging="a=2")
    arn = f"arn:aws:s3:::{vbucket}/*"
    s3.put_bucket_policy(Bucket=vbucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Resource": arn,
         "Action": ["s3:GetObjectVersionTagging", "s3:PutObjectVersionTagging", "s3:GetObjectVersionAcl"]}]}))
    try:
        denied: tuple[Callable[[], object], ...] = (
            lambda: s3.get_object_tagging(Bucket=vbucket, Key="p", VersionId=old),
            lambda: s3.put_object_tagging(Bucket=vbucket, Key="p", VersionId=old, Tagging={"TagSet": []}),
            lambda: s3.get_object_acl(Bucket=vbucket, Key="p", VersionId=old))
        for call in denied:
            with pytest.raises(ClientError) as caught:
                call()
            assert error_code(caught.value) == "AccessDenied"
        # The current-version actions are other actions: not denied.
        assert s3.get_object_tagging(Bucket=vbucket, Key="p")["TagSet"] == [{"Key": "a", "Value": "2"}]
    finally:
        s3.delete_bucket_policy(Bucket=vbucket)
    assert s3.get_object_tagging(Bucket=vbucket, Key="p", VersionId=old)["TagSet"] == [{"Key": "a", "Value": "1"}]


@pytest.mark.parametrize("state", ["Enabled", "Suspended"])
def test_an_object_written_before_versioning_reads_as_the_null_version(s3: Any, bucket_factory: Callable[..., str],
                                                                       state: str) -> None:
    name = bucket_factory()
    s3.put_object(Bucket=name, Key="old", Body=b"before")
    assert "VersionId" not in s3.head_object(Bucket=name, Key="old")  # never versioned: no version header
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": state})
    assert s3.get_object(Bucket=name, Key="old")["VersionId"] == "null"  # as AWS answers, and as listed
    assert s3.head_object(Bucket=name, Key="old")["VersionId"] == "null"
    assert s3.head_object(Bucket=name, Key="old", VersionId="null")["VersionId"] == "null"
    assert _versions(s3, name) == [("old", "null", True, False)]
    copied = s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "old"})
    assert copied["CopySourceVersionId"] == "null"  # the copy names the version it read, as the GET does
    for entry in _versions(s3, name):
        s3.delete_object(Bucket=name, Key=entry[0], VersionId=entry[1])


def test_a_retried_completion_names_the_same_version(s3: Any, vbucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"only part")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    first = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=upload, MultipartUpload=parts)
    s3.put_object(Bucket=vbucket, Key="mp", Body=b"newer")  # the retry still names the version it made
    again = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=upload, MultipartUpload=parts)
    assert len(first["VersionId"]) == 32 and again["VersionId"] == first["VersionId"]
    assert again["ETag"] == first["ETag"]
    assert s3.get_object(Bucket=vbucket, Key="mp", VersionId=first["VersionId"])["Body"].read() == b"only part"
