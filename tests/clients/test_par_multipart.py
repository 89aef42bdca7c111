"""OCI's multipart upload through one PAR: create with ``opc-multipart: true``, part PUTs, commit, abort —
a 100 MiB object checked byte for byte, with one use of a ``maxUses: 1`` PAR covering the whole upload."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import requests

from tests.clients.par import assert_refused, create, events, url

MIB = 1024 * 1024


def _start(par: dict[str, Any], key: str, **headers: str) -> dict[str, Any]:
    reply = requests.put(url(par, key), headers={"opc-multipart": "true", **headers}, timeout=30)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_100_mib_multipart_upload_byte_exact(satchel_server: Any, s3: Any, bucket: str) -> None:
    par = create(satchel_server, bucket=bucket, accessType="AnyObjectWrite", objectName="big/", maxUses=1)
    started = _start(par, "big/blob.bin", **{"opc-meta-origin": "par", "Content-Type": "application/x-test"})
    assert set(started) == {"namespace", "bucket", "object", "uploadId", "timeCreated", "storageTier", "accessUri"}
    assert started["object"] == "big/blob.bin" and started["bucket"] == bucket
    token = par["accessUri"].split("/")[2]
    assert started["accessUri"] == (f"/p/{token}/n/{started['namespace']}/b/{bucket}/u/big/blob.bin/id/"
                                    f"{started['uploadId']}/")
    upload = satchel_server.endpoint + started["accessUri"]
    digest = hashlib.sha256()
    sizes = [30 * MIB, 30 * MIB, 30 * MIB, 10 * MIB + 12345]
    with requests.Session() as session:
        for number, size in enumerate(sizes, 1):
            chunk = os.urandom(size)
            digest.update(chunk)
            reply = session.put(f"{upload}{number}", data=chunk, timeout=120)
            md5 = hashlib.md5(chunk, usedforsecurity=False).hexdigest()
            assert reply.status_code == 200 and reply.headers["ETag"] == f'"{md5}"'
        committed = session.post(upload, timeout=120)
    assert committed.status_code == 200, committed.text
    assert committed.headers["opc-multipart-md5"].endswith("-4")
    reader = create(satchel_server, bucket=bucket, accessType="ObjectRead", objectName="big/blob.bin")
    peek = requests.head(reader["fullPath"], headers={"opc-client-request-id": "mine-1"}, timeout=30)
    assert peek.headers["opc-multipart-md5"] == committed.headers["opc-multipart-md5"]
    assert peek.headers["storage-tier"] == "Standard" and peek.headers["opc-client-request-id"] == "mine-1"
    head = s3.head_object(Bucket=bucket, Key="big/blob.bin")
    assert head["ContentLength"] == sum(sizes) and head["Metadata"] == {"origin": "par"}
    assert head["ContentType"] == "application/x-test"
    body = s3.get_object(Bucket=bucket, Key="big/blob.bin")["Body"]
    back = hashlib.sha256()
    for chunk in iter(lambda: body.read(8 * MIB), b""):
        back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
    # the one use went to the upload: the PAR is spent now
    assert_refused(requests.put(url(par, "big/other.bin"), data=b"x", timeout=30))
    trail = [(e["method"], e["outcome"]) for e in events(satchel_server, par["id"]) if e["action"] == "use"]
    assert trail == [("PUT", "allowed")] * 5 + [("POST", "allowed"), ("PUT", "refused")]
    s3.delete_object(Bucket=bucket, Key="big/blob.bin")


def test_abort_and_refusals(satchel_server: Any, s3: Any, bucket: str) -> None:
    par = create(satchel_server, bucket=bucket, accessType="AnyObjectReadWrite", objectName="up/")
    started = _start(par, "up/x.bin")
    upload = satchel_server.endpoint + started["accessUri"]
    assert requests.put(upload + "1", data=b"part one", timeout=30).status_code == 200
    assert requests.put(upload + "0", data=b"x", timeout=30).status_code == 400
    assert requests.put(upload + "10001", data=b"x", timeout=30).status_code == 400
    assert_refused(requests.get(upload, timeout=30))
    assert_refused(requests.delete(upload + "1", timeout=30))
    # another PAR on the same bucket but a prefix without this object cannot touch the upload
    other = create(satchel_server, bucket=bucket, accessType="AnyObjectWrite", objectName="elsewhere/")
    stolen = started["accessUri"].replace(par["accessUri"].split("/")[2], other["accessUri"].split("/")[2])
    assert_refused(requests.post(satchel_server.endpoint + stolen, timeout=30))
    # a read-only PAR can start nothing
    reader = create(satchel_server, bucket=bucket, accessType="AnyObjectRead")
    assert_refused(requests.put(url(reader, "up/y.bin"), headers={"opc-multipart": "true"}, timeout=30))
    bad = requests.put(url(par, "up/z.bin"), headers={"opc-multipart": "yes"}, timeout=30)
    assert bad.status_code == 400
    assert requests.delete(upload, timeout=30).status_code == 204
    gone = requests.post(upload, timeout=30)
    assert gone.status_code == 404 and gone.json()["code"] == "NoSuchUpload"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # a part too small before the last: OCI's and S3's rule, refused at commit
    again = satchel_server.endpoint + _start(par, "up/small.bin")["accessUri"]
    for number in (1, 2):
        requests.put(f"{again}{number}", data=b"tiny", timeout=30)
    refused = requests.post(again, timeout=30)
    assert refused.status_code == 400 and refused.json()["code"] == "InvalidParameter"
    assert requests.delete(again, timeout=30).status_code == 204


def test_conditions_are_refused_not_ignored(satchel_server: Any, s3: Any, bucket: str) -> None:
    """A multipart upload through a PAR cannot honour If-None-Match and its kin at its start or commit: they
    are refused there (400), never ignored (the commit had overwritten the object despite If-None-Match: *)."""
    s3.put_object(Bucket=bucket, Key="in/keep.txt", Body=b"ORIGINAL")
    par = create(satchel_server, bucket=bucket, accessType="AnyObjectWrite", objectName="in/")
    for name, value in (("If-None-Match", "*"), ("If-Match", '"0"'), ("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")):
        refused = requests.put(url(par, "in/keep.txt"), headers={"opc-multipart": "true", name: value}, timeout=30)
        assert refused.status_code == 400 and refused.json()["code"] == "InvalidParameter", (name, refused.text)
    upload = satchel_server.endpoint + _start(par, "in/keep.txt")["accessUri"]
    assert requests.put(upload + "1", data=b"OVERWRITTEN", timeout=30).status_code == 200
    commit = requests.post(upload, headers={"If-None-Match": "*"}, timeout=30)
    assert commit.status_code == 400 and commit.json()["code"] == "InvalidParameter"
    assert s3.get_object(Bucket=bucket, Key="in/keep.txt")["Body"].read() == b"ORIGINAL"
    assert requests.post(upload, timeout=30).status_code == 200  # without the condition: as asked
    assert s3.get_object(Bucket=bucket, Key="in/keep.txt")["Body"].read() == b"OVERWRITTEN"
