"""Revocation holds for writes already in flight: a link revoked, a PAR deleted, a key disabled or a right
removed while an upload's body is still arriving stops the upload (``core/inflight.py``).

Each test starts a real client's upload whose body hangs midway (``slowbody``), makes the change from
another client, lets the body finish and checks: the exact refusal the request would have got at its
start, the object absent, no blob left behind in the data directory, and exactly one audit event for the
request, refused, saying the upload was checked again once its body had arrived.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from swiftclient.utils import generate_temp_url

from tests.clients import mgmt, par
from tests.clients.boto import unique_bucket
from tests.clients.server import Credentials, SatchelProcess, configured_server, eventually
from tests.clients.slowbody import BOUNDARY, InFlight, SlowBody, form_fields, formpost_fields, signed_put
from tests.clients.swift import member_user, root_user

IN_FLIGHT = "checked again once the upload body had arrived"
PAYLOAD = b"IN FLIGHT WHEN REVOKED\n" * 64


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    """A server of its own: its blob directory holds only what these tests store."""
    return configured_server(tmp_path_factory, request, "inflight", "")


def api(server: SatchelProcess, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The management API as root (faster than the admin CLI, which starts a process per call)."""
    return mgmt.ok(mgmt.call(server, None, method, path, body))


@pytest.fixture
def writer(server: SatchelProcess) -> tuple[Credentials, str]:
    """A member with a read-write grant (and the share right) on a bucket of its own."""
    name = f"w{uuid.uuid4().hex[:10]}"
    api(server, "POST", "/users", {"name": name})
    key = api(server, "POST", "/access-keys", {"user": name})
    bucket = unique_bucket("fly")
    _client(server).create_bucket(Bucket=bucket)
    api(server, "POST", "/grants", {"user": name, "bucket": bucket, "permission": "read-write", "share": True})
    return Credentials(key["access_key_id"], key["secret_access_key"], user=name), bucket


def _client(server: SatchelProcess, creds: Credentials | None = None, signature: str = "s3v4") -> Any:
    who = creds or server.root
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=server.region,
                        aws_access_key_id=who.access_key, aws_secret_access_key=who.secret_key,
                        config=Config(signature_version=signature, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def blob_files(server: SatchelProcess) -> set[str]:
    """Every blob in the data directory, written ones and ones still being written."""
    root = server.data_dir / "blobs"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def assert_absent(server: SatchelProcess, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as missing:
        _client(server).head_object(Bucket=bucket, Key=key)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert _client(server).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def assert_no_orphan(server: SatchelProcess, before: set[str]) -> None:
    """The refused upload's blob is gone at once, not left for the collector: and the collector finds nothing."""
    assert blob_files(server) == before
    report = json.loads(server.admin("gc", "--json"))
    assert report["orphans_deleted"] == 0
    assert blob_files(server) == before


def request_events(server: SatchelProcess, bucket: str, request_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        events = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?bucket={bucket}"))["events"]
        found[:] = [e for e in events if e["request_id"] == request_id and e["action"] == "use"]
        return bool(found)

    assert eventually(arrived)
    time.sleep(0.3)  # a second event, if any, would be in the same or the next audit batch
    arrived()
    return found


def assert_one_refused_event(server: SatchelProcess, bucket: str, answer: requests.Response, code: str) -> None:
    (event,) = request_events(server, bucket, answer.headers["x-amz-request-id"])
    assert event["outcome"] == "refused"
    assert event["status"] == answer.status_code
    assert event["reason"].startswith(f"{code}: ") and IN_FLIGHT in event["reason"], event["reason"]


def assert_s3_error(answer: requests.Response, status: int, code: str, message: str) -> None:
    assert answer.status_code == status, answer.text
    assert f"<Code>{code}</Code>" in answer.text, answer.text
    assert message in answer.text and IN_FLIGHT in answer.text, answer.text


def revoke(server: SatchelProcess, scope: str, target: str, bucket: str | None = None) -> None:
    body = {"scope": scope, "target": target, **({"bucket": bucket} if bucket else {})}
    api(server, "POST", "/revocations", body)


def _put(url: str, headers: dict[str, str] | None = None) -> Callable[[SlowBody], requests.Response]:
    return lambda body: requests.put(url, data=body, headers=headers or {}, timeout=30)


def presigned_put_changed_mid_body(server: SatchelProcess, writer: tuple[Credentials, str], key: str,
                                   change: Callable[[], object], message: str) -> None:
    """A boto3 presigned PUT of ``key``; ``change`` while its body hangs; refused with ``message``."""
    creds, bucket = writer
    url = _client(server, creds).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key},
                                                        ExpiresIn=300)
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), _put(url))
    change()
    answer = upload.finish()
    assert_s3_error(answer, 403, "AccessDenied", message)
    assert_absent(server, bucket, key)
    assert_no_orphan(server, before)
    assert_one_refused_event(server, bucket, answer, "AccessDenied")


