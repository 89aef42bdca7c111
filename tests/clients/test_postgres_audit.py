"""Every link use is exactly one audit event when PostgreSQL goes away (issue 14: failure behaviour;
attack 11, findings 1 and 2), on a real PostgreSQL (the session's ``tests/pgcluster.py``):

- with the node's connections terminated again and again (a restart or a failover does that), an audit
  batch whose COMMIT succeeded but whose answer was lost is never written twice nor stuck for ever:
  afterwards the link's uses, its allowed events and the 200s agree, and every answer has its one event;
- with PostgreSQL stopped, a minted link, presigned URLs (V2, V4), a PAR, a Swift TempURL, a FormPost and a
  console share page
  each answer 503 in their protocol, and once it is back each refused use has exactly one event, about its
  bucket (and link).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import requests
from botocore.config import Config

from tests import pgcluster
from tests.clients import mgmt
from tests.clients import par as pars
from tests.clients.test_postgres_nodes import PgNode, client
from tests.clients.test_postgres_startup import wait_ready
from tests.clients.test_swift_formpost import Form
from tests.clients.test_swift_tempurl import Swift

#: How long written-once events may take to appear once the database is stable (flush every 0.25 s,
#: the pool reconnecting).
SETTLE = 15.0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, pg_module_url: str) -> Iterator[PgNode]:
    server = PgNode(tmp_path_factory.mktemp("pgaudit") / "a", pg_module_url)
    with server.running():
        yield server


def _events(node: PgNode, query: str) -> list[dict[str, Any]]:
    return list(mgmt.ok(mgmt.call(node, None, "GET", f"/audit?{query}&limit=10000"))["events"])


def _settled(node: PgNode, query: str, expected: int) -> list[dict[str, Any]]:
    """The events of ``query`` once ``expected`` are written (or SETTLE has passed), read once more after
    a few flushes: a duplicate written late is caught too."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        try:
            if len(_events(node, query)) >= expected:
                break
        except (AssertionError, requests.RequestException):
            pass  # the node still reconnecting
        time.sleep(0.2)
    time.sleep(1.0)
    return _events(node, query)


def _terminate(url: str, stop: threading.Event, kills: list[int]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(0.3):
            found = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                 "AND backend_type = 'client backend'").fetchone()
            kills.append(int(found[0]) if found else 0)


def _use(url: str, stop: threading.Event, codes: list[int]) -> None:
    while not stop.is_set():
        try:
            codes.append(requests.get(url, timeout=10).status_code)
        except requests.RequestException:
            codes.append(0)  # no answer: it may or may not have been used; told apart below


