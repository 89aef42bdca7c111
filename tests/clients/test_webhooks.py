"""Link notifications against a real server: a receiver on loopback gets one signed POST per link use, allowed
or refused; retries with backoff; a receiver that is down or hangs never slows the use, and its failures show in
the metrics and the dead-delivery listing; the queue is bounded; loopback is refused by default (literal
addresses when set, names after resolution when delivered); no secret reaches the logs."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from satchel.webhooks.outbound import UNREACHABLE
from tests.clients import mgmt, par
from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, eventually
from tests.clients.webhook_receiver import Received, Receiver, readme_verify

FAST = ["--webhook-allow-private", "--webhook-poll-interval", "0.05", "--webhook-retry-delay", "0.2",
        "--webhook-retry-max-delay", "0.4", "--webhook-timeout", "1", "--webhook-max-attempts", "3",
        "--access-log", "--log-level", "debug"]
#: Secrets the server handed out in this module: none may reach its log (checked last).
SECRETS: list[str] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SatchelProcess]:
    proc = SatchelProcess(tmp_path_factory.mktemp("webhooks") / "data", extra_args=FAST)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _bucket(server: SatchelProcess, body: bytes = b"hello") -> tuple[Any, str]:
    s3 = make_client(server)
    name = unique_bucket("wh")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="doc.txt", Body=body)
    return s3, name


def _mint(server: SatchelProcess, bucket: str, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = mgmt.ok(mgmt.call(server, None, "POST", "/links",
                                              {"bucket": bucket, "keys": ["doc.txt"], **extra}))
    return answer


def _wait(receiver: Receiver, count: int, timeout: float = 10.0) -> list[Received]:
    assert eventually(lambda: len(receiver.snapshot()) >= count, timeout=timeout), receiver.snapshot()
    return receiver.snapshot()


def _metric(server: SatchelProcess, name: str, **labels: str) -> float:
    text = requests.get(f"{server.endpoint}/_satchel/metrics", timeout=10).text
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}{{{re.escape(want)}}} (\S+)$" if labels else rf"^{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _put_webhook(server: SatchelProcess, bucket: str, url: str) -> requests.Response:
    return mgmt.call(server, None, "PUT", f"/buckets/{bucket}/webhook", {"url": url})


def test_minted_link_uses_and_refusals_are_posted_signed(server: SatchelProcess, receiver: Receiver) -> None:
    verify = readme_verify()
    _, bucket = _bucket(server)
    minted = _mint(server, bucket, max_uses=1, webhook=receiver.url)
    secret = minted["webhook"]["secret"]
    SECRETS.append(secret)
    assert secret.startswith("whsec_") and minted["webhook"]["url"] == receiver.url
    url, link_id = minted["links"][0]["url"], minted["links"][0]["link"]["id"]
    assert requests.get(url, timeout=10).content == b"hello"
    assert requests.get(url, timeout=10).status_code == 403  # used up: a refused use
    got = _wait(receiver, 2)
    assert len(got) == 2
    signature = url.split("X-Amz-Signature=")[1].split("&")[0]
    outcomes = []
    for item in got:
        assert verify(secret, item.headers, item.body)
        assert not verify(secret.replace("whsec_", "whsec_x"), item.headers, item.body)
        assert signature not in item.body.decode()  # never the link's signature
        body = json.loads(item.body)
        event = body["event"]
        assert body["type"] == "link.use" and body["id"] == event["id"] == item.headers["X-Satchel-Event-Id"]
        assert body["webhook"]["scope"] == "links" and body["webhook"]["id"] == minted["webhook"]["id"]
        assert (event["link_id"], event["bucket"], event["key"], event["kind"], event["method"]) == \
            (link_id, bucket, "doc.txt", "s3v4", "GET")
        assert event["client_ip"] == "127.0.0.1" and event["action"] == "use"
        outcomes.append((event["outcome"], event["status"]))
    assert sorted(outcomes) == [("allowed", 200), ("refused", 403)]
    # Revoked: that refusal is posted too, and the link's webhook is not the bucket's: nothing else arrives.
    mgmt.ok(mgmt.call(server, None, "DELETE", f"/links/{link_id}"))
    assert requests.get(url, timeout=10).status_code == 403
    third = json.loads(_wait(receiver, 3)[2].body)["event"]
    assert third["outcome"] == "refused" and third["link_id"] == link_id
    time.sleep(0.3)
    assert len(receiver.snapshot()) == 3


def test_bucket_webhook_covers_presigned_urls(server: SatchelProcess, receiver: Receiver) -> None:
    verify = readme_verify()
    s3, bucket = _bucket(server)
    answer = mgmt.ok(_put_webhook(server, bucket, receiver.url))
    SECRETS.append(answer["secret"])
    shown = mgmt.ok(mgmt.call(server, None, "GET", f"/buckets/{bucket}/webhook"))
    assert shown["url"] == receiver.url and "secret" not in shown
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=60)
    assert requests.get(url, timeout=10).status_code == 200
    (item,) = _wait(receiver, 1)
    assert verify(answer["secret"], item.headers, item.body)
    body = json.loads(item.body)
    assert body["webhook"]["scope"] == "bucket" and body["event"]["kind"] in ("s3v2", "s3v4")  # boto3 chooses
    assert body["event"]["link_id"] is None and body["event"]["outcome"] == "allowed"
    mgmt.ok(mgmt.call(server, None, "DELETE", f"/buckets/{bucket}/webhook"))
    assert mgmt.call(server, None, "GET", f"/buckets/{bucket}/webhook").status_code == 404


def test_every_link_kind_reaches_the_bucket_webhook(server: SatchelProcess, receiver: Receiver) -> None:
    """PARs, Swift TempURLs and S3 POST forms are uses of the bucket too: one notification each, allowed or
    refused by a verified signer, through the one audit trail (a TempURL whose signature does not match has no
    verified signer: audited, not notified)."""
    s3, bucket = _bucket(server)
    SECRETS.append(mgmt.ok(_put_webhook(server, bucket, receiver.url))["secret"])
    created = par.create(server, bucket=bucket, accessType="ObjectRead", objectName="doc.txt")
    assert requests.get(par.url(created), timeout=10).content == b"hello"
    mgmt.ok(mgmt.call(server, None, "PUT", f"/buckets/{bucket}/tempurl-key", {}))
    tempurl = _mint(server, bucket, kind="swift")["links"][0]["url"]
    assert requests.get(tempurl, timeout=10).content == b"hello"
    assert requests.get(tempurl.replace("temp_url_sig=", "temp_url_sig=0"), timeout=10).status_code == 401
    form = s3.generate_presigned_post(bucket, "up.txt", ExpiresIn=60)
    assert requests.post(form["url"], data=form["fields"], files={"file": b"up"}, timeout=10).status_code == 204
    got = _wait(receiver, 3)
    time.sleep(0.3)
    events = sorted((json.loads(r.body)["event"]["kind"], json.loads(r.body)["event"]["outcome"])
                    for r in receiver.snapshot())
    assert len(receiver.snapshot()) == len(got) == 3
    assert events == [("par", "allowed"), ("post", "allowed"), ("swift", "allowed")]


def test_refusals_without_a_verified_signer_are_audited_not_notified(server: SatchelProcess,
                                                                   receiver: Receiver) -> None:
    """Anyone, with no credentials, can make refused requests by the thousand (an unknown key, a signature that
    does not match, malformed authentication): each is in the audit trail, none takes a place in the bucket
    webhook's queue, so the owner's real notifications are never dropped for them."""
    s3, bucket = _bucket(server)
    SECRETS.append(mgmt.ok(_put_webhook(server, bucket, receiver.url))["secret"])
    good = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=60)
    base = f"{server.endpoint}/{bucket}/doc.txt"
    forged = [f"{base}?AWSAccessKeyId=AKIAX&Signature=x&Expires=9999999999",
              re.sub(r"(Signature=)[^&]+", r"\1AAAA", good),
              f"{base}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=nope&X-Amz-Signature=00"]
    for url in forged * 4:
        assert requests.get(url, timeout=10).status_code in (400, 403), url
    assert requests.get(good, timeout=10).content == b"hello"
    (item,) = _wait(receiver, 1)
    time.sleep(0.5)  # a notification of any refusal would have arrived by now
    assert len(receiver.snapshot()) == 1 and json.loads(item.body)["event"]["outcome"] == "allowed"
    events = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?bucket={bucket}&limit=100"))["events"]
    refused = [e for e in events if e["action"] == "use" and e["outcome"] == "refused"]
    assert len(refused) == 12 and all(e["user"] is None for e in refused)


def test_failing_receiver_is_retried_until_delivered(server: SatchelProcess) -> None:
    flaky = Receiver(statuses=(500, 503))
    try:
        _, bucket = _bucket(server)
        SECRETS.append(mgmt.ok(_put_webhook(server, bucket, flaky.url))["secret"])
        before = _metric(server, "satchel_webhook_deliveries_total", outcome="failed")
        url = _mint(server, bucket)["links"][0]["url"]
        assert requests.get(url, timeout=10).status_code == 200
        got = _wait(flaky, 3)
        assert [r.headers["X-Satchel-Attempt"] for r in got] == ["1", "2", "3"]
        assert len({r.headers["X-Satchel-Event-Id"] for r in got}) == 1  # one event, tried three times
        stamps = [float(json.loads(r.body)["time"]) for r in got]
        assert stamps[0] == stamps[2]
        assert eventually(lambda: _metric(server, "satchel_webhook_deliveries_total", outcome="failed")
                          >= before + 2, timeout=5)
        assert eventually(lambda: not mgmt.ok(mgmt.call(
            server, None, "GET", f"/buckets/{bucket}/webhook/deliveries?state=pending"))["deliveries"])
    finally:
        flaky.close()


def test_hanging_receiver_never_slows_the_use_and_fails_visibly(server: SatchelProcess) -> None:
    # A listening socket that never accepts: every try waits for webhook_timeout (1 s) and fails.
    with socket.socket() as hang:
        hang.bind(("127.0.0.1", 0))
        hang.listen(64)
        _, bucket = _bucket(server)
        SECRETS.append(mgmt.ok(_put_webhook(server, bucket, f"http://127.0.0.1:{hang.getsockname()[1]}/"))["secret"])
        url = _mint(server, bucket)["links"][0]["url"]
        requests.get(url, timeout=10)  # warm the connection path
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(url, timeout=10).status_code == 200
        assert (time.monotonic() - started) / 5 < 0.25  # far below the receiver's 1 s timeout
        assert eventually(lambda: len(mgmt.ok(mgmt.call(
            server, None, "GET", f"/buckets/{bucket}/webhook/deliveries?state=dead"))["deliveries"]) == 6,
            timeout=15)
    dead = mgmt.ok(mgmt.call(server, None, "GET", f"/buckets/{bucket}/webhook/deliveries"))["deliveries"]
    assert {d["attempts"] for d in dead} == {3} and all("no answer within 1 s" in d["last_error"] for d in dead)
    assert _metric(server, "satchel_webhook_deliveries_total", outcome="dead") >= 6
    assert _metric(server, "satchel_webhook_queue_depth", state="dead") >= 6


def test_webhook_requests_are_checked(server: SatchelProcess, receiver: Receiver) -> None:
    _, bucket = _bucket(server)
    for url in ("ftp://example.com/", "https://u:p@example.com/", "not a url", "file:///etc/passwd"):
        reply = _put_webhook(server, bucket, url)
        assert reply.status_code == 400 and mgmt.error_code(reply) == "InvalidArgument", url
    reply = mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["doc.txt"], "kind": "swift",
                                                      "webhook": receiver.url})
    assert reply.status_code == 400 and "webhook" in reply.text
    member = server.create_user(f"m{int(time.time() * 1000) % 10**9}")
    assert mgmt.call(server, member, "PUT", f"/buckets/{bucket}/webhook", {"url": receiver.url}).status_code == 403
    assert mgmt.call(server, member, "GET", f"/buckets/{bucket}/webhook/deliveries").status_code == 403


def test_no_secret_in_the_logs(server: SatchelProcess, receiver: Receiver) -> None:
    """The secrets of this test's webhooks, and of every test of this module that ran before, are nowhere in the
    server's log (access log on, debug level), after deliveries that succeeded and failed, nor in the clear in
    the metadata store."""
    _, bucket = _bucket(server)
    SECRETS.append(mgmt.ok(_put_webhook(server, bucket, receiver.url))["secret"])
    minted = _mint(server, bucket, webhook=receiver.url, max_uses=1)
    SECRETS.append(minted["webhook"]["secret"])
    url = minted["links"][0]["url"]
    assert requests.get(url, timeout=10).status_code == 200
    assert requests.get(url, timeout=10).status_code == 403
    _wait(receiver, 4)  # each use: the bucket's webhook and the link's
    log = Path(server.log_path).read_text(errors="replace")
    assert "/_satchel/api/buckets/" in log  # the access log was on
    stored = b"".join(path.read_bytes() for path in server.data_dir.glob("meta.sqlite3*"))  # with the WAL
    for secret in SECRETS:
        assert secret not in log
        assert secret.removeprefix("whsec_") not in log
        assert secret.removeprefix("whsec_").encode() not in stored  # sealed, never in the clear


def test_two_workers_send_each_delivery_once(tmp_path: Path) -> None:
    proc = SatchelProcess(tmp_path / "data", extra_args=[*FAST, "--workers", "2"])
    proc.start()
    sink = Receiver()
    try:
        _, bucket = _bucket(proc)
        mgmt.ok(_put_webhook(proc, bucket, sink.url))
        url = _mint(proc, bucket)["links"][0]["url"]
        for _ in range(12):  # a fresh connection each: both workers serve uses, both deliver
            assert requests.get(url, timeout=10, headers={"Connection": "close"}).status_code == 200
        _wait(sink, 12)
        time.sleep(0.5)  # a second copy of any of them would have arrived by now
        got = sink.snapshot()
        assert len(got) == 12 and len({r.headers["X-Satchel-Event-Id"] for r in got}) == 12
        assert {r.headers["X-Satchel-Attempt"] for r in got} == {"1"}
    finally:
        sink.close()
        proc.stop()


def test_loopback_refused_by_default(tmp_path: Path) -> None:
    proc = SatchelProcess(tmp_path / "data", extra_args=["--webhook-poll-interval", "0.05",
                                                         "--webhook-dead-max-per-bucket", "3"])
    proc.start()
    sink = Receiver()
    try:
        _, bucket = _bucket(proc)
        for url in (sink.url, "http://localhost:1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/"):
            reply = _put_webhook(proc, bucket, url)
            assert reply.status_code == 400 and "webhook_allow_private" in reply.text, url
        # A name passes when set, but what it resolves to is checked at every delivery: loopback, never called.
        name = socket.gethostname()
        if not socket.gethostbyname(name).startswith("127."):
            pytest.skip("this host's name does not resolve to loopback")
        port = sink.url.split(":")[2].split("/")[0]
        mgmt.ok(_put_webhook(proc, bucket, f"http://{name}:{port}/hook"))
        url = _mint(proc, bucket)["links"][0]["url"]
        for _ in range(5):
            assert requests.get(url, timeout=10).status_code == 200
            time.sleep(0.3)  # one audit batch each: every delivery finds room in the queue
        # Dead at the first try (trying again cannot help), and at most webhook_dead_max_per_bucket are kept.
        assert eventually(lambda: _metric(proc, "satchel_webhook_deliveries_total", outcome="dead") == 5, timeout=10)
        dead = mgmt.ok(mgmt.call(proc, None, "GET", f"/buckets/{bucket}/webhook/deliveries?state=dead"))
        assert len(dead["deliveries"]) == 3
        assert all(d["last_error"] == UNREACHABLE and d["attempts"] == 1 for d in dead["deliveries"])
        assert sink.snapshot() == []
    finally:
        sink.close()
        proc.stop()


def test_queue_is_bounded(tmp_path: Path) -> None:
    """A receiver that is down, retries far off: the pending queue fills to webhook_queue_max, the rest is
    dropped and counted."""
    proc = SatchelProcess(tmp_path / "data", extra_args=["--webhook-allow-private", "--webhook-poll-interval",
                                                         "0.05", "--webhook-retry-delay", "60",
                                                         "--webhook-queue-max", "3"])
    proc.start()
    try:
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            down = f"http://127.0.0.1:{closed.getsockname()[1]}/"  # bound, not listening: connection refused
            _, bucket = _bucket(proc)
            mgmt.ok(_put_webhook(proc, bucket, down))
            url = _mint(proc, bucket)["links"][0]["url"]
            for _ in range(5):
                assert requests.get(url, timeout=10).status_code == 200
            assert eventually(lambda: _metric(proc, "satchel_webhook_dropped_total") == 2, timeout=10)
            pending = mgmt.ok(mgmt.call(proc, None, "GET", f"/buckets/{bucket}/webhook/deliveries?state=pending"))
            assert len(pending["deliveries"]) == 3
            assert eventually(lambda: _metric(proc, "satchel_webhook_queue_depth", state="pending") == 3)
            assert eventually(lambda: _metric(proc, "satchel_webhook_deliveries_total", outcome="failed") == 3)
            assert all(d["attempts"] == 1 and d["last_error"] for d in mgmt.ok(mgmt.call(
                proc, None, "GET", f"/buckets/{bucket}/webhook/deliveries?state=pending"))["deliveries"])
    finally:
        proc.stop()


def test_hanging_receivers_do_not_hold_up_another_users_delivery(tmp_path: Path) -> None:
    """One user's ten buckets with receivers that never answer (30 deliveries, more than a worker's 16 sending
    slots): another user's notification still arrives within seconds, not after the hanging ones time out."""
    proc = SatchelProcess(tmp_path / "data", extra_args=["--webhook-allow-private", "--webhook-poll-interval",
                                                         "0.05", "--webhook-timeout", "20",
                                                         "--webhook-retry-delay", "60"])
    proc.start()
    sink = Receiver()
    hang = socket.socket()
    try:
        hang.bind(("127.0.0.1", 0))
        hang.listen(128)  # connections complete in the backlog, are never accepted, never answered
        hanging = f"http://127.0.0.1:{hang.getsockname()[1]}/"
        for _ in range(10):
            _, bucket = _bucket(proc)
            mgmt.ok(_put_webhook(proc, bucket, hanging))
            url = _mint(proc, bucket)["links"][0]["url"]
            for _ in range(3):
                assert requests.get(url, timeout=10).status_code == 200
        assert eventually(lambda: _metric(proc, "satchel_webhook_queue_depth", state="pending") == 30, timeout=10)
        time.sleep(0.5)  # the hanging sends are under way
        bob = proc.create_user("bob")
        s3 = make_client(proc, bob)
        bucket = unique_bucket("whbob")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"bob's")
        mgmt.ok(mgmt.call(proc, bob, "PUT", f"/buckets/{bucket}/webhook", {"url": sink.url}))
        minted = mgmt.ok(mgmt.call(proc, bob, "POST", "/links", {"bucket": bucket, "keys": ["doc.txt"]}))
        url = minted["links"][0]["url"]
        started = time.monotonic()
        assert requests.get(url, timeout=10).content == b"bob's"
        _wait(sink, 1, timeout=5.0)
        assert time.monotonic() - started < 5.0
        assert json.loads(sink.snapshot()[0].body)["event"]["bucket"] == bucket
    finally:
        hang.close()
        sink.close()
        proc.stop()