def test_presigned_sigv4_put_revoked_mid_body(server: SatchelProcess, writer: tuple[Credentials, str]) -> None:
    presigned_put_changed_mid_body(server, writer, "p.bin", lambda: revoke(server, "object", "p.bin", writer[1]),
                                   "The link was revoked (object revocation")


def test_minted_link_put_revoked_mid_body_gives_its_use_back(server: SatchelProcess,
                                                             writer: tuple[Credentials, str]) -> None:
    creds, bucket = writer
    minted = mgmt.ok(mgmt.call(server, creds, "POST", "/links", {
        "bucket": bucket, "keys": ["m.bin"], "method": "PUT", "expires_in": 300, "max_uses": 1}))
    (entry,) = minted["links"]
    link_id = entry["link"]["id"]
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), _put(entry["url"]))
    assert mgmt.ok(mgmt.call(server, None, "GET", f"/links/{link_id}"))["uses"] == 1  # counted at the start
    mgmt.ok(mgmt.call(server, creds, "DELETE", f"/links/{link_id}"))
    answer = upload.finish()
    assert_s3_error(answer, 403, "AccessDenied", "The link has been revoked.")
    assert_absent(server, bucket, "m.bin")
    assert_no_orphan(server, before)
    assert_one_refused_event(server, bucket, answer, "AccessDenied")
    assert mgmt.ok(mgmt.call(server, None, "GET", f"/links/{link_id}"))["uses"] == 0  # given back


@pytest.mark.parametrize(("disabled", "code", "message"), [
    ("key", "InvalidAccessKeyId", "does not exist in our records"),
    ("user", "AccessDenied", "Access Denied"),
])
def test_header_signed_put_whose_key_or_user_is_disabled_mid_body(
        server: SatchelProcess, writer: tuple[Credentials, str], disabled: str, code: str, message: str) -> None:
    """Not a link: the request's own signer, as a request starting now would find it."""
    creds, bucket = writer
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), signed_put(server, creds, bucket, "h.bin"))
    path = f"/access-keys/{creds.access_key}" if disabled == "key" else f"/users/{creds.user}"
    api(server, "PUT", path, {"status": "disabled"})
    answer = upload.finish()
    assert_s3_error(answer, 403, code, message)
    assert_absent(server, bucket, "h.bin")
    assert_no_orphan(server, before)


def test_presigned_put_whose_signer_lost_the_grant_mid_body(server: SatchelProcess,
                                                            writer: tuple[Credentials, str]) -> None:
    (grant,) = [g for g in api(server, "GET", "/grants")["grants"] if g["user"] == writer[0].user]
    presigned_put_changed_mid_body(server, writer, "g.bin", lambda: api(server, "DELETE", f"/grants/{grant['id']}"),
                                   "Access Denied")


def test_multipart_completion_refused_after_a_revocation(server: SatchelProcess,
                                                         writer: tuple[Credentials, str]) -> None:
    """Parts uploaded before the revocation; the completion, its XML still arriving, is refused, and the
    upload stays as it was (its parts are the upload's, not orphans)."""
    creds, bucket = writer
    s3 = _client(server, creds)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp.bin")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp.bin", UploadId=upload_id, PartNumber=1, Body=PAYLOAD)["ETag"]
    url = s3.generate_presigned_url("complete_multipart_upload", ExpiresIn=300,
                                    Params={"Bucket": bucket, "Key": "mp.bin", "UploadId": upload_id})
    document = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
                "</CompleteMultipartUpload>").encode()
    before = blob_files(server)
    upload = InFlight(SlowBody(document, head=30), lambda body: requests.post(url, data=body, timeout=30))
    revoke(server, "bucket", bucket)
    answer = upload.finish()
    assert_s3_error(answer, 403, "AccessDenied", "The link was revoked (bucket revocation")
    assert_absent(server, bucket, "mp.bin")
    assert blob_files(server) == before
    assert_one_refused_event(server, bucket, answer, "AccessDenied")
    parts = _client(server).list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]