def test_terminated_connections_leave_exactly_one_event_per_use(node: PgNode) -> None:
    client(node).create_bucket(Bucket="terminate")
    client(node).put_object(Bucket="terminate", Key="k", Body=b"body")
    link = mgmt.ok(mgmt.call(node, None, "POST", "/links", {"bucket": "terminate", "keys": ["k"]}))["links"][0]
    assert requests.get(link["url"], timeout=10).status_code == 200
    stop = threading.Event()
    codes: list[int] = []
    kills: list[int] = []
    threads = [threading.Thread(target=_use, args=(link["url"], stop, codes)) for _ in range(3)]
    threads.append(threading.Thread(target=_terminate, args=(node.url, stop, kills)))
    for thread in threads:
        thread.start()
    time.sleep(5.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(kills) >= 5, kills  # connections were really cut, again and again
    assert 0 not in codes, "a request went unanswered"
    assert set(codes) <= {200, 503}, sorted(set(codes))  # never a 500
    allowed = codes.count(200) + 1  # and the first use
    events = _settled(node, f"link_id={link['link']['id']}&action=use", len(codes) + 1)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    assert len(events) == len(codes) + 1, (len(events), len(codes) + 1)
    assert sum(e["outcome"] == "allowed" for e in events) == allowed
    shown = mgmt.ok(mgmt.call(node, None, "GET", f"/links/{link['link']['id']}"))
    assert shown["uses"] == allowed, shown
    # And the writer is not stuck: a later use is written at once.
    assert requests.get(link["url"], timeout=10).status_code == 200
    assert len(_settled(node, f"link_id={link['link']['id']}&action=use", len(codes) + 2)) == len(codes) + 2


@pytest.fixture
def stopped(pg_cluster: pgcluster.PgCluster) -> Iterator[pgcluster.PgCluster]:
    try:
        yield pg_cluster
    finally:
        if not (Path(pg_cluster.data) / "postmaster.pid").exists():
            pg_cluster.start()


def test_every_link_kind_answers_503_and_is_audited_once_while_postgres_is_down(
        node: PgNode, stopped: pgcluster.PgCluster, tmp_path: Path) -> None:
    s3 = client(node)
    v4 = boto3.client("s3", endpoint_url=node.endpoint, region_name="us-east-1",
                      aws_access_key_id=node.root.access_key, aws_secret_access_key=node.root.secret_key,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="outage-audit")
    s3.put_object(Bucket="outage-audit", Key="k", Body=b"body")
    minted = mgmt.ok(mgmt.call(node, None, "POST", "/links", {"bucket": "outage-audit", "keys": ["k"]}))
    mgmt.ok(mgmt.call(node, None, "PUT", "/buckets/outage-audit/tempurl-key", {}))
    swift = mgmt.ok(mgmt.call(node, None, "POST", "/links", {"bucket": "outage-audit", "keys": ["k"],
                                                              "kind": "swift"}))
    urls = {
        "minted": minted["links"][0]["url"],
        "presigned": s3.generate_presigned_url("get_object", Params={"Bucket": "outage-audit", "Key": "k"},
                                               ExpiresIn=600),
        "presigned-v4": v4.generate_presigned_url("get_object", Params={"Bucket": "outage-audit", "Key": "k"},
                                                  ExpiresIn=600),
        "par": pars.url(pars.create(node, bucket="outage-audit", accessType="ObjectRead", objectName="k")),
        "tempurl": swift["links"][0]["url"],
    }
    form_key = secrets.token_urlsafe(24)  # a FormPost signed with the container's second key
    Swift(node, "root", node.root.secret_key).run("post", "-m", f"Temp-URL-Key-2:{form_key}", "outage-audit")
    form = Form(node, "outage-audit", form_key)
    upload = tmp_path / "up.txt"
    upload.write_bytes(b"form")
    assert form.post(form.sign(), [upload])[0] == 201
    share = mgmt.ok(mgmt.call(node, None, "POST", "/shares", {"link_id": minted["links"][0]["link"]["id"]}))["url"]
    for name, url in [*urls.items(), ("share", share)]:
        assert requests.get(url, timeout=10).status_code == 200, name  # warm: every cache holds them
    before = len(_events(node, "bucket=outage-audit&action=use"))
    stopped.stop()
    answers: dict[str, list[tuple[int, str]]] = {}
    for name, url in urls.items():
        answers[name] = []
        for _ in range(2):
            reply = requests.get(url, timeout=10)
            answers[name].append((reply.status_code, reply.headers.get("Content-Type", "")))
            assert reply.status_code == 503, (name, reply.status_code, reply.text)
            if name.startswith(("minted", "presigned")):
                assert "<Code>ServiceUnavailable</Code>" in reply.text, (name, reply.text)
            elif name == "par":
                assert reply.json()["code"] == "ServiceUnavailable", reply.text
    answers["formpost"] = []
    for _ in range(2):  # a FormPost: Swift's plain-text 503
        status, headers, _body = form.post(form.sign(), [upload])
        answers["formpost"].append((status, headers.get("content-type", "")))
        assert status == 503 and headers["content-type"].startswith("text/plain"), (status, headers)
    for _ in range(2):  # the console's share page: its own page, 503
        reply = requests.get(share, timeout=10)
        assert reply.status_code == 503 and reply.headers["Content-Type"].startswith("text/html"), reply.text
    stopped.start()
    wait_ready(node, 15.0)
    attempts = sum(len(a) for a in answers.values())
    events = _settled(node, "bucket=outage-audit&action=use", before + attempts)
    refused = [e for e in events if e["outcome"] == "refused"]
    assert len(events) == before + attempts, Counter((e["kind"], e["outcome"], e["status"]) for e in events)
    assert len(refused) == attempts and all(e["status"] == 503 for e in refused), refused
    assert len({e["id"] for e in events}) == len(events)
    assert Counter(e["kind"] for e in refused) == {"s3v4": 4, "s3v2": 2, "par": 2, "swift": 4}
    assert sum(e["method"] == "POST" for e in refused) == 2  # the FormPosts
    views = _settled(node, "bucket=outage-audit&action=share-view&outcome=refused", 2)
    assert [(e["status"], e["link_id"]) for e in views] == [(503, minted["links"][0]["link"]["id"])] * 2, views