def test_mint_call_webhooks_capped_per_user(tmp_path: Path, receiver: Receiver) -> None:
    """webhook_max_per_user: beyond it a mint call with a webhook is 409 and mints nothing; without one it works."""
    proc = SatchelProcess(tmp_path / "data", extra_args=["--webhook-allow-private", "--webhook-max-per-user", "1"])
    proc.start()
    try:
        _, bucket = _bucket(proc)
        _mint(proc, bucket, webhook=receiver.url)
        refused = mgmt.call(proc, None, "POST", "/links", {"bucket": bucket, "keys": ["doc.txt"],
                                                           "webhook": receiver.url})
        assert refused.status_code == 409 and "webhook_max_per_user" in refused.text
        listed = mgmt.ok(mgmt.call(proc, None, "GET", f"/links?bucket={bucket}"))
        assert len(listed["links"]) == 1  # the refused call minted nothing
        assert _mint(proc, bucket)["links"]  # a mint call without a webhook is not limited by it
    finally:
        proc.stop()


def test_lowered_retry_max_delay_applies_to_queued_deliveries_after_restart(tmp_path: Path) -> None:
    """A retry planned minutes away under the old settings comes within the new webhook_retry_max_delay
    once the server restarts with it."""
    sink = Receiver(statuses=(500,))
    slow = ["--webhook-allow-private", "--webhook-poll-interval", "0.05", "--webhook-retry-delay", "600",
            "--webhook-retry-max-delay", "600"]
    proc = SatchelProcess(tmp_path / "data", extra_args=slow)
    proc.start()
    try:
        _, bucket = _bucket(proc)
        mgmt.ok(_put_webhook(proc, bucket, sink.url))
        assert requests.get(_mint(proc, bucket)["links"][0]["url"], timeout=10).status_code == 200
        _wait(sink, 1)  # answered 500: the next try is 300 to 600 s away
        pending = mgmt.ok(mgmt.call(proc, None, "GET", f"/buckets/{bucket}/webhook/deliveries?state=pending"))
        assert len(pending["deliveries"]) == 1 and pending["deliveries"][0]["attempts"] == 1
        proc.extra_args = (*slow[:-1], "0.3")
        proc.restart()
        got = _wait(sink, 2, timeout=8.0)
        assert got[1].headers["X-Satchel-Attempt"] == "2"
    finally:
        sink.close()
        proc.stop()