def test_presigned_post_revoked_mid_file(server: SatchelProcess, writer: tuple[Credentials, str]) -> None:
    creds, bucket = writer
    post = _client(server, creds).generate_presigned_post(bucket, "form.txt", ExpiresIn=300)
    boundary = BOUNDARY
    fields = form_fields(post["fields"])
    form = (fields + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode() + PAYLOAD + f"\r\n--{boundary}--\r\n".encode()
    before = blob_files(server)
    # The policy is checked before the file part: hold the body back inside the file's bytes.
    body = SlowBody(form, head=form.index(PAYLOAD) + 10)
    upload = InFlight(body, lambda b: requests.post(
        post["url"], data=b, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, timeout=30))
    revoke(server, "user", creds.user)
    answer = upload.finish()
    assert_s3_error(answer, 403, "AccessDenied", "The link was revoked (user revocation")
    assert_absent(server, bucket, "form.txt")
    assert_no_orphan(server, before)
    assert_one_refused_event(server, bucket, answer, "AccessDenied")


def test_a_presigned_put_whose_url_expires_mid_body_is_stored(server: SatchelProcess,
                                                             writer: tuple[Credentials, str]) -> None:
    """Expiry is judged when the upload starts, as on AWS (README: "When a revocation takes effect"): a
    large upload is not lost to a short-lived URL; ``max_upload_seconds`` bounds it instead."""
    creds, bucket = writer
    signed_at = time.monotonic()
    url = _client(server, creds).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "x.bin"},
                                                        ExpiresIn=2)
    upload = InFlight(SlowBody(PAYLOAD), _put(url))
    time.sleep(max(0.0, signed_at + 2.5 - time.monotonic()))
    answer = upload.finish()
    assert answer.status_code == 200, answer.text
    assert _client(server).get_object(Bucket=bucket, Key="x.bin")["Body"].read() == PAYLOAD
    assert requests.put(url, data=b"too late", timeout=30).status_code == 403  # a new request: expired


def test_an_upload_taking_longer_than_max_upload_seconds_is_refused(
        tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> None:
    """No client holds a write (and the admission it got at its start) open for ever, however steadily it
    sends: past ``max_upload_seconds`` the upload is refused and nothing is stored."""
    short = configured_server(tmp_path_factory, request, "deadline", "max_upload_seconds = 1\n")
    bucket = unique_bucket("slow")
    _client(short).create_bucket(Bucket=bucket)
    before = blob_files(short)
    body = SlowBody(PAYLOAD)
    upload = InFlight(body, signed_put(short, short.root, bucket, "slow.bin"))
    time.sleep(1.2)
    answer = upload.finish()
    assert answer.status_code == 400, answer.text
    assert "<Code>RequestTimeout</Code>" in answer.text
    assert_absent(short, bucket, "slow.bin")
    assert blob_files(short) == before


# --- pre-authenticated requests -----------------------------------------------------------------------
def par_events(server: SatchelProcess, par_id: str, request_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        found[:] = [e for e in par.events(server, par_id) if e["request_id"] == request_id]
        return bool(found)

    assert eventually(arrived)
    time.sleep(0.3)  # a second event, if any, would be in the same or the next audit batch
    arrived()
    return found


def assert_par_refused_in_flight(server: SatchelProcess, par_id: str, answer: requests.Response) -> None:
    par.assert_refused(answer)
    (event,) = par_events(server, par_id, answer.headers["opc-request-id"])
    assert event["outcome"] == "refused" and event["status"] == 404
    assert event["reason"].startswith("NotAuthorizedOrNotFound: ") and IN_FLIGHT in event["reason"], event["reason"]


def test_par_write_whose_par_is_deleted_mid_body(server: SatchelProcess, writer: tuple[Credentials, str]) -> None:
    creds, bucket = writer
    made = par.create(server, creds, bucket=bucket, accessType="ObjectWrite", objectName="par.bin", maxUses=1)
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), _put(made["fullPath"]))
    mgmt.ok(mgmt.call(server, creds, "DELETE", f"/pars/{bucket}/{made['id']}"))
    answer = upload.finish()
    assert_par_refused_in_flight(server, made["id"], answer)
    assert_absent(server, bucket, "par.bin")
    assert_no_orphan(server, before)
    shown = mgmt.ok(mgmt.call(server, creds, "GET", f"/pars/{bucket}/{made['id']}"))
    assert shown["uses"] == 0  # given back: the write stored nothing


