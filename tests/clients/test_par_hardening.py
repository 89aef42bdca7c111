"""Regressions from the hostile review of PARs: uploads belong to the PAR that started them (and die with
it, capped per PAR), failed writes give their use back, a PAR dies with the access key that minted it,
and a user's live PARs are capped."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from tests.clients import mgmt
from tests.clients.boto import unique_bucket
from tests.clients.par import assert_refused, create, url
from tests.clients.server import Credentials, SatchelProcess, eventually, free_port

MIB = 1024 * 1024
USER_CAP = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    process = SatchelProcess(tmp_path_factory.mktemp("parfix") / "data", port=free_port(),
                             extra_args=("--par-max-open-uploads", "2", "--par-max-per-user", str(USER_CAP)))
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def s3c(server: SatchelProcess) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=server.root.access_key, aws_secret_access_key=server.root.secret_key)


@pytest.fixture
def bkt(s3c: Any) -> str:
    name = unique_bucket("pf")
    s3c.create_bucket(Bucket=name)
    return name


def _show(server: SatchelProcess, par: dict[str, Any]) -> dict[str, Any]:
    return dict(mgmt.ok(mgmt.call(server, None, "GET", f"/pars/{par['bucketName']}/{par['id']}")))


def _delete(server: SatchelProcess, par: dict[str, Any]) -> None:
    mgmt.ok(mgmt.call(server, None, "DELETE", f"/pars/{par['bucketName']}/{par['id']}"))


def _start(par: dict[str, Any], key: str) -> requests.Response:
    return requests.put(url(par, key), headers={"opc-multipart": "true"}, timeout=30)


def test_an_upload_belongs_to_its_par(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    owner = create(server, bucket=bkt, accessType="AnyObjectWrite", objectName="in/")
    other = create(server, bucket=bkt, accessType="AnyObjectWrite", objectName="in/", maxUses=1)
    started = _start(owner, "in/big.bin").json()
    token, other_token = owner["accessUri"].split("/")[2], other["accessUri"].split("/")[2]
    mine = server.endpoint + started["accessUri"]
    stolen = server.endpoint + started["accessUri"].replace(token, other_token)
    assert requests.put(mine + "1", data=b"owner", timeout=30).status_code == 200
    # another PAR of the same scope can neither add a part, nor commit, nor abort it
    assert_refused(requests.put(stolen + "1", data=b"EVIL", timeout=30))
    assert_refused(requests.post(stolen, timeout=30))
    assert_refused(requests.delete(stolen, timeout=30))
    # an S3 upload in scope is out of any PAR's reach
    s3_upload = s3c.create_multipart_upload(Bucket=bkt, Key="in/s3.bin")["UploadId"]
    s3_uri = f"{server.endpoint}/p/{token}/n/{started['namespace']}/b/{bkt}/u/in/s3.bin/id/{s3_upload}/"
    assert_refused(requests.put(s3_uri + "1", data=b"EVIL", timeout=30))
    assert_refused(requests.delete(s3_uri, timeout=30))
    assert _show(server, owner)["openUploads"] == 1
    # at most par_max_open_uploads (2) open through one PAR
    assert _start(owner, "in/second.bin").status_code == 200
    full = _start(owner, "in/third.bin")
    assert full.status_code == 400 and "par_max_open_uploads" in full.json()["message"]
    assert _show(server, owner)["openUploads"] == 2
    # deleting the PAR aborts its uploads (the S3 one stays) and the upload URL is dead
    _delete(server, owner)
    assert_refused(requests.post(mine, timeout=30))
    left = {u["UploadId"] for u in s3c.list_multipart_uploads(Bucket=bkt).get("Uploads", [])}
    assert left == {s3_upload}
    s3c.abort_multipart_upload(Bucket=bkt, Key="in/s3.bin", UploadId=s3_upload)


def _raw_put(target: str, headers: dict[str, str], body: bytes, announced: int) -> None:
    """A PUT whose client goes away after ``body`` of ``announced`` bytes."""
    parts = urlsplit(target)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        lines = [f"PUT {parts.path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {announced}",
                 *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        conn.sendall("\r\n".join(lines).encode() + body)
        time.sleep(0.2)


def test_failed_writes_give_their_use_back(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    s3c.put_object(Bucket=bkt, Key="w/doc.txt", Body=b"old")
    par = create(server, bucket=bkt, accessType="AnyObjectWrite", objectName="w/", maxUses=1)
    assert requests.put(url(par, "w/doc.txt"), data=b"new", headers={"If-Match": '"0"'}, timeout=30).status_code \
        == 412
    assert requests.put(url(par, "w/none.txt"), data=b"new", headers={"If-Match": '"0"'}, timeout=30).status_code \
        in (404, 412)
    wrong = base64.b64encode(hashlib.md5(b"other", usedforsecurity=False).digest()).decode()
    assert requests.put(url(par, "w/doc.txt"), data=b"new", headers={"Content-MD5": wrong},
                        timeout=30).status_code == 400
    _raw_put(url(par, "w/cut.txt"), {}, b"x" * 10, 1000)
    _raw_put(url(par, "w/never.txt"), {"Expect": "100-continue"}, b"", 1000)  # asks, then sends nothing
    assert eventually(lambda: _show(server, par)["uses"] == 0, timeout=5)
    assert requests.put(url(par, "w/doc.txt"), data=b"new", timeout=30).status_code == 200
    assert _show(server, par)["uses"] == 1
    assert_refused(requests.put(url(par, "w/doc.txt"), data=b"again", timeout=30))


def test_a_par_dies_with_the_key_that_minted_it(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    s3c.put_object(Bucket=bkt, Key="k/doc.txt", Body=b"data")
    made = json.loads(server.admin("key", "create", "root", "--json"))
    key = Credentials(made["access_key_id"], made["secret_access_key"])
    disabled = create(server, key, bucket=bkt, accessType="ObjectRead", objectName="k/doc.txt")
    deleted = create(server, key, bucket=bkt, accessType="ObjectRead", objectName="k/doc.txt")
    revoked = create(server, key, bucket=bkt, accessType="ObjectRead", objectName="k/doc.txt")
    unrelated = create(server, bucket=bkt, accessType="ObjectRead", objectName="k/doc.txt")
    assert requests.get(disabled["fullPath"], timeout=30).content == b"data"
    time.sleep(1.1)  # revocations cover what was issued before their (whole) second
    mgmt.ok(mgmt.call(server, None, "POST", "/revocations", {"scope": "access-key", "target": key.access_key}))
    assert_refused(requests.get(revoked["fullPath"], timeout=30))
    server.admin("key", "disable", key.access_key)
    assert eventually(lambda: requests.get(disabled["fullPath"], timeout=30).status_code == 404, timeout=5)
    server.admin("key", "delete", key.access_key)
    assert eventually(lambda: requests.get(deleted["fullPath"], timeout=30).status_code == 404, timeout=5)
    assert_refused(requests.get(deleted["fullPath"], timeout=30))
    assert requests.get(unrelated["fullPath"], timeout=30).content == b"data"  # another key's PAR lives on


def test_live_pars_per_user_are_capped(server: SatchelProcess, bkt: str) -> None:
    member = server.create_user(unique_bucket("capuser"))
    server.grant(member.user, bkt, "read", share=True)
    made = [create(server, member, bucket=bkt, accessType="AnyObjectRead") for _ in range(USER_CAP)]
    refused = mgmt.call(server, member, "POST", "/pars", {"bucket": bkt, "name": "n", "accessType": "AnyObjectRead",
                                                          "timeExpires": "2999-01-01T00:00:00Z"})
    assert refused.status_code == 400 and "par_max_per_user" in refused.text
    _delete(server, made[0])  # a deleted one no longer counts
    create(server, member, bucket=bkt, accessType="AnyObjectRead")


def _curl_headers(target: str) -> dict[str, list[str]]:
    out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", target], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines()[1:]:
        name, _, value = line.partition(":")
        if value:
            found.setdefault(name.strip().lower(), []).append(value.strip())
    return found


def test_no_par_answer_may_be_cached(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    s3c.put_object(Bucket=bkt, Key="c/doc.txt", Body=b"data", CacheControl="public, max-age=86400",
                   Expires=datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC))
    par = create(server, bucket=bkt, accessType="AnyObjectRead", objectName="c/", bucketListingAction="ListObjects",
                 maxUses=10)
    for target in (url(par, "c/doc.txt"), url(par), url(par, "c/missing.txt"), url(par) + "?format=zip",
                   url(par).replace("/p/", "/p/x", 1)):
        headers = _curl_headers(target)
        assert headers.get("cache-control") == ["private, no-store"], (target, headers)
        assert "expires" not in headers, target


def test_commit_honours_ocis_commit_details(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    par = create(server, bucket=bkt, accessType="AnyObjectWrite", objectName="m/")
    upload = server.endpoint + _start(par, "m/ex.bin").json()["accessUri"]
    first = b"G" * (5 * MIB)
    etag1 = requests.put(upload + "1", data=first, timeout=30).headers["ETag"]
    etag2 = requests.put(upload + "2", data=b"EXCLUDED", timeout=30).headers["ETag"]
    for body in (b"garbage", b"[]", json.dumps({"partsToCommit": [{"partNum": 1, "etag": etag2}],
                                                "partsToExclude": [2]}).encode(),
                 json.dumps({"partsToCommit": [{"partNum": 1, "etag": etag1}]}).encode(),  # part 2 in neither
                 json.dumps({"partsToCommit": [{"partNum": 1, "etag": etag1}], "partsToExclude": [2, 3]}).encode(),
                 json.dumps({"partsToCommit": [{"partNum": 1, "etag": etag1}, {"partNum": 2, "etag": etag2}],
                             "partsToExclude": [2]}).encode()):
        refused = requests.post(upload, data=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert refused.status_code == 400 and refused.json()["code"] == "InvalidParameter", body
    details: dict[str, Any] = {"partsToCommit": [{"partNum": 1, "etag": etag1}], "partsToExclude": [2]}
    assert requests.post(upload, json=details, timeout=30).status_code == 200
    assert s3c.get_object(Bucket=bkt, Key="m/ex.bin")["Body"].read() == first


def test_par_writes_refuse_what_they_would_ignore(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    s3c.put_object(Bucket=bkt, Key="r/src.txt", Body=b"source")
    par = create(server, bucket=bkt, accessType="AnyObjectReadWrite", objectName="r/")
    for headers in ({"x-amz-copy-source": f"/{bkt}/r/src.txt"}, {"x-amz-meta-owner": "me"}, {"opc-meta-": "x"}):
        reply = requests.put(url(par, "r/new.txt"), data=b"body", headers=headers, timeout=30)
        assert reply.status_code == 400 and reply.json()["code"] == "InvalidParameter", headers
    upload = server.endpoint + _start(par, "r/big.bin").json()["accessUri"]
    for headers in ({"If-None-Match": "*"}, {"x-amz-copy-source": f"/{bkt}/r/src.txt"}):
        assert requests.put(upload + "1", data=b"part", headers=headers, timeout=30).status_code == 400, headers
    assert "r/new.txt" not in {o["Key"] for o in s3c.list_objects_v2(Bucket=bkt, Prefix="r/").get("Contents", [])}
    assert requests.delete(upload, timeout=30).status_code == 204


def test_download_names_are_file_names(server: SatchelProcess, s3c: Any, bkt: str) -> None:
    s3c.put_object(Bucket=bkt, Key="été/a.txt", Body=b"a")
    par = create(server, bucket=bkt, accessType="ObjectRead", objectName="été/a.txt", mode="download",
                 filename="../../etc/passwd")
    assert _show(server, par)["filename"] == "passwd"
    assert requests.get(par["fullPath"], timeout=30).headers["Content-Disposition"] == \
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    lister = create(server, bucket=bkt, accessType="AnyObjectRead", bucketListingAction="ListObjects")
    zipped = _curl_headers(url(lister) + "?format=zip&prefix=%C3%A9t%C3%A9/")
    assert zipped["content-disposition"] == ["attachment; filename=\"_t_.zip\"; filename*=UTF-8''%C3%A9t%C3%A9.zip"]