def test_deleting_a_user_drops_its_mint_call_webhooks_deliveries(tmp_path: Path) -> None:
    """A member's mint-call webhook with deliveries waiting (receiver down, retries far off): deleting the member
    deletes them in the same transaction, so they neither go out nor count against another account's share."""
    proc = SatchelProcess(tmp_path / "data", extra_args=["--webhook-allow-private", "--webhook-poll-interval",
                                                         "0.05", "--webhook-retry-delay", "60"])
    proc.start()
    try:
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            down = f"http://127.0.0.1:{closed.getsockname()[1]}/"  # bound, not listening: connection refused
            _, bucket = _bucket(proc)
            member = proc.create_user("whmember")
            proc.grant("whmember", bucket, "read", share=True)
            minted = mgmt.ok(mgmt.call(proc, member, "POST", "/links",
                                       {"bucket": bucket, "keys": ["doc.txt"], "webhook": down}))
            url = minted["links"][0]["url"]
            for _ in range(3):
                assert requests.get(url, timeout=10).status_code == 200
            assert eventually(lambda: _metric(proc, "satchel_webhook_queue_depth", state="pending") == 3, timeout=10)
            mgmt.ok(mgmt.call(proc, None, "DELETE", "/users/whmember"))
            assert eventually(lambda: _metric(proc, "satchel_webhook_queue_depth", state="pending") == 0, timeout=10)
            assert requests.get(url, timeout=10).status_code == 403  # its signer is gone
            time.sleep(0.5)  # the refusal's batch: nothing queued for a deleted creator
            assert _metric(proc, "satchel_webhook_queue_depth", state="pending") == 0
    finally:
        proc.stop()
