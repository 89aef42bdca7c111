"""The access model seen from real clients: owners, members with and without grants, anonymous users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import defusedxml.ElementTree as ET
import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory, error_code, http_status
from tests.clients.content import sha256
from tests.clients.server import Credentials, SatchelProcess, eventually

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _denied(call: Callable[[], Any]) -> None:
    with pytest.raises(ClientError) as exc:
        call()
    assert http_status(exc.value) == 403
    if exc.value.operation_name not in ("HeadObject", "HeadBucket"):
        assert error_code(exc.value) == "AccessDenied"


def _xml_code(resp: requests.Response) -> str | None:
    return ET.fromstring(resp.content).findtext("Code") if resp.content else None


def test_member_without_grant_is_denied(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials]
) -> None:
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"root only")
    other = s3_factory(member())
    _denied(lambda: other.get_object(Bucket=bucket, Key="secret.txt"))
    _denied(lambda: other.head_object(Bucket=bucket, Key="secret.txt"))
    _denied(lambda: other.put_object(Bucket=bucket, Key="intruder", Body=b"x"))
    _denied(lambda: other.list_objects_v2(Bucket=bucket))
    _denied(lambda: other.delete_object(Bucket=bucket, Key="secret.txt"))
    _denied(lambda: other.delete_bucket(Bucket=bucket))
    _denied(lambda: other.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "secret.txt"}))
    assert s3.get_object(Bucket=bucket, Key="secret.txt")["Body"].read() == b"root only"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="intruder")


def test_read_grant_allows_get_not_put(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials],
    managed_server: SatchelProcess,
) -> None:
    data = b"shared with a reader" * 100
    s3.put_object(Bucket=bucket, Key="doc/a.txt", Body=data)
    reader = member()
    managed_server.grant(reader.user, bucket, "read")
    client = s3_factory(reader)
    assert sha256(client.get_object(Bucket=bucket, Key="doc/a.txt")["Body"].read()) == sha256(data)
    assert client.head_object(Bucket=bucket, Key="doc/a.txt")["ContentLength"] == len(data)
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc/a.txt"]
    _denied(lambda: client.put_object(Bucket=bucket, Key="doc/b.txt", Body=b"no"))
    _denied(lambda: client.delete_object(Bucket=bucket, Key="doc/a.txt"))
    assert s3.get_object(Bucket=bucket, Key="doc/a.txt")["Body"].read() == data


def test_read_write_grant_on_prefix(
    s3: Any, s3_factory: S3Factory, bucket: str, member: Callable[[], Credentials],
    managed_server: SatchelProcess,
) -> None:
    s3.put_object(Bucket=bucket, Key="other/x", Body=b"x")
    writer = member()
    managed_server.grant(writer.user, bucket, "read-write", prefix="team/")
    client = s3_factory(writer)
    client.put_object(Bucket=bucket, Key="team/report", Body=b"written by member")
    assert s3.get_object(Bucket=bucket, Key="team/report")["Body"].read() == b"written by member"
    assert client.get_object(Bucket=bucket, Key="team/report")["Body"].read() == b"written by member"
    _denied(lambda: client.put_object(Bucket=bucket, Key="other/y", Body=b"no"))
    _denied(lambda: client.get_object(Bucket=bucket, Key="other/x"))


def test_anonymous_private_then_public(
    s3: Any, bucket: str, satchel_server: Any, managed_server: SatchelProcess
) -> None:
    data = b"public after all" * 50
    s3.put_object(Bucket=bucket, Key="pub/file.txt", Body=data, ContentType="text/plain")
    url = f"{satchel_server.endpoint}/{bucket}/pub/file.txt"

    private = requests.get(url, timeout=10)
    assert private.status_code == 403
    assert _xml_code(private) == "AccessDenied"
    assert requests.put(url, data=b"x", timeout=10).status_code == 403

    managed_server.set_public(bucket, True)
    assert eventually(lambda: requests.get(url, timeout=10).status_code == 200)
    public = requests.get(url, timeout=10)
    assert public.status_code == 200
    assert sha256(public.content) == sha256(data)
    assert public.headers["Content-Type"] == "text/plain"
    ranged = requests.get(url, headers={"Range": "bytes=0-5"}, timeout=10)
    assert ranged.status_code == 206
    assert ranged.content == data[:6]
    # Public means readable, never writable or deletable by strangers.
    assert requests.put(f"{satchel_server.endpoint}/{bucket}/pub/evil", data=b"x", timeout=10).status_code == 403
    assert requests.delete(url, timeout=10).status_code == 403
    assert s3.get_object(Bucket=bucket, Key="pub/file.txt")["Body"].read() == data

    managed_server.set_public(bucket, False)
    assert eventually(lambda: requests.get(url, timeout=10).status_code == 403)