def _par_upload(server: SatchelProcess, creds: Credentials, bucket: str) -> tuple[str, str]:
    """A PAR multipart upload of ``mp.bin`` with part 1 uploaded: (the PAR's id, the upload's URI)."""
    made = par.create(server, creds, bucket=bucket, accessType="ObjectWrite", objectName="mp.bin")
    started = requests.put(made["fullPath"], headers={"opc-multipart": "true"}, timeout=30)
    assert started.status_code == 200, started.text
    upload_uri = server.endpoint + started.json()["accessUri"]
    assert requests.put(upload_uri + "1", data=PAYLOAD, timeout=30).status_code == 200
    return made["id"], upload_uri


def test_par_commit_refused_after_a_revocation_mid_request(server: SatchelProcess,
                                                            writer: tuple[Credentials, str]) -> None:
    """Part 1 uploaded before the revocation; the commit, its (empty: every part) document still arriving,
    is refused."""
    creds, bucket = writer
    par_id, upload_uri = _par_upload(server, creds, bucket)
    before = blob_files(server)
    commit = InFlight(SlowBody(b" " * 64), lambda body: requests.post(upload_uri, data=body, timeout=30))
    revoke(server, "object", "mp.bin", bucket)
    answer = commit.finish()
    assert_par_refused_in_flight(server, par_id, answer)
    assert_absent(server, bucket, "mp.bin")
    assert blob_files(server) == before


def test_par_part_refused_when_the_creator_lost_the_grant_mid_body(server: SatchelProcess,
                                                                   writer: tuple[Credentials, str]) -> None:
    creds, bucket = writer
    par_id, upload_uri = _par_upload(server, creds, bucket)
    (grant,) = [g for g in api(server, "GET", "/grants")["grants"] if g["user"] == creds.user]
    before = blob_files(server)
    part = InFlight(SlowBody(PAYLOAD), _put(upload_uri + "2"))
    api(server, "DELETE", f"/grants/{grant['id']}")
    answer = part.finish()
    assert_par_refused_in_flight(server, par_id, answer)
    assert_no_orphan(server, before)


# --- Swift TempURL and FormPost -------------------------------------------------------------------------
def swift_container(server: SatchelProcess) -> tuple[Any, str, str]:
    """(root's Swift connection, a new container, its TempURL key), via python-swiftclient."""
    conn = root_user(server).connection()
    name = unique_bucket("swfly")
    conn.put_container(name)
    key = secrets.token_urlsafe(24)
    conn.post_container(name, {"X-Container-Meta-Temp-URL-Key": key})
    return conn, name, key


def assert_swift_refused_in_flight(server: SatchelProcess, bucket: str, answer: requests.Response,
                                   code: str, reason: str) -> None:
    assert answer.status_code == 401, answer.text
    (event,) = request_events(server, bucket, answer.headers["X-Trans-Id"])
    assert event["outcome"] == "refused" and event["status"] == 401 and event["kind"] == "swift"
    assert event["reason"].startswith(f"{code}: {reason}") and IN_FLIGHT in event["reason"], event["reason"]


def test_tempurl_put_whose_key_changes_mid_body(server: SatchelProcess) -> None:
    conn, name, key = swift_container(server)
    path = f"/v1/AUTH_root/{name}/t.bin"
    url = server.endpoint + generate_temp_url(path, 300, key, "PUT", digest="sha256")
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), _put(url))
    conn.post_container(name, {"X-Container-Meta-Temp-URL-Key": secrets.token_urlsafe(24)})
    answer = upload.finish()
    assert answer.text == "401 Unauthorized: Temp URL invalid\n"
    assert_swift_refused_in_flight(server, name, answer, "TempUrlInvalid",
                                   "The TempURL key that signed this request was changed or removed.")
    assert_absent(server, name, "t.bin")
    assert_no_orphan(server, before)


