"""Bucket lifecycle rules on a real server: Put/Get/DeleteBucketLifecycleConfiguration through boto3 and the
aws cli, validated as AWS validates them, and the lifecycle worker applying them with an injected short
"day" (``lifecycle_day``): it expires objects by prefix, tag and size, aborts incomplete multipart uploads,
and ``x-amz-expiration`` tells a reader when. (``test_lifecycle.py`` is the server's own lifecycle: probes,
the garbage collector's abandoned uploads, audit retention.)"""

from __future__ import annotations

import fcntl
import json
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, make_client, unique_bucket
from tests.clients.s3api import s3api
from tests.clients.server import SatchelProcess, ServerHandle, configured_server, eventually

#: One lifecycle "day" is one second here; the worker looks every quarter second.
DAY = 1.0


@pytest.fixture(scope="module")
def short_days(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    """Two worker processes: one of them (the lock's holder) runs the passes."""
    return configured_server(tmp_path_factory, request, "bucket-lifecycle",
                             f"workers = 2\nlifecycle_day = {DAY}\nlifecycle_interval = 0.25\n")


def _refused(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return http_status(caught.value), error_code(caught.value)


def _keys(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


RULES: list[dict[str, Any]] = [
    {"ID": "inbox", "Status": "Enabled", "Filter": {"Prefix": "inbox/"}, "Expiration": {"Days": 7},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    {"ID": "tagged", "Status": "Disabled", "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}},
     "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
    {"ID": "and", "Status": "Enabled", "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "a", "Value": "1"}],
                                                          "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 99}},
     "Expiration": {"Days": 30}},
    {"ID": "small", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 5}, "Expiration": {"Days": 1}},
    {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
]


def test_configuration_round_trip(s3: Any, bucket: str) -> None:
    assert _refused(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)) \
        == (404, "NoSuchLifecycleConfiguration")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": RULES})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [rule["ID"] for rule in got] == ["inbox", "tagged", "and", "small", "all"]
    assert got[0]["Filter"] == {"Prefix": "inbox/"} and got[0]["Expiration"] == {"Days": 7}
    assert got[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
    assert got[1]["Status"] == "Disabled" and got[1]["Filter"] == {"Tag": {"Key": "tmp", "Value": "yes"}}
    assert got[1]["Expiration"]["Date"].isoformat().startswith("2030-01-01T00:00:00")
    assert got[2]["Filter"]["And"] == {"Prefix": "logs/", "Tags": [{"Key": "a", "Value": "1"}],
                                       "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 99}
    assert got[4]["Filter"] == {} and got[4]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    s3.put_bucket_lifecycle_configuration(  # legacy top-level Prefix, and a rule without ID gets one
        Bucket=bucket, LifecycleConfiguration={"Rules": [{"Prefix": "old/", "Status": "Enabled",
                                                          "Expiration": {"Days": 1}}]})
    legacy = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert legacy[0]["Prefix"] == "old/" and legacy[0]["ID"]
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert _refused(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)) \
        == (404, "NoSuchLifecycleConfiguration")


def _rule(**fields: Any) -> dict[str, Any]:
    return {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}} | fields


@pytest.mark.parametrize(("rules", "expected"), [
    ([_rule(Expiration={"Days": 0})], (400, "InvalidArgument")),
    ([_rule(Expiration={"Date": "2030-01-01T12:00:00Z"})], (400, "InvalidArgument")),
    ([_rule(ID="x" * 256)], (400, "InvalidArgument")),
    ([_rule(), _rule()], (400, "InvalidArgument")),
    ([_rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})], (400, "MalformedXML")),
    ([_rule(Filter={"Prefix": "a", "ObjectSizeLessThan": 4})], (400, "MalformedXML")),
    ([{k: v for k, v in _rule().items() if k != "Expiration"}], (400, "InvalidRequest")),
    ([_rule(Filter={"Tag": {"Key": "a", "Value": "b"}}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})],
     (400, "InvalidRequest")),
    ([_rule(Filter={"And": {"ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 10}})], (400, "InvalidRequest")),
    ([_rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})], (400, "InvalidArgument")),
    ([_rule(Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])], (501, "NotImplemented")),
    ([_rule(NoncurrentVersionExpiration={"NoncurrentDays": 0})], (400, "InvalidArgument")),
    ([_rule(NoncurrentVersionTransitions=[{"NoncurrentDays": 3, "StorageClass": "GLACIER"}])],
     (501, "NotImplemented")),
    ([_rule(ID=f"r{n}") for n in range(1001)], (400, "MalformedXML")),
], ids=["days-zero", "date-not-midnight", "id-too-long", "duplicate-id", "days-and-marker", "two-predicates",
        "no-action", "abort-with-tag", "size-range-empty", "abort-days-zero", "transition", "noncurrent-days-zero",
        "noncurrent-transition", "too-many-rules"])
def test_invalid_configurations_are_refused(s3: Any, bucket: str, rules: list[dict[str, Any]],
                                            expected: tuple[int, str]) -> None:
    assert _refused(lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules})) == expected
    assert _refused(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)) \
        == (404, "NoSuchLifecycleConfiguration")  # nothing was stored


def test_only_the_bucket_owner_manages_rules(managed_server: SatchelProcess, s3: Any, bucket: str,
                                             member: Callable[[], Any]) -> None:
    writer = member()
    managed_server.grant(writer.user, bucket, "read-write")
    as_writer = make_client(managed_server, writer)
    rules = {"Rules": [_rule()]}
    assert _refused(lambda: as_writer.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)) \
        == (403, "AccessDenied")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)
    assert _refused(lambda: as_writer.get_bucket_lifecycle_configuration(Bucket=bucket)) == (403, "AccessDenied")
    assert _refused(lambda: as_writer.delete_bucket_lifecycle(Bucket=bucket)) == (403, "AccessDenied")


