"""A link is only as strong as its signer, checked at *use* time: grants, key status and user status are read
again on every request, so removing a grant or disabling a key or user kills links already handed out.

Operator changes go through the ``satchel admin`` CLI into the data directory; the running server sees them
through short-lived caches, hence ``eventually`` (the design promises a bound, not an instant).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.boto import S3Factory
from tests.clients.server import Credentials, SatchelProcess, eventually
from tests.clients.test_presign_wire import Reply, assert_error, fetch_requests

DENIED = "Access Denied"
UNKNOWN_KEY = "The AWS Access Key Id you provided does not exist in our records."
#: How long an admin change may take to reach the server (its credential cache bound, with slack).
PROPAGATION = 8.0


def _links(s3_factory: S3Factory, creds: Credentials, bucket: str, key: str) -> dict[str, str]:
    """GET links signed by ``creds`` with SigV4 and with boto3's SigV2 default."""
    params = {"Bucket": bucket, "Key": key}
    return {
        "v4": s3_factory(creds, signature_version="s3v4").generate_presigned_url(
            "get_object", Params=params, ExpiresIn=600),
        "v2": s3_factory(creds).generate_presigned_url("get_object", Params=params, ExpiresIn=600),
    }


def _status_is(url: str, status: int, code: str | None = None) -> Callable[[], bool]:
    def check() -> bool:
        reply = fetch_requests("GET", url)
        return reply.status == status and (code is None or reply.error().code == code)

    return check


def _wait_for(urls: dict[str, str], status: int, code: str | None = None) -> None:
    for name, url in urls.items():
        assert eventually(_status_is(url, status, code), timeout=PROPAGATION), (
            name, fetch_requests("GET", url).describe())


def _works(reply: Reply, data: bytes) -> None:
    assert reply.status == 200, reply.describe()
    assert reply.body == data


@pytest.fixture
def shared(s3: Any, bucket: str) -> tuple[str, str, bytes]:
    data = os.urandom(2_048)
    s3.put_object(Bucket=bucket, Key="team/plan.txt", Body=data)
    return bucket, "team/plan.txt", data


def test_grant_lifecycle(
    shared: tuple[str, str, bytes], member: Callable[[], Credentials], managed_server: SatchelProcess,
    s3_factory: S3Factory, s3: Any,
) -> None:
    """No grant → refused; a grant elsewhere → refused; read grant → GET works but PUT/DELETE links and POST
    forms of the reader are refused; grant removed → the very same GET links are refused."""
    bucket, key, data = shared
    reader = member()
    urls = _links(s3_factory, reader, bucket, key)
    for url in urls.values():
        assert_error(fetch_requests("GET", url), 403, "AccessDenied", DENIED)

    managed_server.grant(reader.user, bucket, "read", prefix="public/")
    for url in urls.values():
        assert_error(fetch_requests("GET", url), 403, "AccessDenied", DENIED)

    grant = json.loads(managed_server.admin("grant", "add", reader.user, bucket, "--permission", "read",
                                            "--prefix", "team/", "--share", "--json"))
    _wait_for(urls, 200)
    for url in urls.values():
        _works(fetch_requests("GET", url), data)

    for config in ({"signature_version": "s3v4"}, {}):
        client = s3_factory(reader, **config)
        for target in ("team/new.txt", key):
            url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": target},
                                                ExpiresIn=600)
            assert_error(fetch_requests("PUT", url, data=b"overwrite attempt"), 403, "AccessDenied", DENIED)
        delete = client.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": key},
                                               ExpiresIn=600)
        assert_error(fetch_requests("DELETE", delete), 403, "AccessDenied", DENIED)
        form = client.generate_presigned_post(Bucket=bucket, Key="team/new.txt", ExpiresIn=600)
        posted = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"posted")}, timeout=30)
        assert_error(Reply(posted.status_code, {}, posted.content), 403, "AccessDenied", DENIED)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="team/new.txt")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data

    managed_server.admin("grant", "remove", grant["id"])
    _wait_for(urls, 403, "AccessDenied")
    for url in urls.values():
        assert_error(fetch_requests("GET", url), 403, "AccessDenied", DENIED)


def test_key_disable_enable_delete(
    shared: tuple[str, str, bytes], member: Callable[[], Credentials], managed_server: SatchelProcess,
    s3_factory: S3Factory, s3: Any,
) -> None:
    bucket, key, data = shared
    writer = member()
    managed_server.grant(writer.user, bucket, "read-write", share=True)
    urls = _links(s3_factory, writer, bucket, key)
    put_url = s3_factory(writer, signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "team/upload.bin"}, ExpiresIn=600)
    _wait_for(urls, 200)

    managed_server.admin("key", "disable", writer.access_key)
    _wait_for(urls, 403, "InvalidAccessKeyId")
    for url in urls.values():
        assert_error(fetch_requests("GET", url), 403, "InvalidAccessKeyId", UNKNOWN_KEY)
    assert_error(fetch_requests("PUT", put_url, data=b"while disabled"), 403, "InvalidAccessKeyId", UNKNOWN_KEY)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="team/upload.bin")

    managed_server.admin("key", "enable", writer.access_key)
    _wait_for(urls, 200)
    for url in urls.values():
        _works(fetch_requests("GET", url), data)
    uploaded = fetch_requests("PUT", put_url, data=b"after enable")
    assert uploaded.status == 200, uploaded.describe()
    assert s3.get_object(Bucket=bucket, Key="team/upload.bin")["Body"].read() == b"after enable"

    managed_server.admin("key", "delete", writer.access_key)
    _wait_for(urls, 403, "InvalidAccessKeyId")
    assert_error(fetch_requests("PUT", put_url, data=b"after delete"), 403, "InvalidAccessKeyId", UNKNOWN_KEY)


def test_user_disable_enable_delete(
    shared: tuple[str, str, bytes], member: Callable[[], Credentials], managed_server: SatchelProcess,
    s3_factory: S3Factory,
) -> None:
    bucket, key, data = shared
    reader = member()
    managed_server.grant(reader.user, bucket, "read", share=True)
    urls = _links(s3_factory, reader, bucket, key)
    _wait_for(urls, 200)

    managed_server.admin("user", "disable", reader.user)
    _wait_for(urls, 403, "AccessDenied")
    for url in urls.values():
        assert_error(fetch_requests("GET", url), 403, "AccessDenied", DENIED)

    managed_server.admin("user", "enable", reader.user)
    _wait_for(urls, 200)
    for url in urls.values():
        _works(fetch_requests("GET", url), data)

    # Deleting the user deletes its keys and grants: its links now name a key that does not exist.
    managed_server.admin("user", "delete", reader.user)
    listed = json.loads(managed_server.admin("key", "list", "--json"))
    assert reader.access_key not in {row.get("access_key_id") for row in listed}
    _wait_for(urls, 403, "InvalidAccessKeyId")
    for url in urls.values():
        assert_error(fetch_requests("GET", url), 403, "InvalidAccessKeyId", UNKNOWN_KEY)
