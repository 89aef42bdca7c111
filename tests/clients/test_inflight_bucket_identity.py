"""An upload in flight commits only into the bucket it was authorised against (a bucket is an identity).

A body can take minutes to arrive (``body_timeout`` counts idle time only). Meanwhile the (still
empty) bucket can be deleted and its name taken by another account. Objects are stored under the
bucket's name, so before the fix the late body landed in the newcomer's bucket: planted there by the
old owner, or — the reverse — a confidential upload of the old owner delivered to the newcomer.
Every write path publishes through the store's one check (the bucket of that name must still have the
id the request was authorised against): here Swift PUT, S3 PUT, S3 POST object and PAR PUT, with real
clients and a slow request body.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import swiftclient.client as swift_api
from botocore.exceptions import ClientError

from tests.clients import mgmt
from tests.clients.boto import S3Factory, unique_bucket
from tests.clients.par import create as create_par
from tests.clients.server import Credentials, SatchelProcess
from tests.clients.slowbody import BOUNDARY, InFlight, SlowBody, formpost_fields, signed_put
from tests.clients.swift import SwiftUser, member_user, root_user


@dataclass(frozen=True)
class Rival:
    creds: Credentials
    swift: SwiftUser


@pytest.fixture
def rivals(managed_server: SatchelProcess) -> tuple[Rival, Rival]:
    """Two account administrators of two accounts: acme and evil."""
    tag = uuid.uuid4().hex[:10]
    made = []
    for name in ("acme", "evil"):
        account = f"{name}-{tag}"
        managed_server.admin("account", "create", account)
        creds = managed_server.create_user(f"{name}admin-{tag}", role="admin", account=account)
        made.append(Rival(creds, member_user(managed_server, creds, account)))
    return made[0], made[1]


def _swift_put(url: str, token: str) -> Callable[[SlowBody], requests.Response]:
    return lambda body: requests.put(url, data=body, headers={"X-Auth-Token": token}, timeout=30)


@pytest.mark.parametrize("uploader", ["evil plants", "acme leaks"])
def test_swift_put_in_flight_stays_out_of_a_reborn_container(rivals: tuple[Rival, Rival], uploader: str) -> None:
    """Evil plants an object in acme's new container, or acme's confidential upload lands in evil's: the
    uploader's container goes (still empty) while the body hangs, and the other account takes the name."""
    acme, evil = rivals
    owner, newcomer = (evil, acme) if uploader == "evil plants" else (acme, evil)
    owner_conn, newcomer_conn = owner.swift.connection(), newcomer.swift.connection()
    name = unique_bucket("race")
    owner_conn.put_container(name)
    url, token = owner.swift.token()
    upload = InFlight(SlowBody(b"PAYROLL OR PLANT\n"), _swift_put(f"{url}/{name}/planted.txt", token))
    assert owner_conn.get_container(name)[1] == []
    owner_conn.delete_container(name)
    newcomer_conn.put_container(name)
    answer = upload.finish()
    assert answer.status_code == 404, answer.text
    assert newcomer_conn.get_container(name)[1] == []
    with pytest.raises(swift_api.ClientException) as missing:
        newcomer_conn.get_object(name, "planted.txt")
    assert missing.value.http_status == 404
    newcomer_conn.delete_container(name)


def _assert_no_such_bucket(answer: requests.Response) -> None:
    assert answer.status_code == 404, answer.text
    assert b"<Code>NoSuchBucket</Code>" in answer.content


def _planted_in_reborn_bucket(s3_factory: S3Factory, rivals: tuple[Rival, Rival],
                              start: Callable[[Any, str], InFlight]) -> requests.Response:
    """Evil starts an upload (``start``) into its fresh bucket; while the body hangs, its bucket goes
    and acme takes the name. Returns the upload's answer, after checking acme's bucket stayed empty."""
    acme, evil = rivals
    evil_s3, acme_s3 = s3_factory(evil.creds), s3_factory(acme.creds)
    name = unique_bucket("plant")
    evil_s3.create_bucket(Bucket=name)
    upload = start(evil_s3, name)
    evil_s3.delete_bucket(Bucket=name)
    acme_s3.create_bucket(Bucket=name)
    answer = upload.finish()
    assert acme_s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    with pytest.raises(ClientError) as missing:
        acme_s3.head_object(Bucket=name, Key="planted.txt")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    acme_s3.delete_bucket(Bucket=name)
    return answer


