"""What the audit trail says about link uses that act on more than their URL names (issue 9, the audit
promise): a copy through a link is audited for its source bucket too, and a presigned DeleteObjects says
which keys it deleted and which it refused. Links signed by boto3, used with requests, the trail read
through the management API as each user would."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.clients import mgmt
from tests.clients.boto import S3Factory, empty_and_delete, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, eventually

TIMEOUT = 30


def _events(server: SatchelProcess, creds: Credentials, query: str) -> list[dict[str, Any]]:
    return list(mgmt.ok(mgmt.call(server, creds, "GET", f"/audit?{query}"))["events"])


def _uses(server: SatchelProcess, creds: Credentials, bucket: str, count: int) -> list[dict[str, Any]]:
    """The use events of ``bucket`` the user sees, once at least ``count`` of them are written."""
    assert eventually(lambda: len(_events(server, creds, f"bucket={bucket}&action=use")) >= count)
    return _events(server, creds, f"bucket={bucket}&action=use")


@pytest.fixture
def people(s3_factory: S3Factory, member: Callable[[], Credentials],
           managed_server: SatchelProcess) -> Iterator[tuple[Credentials, str, Credentials, str]]:
    """Alice owns ``src`` (one object, ``report.pdf``); Bob may read and share it, and owns ``dst``.
    Neither administers the other: each sees only their own buckets' events and the ones they signed."""
    alice, bob = member(), member()
    src, dst = unique_bucket("src"), unique_bucket("dst")
    s3_factory(alice).create_bucket(Bucket=src)
    s3_factory(bob).create_bucket(Bucket=dst)
    s3_factory(alice).put_object(Bucket=src, Key="report.pdf", Body=b"0123456789")
    managed_server.grant(bob.user, src, "read", share=True)
    try:
        yield alice, src, bob, dst
    finally:
        empty_and_delete(s3_factory(alice), src)
        empty_and_delete(s3_factory(bob), dst)


def _copy(client: Any, operation: str, params: dict[str, Any], source: str) -> requests.Response:
    url = client.generate_presigned_url(operation, Params=params, ExpiresIn=600)
    return requests.put(url, headers={"x-amz-copy-source": source}, timeout=TIMEOUT)


