"""``X-Forwarded-For`` is believed only from ``trusted_proxies`` (default: nobody). Before, uvicorn trusted
127.0.0.1, so any local client (or every client of a local proxy passing the header on) picked its own
address: a PAR's ``allowedIpRange`` let it in and the audit trail recorded the made-up address."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import boto3
import pytest

from tests.clients.boto import unique_bucket
from tests.clients.par import create, events
from tests.clients.server import SatchelProcess, free_port

SPOOFED = "203.0.113.7"


@pytest.fixture(scope="module", params=["", "127.0.0.1/32 ::1"], ids=["default", "trusted"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    extra = ("--trusted-proxies", request.param) if request.param else ()
    process = SatchelProcess(tmp_path_factory.mktemp("xff") / "data", port=free_port(), extra_args=extra)
    process.start()
    yield process
    process.stop()


def _curl(url: str, *headers: str) -> str:
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for header in headers:
        args += ["-H", header]
    return subprocess.run([*args, url], capture_output=True, text=True, timeout=30, check=True).stdout


def test_forwarded_for_only_from_trusted_proxies(server: SatchelProcess) -> None:
    trusted = "--trusted-proxies" in server.extra_args
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                      aws_access_key_id=server.root.access_key, aws_secret_access_key=server.root.secret_key)
    bucket = unique_bucket("xff")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"secret")
    par = create(server, bucket=bucket, accessType="ObjectRead", objectName="doc.txt",
                 allowedIpRange="203.0.113.0/24")
    assert _curl(par["fullPath"]) == "404"  # 127.0.0.1 is outside the range either way
    assert _curl(par["fullPath"], f"X-Forwarded-For: {SPOOFED}") == ("200" if trusted else "404")
    addresses = {e["client_ip"] for e in events(server, par["id"]) if e["action"] == "use"}
    assert addresses == ({"127.0.0.1", SPOOFED} if trusted else {"127.0.0.1"})
    metrics = f"{server.endpoint}/_satchel/metrics"
    assert _curl(metrics) == "200"
    assert _curl(metrics, f"X-Forwarded-For: {SPOOFED}") == "401"  # proxied: no loopback scrape either way
