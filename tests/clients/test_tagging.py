"""Object and bucket tagging through boto3 and the aws cli on a real server: the six ?tagging operations,
``x-amz-tagging`` on PutObject, multipart (applied at completion), CopyObject's tagging directive and the
POST form's ``tagging`` field (with its ``$tagging`` policy condition), ``x-amz-tagging-count``, AWS's
limits and error codes, tags going with their object, and who may read or write them."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, make_client, unique_bucket
from tests.clients.s3api import s3api
from tests.clients.server import Credentials, SatchelProcess, ServerHandle


def _tags(pairs: dict[str, str]) -> dict[str, Any]:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs.items()]}


def _get(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def _refused(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return http_status(caught.value), error_code(caught.value)


def test_object_tagging_round_trip(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="doc", Body=b"hello")
    assert _get(s3, bucket, "doc") == {}
    assert "TagCount" not in s3.head_object(Bucket=bucket, Key="doc")  # absent when none, as on AWS
    s3.put_object_tagging(Bucket=bucket, Key="doc", Tagging=_tags({"project": "x", "empty": "", "é:/=+-@_. ": "ü"}))
    got = s3.get_object_tagging(Bucket=bucket, Key="doc")
    assert [(t["Key"], t["Value"]) for t in got["TagSet"]] == [("project", "x"), ("empty", ""), ("é:/=+-@_. ", "ü")]
    head = s3.head_object(Bucket=bucket, Key="doc")
    assert head["ETag"] == put["ETag"]  # tagging changes neither the bytes nor the ETag
    assert s3.get_object(Bucket=bucket, Key="doc")["TagCount"] == 3 == head["TagCount"]
    s3.delete_object_tagging(Bucket=bucket, Key="doc")
    assert _get(s3, bucket, "doc") == {}
    assert _refused(lambda: s3.get_object_tagging(Bucket=bucket, Key="missing")) == (404, "NoSuchKey")
    assert _refused(lambda: s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging=_tags({"a": "b"}))) \
        == (404, "NoSuchKey")


def test_tags_go_with_their_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="a=1")
    assert _get(s3, bucket, "k") == {"a": "1"}
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")  # an overwrite replaces them (with none)
    assert _get(s3, bucket, "k") == {}
    s3.put_object(Bucket=bucket, Key="k", Body=b"3", Tagging="b=2")
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"4")  # a delete removed them
    assert _get(s3, bucket, "k") == {}


def test_tagging_header_on_put(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="h", Body=b"x", Tagging="team=blue&note=two%20words&flag=&sp%C3%A9=%C3%A9")
    assert _get(s3, bucket, "h") == {"team": "blue", "note": "two words", "flag": "", "spé": "é"}
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="dup", Body=b"x", Tagging="a=1&a=2")) \
        == (400, "InvalidArgument")
    eleven = "&".join(f"k{n}=v" for n in range(11))
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="many", Body=b"x", Tagging=eleven)) == (400, "BadRequest")
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="aws", Body=b"x", Tagging="aws%3Ax=1")) \
        == (400, "InvalidTag")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="dup")  # refused writes changed nothing


def test_presigned_put_carries_its_tags(s3: Any, bucket: str) -> None:
    """botocore hoists x-amz-tagging into a presigned URL's query: the signed value is the one applied."""
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p", "Tagging": "via=link"},
                                    ExpiresIn=60)
    assert "x-amz-tagging=via%3Dlink" in url
    assert requests.put(url, data=b"x", timeout=10).status_code == 200
    assert _get(s3, bucket, "p") == {"via": "link"}
    forged = url.replace("x-amz-tagging=via%3Dlink", "x-amz-tagging=via%3Dforged")
    assert requests.put(forged, data=b"y", timeout=10).status_code == 403  # the tags are signed
    assert _get(s3, bucket, "p") == {"via": "link"}


