"""Swift TempURLs against a real server: URLs from ``swift tempurl`` (each digest, prefix-based, ISO 8601,
IP range) and ``swiftclient.utils.generate_temp_url``, fetched with curl, byte-exact against objects uploaded
with S3; every refusal is ``401 Temp URL invalid`` and an audit event with its reason."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from swiftclient.utils import generate_temp_url

from tests.clients import mgmt
from tests.clients.cluster import settle_audit
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, eventually, venv_tool

INVALID = b"401 Unauthorized: Temp URL invalid\n"


@dataclass
class Swift:
    """The ``swift`` CLI as one Satchel user (TempAuth: ``account:user`` and an access key's secret)."""

    server: ServerHandle
    user: str
    key: str
    account: str = "root"

    def run(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_", "SWIFTCLIENT_"))}
        # --key=...: a secret may start with "-", which the separate form would read as an option.
        cmd = [venv_tool("swift"), f"--auth={self.server.endpoint}/auth/v1.0", f"--user={self.account}:{self.user}",
               f"--key={self.key}", *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, f"swift {args}: {proc.stdout}{proc.stderr}"
        return proc.stdout


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


def curl(url: str, *args: str, method: str = "GET") -> Fetched:
    """One request with curl: status, headers (lower-case names), body. Spaces in the URL (``swift tempurl``
    and ``generate_temp_url`` print paths as given) are encoded."""
    cmd = ["curl", "-sS", "-D", "-", "-X", method, *args, url.replace(" ", "%20")]
    if method == "HEAD":
        cmd[cmd.index("-X"):cmd.index("-X") + 2] = ["-I"]
    out = subprocess.run(cmd, capture_output=True, timeout=30, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    while head.split(b" ", 2)[1:2] == [b"100"]:  # curl -T waits for 100 Continue
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Fetched(int(lines[0].split()[1]), headers, body)


def swift_tempurl(*args: str) -> str:
    proc = subprocess.run([venv_tool("swift"), "tempurl", *args], capture_output=True, text=True, timeout=30,
                          check=True)
    return proc.stdout.strip()


@dataclass
class Setup:
    server: SatchelProcess
    swift: Swift
    container: str
    key: str
    data: bytes

    def url(self, path_or_query: str) -> str:
        return self.server.endpoint + path_or_query

    def path(self, name: str = "dir/file one.bin") -> str:
        return f"/v1/AUTH_root/{self.container}/{name}"


@pytest.fixture
def setup(managed_server: SatchelProcess, s3: Any) -> Iterator[Setup]:
    """A container made with S3, an object uploaded with S3, a container TempURL key set with ``swift post``."""
    container = f"tu-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=container)
    data = os.urandom(256 * 1024 + 17)
    s3.put_object(Bucket=container, Key="dir/file one.bin", Body=data)
    key = secrets.token_urlsafe(24)
    swift = Swift(managed_server, "root", managed_server.root.secret_key)
    swift.run("post", "-m", f"Temp-URL-Key:{key}", container)
    yield Setup(managed_server, swift, container, key, data)
    for entry in s3.list_objects_v2(Bucket=container).get("Contents", []):
        s3.delete_object(Bucket=container, Key=entry["Key"])
    s3.delete_bucket(Bucket=container)


def _audit(server: ServerHandle, container: str) -> list[dict[str, Any]]:
    settle_audit()
    events = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?kind=swift&bucket={container}"))["events"]
    return [e for e in events if e["action"] == "use"]


# --- URLs made by swift tempurl and generate_temp_url ------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_swift_tempurl_each_digest(setup: Setup, digest: str) -> None:
    url = swift_tempurl("--digest", digest, "GET", "600", setup.path(), setup.key)
    got = curl(setup.url(url))
    assert got.status == 200 and got.body == setup.data
    assert got.headers["content-disposition"] == "attachment; filename=\"file one.bin\"; " \
                                                 "filename*=UTF-8''file%20one.bin"
    assert got.headers["expires"].endswith("GMT")


def test_prefix_iso8601_and_ip_range(setup: Setup) -> None:
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    url = swift_tempurl("--prefix-based", "--iso8601", "--ip-range", "127.0.0.0/8", "GET", expires,
                        f"/v1/AUTH_root/{setup.container}/dir/", setup.key)
    assert "temp_url_prefix=dir/" in url and "temp_url_ip_range=127.0.0.0/8" in url
    query = url.split("?", 1)[1]
    assert curl(setup.url(setup.path() + "?" + query)).body == setup.data
    assert curl(setup.url(setup.path("other.bin") + "?" + query)).body == INVALID
    elsewhere = swift_tempurl("--ip-range", "10.0.0.0/8", "GET", "600", setup.path(), setup.key)
    assert curl(setup.url(elsewhere)).body == INVALID


def test_generate_temp_url_and_view(setup: Setup) -> None:
    url = generate_temp_url(setup.path(), 600, setup.key, "GET", digest="sha512")
    got = curl(setup.url(url + "&inline&filename=x.bin"))
    assert got.status == 200 and got.body == setup.data
    assert got.headers["content-disposition"] == "inline; filename=\"x.bin\"; filename*=UTF-8''x.bin"
    head = curl(setup.url(url), method="HEAD")
    assert head.status == 200 and head.headers["content-length"] == str(len(setup.data))


def test_put_through_a_tempurl_then_read_with_s3(setup: Setup, s3: Any, tmp_path: Path) -> None:
    upload = tmp_path / "up.bin"
    upload.write_bytes(os.urandom(70_001))
    url = generate_temp_url(f"/v1/AUTH_root/{setup.container}/up.bin", 600, setup.key, "PUT")
    assert curl(setup.url(url), "-T", str(upload), method="PUT").status == 201
    assert s3.get_object(Bucket=setup.container, Key="up.bin")["Body"].read() == upload.read_bytes()
    # HEAD accepts the PUT signature; GET does not.
    assert curl(setup.url(url), method="HEAD").status == 200
    assert curl(setup.url(url)).body == INVALID


# --- refusals ---------------------------------------------------------------------------------------------------


def test_refusals(setup: Setup) -> None:
    path = setup.path()
    good = generate_temp_url(setup.path(), 600, setup.key, "GET")
    query = good.split("?", 1)[1]
    past = generate_temp_url(setup.path(), int(time.time()) - 5, setup.key, "GET", absolute=True)
    sig = query.split("temp_url_sig=")[1].split("&")[0]
    tampered = query.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    cases = {
        "expired": past,
        "wrong method": good,
        "wrong path": setup.path("other.bin") + "?" + query,
        "tampered": path + "?" + tampered,
        "sig without expires": path + "?temp_url_sig=" + sig,
        "another container": f"/v1/AUTH_root/{setup.container}x/dir/file%20one.bin?{query}",
    }
    for name, url in cases.items():
        got = curl(setup.url(url), method="DELETE" if name == "wrong method" else "GET")
        assert got.status == 401 and got.body == INVALID, name
        assert got.headers["www-authenticate"] == 'Swift realm="AUTH_root"', name
    reasons = [e["reason"] for e in _audit(setup.server, setup.container) if e["outcome"] == "refused"]
    assert any("expired" in r for r in reasons) and any("does not match" in r for r in reasons)
    assert not any(sig in (r or "") for r in reasons)  # never the signature


def test_key_rotation(setup: Setup) -> None:
    old = generate_temp_url(setup.path(), 600, setup.key, "GET")
    new_key = secrets.token_urlsafe(24)
    setup.swift.run("post", "-m", f"Temp-URL-Key-2:{new_key}", setup.container)
    new = generate_temp_url(setup.path(), 600, new_key, "GET")
    assert curl(setup.url(old)).status == 200 and curl(setup.url(new)).status == 200
    setup.swift.run("post", "-H", "X-Remove-Container-Meta-Temp-URL-Key: x", setup.container)
    assert curl(setup.url(old)).body == INVALID
    assert curl(setup.url(new)).status == 200


def test_revoked_before_and_bucket_ceiling(setup: Setup) -> None:
    url = setup.url(generate_temp_url(setup.path(), 600, setup.key, "GET"))
    assert curl(url).status == 200  # first sighting
    time.sleep(1.1)
    mgmt.ok(mgmt.call(setup.server, None, "POST", "/revocations",
                      {"scope": "object", "bucket": setup.container, "target": "dir/file one.bin"}))
    assert curl(url).body == INVALID
    # First seen after the revocation: a TempURL carries no issue time, so it is not reached (README).
    late = setup.url(generate_temp_url(setup.path(), 601, setup.key, "GET"))
    assert curl(late).status == 200
    mgmt.ok(mgmt.call(setup.server, None, "PUT", f"/buckets/{setup.container}/link-policy",
                      {"max_link_lifetime": 60}))
    assert curl(late).body == INVALID
    short = setup.url(generate_temp_url(setup.path(), 30, setup.key, "GET"))
    assert curl(short).status == 200
    reasons = [e["reason"] or "" for e in _audit(setup.server, setup.container)]
    assert any("revocation" in r for r in reasons) and any("60 seconds set on this bucket" in r for r in reasons)


def test_key_setter_loses_rights(managed_server: SatchelProcess, member: Any, s3_factory: Any) -> None:
    creds: Credentials = member()
    s3 = s3_factory(creds)
    container = f"tu-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=container)
    s3.put_object(Bucket=container, Key="o", Body=b"member data")
    key = secrets.token_urlsafe(24)
    swift = Swift(managed_server, creds.user, creds.secret_key)
    swift.run("post", "-m", f"Temp-URL-Key:{key}", container)
    # The key is shown to its setter, and to nobody who may not set it.
    assert key in swift.run("stat", container)
    other: Credentials = member()
    managed_server.grant(other.user, container, "read")
    assert key not in Swift(managed_server, other.user, other.secret_key).run("stat", container)
    url = managed_server.endpoint + generate_temp_url(f"/v1/AUTH_root/{container}/o", 600, key, "GET")
    assert curl(url).body == b"member data"
    managed_server.admin("user", "disable", creds.user)
    time.sleep(0.1)
    assert curl(url).body == INVALID
    managed_server.admin("user", "enable", creds.user)
    time.sleep(0.1)
    assert curl(url).body == b"member data"
    s3.delete_object(Bucket=container, Key="o")
    s3.delete_bucket(Bucket=container)


def test_member_may_not_set_keys(setup: Setup, member: Any) -> None:
    creds: Credentials = member()
    setup.server.grant(creds.user, setup.container, "read-write", share=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_", "SWIFTCLIENT_"))}
    cmd = [venv_tool("swift"), f"--auth={setup.server.endpoint}/auth/v1.0", f"--user=root:{creds.user}",
           f"--key={creds.secret_key}", "post", "-m", "Temp-URL-Key:attacker-key-123", setup.container]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0 and "403" in proc.stdout + proc.stderr
    forged = generate_temp_url(setup.path(), 600, "attacker-key-123", "GET")
    assert curl(setup.url(forged)).body == INVALID


def test_digest_switched_off(tmp_path: Path) -> None:
    config = tmp_path / "satchel.toml"
    config.write_text('tempurl_digests = "sha256 sha512"\n')
    server = SatchelProcess(tmp_path / "data", extra_args=("--config", str(config)))
    server.start()
    try:
        mgmt.ok(mgmt.call(server, None, "POST", "/buckets", {"name": "digests"}))
        key = "digest-test-key-1"
        Swift(server, "root", server.root.secret_key).run("post", "-m", f"Temp-URL-Key:{key}", "digests")
        path = "/v1/AUTH_root/digests/none"
        sha1 = curl(server.endpoint + generate_temp_url(path, 600, key, "GET", digest="sha1"))
        sha256 = curl(server.endpoint + generate_temp_url(path, 600, key, "GET", digest="sha256"))
        assert sha1.body == INVALID and sha256.status == 404  # verified, then no such object
    finally:
        server.stop()


# --- the links API and the CLI ----------------------------------------------------------------------------------


def test_links_api_kind_swift(setup: Setup) -> None:
    answer = mgmt.ok(mgmt.call(setup.server, None, "POST", "/links", {
        "bucket": setup.container, "keys": ["dir/file one.bin", "missing"], "kind": "swift", "mode": "view",
        "expires_in": 300}))
    good, missing = answer["links"]
    assert good["url"].endswith("&inline") and missing["error"]["code"] == "NoSuchKey"
    got = curl(good["url"])
    assert got.body == setup.data and got.headers["content-disposition"] == "inline"
    refused = mgmt.call(setup.server, None, "POST", "/links", {"bucket": setup.container, "keys": ["x"],
                                                                 "kind": "swift", "max_uses": 1})
    assert refused.status_code == 400 and "max_uses" in refused.text


def test_links_api_without_a_key(managed_server: SatchelProcess, bucket: str, s3: Any) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    reply = mgmt.call(managed_server, None, "POST", "/links", {"bucket": bucket, "keys": ["k"], "kind": "swift"})
    assert reply.status_code == 400 and "you set none" in reply.text


def test_only_a_keys_setter_mints_with_it(setup: Setup, member: Any) -> None:
    """A TempURL acts as whoever set its key: signed for a member with root's key, it would outlive the
    member's grant, the member being disabled and revocations by user. The member gets no such URL."""
    creds: Credentials = member()
    setup.server.grant(creds.user, setup.container, "read", share=True)
    spec = {"bucket": setup.container, "keys": ["dir/file one.bin"], "kind": "swift", "expires_in": 300}
    refused = mgmt.call(setup.server, creds, "POST", "/links", spec)
    assert refused.status_code == 400 and "you set none" in refused.text, refused.text
    assert _audit(setup.server, setup.container) == [] and not [
        e for e in mgmt.ok(mgmt.call(setup.server, None, "GET", f"/audit?kind=swift&bucket={setup.container}"))[
            "events"] if e["action"] == "mint"]
    assert mgmt.ok(mgmt.call(setup.server, None, "POST", "/links", spec))["links"][0]["url"]  # root set the key


def test_cli_tempurl_download(setup: Setup) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SATCHEL_"))}
    env.update(AWS_ACCESS_KEY_ID=setup.server.root.access_key, AWS_SECRET_ACCESS_KEY=setup.server.root.secret_key)
    proc = subprocess.run([venv_tool("satchel"), "tempurl", f"s3://{setup.container}/dir/file one.bin",
                           "--expires-in", "1h", "--download", "--filename", "Q3 report.bin",
                           "--endpoint-url", setup.server.endpoint],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    got = curl(proc.stdout.strip())
    assert got.body == setup.data
    assert got.headers["content-disposition"] == \
        "attachment; filename=\"Q3 report.bin\"; filename*=UTF-8''Q3%20report.bin"


def test_one_event_per_use(setup: Setup) -> None:
    ok = generate_temp_url(setup.path(), 600, setup.key, "GET")
    missing = generate_temp_url(setup.path("missing"), 600, setup.key, "GET")
    assert curl(setup.url(ok)).status == 200
    assert curl(setup.url(ok), "-r", "0-9").status == 206
    assert curl(setup.url(missing)).status == 404
    assert curl(setup.url(ok), method="DELETE").status == 401
    events = _audit(setup.server, setup.container)
    assert [(e["status"], e["bytes"], e["outcome"], e["user"]) for e in events] == [
        (200, len(setup.data), "allowed", "root"), (206, 10, "allowed", "root"), (404, 0, "refused", "root"),
        (401, 0, "refused", None)]


def test_account_key_setter_deleted(setup: Setup, member: Any) -> None:
    admin: Credentials = setup.server.create_user(f"a{uuid.uuid4().hex[:10]}", role="admin")
    reader: Credentials = member()
    as_admin = Swift(setup.server, admin.user, admin.secret_key)
    key = secrets.token_urlsafe(24)
    as_admin.run("post", "-m", f"Temp-URL-Key-2:{key}")
    try:
        assert key in as_admin.run("stat")  # shown to account admins, who may set it
        assert key not in Swift(setup.server, reader.user, reader.secret_key).run("stat")  # not to members
        url = setup.url(generate_temp_url(setup.path(), 600, key, "GET"))
        assert curl(url).body == setup.data  # an account key reaches every container of the account
        setup.server.admin("user", "delete", admin.user)
        time.sleep(0.1)
        assert curl(url).body == INVALID
    finally:
        setup.swift.run("post", "-H", "X-Remove-Account-Meta-Temp-URL-Key-2: x")


def test_private_metadata_not_returned(setup: Setup, s3: Any) -> None:
    s3.put_object(Bucket=setup.container, Key="meta.txt", Body=b"m", Metadata={"secret": "s", "public-tag": "p"},
                  ContentDisposition='attachment; filename="stored.txt"')
    got = curl(setup.url(generate_temp_url(setup.path("meta.txt"), 600, setup.key, "GET")))
    assert got.status == 200 and "x-object-meta-secret" not in got.headers
    assert got.headers["x-object-meta-public-tag"] == "p"
    assert got.headers["content-disposition"] == 'attachment; filename="stored.txt"'  # the stored one


def test_account_key_url_dies_with_its_bucket_name(managed_server: SatchelProcess, s3: Any) -> None:
    """An account key signs any container of the account: a URL first used on a bucket is refused on a later
    bucket of the same name (a bucket is an identity, not a name)."""
    swift = Swift(managed_server, "root", managed_server.root.secret_key)
    key = secrets.token_urlsafe(24)
    swift.run("post", "-m", f"Temp-URL-Key-2:{key}")
    container = f"tu-{uuid.uuid4().hex[:12]}"
    try:
        s3.create_bucket(Bucket=container)
        s3.put_object(Bucket=container, Key="o", Body=b"old")
        url = managed_server.endpoint + generate_temp_url(f"/v1/AUTH_root/{container}/o", 600, key, "GET")
        assert curl(url).body == b"old"
        time.sleep(1.1)  # a link first seen within the second a name is released counts as the next bucket's
        s3.delete_object(Bucket=container, Key="o")
        s3.delete_bucket(Bucket=container)
        s3.create_bucket(Bucket=container)
        s3.put_object(Bucket=container, Key="o", Body=b"new")
        assert curl(url).body == INVALID
        fresh = managed_server.endpoint + generate_temp_url(f"/v1/AUTH_root/{container}/o", 601, key, "GET")
        assert curl(fresh).body == b"new"
        # The refusal is not an event of the new bucket (its owner learns nothing of the old URL's signer).
        assert [e["status"] for e in _audit(managed_server, container)] == [200]
    finally:
        swift.run("post", "-H", "X-Remove-Account-Meta-Temp-URL-Key-2: x")
        for entry in s3.list_objects_v2(Bucket=container).get("Contents", []):
            s3.delete_object(Bucket=container, Key=entry["Key"])
        s3.delete_bucket(Bucket=container)


# --- Uses that made no audit event (attack findings) ------------------------------------------------------------


def _events_of(server: ServerHandle, trans_id: str) -> list[dict[str, Any]]:
    """The events of one request, once there are any (another worker may answer the audit query)."""
    def found() -> list[dict[str, Any]]:
        events = mgmt.ok(mgmt.call(server, None, "GET", "/audit?kind=swift&action=use&limit=1000"))["events"]
        return [e for e in events if e["request_id"] == trans_id]
    eventually(lambda: bool(found()), timeout=3)
    return found()


@pytest.mark.parametrize("header", ["X-Auth-Token", "X-Storage-Token"])
def test_tempurl_with_a_token_is_a_tempurl(setup: Setup, header: str) -> None:
    """Swift's tempurl runs before tempauth: the signed URL decides, whatever token comes along, and is audited."""
    url = setup.url(generate_temp_url(setup.path(), 300, setup.key, "GET").replace(" ", "%20"))
    got = requests.get(url, headers={header: "AUTH_tk" + "0" * 32}, timeout=10)
    assert got.status_code == 200 and got.content == setup.data
    events = _events_of(setup.server, got.headers["x-trans-id"])
    assert [(e["outcome"], e["status"], e["bucket"]) for e in events] == [("allowed", 200, setup.container)]


def test_formpost_with_a_token_is_a_formpost(setup: Setup) -> None:
    path = f"/v1/AUTH_root/{setup.container}/in/"
    expires = int(time.time() + 300)
    message = f"{path}\n\n100\n1\n{expires}".encode()
    fields = {"max_file_size": "100", "max_file_count": "1", "expires": str(expires),
              "signature": hmac.new(setup.key.encode(), message, hashlib.sha256).hexdigest()}
    got = requests.post(setup.url(path), data=fields, files={"f": ("t.txt", b"token too")}, timeout=10,
                        headers={"X-Auth-Token": "AUTH_tk" + "0" * 32})
    assert got.status_code == 201, got.text
    events = _events_of(setup.server, got.headers["x-trans-id"])
    assert [(e["outcome"], e["status"]) for e in events] == [("allowed", 201)]


def _refusals_counted(server: ServerHandle) -> float:
    reply = requests.get(f"{server.endpoint}/_satchel/metrics", timeout=10)
    return sum(s.value for family in text_string_to_metric_families(reply.text) for s in family.samples
               if s.name == "satchel_link_events_total" and s.labels.get("kind") == "swift"
               and s.labels.get("reason") == "TempUrlInvalid" and s.labels.get("action") == "use")


@pytest.mark.parametrize(("path", "status", "listed"), [
    ("/v1/AUTH_root/{c}/%ff", 412, True), ("/v1/AUTH_root/{c}/" + "n" * 1100, 400, True),
    ("/v1/AUTH_root/{c}/a%00b", 412, True), ("/v1/AUTH_%ff/{c}/o", 412, False), ("/v1/AUTH_/{c}/o", 404, False),
])
@pytest.mark.single_node  # reads /_satchel/metrics: one node's, and loopback-only (a proxy is not loopback)
def test_tempurl_refused_by_the_router_is_audited(setup: Setup, path: str, status: int, listed: bool) -> None:
    """Exactly one refusal event; the container's when the path names one of this account (then listed)."""
    before = _refusals_counted(setup.server)
    got = requests.get(setup.url(path.format(c=setup.container) + f"?temp_url_sig={'0' * 64}&temp_url_expires="
                                 f"{int(time.time()) + 60}"), timeout=10)
    assert got.status_code == status
    # Both events of a request would be one worker's, written together: a count of 2 would show at once.
    assert eventually(lambda: _refusals_counted(setup.server) - before != 0)
    assert _refusals_counted(setup.server) - before == 1
    if listed:
        events = _events_of(setup.server, got.headers["x-trans-id"])
        assert [(e["outcome"], e["status"], e["bucket"]) for e in events] == [("refused", status, setup.container)]
        assert events[0]["reason"].startswith("TempUrlInvalid: ") and "0" * 64 not in events[0]["reason"]


@pytest.mark.single_node  # reads /_satchel/metrics: one node's, and loopback-only (a proxy is not loopback)
def test_swift_requests_have_an_operation_in_the_metrics(setup: Setup) -> None:
    """Swift requests were all counted as ``unknown`` (attack finding)."""
    assert curl(setup.url(generate_temp_url(setup.path(), 300, setup.key, "GET"))).status == 200
    setup.swift.run("stat", setup.container)

    def operations() -> set[str]:
        reply = requests.get(f"{setup.server.endpoint}/_satchel/metrics", timeout=10)
        return {s.labels["operation"] for family in text_string_to_metric_families(reply.text) for s in family.samples
                if s.name == "satchel_requests_total" and s.labels.get("frontend") == "swift"}
    assert eventually(lambda: {"tempurl GET", "HEAD container", "auth"} <= operations())
    assert "unknown" not in operations()
