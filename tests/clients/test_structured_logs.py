"""JSON logs of a real ``satchel serve`` (``log_format = "json"``, access log on): every line is one JSON
object, access lines carry the request id the client got, the operation, principal, bucket, status, bytes
and duration; and no secret used in a scenario with every link kind Satchel serves — SigV4 and SigV2
presigned URLs, minted links, presigned POST (v4 and v2), PARs and Swift TempURLs, each allowed and
refused — appears in any log line, any audit row or the Prometheus metrics."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import requests

from tests.clients import mgmt, par
from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, configured_server, eventually


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "jsonlog", 'access_log = true\nlog_format = "json"\n')


def log_lines(server: SatchelProcess) -> list[str]:
    """The server's log lines (its stdout and stderr), the banner before the first JSON line excepted."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return lines[first:]


def curl(url: str, *args: str) -> int:
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args, url],
                         capture_output=True, text=True, timeout=30, check=True)
    return int(out.stdout)


def secrets_of_url(url: str) -> list[str]:
    """The bearer parts of a link: its signature (as sent and decoded) and a minted link's id."""
    query = parse_qs(urlsplit(url).query)
    found = []
    for name in ("X-Amz-Signature", "Signature", "X-Amz-Satchel-Link-Id"):
        for raw in re.findall(rf"[?&]{name}=([^&]+)", url):
            found += [raw, unquote(raw)]
        found += query.get(name, [])
    return found


def audit_rows(server: SatchelProcess) -> str:
    audit = sqlite3.connect(server.data_dir / "meta.sqlite3")
    try:
        return "\n".join(repr(row) for row in audit.execute("SELECT * FROM audit_events"))
    finally:
        audit.close()


def post_form(policy: dict[str, Any], body: bytes) -> int:
    reply = requests.post(policy["url"], data=policy["fields"], files={"file": ("f.txt", body)}, timeout=30)
    return reply.status_code


def test_json_lines_and_no_secret_anywhere(server: SatchelProcess) -> None:
    v4 = make_client(server, signature_version="s3v4")
    v2 = make_client(server)  # botocore's us-east-1 default presigns SigV2
    bucket = unique_bucket("jsonlog")
    v4.create_bucket(Bucket=bucket)
    v4.put_object(Bucket=bucket, Key="doc.txt", Body=b"hello")
    secrets = [server.secret_key, server.password]
    urls = [
        v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300),
        v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300),
    ]
    minted = mgmt.ok(mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["doc.txt"]}))
    urls.append(minted["links"][0]["url"])
    link_id = minted["links"][0]["link"]["id"]
    for url in urls:
        secrets += secrets_of_url(url)
        assert curl(url) == 200
        assert curl(url.replace("doc.txt", "other.txt")) == 403  # a refusal: its signature is in the URL too
    policies = [client.generate_presigned_post(bucket, "up/${filename}", ExpiresIn=300) for client in (v4, v2)]
    for policy in policies:
        fields = policy["fields"]
        secrets += [fields["policy"], fields.get("x-amz-signature") or fields["signature"]]
        assert post_form(policy, b"posted") == 204
        forged = {**policy, "fields": {**fields, "key": "elsewhere/x"}}
        assert post_form(forged, b"posted") == 403
    made = par.create(server, bucket=bucket, accessType="ObjectRead", objectName="doc.txt")
    par_url = par.url(made)
    secrets += [par_url.split("/p/", 1)[1].split("/", 1)[0]]  # the PAR's token
    assert curl(par_url) == 200 and curl(par_url.replace("doc.txt", "other.txt")) == 404
    mgmt.ok(mgmt.call(server, None, "PUT", f"/buckets/{bucket}/tempurl-key", {}))
    spec = {"bucket": bucket, "keys": ["doc.txt"], "kind": "swift", "expires_in": 300}
    (tempurl,) = mgmt.ok(mgmt.call(server, None, "POST", "/links", spec))["links"]
    secrets += parse_qs(urlsplit(tempurl["url"]).query)["temp_url_sig"]
    assert curl(tempurl["url"]) == 200 and curl(tempurl["url"].replace("doc.txt", "other.txt")) == 401
    secrets = [s for s in secrets if s]
    secrets += [quote(s, safe="") for s in secrets]

    reply = requests.get(urls[0], timeout=10)
    request_id = reply.headers["x-amz-request-id"]
    assert eventually(lambda: request_id in server.log_path.read_text(errors="replace"))
    lines = log_lines(server)
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e["logger"] == "satchel.access"]
    mine = next(e for e in access if e["request_id"] == request_id)
    assert mine["operation"] == "GetObject" and mine["bucket"] == bucket and mine["status"] == 200
    assert mine["bytes_out"] == 5 and mine["duration_ms"] >= 0 and mine["principal"] == "root"
    assert "X-Amz-Signature=REDACTED" in mine["target"]
    assert {e["status"] for e in access} >= {200, 204, 403}

    text = "\n".join(lines)
    assert eventually(lambda: audit_rows(server).count("'use'") >= 15)  # the scenario's uses reached the trail
    rows = audit_rows(server)
    metrics = requests.get(f"{server.endpoint}/_satchel/metrics", timeout=10)
    assert metrics.status_code == 200 and "satchel_link_events_total" in metrics.text
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:6]}..."
        assert secret not in metrics.text, f"a secret is in the metrics: {secret[:6]}..."
        # A minted link's id is the key of its own audit rows (how `satchel audit --link-id` finds them);
        # only logs must not show it.
        if secret not in (link_id, quote(link_id, safe="")):
            assert secret not in rows, f"a secret is in the audit trail: {secret[:6]}..."


def test_error_bodies_name_the_request(server: SatchelProcess) -> None:
    s3_reply = requests.get(f"{server.endpoint}/{unique_bucket('none')}/k", timeout=10)
    assert f"<RequestId>{s3_reply.headers['x-amz-request-id']}</RequestId>" in s3_reply.text
    api_reply = requests.get(f"{server.endpoint}/_satchel/api/whoami", timeout=10)
    assert api_reply.status_code == 403
    assert api_reply.json()["error"]["request_id"] == api_reply.headers["x-amz-request-id"]
