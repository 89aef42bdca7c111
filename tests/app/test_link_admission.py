"""Link admission in-process (``core/admission.py`` through the S3 front-end): writes through minted links
counted once and only when allowed, copies and batch deletes through presigned URLs checked against the
source's and each key's revocations, lifetime ceilings, and URLs signed for an earlier bucket of a name."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from satchel.core.models import Permission, Role
from tests.app.driver import InProcessApp, Reply


def _denied(reply: Reply) -> None:
    assert (reply.status, reply.code) == (403, "AccessDenied"), reply.body


def test_put_link_counts_its_one_write(app: InProcessApp, bucket: str) -> None:
    [minted] = app.api("POST", "/links", {"bucket": bucket, "keys": ["in/new.txt"], "method": "PUT",
                                          "max_uses": 1}).json()["links"]
    url = minted["url"]
    assert app.follow(url, "PUT", body=b"first").status == 200
    _denied(app.follow(url, "PUT", body=b"second"))
    assert app.s3("GET", f"/{bucket}/in/new.txt").body == b"first"
    assert app.api("GET", f"/links/{minted['link']['id']}").json()["uses"] == 1


def test_put_link_of_a_signer_who_may_not_write(app: InProcessApp, bucket: str,
                                                unique: Callable[[str], str]) -> None:
    reader = app.user(unique("ro"), Role.MEMBER, [(bucket, Permission.READ)], share=True)
    [minted] = app.api("POST", "/links", {"bucket": bucket, "keys": ["x.txt"], "method": "PUT", "max_uses": 1},
                       key=reader).json()["links"]
    assert minted["error"]["code"] == "AccessDenied"  # refused at minting already
    put = app.boto3(reader).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "x.txt"})
    _denied(app.follow(put, "PUT", body=b"x"))
    assert app.s3("HEAD", f"/{bucket}/x.txt").status == 404


def test_copy_link_checks_its_source(app: InProcessApp, bucket: str, unique: Callable[[str], str]) -> None:
    s3 = app.boto3()
    s3.put_object(Bucket=bucket, Key="secret/report.pdf", Body=b"TOP-SECRET")

    def copy(source_bucket: str, target_bucket: str, key: str) -> Callable[[], Reply]:
        url = s3.generate_presigned_url("copy_object", ExpiresIn=3600, Params={
            "Bucket": target_bucket, "Key": key, "CopySource": f"{source_bucket}/secret/report.pdf"})
        return lambda: app.follow(url, "PUT", [("x-amz-copy-source", f"{source_bucket}/secret/report.pdf")])

    first, second = copy(bucket, bucket, "inbox/1.pdf"), copy(bucket, bucket, "inbox/2.pdf")
    assert first().status == 200
    assert app.api("POST", "/revocations", {"scope": "object", "bucket": bucket,
                                            "target": "secret/report.pdf"}).status == 200
    _denied(second())
    assert app.s3("HEAD", f"/{bucket}/inbox/2.pdf").status == 404

    source = unique("src-")
    s3.create_bucket(Bucket=source)
    s3.put_object(Bucket=source, Key="secret/report.pdf", Body=b"ceiled")
    assert app.api("PUT", f"/buckets/{source}/link-policy", {"max_link_lifetime": 60}).status == 200
    ceiled = copy(source, bucket, "inbox/3.pdf")()
    _denied(ceiled)
    assert b"maximum of 60 seconds set on this bucket" in ceiled.body


def test_delete_objects_link_refuses_revoked_keys(app: InProcessApp, bucket: str) -> None:
    s3 = app.boto3()
    for key in ("secret/a.txt", "public/c.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    doc = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>secret/a.txt</Key></Object>'
           b"<Object><Key>public/c.txt</Key></Object></Delete>")
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()  # noqa: S324 - S3's integrity header
    signed_before = time.time() - 5
    assert app.api("POST", "/revocations", {"scope": "prefix", "bucket": bucket, "target": "secret/"}).status == 200
    reply = app.request("POST", f"/{bucket}?delete", [("Content-MD5", md5)], doc, key=app.root, presign=True,
                        signed_at=signed_before)
    assert reply.status == 200, reply.body
    assert b"<Deleted><Key>public/c.txt</Key></Deleted>" in reply.body
    assert b"<Key>secret/a.txt</Key><Code>AccessDenied</Code>" in reply.body
    assert app.s3("GET", f"/{bucket}/secret/a.txt").body == b"x"


def test_url_signed_for_an_earlier_bucket_of_the_name(app: InProcessApp, unique: Callable[[str], str]) -> None:
    name = unique("reused-")
    assert app.s3("PUT", f"/{name}").status == 200
    early = time.time() - 30
    target, headers = "/" + name + "/doc.txt", [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]
    stale = app.request("GET", target, key=app.root, presign=True, signed_at=early)
    assert stale.status == 404  # the URL works (no such key yet) for the bucket it was signed for
    assert app.s3("DELETE", f"/{name}").status == 204
    assert app.s3("PUT", f"/{name}").status == 200
    assert app.s3("PUT", f"/{name}/doc.txt", body=b"new owner's").status == 200
    refused = app.request("GET", target, headers, key=app.root, presign=True, signed_at=early)
    _denied(refused)
    assert app.s3("GET", target).body == b"new owner's"


@pytest.fixture(scope="module")
def short_ceiling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    """A node whose links live at most 60 seconds."""
    made = InProcessApp(Path(tmp_path_factory.mktemp("ceiling")), max_link_lifetime=60)
    yield made
    made.close()


def test_server_lifetime_ceiling(short_ceiling: InProcessApp) -> None:
    app = short_ceiling
    assert app.s3("PUT", "/ceiled").status == 200
    assert app.s3("PUT", "/ceiled/k", body=b"k").status == 200
    long = app.request("GET", "/ceiled/k", key=app.root, presign=True, expires=600)
    _denied(long)
    assert b"maximum of 60 seconds this server allows" in long.body
    assert app.request("GET", "/ceiled/k", key=app.root, presign=True, expires=30).body == b"k"