def test_tag_limits(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="l", Body=b"x")
    ten = {f"k{n}": "v" for n in range(10)}
    s3.put_object_tagging(Bucket=bucket, Key="l", Tagging=_tags(ten))
    s3.put_object_tagging(Bucket=bucket, Key="l", Tagging=_tags({"k" * 128: "v" * 256}))
    cases: list[tuple[dict[str, Any], str]] = [
        (_tags({**ten, "k10": "v"}), "BadRequest"),
        (_tags({"k" * 129: "v"}), "InvalidTag"),
        (_tags({"k": "v" * 257}), "InvalidTag"),
        (_tags({"aws:reserved": "v"}), "InvalidTag"),
        (_tags({"bad<char>": "v"}), "InvalidTag"),
        (_tags({"k": "bad!value"}), "InvalidTag"),
        ({"TagSet": [{"Key": "same", "Value": "1"}, {"Key": "same", "Value": "2"}]}, "InvalidTag"),
    ]
    for tagging, code in cases:
        assert _refused(functools.partial(s3.put_object_tagging, Bucket=bucket, Key="l", Tagging=tagging)) \
            == (400, code)
    assert _get(s3, bucket, "l") == {"k" * 128: "v" * 256}  # every refusal left the tags as they were


def test_malformed_tagging_documents(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="m", Body=b"x")
    url = s3.generate_presigned_url("put_object_tagging", Params={"Bucket": bucket, "Key": "m", "Tagging": _tags({})},
                                   ExpiresIn=60)
    for body in (b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
                 b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value><Other/></Tag></TagSet></Tagging>",
                 b"<Tagging><TagSet/><TagSet/></Tagging>", b"<Other/>", b"not xml"):
        reply = requests.put(url, data=body, timeout=10)
        assert (reply.status_code, b"<Code>MalformedXML</Code>" in reply.content) == (400, True), body


def test_multipart_tags_apply_at_completion(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="stage=final")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 100)
    s3.put_object(Bucket=bucket, Key="mp", Body=b"old", Tagging="stage=old")
    assert _get(s3, bucket, "mp") == {"stage": "old"}
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert _get(s3, bucket, "mp") == {"stage": "final"}
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="mp2", Tagging="x=1")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp2", UploadId=aborted)
    assert _refused(lambda: s3.create_multipart_upload(Bucket=bucket, Key="mp3", Tagging="a=1&a=2")) \
        == (400, "InvalidArgument")


def test_copy_tagging_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"s", Tagging="origin=src")
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "src"})
    assert _get(s3, bucket, "copied") == {"origin": "src"}  # COPY is the default
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="origin=copy&new=1")
    assert _get(s3, bucket, "replaced") == {"origin": "copy", "new": "1"}
    s3.copy_object(Bucket=bucket, Key="cleared", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE")
    assert _get(s3, bucket, "cleared") == {}
    assert _refused(lambda: s3.copy_object(Bucket=bucket, Key="bad", CopySource={"Bucket": bucket, "Key": "src"},
                                           TaggingDirective="MERGE")) == (400, "InvalidArgument")


def test_post_form_tagging_field(s3: Any, bucket: str) -> None:
    tagging = "<Tagging><TagSet><Tag><Key>via</Key><Value>form</Value></Tag></TagSet></Tagging>"
    post = s3.generate_presigned_post(bucket, "form.txt", Fields={"tagging": tagging},
                                      Conditions=[{"tagging": tagging}], ExpiresIn=60)
    reply = requests.post(post["url"], data=post["fields"], files={"file": ("form.txt", b"posted")}, timeout=10)
    assert reply.status_code == 204, reply.text
    assert _get(s3, bucket, "form.txt") == {"via": "form"}
    other = tagging.replace("form", "forged")  # the $tagging condition holds the exact document
    forged = requests.post(post["url"], data={**post["fields"], "tagging": other},
                           files={"file": ("form.txt", b"x")}, timeout=10)
    assert forged.status_code == 403, forged.text
    bad = "<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag></TagSet></Tagging>"
    post = s3.generate_presigned_post(bucket, "bad.txt", Fields={"tagging": bad}, Conditions=[{"tagging": bad}],
                                      ExpiresIn=60)
    refused = requests.post(post["url"], data=post["fields"], files={"file": ("bad.txt", b"x")}, timeout=10)
    assert (refused.status_code, b"InvalidTag" in refused.content) == (400, True)


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    assert _refused(lambda: s3.get_bucket_tagging(Bucket=bucket)) == (404, "NoSuchTagSet")
    fifty = {f"k{n}": f"v{n}" for n in range(50)}
    s3.put_bucket_tagging(Bucket=bucket, Tagging=_tags(fifty))
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == fifty
    assert _refused(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging=_tags({**fifty, "k50": "v"}))) \
        == (400, "BadRequest")
    s3.delete_bucket_tagging(Bucket=bucket)
    assert _refused(lambda: s3.get_bucket_tagging(Bucket=bucket)) == (404, "NoSuchTagSet")
    assert _refused(lambda: s3.get_bucket_tagging(Bucket="no-such-bucket-tagging")) == (404, "NoSuchBucket")


