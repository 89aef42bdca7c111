"""Versioning meets lifecycle against a real server whose lifecycle "day" is one second: expiring the
current version of a versioned key puts a delete marker over it and keeps the version, as on AWS."""

from __future__ import annotations

import pytest

from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, configured_server, eventually
from tests.clients.test_boto3_versioning import _drop_all_versions


@pytest.fixture(scope="module")
def short_days(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "versioning-lifecycle",
                             "lifecycle_day = 1.0\nlifecycle_interval = 0.25\n")


def test_expiration_in_a_versioned_bucket_puts_a_delete_marker(short_days: SatchelProcess) -> None:
    s3 = make_client(short_days)
    bucket = unique_bucket("vlife")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kept = s3.put_object(Bucket=bucket, Key="inbox/a", Body=b"kept")["VersionId"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "inbox", "Status": "Enabled", "Filter": {"Prefix": "inbox/"}, "Expiration": {"Days": 1}}]})

    def marked() -> bool:
        return bool(s3.list_object_versions(Bucket=bucket).get("DeleteMarkers"))

    assert eventually(marked, timeout=8)
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [kept] and not listed["Versions"][0]["IsLatest"]
    assert len(listed["DeleteMarkers"]) == 1 and listed["DeleteMarkers"][0]["IsLatest"]
    assert s3.get_object(Bucket=bucket, Key="inbox/a", VersionId=kept)["Body"].read() == b"kept"
    s3.delete_bucket_lifecycle(Bucket=bucket)
    _drop_all_versions(s3, bucket)
    assert "Traceback" not in short_days.log_path.read_text(errors="replace"), short_days.log_tail()


def test_expired_object_delete_markers_are_removed(short_days: SatchelProcess) -> None:
    s3 = make_client(short_days)
    bucket = unique_bucket("vmark")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    lone = s3.put_object(Bucket=bucket, Key="lone", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="lone")
    s3.delete_object(Bucket=bucket, Key="lone", VersionId=lone)  # the marker is all that is left of "lone"
    s3.put_object(Bucket=bucket, Key="kept", Body=b"y")
    s3.delete_object(Bucket=bucket, Key="kept")  # a marker over a version: not expired
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "markers", "Status": "Enabled", "Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": True}}]})

    def markers() -> list[str]:
        return [m["Key"] for m in s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])]

    assert eventually(lambda: markers() == ["kept"], timeout=8), markers()
    s3.delete_bucket_lifecycle(Bucket=bucket)
    _drop_all_versions(s3, bucket)
