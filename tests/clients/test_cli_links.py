"""``satchel presign``, ``satchel links`` and ``satchel audit``: real CLI processes against a real server.

Three layers, cheapest first:

* argument parsing (durations, times, s3:// URLs, option clashes) in-process through click's runner;
* the wire: the real ``satchel`` binary talking to a tiny capturing HTTP server, every captured request
  checked with Satchel's own SigV4 verifier as the oracle (region and session token from a profile,
  query encoding, body hash), plus how API errors are printed;
* end to end against ``satchel serve``: links minted by the CLI fetched with curl, uploads, one-time
  links, revocation of one link and before a moment in every scope, SigV2, ``--profile`` and the audit
  trail event by event.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from click.testing import CliRunner

from satchel.cli.apiclient import ApiClient, Secret, normalize_endpoint
from satchel.cli.commands.audit import parse_moment
from satchel.cli.commands.presign import parse_duration
from satchel.cli.main import cli
from satchel.core.errors import AuthorizationHeaderMalformed, InvalidAccessKeyId, SignatureDoesNotMatch
from satchel.signing.sigv4.verify import verify_header_auth
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, eventually, venv_tool
from tests.clients.test_presign_wire import assert_error, fetch_curl, query_of

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
AKID, SECRET, TOKEN = "AKIDCLITEST000000001", "cli/test+secret/0123456789abcdefghijklmn", "session-token/xyz="


# --- parsing ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("15m", 900), ("1h", 3600), ("24h", 86400), ("7d", 604800), ("3600", 3600), (" 2H ", 7200),
])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0m", "1w", "1.5h", "-5", "h", "1h30m", "1 h", "10000000000"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-01-01T00:00:00Z", 1735689600.0),
    ("2025-01-01T00:00:00", 1735689600.0),  # no zone: UTC
    ("2025-01-01T02:00:00+02:00", 1735689600.0),
    ("1735689600", 1735689600.0),
    ("1735689600.5", 1735689600.5),
    ("now", 1_800_000_000.0),
    ("1h", 1_800_000_000.0 - 3600),
    ("7d", 1_800_000_000.0 - 7 * 86400),
])
def test_moments(text: str, expected: float) -> None:
    assert parse_moment(text, now=1_800_000_000.0) == expected


def test_bad_moment() -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_moment("yesterday")


@pytest.mark.parametrize(("args", "message"), [
    (["presign", "s3://b/k", "--expires-in", "3w"], "'3w' is not a duration"),
    (["presign", "s3://a/k", "s3://b/k"], "all objects must be in one bucket (got a, b)"),
    (["presign", "s3://b/"], "s3://b/ names no object"),
    (["presign", "b/k"], "'b/k' is not an s3://bucket/key URL"),
    (["presign", "--prefix", "s3://b/p/", "s3://b/q/"], "--prefix takes exactly one"),
    (["presign", "s3://b/k", "--download", "--view"], "--download and --view exclude each other"),
    (["presign", "s3://b/k", "--filename", "x.pdf"], "--filename goes with --download"),
    (["presign", "s3://b/k", "--method", "POST"], "'POST' is not one of"),
    (["presign", "s3://b/k", "--max-uses", "0"], "--max-uses"),
    (["links", "revoke"], "give exactly one of --object"),
    (["links", "revoke", "--bucket", "b", "--user", "u"], "give exactly one of --object"),
    (["links", "revoke", "ID", "--bucket", "b"], "LINK_ID revokes one link"),
    (["links", "revoke", "--object", "s3://b/"], "--object s3://b/ names no object"),
    (["links", "revoke", "--before", "soon", "--bucket", "b"], "'soon' is not a time"),
    (["audit", "--since", "last week"], "'last week' is not a time"),
    (["audit", "--outcome", "maybe"], "'maybe' is not one of"),
])
def test_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args, env={"SATCHEL_ENDPOINT": "http://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_no_endpoint() -> None:
    result = CliRunner().invoke(cli, ["links", "list"], env={"SATCHEL_ENDPOINT": None})
    assert result.exit_code == 1
    assert result.output == "Error: no endpoint: pass --endpoint-url or set SATCHEL_ENDPOINT\n"


@pytest.mark.parametrize(("given", "normal"), [
    ("HTTP://LocalHost:80/", "http://localhost"),
    ("https://s3.example.com:443", "https://s3.example.com"),
    ("http://127.0.0.1:9000/base/", "http://127.0.0.1:9000/base"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_endpoint_normalized(given: str, normal: str) -> None:
    assert normalize_endpoint(given) == normal


# --- signing, checked by the server's own verifier ------------------------------------------------------
def _verify(method: str, url: str, headers: dict[str, str], region: str = "us-east-1", secret: str = SECRET,
            now: float | None = None) -> None:
    parts = urlsplit(url)

    def lookup(access_key_id: str) -> str:
        if access_key_id != AKID:
            raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
        return secret

    verify_header_auth(method=method, raw_path=parts.path, query=parse_qsl(parts.query, keep_blank_values=True),
                       headers={k.lower(): v for k, v in headers.items()}, now=now or time.time(), region=region,
                       lookup_secret=lookup)


def test_signed_calls_verify() -> None:
    client = ApiClient("http://127.0.0.1:9000", "eu-west-3", Secret(AKID, SECRET, TOKEN))
    get = client.prepare("GET", "/links", {"bucket": "my bucket", "prefix": "dir/é ü+&=", "active": True,
                                           "limit": 5, "user": None})
    assert query_of(get.url) == {"bucket": "my bucket", "prefix": "dir/é ü+&=", "active": "true", "limit": "5"}
    assert get.headers["X-Amz-Content-SHA256"] == EMPTY_SHA256
    assert get.headers["X-Amz-Security-Token"] == TOKEN
    _verify("GET", get.url, get.headers, region="eu-west-3")

    post = client.prepare("POST", "/revocations", body={"scope": "user", "target": "zoë"})
    assert json.loads(post.body) == {"scope": "user", "target": "zoë"}
    assert post.headers["X-Amz-Content-SHA256"] == hashlib.sha256(post.body).hexdigest()
    _verify("POST", post.url, post.headers, region="eu-west-3")


def test_signature_oracle_refuses_tampering() -> None:
    """The oracle above can fail: a changed query, secret or region is caught."""
    client = ApiClient("http://127.0.0.1:9000", "us-east-1", Secret(AKID, SECRET))
    call = client.prepare("GET", "/links", {"bucket": "b"})
    _verify("GET", call.url, call.headers)
    with pytest.raises(SignatureDoesNotMatch):
        _verify("GET", call.url.replace("bucket=b", "bucket=c"), call.headers)
    with pytest.raises(SignatureDoesNotMatch):
        _verify("GET", call.url, call.headers, secret=SECRET + "x")
    with pytest.raises(AuthorizationHeaderMalformed):
        _verify("GET", call.url, call.headers, region="eu-west-1")


# --- the wire: the real binary against a capturing server -----------------------------------------------
@dataclass
class Captured:
    method: str
    url: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Capture:
    """Records every request and answers with ``reply`` (status, content type, body)."""

    url: str = ""
    requests: list[Captured] = field(default_factory=list)
    reply: tuple[int, str, bytes] = (200, "application/json", b'{"links": [], "revocations": []}')
    location: str | None = None


@pytest.fixture
def capture() -> Iterator[Capture]:
    state = Capture()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.requests.append(Captured(self.command, state.url + self.path, headers, self.rfile.read(size)))
            status, ctype, body = state.reply
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if state.location:
                self.send_header("Location", state.location)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any AWS or Satchel setting, so ~/.aws never leaks into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SATCHEL_"))}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_tool("satchel"), *args], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def _profile_files(tmp_path: Path, name: str, creds: Credentials | tuple[str, str, str | None],
                   region: str | None = None) -> dict[str, str]:
    akid, secret, token = (creds.access_key, creds.secret_key, None) if isinstance(creds, Credentials) else creds
    shared = tmp_path / "credentials"
    shared.write_text(f"[{name}]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n"
                      + (f"aws_session_token = {token}\n" if token else ""))
    config = tmp_path / "config"
    config.write_text(f"[profile {name}]\n" + (f"region = {region}\n" if region else ""))
    return {"AWS_SHARED_CREDENTIALS_FILE": str(shared), "AWS_CONFIG_FILE": str(config)}


@pytest.mark.parametrize(("flags", "env_region", "expected"), [
    ([], None, "eu-west-3"),  # the profile's region
    ([], "ap-south-1", "ap-south-1"),  # AWS_DEFAULT_REGION beats the profile
    (["--region", "us-west-2"], "ap-south-1", "us-west-2"),  # the flag beats everything
])
def test_profile_region_and_token_on_the_wire(capture: Capture, tmp_path: Path, flags: list[str],
                                              env_region: str | None, expected: str) -> None:
    env = _clean_env(**_profile_files(tmp_path, "p", (AKID, SECRET, TOKEN), region="eu-west-3"))
    if env_region:
        env["AWS_DEFAULT_REGION"] = env_region
    proc = _run(["links", "list", "--bucket", "my bucket", "--prefix", "dir/é", "--active", "--limit", "5",
                 "--profile", "p", "--endpoint-url", capture.url, *flags], env)
    assert proc.returncode == 0, proc.stderr
    (got,) = capture.requests
    assert got.method == "GET" and urlsplit(got.url).path == "/_satchel/api/links"
    assert query_of(got.url) == {"bucket": "my bucket", "prefix": "dir/é", "active": "true", "limit": "5"}
    assert got.headers["x-amz-security-token"] == TOKEN
    assert got.headers["x-amz-content-sha256"] == EMPTY_SHA256
    assert got.headers["user-agent"].startswith("satchel-cli/")
    _verify("GET", got.url, got.headers, region=expected)


def test_revocation_body_on_the_wire(capture: Capture) -> None:
    capture.reply = (200, "application/json", json.dumps({
        "id": "r1", "scope": "prefix", "target": "p/", "bucket": "b", "before": 1735689600.0,
        "created": 1735689700.0, "created_by": "root"}).encode())
    env = _clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, SATCHEL_ENDPOINT=capture.url)
    proc = _run(["links", "revoke", "--before", "2025-01-01T00:00:00Z", "--prefix", "s3://b/p/"], env)
    assert proc.returncode == 0, proc.stderr
    assert "2025-01-01T00:00:00Z" in proc.stdout
    (got,) = capture.requests
    assert (got.method, urlsplit(got.url).path) == ("POST", "/_satchel/api/revocations")
    assert json.loads(got.body) == {"scope": "prefix", "target": "p/", "bucket": "b", "before": 1735689600.0}
    assert got.headers["x-amz-content-sha256"] == hashlib.sha256(got.body).hexdigest()
    _verify("POST", got.url, got.headers)


@pytest.mark.parametrize(("reply", "stderr"), [
    ((403, "application/json", b'{"error": {"code": "AccessDenied", "message": "Access Denied"}}'),
     "Error: AccessDenied: Access Denied\n"),
    ((502, "text/html", b"<html>bad gateway</html>"), "Error: HTTP502: <html>bad gateway</html>\n"),
])
def test_api_errors_printed(capture: Capture, reply: tuple[int, str, bytes], stderr: str) -> None:
    capture.reply = reply
    env = _clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, SATCHEL_ENDPOINT=capture.url)
    proc = _run(["links", "show", "some/id"], env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", stderr)
    assert urlsplit(capture.requests[0].url).path == "/_satchel/api/links/some%2Fid"


def test_redirects_are_not_followed(capture: Capture) -> None:
    """Following a redirect would replay the signed call elsewhere; the CLI names the new place instead."""
    capture.reply, capture.location = (307, "text/plain", b"moved"), capture.url + "/elsewhere"
    env = _clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, SATCHEL_ENDPOINT=capture.url)
    proc = _run(["audit"], env)
    assert proc.returncode == 1
    assert proc.stderr == f"Error: HTTP307: the endpoint redirects to {capture.location}: pass that URL as " \
                          "--endpoint-url\n"
    assert len(capture.requests) == 1


def test_missing_credentials_and_profile(tmp_path: Path) -> None:
    env = _clean_env(SATCHEL_ENDPOINT="http://127.0.0.1:9")
    proc = _run(["links", "list"], env)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: no credentials"), proc.stderr
    proc = _run(["links", "list", "--profile", "nope"], env)
    assert proc.returncode == 1 and "nope" in proc.stderr and proc.stderr.startswith("Error: "), proc.stderr


# --- end to end against satchel serve ----------------------------------------------------------------------
Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def satchel(satchel_server: ServerHandle) -> Cli:
    """Runs ``satchel ARGS`` as ``creds`` (default: root) against the server; ``ok=True`` asserts exit 0."""

    def run(*args: str, creds: Credentials | None = None, env: dict[str, str] | None = None,
            ok: bool = True) -> subprocess.CompletedProcess[str]:
        who = creds or satchel_server.root
        base = _clean_env(SATCHEL_ENDPOINT=satchel_server.endpoint, AWS_ACCESS_KEY_ID=who.access_key,
                          AWS_SECRET_ACCESS_KEY=who.secret_key)
        proc = _run(list(args), env if env is not None else base)
        if ok:
            assert proc.returncode == 0, f"satchel {' '.join(args)}: {proc.stderr}"
        return proc

    return run


def mint(satchel: Cli, *args: str, creds: Credentials | None = None) -> list[dict[str, Any]]:
    """``satchel presign ARGS --json``: the minted entries (each with url and link)."""
    answer = json.loads(satchel("presign", *args, "--json", creds=creds).stdout)
    return list(answer["links"])


def _get(url: str) -> int:
    return fetch_curl("GET", url).status


def test_view_download_and_plain(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="docs/report.pdf", Body=b"%PDF-report")
    plain, view = (satchel("presign", f"s3://{bucket}/docs/report.pdf", *flags).stdout.strip()
                   for flags in ([], ["--view", "--expires-in", "15m"]))
    named = satchel("presign", f"s3://{bucket}/docs/report.pdf", "--download", "--filename", "Q3 report é.pdf")
    default_name = satchel("presign", f"s3://{bucket}/docs/report.pdf", "--download")
    replies = {name: fetch_curl("GET", url.strip()) for name, url in
               (("plain", plain), ("view", view), ("named", named.stdout), ("default", default_name.stdout))}
    for reply in replies.values():
        assert (reply.status, reply.body) == (200, b"%PDF-report"), reply.describe()
    assert "content-disposition" not in replies["plain"].headers
    assert replies["view"].headers["content-disposition"] == "inline"
    named_cd = replies["named"].headers["content-disposition"]
    assert named_cd.startswith("attachment;") and "filename*=UTF-8''Q3%20report%20%C3%A9.pdf" in named_cd
    assert 'filename="report.pdf"' in replies["default"].headers["content-disposition"]
    assert int(query_of(view)["X-Amz-Expires"]) == 900


def test_several_keys_and_failures(satchel: Cli, s3: Any, bucket: str) -> None:
    for key in ("a.txt", "b.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    proc = satchel("presign", *(f"s3://{bucket}/{k}" for k in ("a.txt", "missing.txt", "b.txt")), ok=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: missing.txt: NoSuchKey: "), proc.stderr
    urls = proc.stdout.splitlines()
    assert [fetch_curl("GET", u).body for u in urls] == [b"a.txt", b"b.txt"]
    under = satchel("presign", "--prefix", f"s3://{bucket}/", "--expires-in", "90").stdout.splitlines()
    assert sorted(fetch_curl("GET", u).body for u in under) == [b"a.txt", b"b.txt"]
    proc = satchel("presign", "--prefix", f"s3://{bucket}/none/", ok=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", f"Error: no object under s3://{bucket}/none/\n")
    proc = satchel("presign", f"s3://{bucket}/a.txt", f"s3://{bucket}/gone.txt", "--json", ok=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: gone.txt: NoSuchKey: ")
    entries = json.loads(proc.stdout)["links"]
    assert [e["key"] for e in entries] == ["a.txt", "gone.txt"] and entries[1]["error"]["code"] == "NoSuchKey"
    assert entries[0]["link"]["expires"] - entries[0]["link"]["created"] == 3600  # the default lifetime


def test_put_link_uploads_with_curl(satchel: Cli, s3: Any, bucket: str) -> None:
    url = satchel("presign", f"s3://{bucket}/up/new.bin", "--method", "put").stdout.strip()
    reply = fetch_curl("PUT", url, data=b"uploaded by curl")
    assert reply.status == 200, reply.describe()
    assert s3.get_object(Bucket=bucket, Key="up/new.bin")["Body"].read() == b"uploaded by curl"
    # The method is signed: a PUT link used for a GET fails its signature, as on S3.
    assert_error(fetch_curl("GET", url), 403, "SignatureDoesNotMatch")


def test_one_time_link(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once.txt", Body=b"once")
    (entry,) = mint(satchel, f"s3://{bucket}/once.txt", "--max-uses", "1")
    assert (entry["link"]["max_uses"], entry["link"]["uses"], entry["link"]["state"]) == (1, 0, "active")
    assert fetch_curl("GET", entry["url"]).body == b"once"
    assert_error(fetch_curl("GET", entry["url"]), 403, "AccessDenied")
    shown = json.loads(satchel("links", "show", entry["link"]["id"], "--json").stdout)
    assert (shown["uses"], shown["state"]) == (1, "used-up")


def test_revoke_one_link(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"doc")
    doomed, kept = (mint(satchel, f"s3://{bucket}/doc.txt", *v2)[0] for v2 in ([], ["--v2"]))
    assert "AWSAccessKeyId" in kept["url"] and "X-Amz-Signature" not in kept["url"]
    assert _get(doomed["url"]) == 200 and _get(kept["url"]) == 200
    revoked = json.loads(satchel("links", "revoke", doomed["link"]["id"], "--json").stdout)
    assert revoked["state"] == "revoked" and revoked["revoked"] is not None
    assert_error(fetch_curl("GET", doomed["url"]), 403, "AccessDenied")
    assert _get(kept["url"]) == 200
    listed = json.loads(satchel("links", "list", "--bucket", bucket, "--json").stdout)["links"]
    assert [(x["id"], x["state"]) for x in listed] == [
        (kept["link"]["id"], "active"), (doomed["link"]["id"], "revoked")]
    active = json.loads(satchel("links", "list", "--bucket", bucket, "--active", "--json").stdout)["links"]
    assert [x["id"] for x in active] == [kept["link"]["id"]]
    table = satchel("links", "list", "--bucket", bucket).stdout
    assert doomed["link"]["id"] in table and "revoked" in table and "s3v2" in table
    # v2 links carry no issue time, but a minted one is in the registry: it can be revoked by id too.
    satchel("links", "revoke", kept["link"]["id"])
    assert_error(fetch_curl("GET", kept["url"]), 403, "AccessDenied")


def test_links_errors(satchel: Cli, satchel_server: ServerHandle, s3: Any, bucket: str,
                      member: Callable[[], Credentials]) -> None:
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"x")
    proc = satchel("presign", f"s3://{bucket}/private.txt", creds=member(), ok=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("Error: private.txt: AccessDenied: "), proc.stderr
    proc = satchel("links", "show", "no-such-link", ok=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: NotFound: "), proc.stderr
    proc = satchel("presign", "s3://no-such-bucket-cli/k", ok=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: NoSuchBucket: "), proc.stderr
    wrong = Credentials(satchel_server.access_key, satchel_server.secret_key + "x")
    proc = satchel("links", "list", creds=wrong, ok=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: SignatureDoesNotMatch: "), proc.stderr


SCOPES = ["object", "prefix", "bucket", "access-key", "user"]


@pytest.mark.parametrize("scope", SCOPES)
def test_revoke_before_now(scope: str, satchel: Cli, s3: Any, bucket: str, member: Callable[[], Credentials],
                           managed_server: SatchelProcess) -> None:
    """Links issued before the revocation are refused, later ones work, links outside the scope keep working."""
    reader = member()
    managed_server.grant(reader.user, bucket, "read", share=True)
    for key in ("team/a.txt", "other/b.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    before = {key: mint(satchel, f"s3://{bucket}/{key}", creds=reader)[0]["url"]
              for key in ("team/a.txt", "other/b.txt")}
    assert eventually(lambda: _get(before["team/a.txt"]) == 200)
    target = {"object": f"s3://{bucket}/team/a.txt", "prefix": f"s3://{bucket}/team/", "bucket": bucket,
              "access-key": reader.access_key, "user": reader.user}[scope]
    made = json.loads(satchel("links", "revoke", "--before", "now", f"--{scope}", target, "--json").stdout)
    assert made["scope"] == scope
    assert eventually(lambda: _get(before["team/a.txt"]) == 403)
    assert_error(fetch_curl("GET", before["team/a.txt"]), 403, "AccessDenied")
    outside = 200 if scope in ("object", "prefix") else 403
    assert _get(before["other/b.txt"]) == outside
    after = mint(satchel, f"s3://{bucket}/team/a.txt", creds=reader)[0]["url"]
    assert fetch_curl("GET", after).body == b"team/a.txt"
    listed = json.loads(satchel("links", "revocations", "--json").stdout)["revocations"]
    assert made["id"] in [r["id"] for r in listed]


def test_profile_credentials(satchel: Cli, satchel_server: ServerHandle, s3: Any, bucket: str, tmp_path: Path,
                             member: Callable[[], Credentials], managed_server: SatchelProcess) -> None:
    sharer = member()
    managed_server.grant(sharer.user, bucket, "read", share=True)
    s3.put_object(Bucket=bucket, Key="p.txt", Body=b"via profile")
    files = _profile_files(tmp_path, "share", sharer, region="us-east-1")
    env = _clean_env(SATCHEL_ENDPOINT=satchel_server.endpoint, **files)
    for args, extra in (([f"s3://{bucket}/p.txt", "--profile", "share"], {}),
                        ([f"s3://{bucket}/p.txt"], {"AWS_PROFILE": "share"})):
        proc = satchel("presign", *args, "--json", env={**env, **extra})
        (entry,) = json.loads(proc.stdout)["links"]
        assert (entry["link"]["user"], entry["link"]["access_key_id"]) == (sharer.user, sharer.access_key)
        assert assert_ok(entry["url"]) == b"via profile"


def assert_ok(url: str) -> bytes:
    reply = fetch_curl("GET", url)
    assert reply.status == 200, reply.describe()
    return reply.body


def test_audit_trail(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="audited.txt", Body=b"12345")
    once = mint(satchel, f"s3://{bucket}/audited.txt", "--max-uses", "1")[0]
    assert assert_ok(once["url"]) == b"12345"
    assert_error(fetch_curl("GET", once["url"]), 403, "AccessDenied")
    gone = mint(satchel, f"s3://{bucket}/audited.txt")[0]
    satchel("links", "revoke", gone["link"]["id"])
    assert_error(fetch_curl("GET", gone["url"]), 403, "AccessDenied")
    a, b = once["link"]["id"], gone["link"]["id"]
    expected = [("mint", "allowed", a), ("use", "allowed", a), ("use", "refused", a),
                ("mint", "allowed", b), ("revoke", "allowed", b), ("use", "refused", b)]

    def events(*filters: str) -> list[dict[str, Any]]:
        return list(json.loads(satchel("audit", "--bucket", bucket, *filters, "--json").stdout)["events"])

    assert eventually(lambda: len(events()) >= len(expected))
    trail = events()
    assert [(e["action"], e["outcome"], e["link_id"]) for e in trail] == expected
    assert [e["time"] for e in trail] == sorted(e["time"] for e in trail)
    mint_a, use_a, refused_a, _, _, refused_b = trail
    assert mint_a["user_agent"].startswith("satchel-cli/") and mint_a["key"] == "audited.txt"
    assert (use_a["status"], use_a["bytes"], use_a["method"], use_a["client_ip"]) == (200, 5, "GET", "127.0.0.1")
    assert use_a["user_agent"].startswith("curl/")
    assert refused_a["status"] == 403 and "no uses left" in refused_a["reason"]
    assert refused_b["status"] == 403 and "revoked" in refused_b["reason"]
    assert {e["user"] for e in trail} == {"root"} and {e["kind"] for e in trail} == {"s3v4"}
    assert [e["link_id"] for e in events("--outcome", "refused")] == [a, b]
    assert [e["action"] for e in events("--link-id", b)] == ["mint", "revoke", "use"]
    assert events("--since", str(time.time() + 3600)) == []
    assert [e["id"] for e in events("--since", "1h", "--limit", "2")] == [e["id"] for e in trail[-2:]]
    table = satchel("audit", "--bucket", bucket, "--action", "use").stdout
    assert table.count("refused") == 2 and "no uses left" in table and "mint" not in table
