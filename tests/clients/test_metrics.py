"""``/_satchel/metrics`` on a real two-worker ``satchel serve``: Prometheus text from every worker summed,
requests by front-end, operation and status, link uses and refusals by kind and reason, the writer's
commit latency, open connections; open on loopback, a bearer token elsewhere."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.clients import mgmt
from tests.clients.boto import presigned_object
from tests.clients.server import SatchelProcess, configured_server, eventually

TOKEN = "metrics-token-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "metrics", f'metrics_token = "{TOKEN}"\n', "--workers", "2")


def scrape(server: SatchelProcess, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = requests.get(f"{server.endpoint}/_satchel/metrics", headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_every_worker_is_counted(server: SatchelProcess) -> None:
    """Counts of every worker process, the replaced ones of a rolling restart (SIGHUP) included."""
    metric_files = server.data_dir / "run" / "metrics"

    def workers_seen() -> int:  # every worker writes its counters at start (the first GC pass)
        return len(list(metric_files.glob("counter_*.db")))

    assert eventually(lambda: workers_seen() == 2)  # the first health answer may come before the second starts
    before = value(scrape(server), "satchel_requests_total", frontend="satchel", operation="live")
    for _ in range(30):
        assert requests.get(f"{server.endpoint}/_satchel/health/live", timeout=10).status_code == 200
    # Each worker writes its counts every second (satchel.metrics.RequestTally).
    assert eventually(lambda: value(scrape(server), "satchel_requests_total", frontend="satchel",
                                    operation="live") - before == 30)
    assert server._proc is not None
    os.kill(server._proc.pid, signal.SIGHUP)  # the supervisor replaces both workers, one at a time
    assert eventually(lambda: workers_seen() == 4, timeout=20)
    for _ in range(4):  # whichever new worker answers sums the files of the two that are gone
        samples = scrape(server)
        assert value(samples, "satchel_requests_total", frontend="satchel", operation="live") - before == 30
    # Live gauges count live workers only: the replaced ones' open connections are forgotten.
    assert value(samples, "satchel_open_connections") >= 1
    assert not list(metric_files.glob("gauge_livesum_*.db")) or all(
        int(p.stem.rsplit("_", 1)[1]) in alive_pids(server) for p in metric_files.glob("gauge_livesum_*.db"))


def alive_pids(server: SatchelProcess) -> set[int]:
    assert server._proc is not None
    found = set()
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().split()
        except OSError:
            continue
        if fields[3] == str(server._proc.pid):
            found.add(int(fields[0]))
    return found


def test_requests_links_and_writer(server: SatchelProcess) -> None:
    bucket, url = presigned_object(server, "metrics", b"0123456789", 300)
    before = scrape(server)
    assert requests.get(url, timeout=10).content == b"0123456789"
    forged = re.sub(r"X-Amz-Signature=[0-9a-f]+", "X-Amz-Signature=" + "0" * 64, url)
    assert requests.get(forged, timeout=10).status_code == 403
    mgmt.ok(mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["k"]}))
    after = scrape(server)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    def settled() -> bool:  # each worker writes its request counts every second
        nonlocal after
        after = scrape(server)
        return grew("satchel_request_duration_seconds_count", frontend="s3", operation="GetObject") == 2 and \
            grew("satchel_requests_total", frontend="api", operation="POST /links") == 1

    assert eventually(settled)

    assert grew("satchel_requests_total", frontend="s3", operation="GetObject", status="200") == 1
    assert grew("satchel_requests_total", frontend="s3", operation="GetObject", status="403") == 1
    assert grew("satchel_requests_total", frontend="api", operation="POST /links", status="200") == 1
    assert grew("satchel_sent_bytes_total", frontend="s3", operation="GetObject") >= 10
    assert grew("satchel_request_duration_seconds_count", frontend="s3", operation="GetObject") == 2
    assert grew("satchel_request_duration_seconds_bucket", frontend="s3", operation="GetObject", le="+Inf") == 2
    assert grew("satchel_request_duration_seconds_bucket", frontend="s3", operation="GetObject", le="60.0") == 2
    assert 0 < grew("satchel_request_duration_seconds_sum", frontend="s3", operation="GetObject") < 20
    assert grew("satchel_link_events_total", action="use", kind="s3v4", outcome="allowed") == 1
    assert grew("satchel_link_events_total", action="use", kind="s3v4", outcome="refused",
                reason="SignatureDoesNotMatch") == 1
    assert grew("satchel_link_events_total", action="mint", outcome="allowed") == 1
    assert value(after, "satchel_metadata_commit_seconds_count") > 0
    assert ("satchel_metadata_write_queue_depth", ()) in after
    assert value(after, "satchel_open_connections") >= 1  # the scrape's own


def test_protocol_refusals(server: SatchelProcess) -> None:
    before = value(scrape(server), "satchel_protocol_refusals_total", reason="headers_too_large")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 431")
    assert eventually(lambda: value(scrape(server), "satchel_protocol_refusals_total",
                                    reason="headers_too_large") - before == 1)


def test_remote_scrapers_need_the_token(server: SatchelProcess) -> None:
    # uvicorn takes the client from X-Forwarded-For when the peer is loopback (a local proxy).
    remote = {"X-Forwarded-For": "203.0.113.7"}
    url = f"{server.endpoint}/_satchel/metrics"
    refused = requests.get(url, headers=remote, timeout=10)
    assert refused.status_code == 401 and "satchel_requests_total" not in refused.text
    assert requests.get(url, headers={**remote, "Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    assert scrape(server, **remote, Authorization=f"Bearer {TOKEN}")


@pytest.mark.parametrize("header", ["True-Client-IP", "X-Client-IP", "X-Forwarded-Host", "X-Forwarded-Proto", "Via",
                                    "X-Real-IP", "Forwarded", "X-Forwarded-For"])
def test_any_forwarding_header_is_no_loopback_scrape(server: SatchelProcess, header: str) -> None:
    """A local proxy adding any one of these forwarded a remote client (attack finding: only three counted)."""
    url = f"{server.endpoint}/_satchel/metrics"
    assert requests.get(url, headers={header: "1.1 proxy"}, timeout=10).status_code == 401
    assert requests.get(url, headers={header: "1.1 proxy", "Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 200