def test_s3_put_in_flight_is_not_planted_in_a_reborn_bucket(managed_server: SatchelProcess,
                                                            rivals: tuple[Rival, Rival], s3_factory: S3Factory) -> None:
    def start(_: Any, name: str) -> InFlight:
        return InFlight(SlowBody(b"PLANTED VIA S3\n"), signed_put(managed_server, rivals[1].creds, name,
                                                                       "planted.txt"))

    _assert_no_such_bucket(_planted_in_reborn_bucket(s3_factory, rivals, start))


def test_s3_post_object_in_flight_is_not_planted_in_a_reborn_bucket(
        rivals: tuple[Rival, Rival], s3_factory: S3Factory) -> None:
    def start(evil_s3: Any, name: str) -> InFlight:
        post = evil_s3.generate_presigned_post(name, "planted.txt", ExpiresIn=300)
        boundary = "satchelboundary"
        fields = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                         for k, v in post["fields"].items())
        form = (fields + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.txt"\r\n'
                "Content-Type: text/plain\r\n\r\nPLANTED BY A FORM\r\n" + f"--{boundary}--\r\n").encode()
        # The policy is checked before the file part: hold the body back in the file's bytes.
        body = SlowBody(form, head=form.index(b"PLANTED") + 4)
        return InFlight(body, lambda b: requests.post(
            post["url"], data=b, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, timeout=30))

    _assert_no_such_bucket(_planted_in_reborn_bucket(s3_factory, rivals, start))


def test_par_put_in_flight_is_not_planted_in_a_reborn_bucket(
        managed_server: SatchelProcess, rivals: tuple[Rival, Rival], s3_factory: S3Factory) -> None:
    evil = rivals[1].creds

    def start(_: Any, name: str) -> InFlight:
        par = create_par(managed_server, evil, bucket=name, accessType="ObjectWrite", objectName="planted.txt")
        upload = InFlight(SlowBody(b"PLANTED BY A PAR\n"), lambda b: requests.put(par["fullPath"], data=b, timeout=30))
        # A live PAR keeps its bucket: its creator deletes it first (the upload was admitted already).
        mgmt.ok(mgmt.call(managed_server, evil, "DELETE", f"/pars/{name}/{par['id']}"))
        return upload

    answer = _planted_in_reborn_bucket(s3_factory, rivals, start)
    assert answer.status_code == 404, answer.text


def test_swift_formpost_file_in_flight_stays_out_of_a_reborn_container(managed_server: SatchelProcess,
                                                                       s3: Any) -> None:
    """A form signed with one container's key stores its second file only in that container: not in
    a container of the same name made (by the same account) while the form was still arriving."""
    conn = root_user(managed_server).connection()
    name = unique_bucket("form")
    conn.put_container(name)
    key = secrets.token_urlsafe(24)
    conn.post_container(name, {"X-Container-Meta-Temp-URL-Key": key})
    path = f"/v1/AUTH_root/{name}/in/"
    boundary = BOUNDARY
    form = formpost_fields(path, key, 1000, 2)
    for number in (1, 2):
        form += (f'--{boundary}\r\nContent-Disposition: form-data; name="file{number}"; filename="f{number}.txt"\r\n'
                 f"Content-Type: text/plain\r\n\r\nFILE NUMBER {number}\r\n")
    data = (form + f"--{boundary}--\r\n").encode()
    # Held before the second file's part headers: the server has stored the first file, not begun the second.
    upload = InFlight(SlowBody(data, head=data.index(b'form-data; name="file2"')), lambda body: requests.post(
        managed_server.endpoint + path, data=body, timeout=30,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
    assert [o["name"] for o in conn.get_container(name)[1]] == ["in/f1.txt"]
    conn.delete_object(name, "in/f1.txt")
    conn.delete_container(name)
    conn.put_container(name)  # no key: no form is valid for it
    answer = upload.finish()
    assert answer.status_code == 404, answer.text
    assert conn.get_container(name)[1] == []
    conn.delete_container(name)