@pytest.mark.single_node  # reads the SQLite file (on the cluster the rows are in PostgreSQL)
def test_bucket_settings_go_with_the_bucket(managed_server: SatchelProcess, s3: Any) -> None:
    name = unique_bucket("gone")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging=_tags({"a": "1"}))
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # the same name, another bucket: it inherits nothing
    assert _refused(lambda: s3.get_bucket_tagging(Bucket=name)) == (404, "NoSuchTagSet")
    assert _refused(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)) \
        == (404, "NoSuchLifecycleConfiguration")
    db = sqlite3.connect(managed_server.data_dir / "meta.sqlite3")
    try:  # and the deleted bucket's rows are gone, not just unreachable
        live = {row[0] for row in db.execute("SELECT id FROM buckets")}
        orphans = [row for table in ("tagging_buckets", "lifecycle_configurations")
                   for row in db.execute(f"SELECT bucket_id FROM {table}") if row[0] not in live]  # noqa: S608
    finally:
        db.close()
    assert orphans == []
    s3.delete_bucket(Bucket=name)


def test_who_may_read_and_write_tags(managed_server: SatchelProcess, s3: Any, bucket: str,
                                     member: Callable[[], Credentials]) -> None:
    s3.put_object(Bucket=bucket, Key="shared", Body=b"x", Tagging="a=1")
    s3.put_bucket_tagging(Bucket=bucket, Tagging=_tags({"cost": "team"}))
    reader, writer, stranger = member(), member(), member()
    managed_server.grant(reader.user, bucket, "read")
    managed_server.grant(writer.user, bucket, "read-write")
    as_reader, as_writer = make_client(managed_server, reader), make_client(managed_server, writer)
    as_stranger = make_client(managed_server, stranger)
    assert _get(as_reader, bucket, "shared") == {"a": "1"}  # s3:GetObjectTagging: a read of the object
    assert _refused(lambda: as_reader.put_object_tagging(Bucket=bucket, Key="shared", Tagging=_tags({"b": "2"}))) \
        == (403, "AccessDenied")
    assert _refused(lambda: as_reader.delete_object_tagging(Bucket=bucket, Key="shared")) == (403, "AccessDenied")
    assert _refused(lambda: as_stranger.get_object_tagging(Bucket=bucket, Key="shared")) == (403, "AccessDenied")
    as_writer.put_object_tagging(Bucket=bucket, Key="shared", Tagging=_tags({"b": "2"}))  # a write of its metadata
    assert _get(s3, bucket, "shared") == {"b": "2"}
    for client in (as_reader, as_writer):  # bucket tags are bucket configuration: its owner's
        assert _refused(functools.partial(client.get_bucket_tagging, Bucket=bucket)) == (403, "AccessDenied")
        assert _refused(functools.partial(client.put_bucket_tagging, Bucket=bucket, Tagging=_tags({"x": "y"}))) \
            == (403, "AccessDenied")


