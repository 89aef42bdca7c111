"""NoncurrentVersionExpiration against a real server whose lifecycle "day" is one second: noncurrent
versions are removed for good (their blobs freed), the current version is kept, and so are the newest
``NewerNoncurrentVersions`` noncurrent ones, delete markers counting among them; the aws cli puts and reads
the element back."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.clients.boto import make_client, unique_bucket
from tests.clients.s3api import s3api
from tests.clients.server import SatchelProcess, ServerHandle, configured_server, eventually
from tests.clients.test_boto3_versioning import _drop_all_versions


@pytest.fixture(scope="module")
def short_days(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "noncurrent-lifecycle",
                             "lifecycle_day = 1.0\nlifecycle_interval = 0.25\n")


def _versions(s3: Any, bucket: str) -> list[tuple[str, str]]:
    listed = s3.list_object_versions(Bucket=bucket)
    entries = listed.get("Versions", []) + listed.get("DeleteMarkers", [])
    return sorted((e["Key"], e["VersionId"]) for e in entries)


def _blobs_of(server: SatchelProcess, version_ids: list[str]) -> list[str]:
    """The blob ids the noncurrent versions ``version_ids`` are stored in."""
    db = sqlite3.connect(server.data_dir / "meta.sqlite3")
    try:
        marks = ",".join("?" * len(version_ids))
        found = db.execute(f"SELECT segments FROM object_versions WHERE version_id IN ({marks})",  # noqa: S608
                           version_ids).fetchall()
    finally:
        db.close()
    assert len(found) == len(version_ids)
    return [str(blob_id) for (segments,) in found for blob_id, _ in json.loads(segments)]


def _live_blobs(server: SatchelProcess, blob_ids: list[str]) -> int:
    db = sqlite3.connect(server.data_dir / "meta.sqlite3")
    try:
        marks = ",".join("?" * len(blob_ids))
        return int(db.execute(f"SELECT count(*) FROM blobs WHERE state != 'dead' AND blob_id IN ({marks})",  # noqa: S608
                              blob_ids).fetchone()[0])
    finally:
        db.close()


def _versioned_bucket(server: SatchelProcess) -> tuple[Any, str]:
    s3 = make_client(server)
    bucket = unique_bucket("noncur")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3, bucket


def _clean_up(s3: Any, bucket: str) -> None:
    s3.delete_bucket_lifecycle(Bucket=bucket)
    _drop_all_versions(s3, bucket)


def test_noncurrent_versions_expire_keeping_the_newest(short_days: SatchelProcess) -> None:
    s3, bucket = _versioned_bucket(short_days)
    a = [s3.put_object(Bucket=bucket, Key="docs/a", Body=f"a{n}".encode())["VersionId"] for n in range(4)]
    b_old = s3.put_object(Bucket=bucket, Key="docs/b", Body=b"b0")["VersionId"]
    b_marker = s3.delete_object(Bucket=bucket, Key="docs/b")["VersionId"]
    b_now = s3.put_object(Bucket=bucket, Key="docs/b", Body=b"b1")["VersionId"]
    other = [s3.put_object(Bucket=bucket, Key="other/c", Body=f"c{n}".encode())["VersionId"] for n in range(2)]
    doomed = _blobs_of(short_days, [a[0], a[1], b_old])
    assert _live_blobs(short_days, doomed) == len(doomed) > 0
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old-docs", "Status": "Enabled", "Filter": {"Prefix": "docs/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}}]})
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}

    # docs/a keeps its current version and the newest noncurrent one; docs/b its current version and the
    # noncurrent delete marker (the newest noncurrent version); other/ is outside the rule's prefix.
    expected = sorted([("docs/a", a[3]), ("docs/a", a[2]), ("docs/b", b_now), ("docs/b", b_marker),
                       ("other/c", other[0]), ("other/c", other[1])])
    assert eventually(lambda: _versions(s3, bucket) == expected, timeout=10), _versions(s3, bucket)
    assert _live_blobs(short_days, doomed) == 0  # removed for good: their blobs died with them
    metric = re.compile(r'satchel_gc_collected_total\{kind="lifecycle_noncurrent_expired"\} ([0-9.]+)')

    def counted() -> float:
        found = metric.search(requests.get(short_days.endpoint + "/_satchel/metrics", timeout=10).text)
        return float(found.group(1)) if found else 0.0

    assert eventually(lambda: counted() >= 3, timeout=5), counted()
    assert s3.get_object(Bucket=bucket, Key="docs/a")["Body"].read() == b"a3"
    assert s3.get_object(Bucket=bucket, Key="docs/a", VersionId=a[2])["Body"].read() == b"a2"
    assert s3.get_object(Bucket=bucket, Key="docs/b")["Body"].read() == b"b1"
    _clean_up(s3, bucket)
    assert "Traceback" not in short_days.log_path.read_text(errors="replace"), short_days.log_tail()


def test_without_newer_versions_only_the_current_one_stays(short_days: SatchelProcess) -> None:
    s3, bucket = _versioned_bucket(short_days)
    for n in range(3):
        current = s3.put_object(Bucket=bucket, Key="k", Body=f"k{n}".encode())["VersionId"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "all", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    assert eventually(lambda: _versions(s3, bucket) == [("k", current)], timeout=10), _versions(s3, bucket)
    _clean_up(s3, bucket)


def test_aws_cli_noncurrent_version_expiration(satchel_server: ServerHandle, bucket: str, tmp_path: Path) -> None:
    aws = s3api(satchel_server, tmp_path)
    rules = {"Rules": [{"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": "v/"},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3}}]}
    done = aws("put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration", json.dumps(rules))
    assert done.returncode == 0, done.stderr
    shown = aws("get-bucket-lifecycle-configuration", "--bucket", bucket, "--output", "json")
    assert json.loads(shown.stdout)["Rules"][0]["NoncurrentVersionExpiration"] \
        == {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3}
    bad = {"Rules": [{"ID": "bad", "Status": "Enabled", "Filter": {},
                      "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 101}}]}
    refused = aws("put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration",
                  json.dumps(bad))
    assert refused.returncode != 0 and "InvalidArgument" in refused.stderr
    assert aws("delete-bucket-lifecycle", "--bucket", bucket).returncode == 0


def test_a_tag_filter_applies_to_each_versions_own_tags(short_days: SatchelProcess) -> None:
    s3, bucket = _versioned_bucket(short_days)
    v0 = s3.put_object(Bucket=bucket, Key="k", Body=b"0", Tagging="tier=scratch")["VersionId"]
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="tier=keep")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    v3 = s3.put_object(Bucket=bucket, Key="k", Body=b"3", Tagging="tier=scratch")["VersionId"]
    # Tagging a noncurrent version afterwards counts too.
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v2,
                          Tagging={"TagSet": [{"Key": "tier", "Value": "scratch"}]})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "scratch", "Status": "Enabled", "Filter": {"Tag": {"Key": "tier", "Value": "scratch"}},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    expected = sorted([("k", v1), ("k", v3)])  # v1 is tagged otherwise; v3 is current
    assert eventually(lambda: _versions(s3, bucket) == expected, timeout=10), _versions(s3, bucket)
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == [{"Key": "tier", "Value": "keep"}]
    assert v0 not in {v for _, v in _versions(s3, bucket)}
    _clean_up(s3, bucket)
