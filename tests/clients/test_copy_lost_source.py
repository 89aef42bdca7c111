"""A copy whose source blob the blob store lost answers as a GET of it does: a deliberate ``500
InternalError`` with one log line naming the blobs (the metadata says the object exists: ``NoSuchKey`` would
contradict the listing), whether the copy links the blobs (CopyObject), streams them through the cipher
(a copy that encrypts), or reads a range (UploadPartCopy). Nothing is published."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, unique_bucket
from tests.clients.server import SatchelProcess


def _lose_blob(server: SatchelProcess, bucket: str, key: str) -> str:
    """Delete the object's blob file behind the server's back; returns its id."""
    db = sqlite3.connect(server.data_dir / "meta.sqlite3")
    try:
        (segments,) = db.execute("SELECT segments FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
    finally:
        db.close()
    ((blob_id, _),) = json.loads(segments)
    (path,) = [p for p in (server.data_dir / "blobs").rglob(blob_id) if p.is_file()]
    path.unlink()
    return str(blob_id)


def _refused(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    assert "blob" not in str(caught.value.response).lower()  # the answer names nothing
    return http_status(caught.value), error_code(caught.value)


def test_a_copy_of_a_lost_blob_is_a_deliberate_500(managed_server: SatchelProcess, s3: Any) -> None:
    bucket = unique_bucket("lostcopy")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="lost", Body=b"v" * 10_000)
    blob_id = _lose_blob(managed_server, bucket, "lost")
    source = {"Bucket": bucket, "Key": "lost"}
    assert _refused(lambda: s3.get_object(Bucket=bucket, Key="lost")) == (500, "InternalError")
    assert _refused(lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource=source)) == (500, "InternalError")
    assert _refused(lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource=source,
                                           ServerSideEncryption="AES256")) == (500, "InternalError")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    assert _refused(lambda: s3.upload_part_copy(Bucket=bucket, Key="parts", UploadId=upload, PartNumber=1,
                                                CopySource=source, CopySourceRange="bytes=0-99")) \
        == (500, "InternalError")
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="parts", UploadId=upload)
    s3.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["lost"]  # no copy published
    log = managed_server.log_path.read_text(errors="replace")
    assert log.count(f"lost a blob of {bucket}/lost (blobs {blob_id})") == 1  # once per worker, as GET logs it
    assert "Traceback" not in log.split(f"lost a blob of {bucket}/lost", 1)[1]
    s3.delete_object(Bucket=bucket, Key="lost")
    s3.delete_bucket(Bucket=bucket)