def test_public_reading_does_not_show_tags(managed_server: SatchelProcess, s3: Any, bucket: str,
                                           member: Callable[[], Credentials]) -> None:
    """AWS's split: a public-read object is s3:GetObject for everybody, s3:GetObjectTagging for nobody."""
    s3.put_object(Bucket=bucket, Key="pub", Body=b"x", Tagging="customer=acme")
    managed_server.set_public(bucket, True)
    url = f"{managed_server.endpoint}/{bucket}/pub"
    read = requests.get(url, timeout=10)
    assert read.status_code == 200 and "x-amz-tagging-count" not in read.headers
    tags = requests.get(url + "?tagging", timeout=10)
    assert (tags.status_code, b"AccessDenied" in tags.content, b"acme" in tags.content) == (403, True, False)
    assert s3.get_object(Bucket=bucket, Key="pub")["TagCount"] == 1  # the owner still sees them
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pub"}, ExpiresIn=60)
    assert requests.get(presigned, timeout=10).headers["x-amz-tagging-count"] == "1"  # a link: its signer's rights
    # Nor may a reader copy them where it could read them: COPY needs the source's tags readable.
    reader = make_client(managed_server, member())
    own = unique_bucket("own")
    reader.create_bucket(Bucket=own)
    source = {"Bucket": bucket, "Key": "pub"}
    assert _refused(lambda: reader.copy_object(Bucket=own, Key="c", CopySource=source)) == (403, "AccessDenied")
    reader.copy_object(Bucket=own, Key="c", CopySource=source, TaggingDirective="REPLACE")
    assert _get(reader, own, "c") == {}
    reader.delete_object(Bucket=own, Key="c")
    reader.delete_bucket(Bucket=own)
    managed_server.set_public(bucket, False)


def test_aws_cli_object_tagging(satchel_server: ServerHandle, s3: Any, bucket: str, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x")
    aws = s3api(satchel_server, tmp_path)

    done = aws("put-object-tagging", "--bucket", bucket, "--key", "cli",
               "--tagging", '{"TagSet": [{"Key": "by", "Value": "cli"}]}')
    assert done.returncode == 0, done.stderr
    assert '"by"' in aws("get-object-tagging", "--bucket", bucket, "--key", "cli").stdout
    done = aws("put-bucket-tagging", "--bucket", bucket, "--tagging", '{"TagSet": [{"Key": "b", "Value": "1"}]}')
    assert done.returncode == 0, done.stderr
    assert _get(s3, bucket, "cli") == {"by": "cli"}
    refused = aws("get-object-tagging", "--bucket", bucket, "--key", "absent")
    assert refused.returncode != 0 and "NoSuchKey" in refused.stderr


def test_tag_characters_aws_refuses(s3: Any, bucket: str) -> None:
    """AWS's pattern ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` on every way in: a line break, a tab or a control
    character in a key or value is InvalidTag from the header, the Tagging document and the POST field, and
    nothing is stored."""
    for header in ("a%0A=b", "a=b%0D%0A", "a%09=b"):
        assert _refused(functools.partial(s3.put_object, Bucket=bucket, Key="h.txt", Body=b"x", Tagging=header)) \
            == (400, "InvalidTag"), header
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"x", Tagging="Gr%C3%B6%C3%9Fe=ein%C2%A0Wert")
    assert _get(s3, bucket, "doc.txt") == {"Größe": "ein\u00a0Wert"}
    for pairs in ({"a\nb": "v"}, {"k": "v\x85"}, {"k\t": "v"}):
        assert _refused(functools.partial(s3.put_object_tagging, Bucket=bucket, Key="doc.txt", Tagging=_tags(pairs))) \
            == (400, "InvalidTag"), pairs
        assert _refused(functools.partial(s3.put_bucket_tagging, Bucket=bucket, Tagging=_tags(pairs))) \
            == (400, "InvalidTag"), pairs
    assert _get(s3, bucket, "doc.txt") == {"Größe": "ein\u00a0Wert"}
    bad = "<Tagging><TagSet><Tag><Key>a&#10;b</Key><Value>v</Value></Tag></TagSet></Tagging>"
    post = s3.generate_presigned_post(bucket, "bad.txt", Fields={"tagging": bad}, Conditions=[{"tagging": bad}],
                                      ExpiresIn=60)
    refused = requests.post(post["url"], data=post["fields"], files={"file": ("bad.txt", b"x")}, timeout=10)
    assert (refused.status_code, b"InvalidTag" in refused.content) == (400, True)
    assert _refused(lambda: s3.head_object(Bucket=bucket, Key="h.txt"))[0] == 404
