"""Operations Satchel lacks answer 501 NotImplemented and change nothing (issue 9, point 15).

botocore 1.44 knows operations the router was not written for (GetPart, the bucket default storage
class); before, they fell through to ListParts / CreateBucket, and a DELETE with any unknown
subresource deleted the object.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status
from tests.clients.server import SatchelProcess


def _add_query(extra: str) -> Any:
    """A botocore hook appending ``extra`` to the URL before signing, as a newer SDK would."""

    def hook(request: Any, **_: Any) -> None:
        request.url += ("&" if "?" in request.url else "?") + extra

    return hook


def _refused(call: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert (http_status(caught.value), error_code(caught.value)) == (501, "NotImplemented")


def test_delete_with_unknown_subresource_keeps_the_object(s3_factory: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="precious", Body=b"keep me")
    client = s3_factory()
    client.meta.events.register("before-sign.s3.DeleteObject", _add_query("anyUnknownName"))
    _refused(lambda: client.delete_object(Bucket=bucket, Key="precious"))
    assert s3.get_object(Bucket=bucket, Key="precious")["Body"].read() == b"keep me"


def test_delete_of_another_version_keeps_the_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="precious", Body=b"keep me")
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=bucket, Key="precious", VersionId="3HL4kqtJlcpXroDTDmJ")
    assert (http_status(caught.value), error_code(caught.value)) == (400, "InvalidArgument")
    assert s3.get_object(Bucket=bucket, Key="precious")["Body"].read() == b"keep me"


def test_operations_newer_than_the_router_are_not_implemented(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"part")
    _refused(lambda: s3.get_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1))
    _refused(lambda: s3.put_bucket_default_storage_class(
        Bucket=bucket, DefaultStorageClassConfiguration={"DefaultStorageClass": "STANDARD"}))
    _refused(lambda: s3.get_bucket_default_storage_class(Bucket=bucket))
    s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)


def test_put_with_unknown_parameter_stores_nothing(s3_factory: Any, s3: Any, bucket: str) -> None:
    client = s3_factory()
    client.meta.events.register("before-sign.s3.PutObject", _add_query("someFutureFeature=on"))
    _refused(lambda: client.put_object(Bucket=bucket, Key="new", Body=b"x"))
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_cache_buster_on_a_public_object(managed_server: SatchelProcess, s3: Any, bucket: str) -> None:
    """Object reads ignore unknown parameters with a value, as AWS does; a valueless one is refused."""
    s3.put_object(Bucket=bucket, Key="page.js", Body=b"js")
    managed_server.set_public(bucket, True)
    base = f"{managed_server.endpoint}/{bucket}"
    assert requests.get(f"{base}/page.js?_t=1700000000", timeout=10).content == b"js"
    assert requests.get(f"{base}/page.js?someSubresource", timeout=10).status_code == 501
    assert requests.get(f"{base}?_t=1700000000", timeout=10).status_code == 501