def test_a_copy_through_a_link_is_its_source_buckets_event_too(
    people: tuple[Credentials, str, Credentials, str], s3_factory: S3Factory, managed_server: SatchelProcess,
) -> None:
    alice, src, bob, dst = people
    bob_s3 = s3_factory(bob, signature_version="s3v4")  # dated by its signer: a revocation reaches it
    source = f"{src}/report.pdf"
    refused_later = bob_s3.generate_presigned_url("copy_object", ExpiresIn=600, Params={
        "Bucket": dst, "Key": "second.pdf", "CopySource": source})
    assert _copy(bob_s3, "copy_object", {"Bucket": dst, "Key": "copied.pdf", "CopySource": source},
                 source).status_code == 200
    upload = bob_s3.create_multipart_upload(Bucket=dst, Key="assembled")["UploadId"]
    part = {"Bucket": dst, "Key": "assembled", "UploadId": upload, "PartNumber": 1, "CopySource": source,
            "CopySourceRange": "bytes=2-5"}
    url = bob_s3.generate_presigned_url("upload_part_copy", Params=part, ExpiresIn=600)
    reply = requests.put(url, headers={"x-amz-copy-source": source, "x-amz-copy-source-range": "bytes=2-5"},
                         timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text

    # Alice sees both reads of her object, as she would see GETs: one event each, signed by Bob.
    reads = _uses(managed_server, alice, src, 2)
    assert [(e["key"], e["method"], e["outcome"], e["status"], e["bytes"], e["user"]) for e in reads] == [
        ("report.pdf", "COPY-SOURCE", "allowed", 200, 10, bob.user),
        ("report.pdf", "COPY-SOURCE", "allowed", 200, 4, bob.user)]
    # Bob (the signer, and dst's owner) sees each copy as two events of one request: destination, source.
    mine = _uses(managed_server, bob, dst, 2)
    assert [(e["key"], e["method"]) for e in mine] == [("copied.pdf", "PUT"), ("assembled", "PUT")]
    for write, read in zip(mine, reads, strict=True):
        assert write["request_id"] == read["request_id"] and write["link_id"] == read["link_id"]
    assert _events(managed_server, alice, f"bucket={dst}") == []

    # Revoked at the source: the refusal's detail (the revocation) is the source's, the destination
    # only learns that its source was refused.
    revocation = mgmt.ok(mgmt.call(managed_server, alice, "POST", "/revocations",
                                   {"scope": "object", "bucket": src, "target": "report.pdf"}))["id"]
    reply = requests.put(refused_later, headers={"x-amz-copy-source": source}, timeout=TIMEOUT)
    assert reply.status_code == 403, reply.text
    (refused,) = [e for e in _uses(managed_server, alice, src, 3) if e["outcome"] == "refused"]
    assert (refused["method"], refused["status"], refused["bytes"]) == ("COPY-SOURCE", 403, 0)
    assert revocation in refused["reason"] and refused["reason"].startswith("AccessDenied: The link was revoked")
    (destination,) = [e for e in _uses(managed_server, bob, dst, 3) if e["outcome"] == "refused"]
    assert destination["key"] == "second.pdf" and destination["request_id"] == refused["request_id"]
    assert destination["reason"].startswith("AccessDenied: The copy source was refused")
    assert revocation not in destination["reason"]


def test_a_copy_refused_at_its_destination_keeps_the_detail_there(
    people: tuple[Credentials, str, Credentials, str], s3_factory: S3Factory, managed_server: SatchelProcess,
) -> None:
    """Bob may read Alice's bucket but not write it: the refusal is the destination's; the source's event
    says a copy was refused, with the code, and nothing of the destination's reason."""
    alice, src, bob, _ = people
    source = f"{src}/report.pdf"
    reply = _copy(s3_factory(bob), "copy_object", {"Bucket": src, "Key": "mine.pdf", "CopySource": source}, source)
    assert reply.status_code == 403, reply.text
    events = _uses(managed_server, alice, src, 2)
    assert [(e["key"], e["method"], e["outcome"], e["bytes"]) for e in events] == [
        ("mine.pdf", "PUT", "refused", 0), ("report.pdf", "COPY-SOURCE", "refused", 0)]
    assert events[1]["reason"] == "AccessDenied: The copy was refused; the event of its destination says why."


def _presigned_delete(server: SatchelProcess, creds: Credentials, bucket: str) -> str:
    """botocore's own SigV4 query signer: its presigner cannot build a DeleteObjects."""
    signer = S3SigV4QueryAuth(BotoCredentials(creds.access_key, creds.secret_key), "s3", "us-east-1", expires=600)
    request = AWSRequest(method="POST", url=f"{server.endpoint}/{bucket}?delete=")
    signer.add_auth(request)
    return str(request.url)


def test_a_presigned_delete_objects_says_which_keys_it_deleted_and_refused(
    people: tuple[Credentials, str, Credentials, str], s3_factory: S3Factory, managed_server: SatchelProcess,
) -> None:
    alice, src, _, _ = people
    alice_s3 = s3_factory(alice)
    keys = ["keep/a", "gone/b", 'gone/with "quotes", commas\nand a line break']
    for key in keys:
        alice_s3.put_object(Bucket=src, Key=key, Body=b"x")
    url = _presigned_delete(managed_server, alice, src)
    revocation = mgmt.ok(mgmt.call(managed_server, alice, "POST", "/revocations",
                                   {"scope": "prefix", "bucket": src, "target": "keep/"}))["id"]
    doc = ("<Delete>" + "".join(f"<Object><Key>{k.replace('&', '&amp;')}</Key></Object>" for k in keys)
           + "</Delete>").encode()
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()  # noqa: S324 - S3's integrity header
    reply = requests.post(url, data=doc, headers={"Content-MD5": md5}, timeout=TIMEOUT)
    assert reply.status_code == 200 and b"<Code>AccessDenied</Code>" in reply.content, reply.text
    (event,) = [e for e in _uses(managed_server, alice, src, 1) if e["method"] == "POST"]
    assert (event["outcome"], event["status"], event["key"]) == ("allowed", 200, None)
    assert event["reason"] == (
        '2 of 3 keys deleted: "gone/b", "gone/with \\"quotes\\", commas\\nand a line break"; '
        f'1 refused: "keep/a" (AccessDenied: The link was revoked (prefix revocation {revocation}).)')


def test_a_thousand_key_delete_objects_event_stays_small(
    people: tuple[Credentials, str, Credentials, str], managed_server: SatchelProcess,
) -> None:
    alice, src, _, _ = people
    url = _presigned_delete(managed_server, alice, src)
    keys = [f"{uuid.uuid4().hex}/{'k' * 200}-{i}" for i in range(1000)]
    doc = ("<Delete><Quiet>true</Quiet>" + "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
           + "</Delete>").encode()
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()  # noqa: S324 - S3's integrity header
    assert requests.post(url, data=doc, headers={"Content-MD5": md5}, timeout=TIMEOUT).status_code == 200
    (event,) = [e for e in _uses(managed_server, alice, src, 1) if e["method"] == "POST"]
    assert event["reason"].startswith("1000 of 1000 keys deleted: ")
    assert event["reason"].endswith(" and 990 more") and len(event["reason"]) < 2000
