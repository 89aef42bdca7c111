"""Versioning through the AWS CLI: put-bucket-versioning, list-object-versions, get-object --version-id,
delete-object --version-id, and rclone listing and reading old versions (``--s3-versions``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.clients.boto import unique_bucket
from tests.clients.rclone import Rclone
from tests.clients.test_awscli import AwsCli, aws  # noqa: F401 - the fixture
from tests.clients.test_boto3_versioning import _drop_all_versions
from tests.clients.test_rclone import rclone  # noqa: F401 - the fixture


def test_awscli_versioning_round_trip(aws: AwsCli, tmp_path: Path) -> None:  # noqa: F811
    name = unique_bucket("awsv")
    aws("s3api", "create-bucket", "--bucket", name)
    aws("s3api", "put-bucket-versioning", "--bucket", name, "--versioning-configuration", "Status=Enabled")
    assert aws.json("s3api", "get-bucket-versioning", "--bucket", name)["Status"] == "Enabled"
    for body in (b"one", b"two"):
        path = tmp_path / "body"
        path.write_bytes(body)
        aws("s3api", "put-object", "--bucket", name, "--key", "k", "--body", str(path))
    listed = aws.json("s3api", "list-object-versions", "--bucket", name)
    versions = listed["Versions"]
    assert [v["IsLatest"] for v in versions] == [True, False]
    old = versions[1]["VersionId"]
    out = tmp_path / "out"
    got = aws.json("s3api", "get-object", "--bucket", name, "--key", "k", "--version-id", old, str(out))
    assert got["VersionId"] == old and out.read_bytes() == b"one"
    deleted = aws.json("s3api", "delete-object", "--bucket", name, "--key", "k")
    assert deleted["DeleteMarker"] is True
    assert len(aws.json("s3api", "list-object-versions", "--bucket", name)["DeleteMarkers"]) == 1
    for version in [deleted["VersionId"], *(v["VersionId"] for v in versions)]:
        aws("s3api", "delete-object", "--bucket", name, "--key", "k", "--version-id", version)
    assert "Versions" not in aws.json("s3api", "list-object-versions", "--bucket", name)
    aws("s3api", "delete-bucket", "--bucket", name)


def test_rclone_lists_and_reads_old_versions(s3: Any, rclone: Rclone) -> None:  # noqa: F811
    name = unique_bucket("rclv")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="f.txt", Body=b"old")
    s3.put_object(Bucket=name, Key="f.txt", Body=b"new")
    listing = rclone("lsf", "--s3-versions", f"satchel:{name}").stdout.split()
    assert len(listing) == 2 and "f.txt" in listing, listing
    older = next(entry for entry in listing if entry != "f.txt")
    assert rclone("cat", "--s3-versions", f"satchel:{name}/{older}").stdout == "old"
    assert rclone("cat", f"satchel:{name}/f.txt").stdout == "new"
    _drop_all_versions(s3, name)