def test_worker_expires_objects(short_days: SatchelProcess) -> None:
    s3 = make_client(short_days)
    bucket = unique_bucket("expire")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "inbox", "Status": "Enabled", "Filter": {"Prefix": "inbox/"}, "Expiration": {"Days": 2}},
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}},
         "Expiration": {"Days": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
        {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 100}, "Expiration": {"Days": 1}},
    ]})
    time.sleep(0.05)  # the other worker's cache of rules follows within GENERATION_TTL (5 ms)
    put = s3.put_object(Bucket=bucket, Key="inbox/upload.pdf", Body=b"shared file")
    match = re.fullmatch(r'expiry-date="([^"]+)", rule-id="inbox"', put["Expiration"])
    assert match, put["Expiration"]
    assert s3.head_object(Bucket=bucket, Key="inbox/upload.pdf")["Expiration"] == put["Expiration"]
    s3.put_object(Bucket=bucket, Key="keep/tagged", Body=b"x", Tagging="tmp=yes")
    s3.put_object(Bucket=bucket, Key="keep/other-tag", Body=b"x", Tagging="tmp=no")
    s3.put_object(Bucket=bucket, Key="keep/big", Body=b"b" * 101)
    s3.put_object(Bucket=bucket, Key="keep/small", Body=b"b" * 100)
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="keep/small")
    expected = {"keep/other-tag", "keep/small"}
    assert eventually(lambda: _keys(s3, bucket) == expected, timeout=8), _keys(s3, bucket)
    time.sleep(1.5)  # a few more passes: nothing else goes (the disabled rule would take everything)
    assert _keys(s3, bucket) == expected
    blobs = sqlite3.connect(short_days.data_dir / "meta.sqlite3")
    try:  # expired as a delete: the blobs died with the rows, tags went with their object
        dead = blobs.execute("SELECT count(*) FROM blobs WHERE state = 'dead'").fetchone()[0]
        tags = blobs.execute("SELECT count(*) FROM tagging_objects WHERE bucket = ? AND key = 'keep/tagged'",
                             (bucket,)).fetchone()[0]
    finally:
        blobs.close()
    assert (dead, tags) == (0, 0)
    metric = re.compile(r'satchel_gc_collected_total\{kind="lifecycle_expired"\} ([0-9.]+)')

    def counted() -> float:
        found = metric.search(requests.get(short_days.endpoint + "/_satchel/metrics", timeout=10).text)
        return float(found.group(1)) if found else 0.0

    assert eventually(lambda: counted() >= 3, timeout=5)
    # The runner lock is held, by the worker that runs the passes.
    with (short_days.data_dir / "lifecycle.lock").open("w") as lock, pytest.raises(BlockingIOError):
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    log = short_days.log_path.read_text(errors="replace")
    assert "lifecycle: " in log and "Traceback" not in log, short_days.log_tail()


def test_expiration_header_on_copy_and_completion(short_days: SatchelProcess) -> None:
    s3 = make_client(short_days)
    bucket = unique_bucket("header")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": 'quote " me', "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 1000}}]})
    s3.put_object(Bucket=bucket, Key="src", Body=b"s")
    copied = s3.copy_object(Bucket=bucket, Key="x/copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["Expiration"].endswith('rule-id="quote \\" me"'), copied["Expiration"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="x/mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="x/mp", UploadId=upload, PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="x/mp", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["Expiration"].endswith('rule-id="quote \\" me"'), done["Expiration"]
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="src")


def test_worker_aborts_incomplete_uploads(short_days: SatchelProcess) -> None:
    s3 = make_client(short_days)
    bucket = unique_bucket("abort")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    time.sleep(0.05)  # as above: every worker sees the rules
    created = s3.create_multipart_upload(Bucket=bucket, Key="tmp/big.iso")
    doomed = created["UploadId"]
    assert created["AbortRuleId"] == "uploads" and created["AbortDate"]  # x-amz-abort-date / -rule-id
    s3.upload_part(Bucket=bucket, Key="tmp/big.iso", UploadId=doomed, PartNumber=1, Body=b"p" * 1000)
    spared = s3.create_multipart_upload(Bucket=bucket, Key="keep/big.iso")
    kept = spared["UploadId"]
    assert "AbortRuleId" not in spared

    def open_uploads() -> set[str]:
        return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}

    assert eventually(lambda: open_uploads() == {kept}, timeout=8), open_uploads()
    assert _refused(lambda: s3.list_parts(Bucket=bucket, Key="tmp/big.iso", UploadId=doomed)) == (404, "NoSuchUpload")
    s3.abort_multipart_upload(Bucket=bucket, Key="keep/big.iso", UploadId=kept)


def test_aws_cli_lifecycle(satchel_server: ServerHandle, s3: Any, bucket: str, tmp_path: Path) -> None:
    aws = s3api(satchel_server, tmp_path)

    rules = {"Rules": [{"ID": "inbox", "Status": "Enabled", "Filter": {"Prefix": "inbox/"},
                        "Expiration": {"Days": 7}}]}
    done = aws("put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration", json.dumps(rules))
    assert done.returncode == 0, done.stderr
    shown = aws("get-bucket-lifecycle-configuration", "--bucket", bucket, "--output", "json")
    assert json.loads(shown.stdout)["Rules"][0]["Expiration"] == {"Days": 7}
    assert aws("delete-bucket-lifecycle", "--bucket", bucket).returncode == 0
    gone = aws("get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert gone.returncode != 0 and "NoSuchLifecycleConfiguration" in gone.stderr