def test_formpost_file_revoked_mid_upload(server: SatchelProcess) -> None:
    _, name, key = swift_container(server)
    path = f"/v1/AUTH_root/{name}/in/"
    boundary = BOUNDARY
    form = formpost_fields(path, key, 100000, 1)
    form += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\n'
    data = form.encode() + PAYLOAD + f"\r\n--{boundary}--\r\n".encode()
    before = blob_files(server)
    upload = InFlight(SlowBody(data, head=data.index(PAYLOAD) + 10), lambda body: requests.post(
        server.endpoint + path, data=body, timeout=30,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
    revoke(server, "bucket", name)
    answer = upload.finish()
    assert answer.text == "FormPost: Unauthorized"
    assert_swift_refused_in_flight(server, name, answer, "AccessDenied", "The link was revoked (bucket revocation")
    assert_absent(server, name, "in/f.txt")
    assert_no_orphan(server, before)


def test_swift_token_put_of_a_user_disabled_mid_body(server: SatchelProcess, writer: tuple[Credentials, str]) -> None:
    """Not a link: a token's holder, as a request starting now would find it."""
    creds, bucket = writer
    url, token = member_user(server, creds).token()
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), _put(f"{url}/{bucket}/tok.bin", {"X-Auth-Token": token}))
    api(server, "PUT", f"/users/{creds.user}", {"status": "disabled"})
    answer = upload.finish()
    assert answer.status_code == 401, answer.text  # the token is no longer valid
    assert_absent(server, bucket, "tok.bin")
    assert_no_orphan(server, before)


def test_management_api_upload_whose_key_is_disabled_mid_body(server: SatchelProcess,
                                                               writer: tuple[Credentials, str]) -> None:
    """The console's upload call (SigV4-signed, its body's SHA-256 signed too), as any SDK sends it."""
    creds, bucket = writer
    url = f"{server.endpoint}/_satchel/api/buckets/{bucket}/upload?key=api.bin"
    signed = AWSRequest(method="PUT", url=url, data=PAYLOAD)
    S3SigV4Auth(BotoCredentials(creds.access_key, creds.secret_key), "s3", server.region).add_auth(signed)
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), _put(url, dict(signed.headers.items())))
    api(server, "PUT", f"/access-keys/{creds.access_key}", {"status": "disabled"})
    answer = upload.finish()
    assert answer.status_code == 403, answer.text
    assert IN_FLIGHT in answer.json()["error"]["message"]
    assert_absent(server, bucket, "api.bin")
    assert_no_orphan(server, before)


@pytest.mark.parametrize("ending", ["sign-out", "password-change"])
def test_console_upload_whose_session_ends_mid_body(server: SatchelProcess, writer: tuple[Credentials, str],
                                                    ending: str) -> None:
    """A console upload (a session cookie and its CSRF token) whose session is ended while the body streams:
    signing out, or the user's password changed (after a stolen password or session), stores nothing."""
    creds, bucket = writer
    password = f"pw-{secrets.token_hex(8)}-long-enough"
    api(server, "PUT", f"/users/{creds.user}", {"password": password})
    base = f"{server.endpoint}/_satchel/api"
    browser = requests.Session()
    signed_in = browser.post(f"{base}/session", json={"user": creds.user, "password": password}, timeout=30)
    assert signed_in.status_code == 200, signed_in.text
    csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
    cookie = {"Cookie": signed_in.headers["Set-Cookie"].split(";")[0], **csrf}
    before = blob_files(server)
    upload = InFlight(SlowBody(PAYLOAD), lambda body: requests.put(
        f"{base}/buckets/{bucket}/upload?key=console.bin", data=body, headers=cookie, timeout=30))
    if ending == "sign-out":
        assert browser.delete(f"{base}/session", headers=csrf, timeout=30).status_code == 200
    else:
        api(server, "PUT", f"/users/{creds.user}", {"password": password + "-changed"})
    answer = upload.finish()
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "NotSignedIn" and IN_FLIGHT in answer.json()["error"]["message"]
    assert_absent(server, bucket, "console.bin")
    assert_no_orphan(server, before)
