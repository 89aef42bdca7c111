"""The webhook queue's rules: backoff with jitter, when a delivery is retried or dead, URL checks."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest

from satchel.core import webhookqueue, webhooks
from satchel.core.errors import InvalidArgument
from satchel.core.models import AuditEvent, Bucket, Role, Status
from satchel.meta.sqlite import SqliteStore
from satchel.meta.webhooks import BUCKET_SCOPE, DEAD, DELIVERED, LINKS_SCOPE, PENDING, StoredWebhook


def test_backoff_doubles_capped_with_jitter_in_upper_half() -> None:
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (60, 60.0), (10_000, 60.0)]:
        for _ in range(50):
            delay = webhookqueue.retry_delay(attempts, base=2.0, cap=60.0, rng=rng)
            assert ceiling / 2 <= delay <= ceiling
    delays = {round(webhookqueue.retry_delay(3, base=2.0, cap=60.0, rng=rng), 6) for _ in range(20)}
    assert len(delays) > 10  # jittered, not one fixed value


@pytest.mark.parametrize(("attempts", "ok", "permanent", "created", "state"), [
    (1, True, False, 0.0, DELIVERED),
    (1, False, False, 0.0, PENDING),
    (4, False, False, 0.0, PENDING),
    (5, False, False, 0.0, DEAD),  # tries used up
    (1, False, True, 0.0, DEAD),  # refused destination: trying again cannot help
    (1, False, False, -1000.0, DEAD),  # the retry would come after max_age
])
def test_settle(attempts: int, ok: bool, permanent: bool, created: float, state: str) -> None:
    found, later = webhookqueue.settle(attempts=attempts, created=created, now=100.0, ok=ok, permanent=permanent,
                                       max_attempts=5, max_age=1000.0, base=1.0, cap=10.0)
    assert found == state
    assert (later > 100.0) is (state == PENDING)


@pytest.mark.parametrize("url", [
    "ftp://example.com/", "file:///etc/passwd", "https://user:pw@example.com/", "https://example.com/#x",
    "http:///nohost", "https://example.com:99999/", "https://example.com:0/", "", "x" * 3000, "https://exa mple.com/", "https://例え.jp/",
    "http://127.0.0.1:8080/", "http://[::1]/", "http://169.254.169.254/latest/", "http://10.1.2.3/",
    "http://localhost/", "http://foo.localhost/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://100.64.0.1/",
])
def test_refused_urls(url: str) -> None:
    with pytest.raises(InvalidArgument):
        webhooks.check_url(url, allow_private=False)


def test_allowed_urls() -> None:
    assert webhooks.check_url("https://hooks.example.com/x?y=1", allow_private=False)
    assert webhooks.check_url("http://8.8.8.8:81/", allow_private=False)
    assert webhooks.check_url("http://127.0.0.1:8080/", allow_private=True)


def test_public_addresses() -> None:
    assert webhooks.is_public(ipaddress.ip_address("93.184.216.34"))
    assert webhooks.is_public(ipaddress.ip_address("2606:2800:220:1::1"))
    unspecified = "0.0.0.0"  # noqa: S104 - an address checked, not bound
    for private in ("127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "::1", "fe80::1",
                    "fc00::1", "224.0.0.1", "::ffff:10.0.0.1", unspecified, "100.64.0.1",
                    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
                    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
                    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
                    "::8.8.8.8", "::7f00:1",  # IPv4-compatible (deprecated), even of a public address
                    "::ffff:0:8.8.8.8", "::ffff:0:7f00:1",  # IPv4-translated
                    "64:ff9b:1::8.8.8.8",  # local-use NAT64
                    "fec0::1"):  # site-local
        assert not webhooks.is_public(ipaddress.ip_address(private)), private


def test_queued_for_bucket_and_signed_link(tmp_path: Path) -> None:
    """A use goes to its bucket's webhook, and to its link's only when the link's signer made that webhook:
    someone else's event naming the link id does not, and a refusal whose signature was never verified (no
    user: unknown key, bad signature) goes nowhere, not even to the bucket's (anyone can make those)."""
    store = SqliteStore(tmp_path / "meta.sqlite3")
    try:
        account = store.create_account("acme")
        alice = store.create_user(account.id, "alice", Role.MEMBER)
        bucket = store.create_bucket(Bucket("photos", account.id, alice.id, 1.0))
        other = store.create_bucket(Bucket("other", account.id, alice.id, 1.0))
        store.put_webhook(StoredWebhook("b", bucket.id, BUCKET_SCOPE, "https://x/", b"s", 1.0, alice.id))
        store.put_webhook(StoredWebhook("m", bucket.id, LINKS_SCOPE, "https://y/", b"s", 1.0, alice.id), ["L1"])

        def event(action: str = "use", user: str | None = alice.id, link: str | None = "L1",
                  bucket_id: str | None = bucket.id) -> AuditEvent:
            return AuditEvent(time=1.0, action=action, outcome="refused", bucket="photos", bucket_id=bucket_id,
                              link_id=link, user_id=user)

        def targets(*events: AuditEvent) -> list[tuple[int, str]]:
            found = webhookqueue.queued_for(store, list(events))
            return [(next(i for i, e in enumerate(events) if e is d.event), d.endpoint_id) for d in found]

        assert targets(event()) == [(0, "b"), (0, "m")]
        assert targets(event(user=None)) == []  # signature not verified: audited only
        assert targets(event(user=None), event()) == [(1, "b"), (1, "m")]
        assert targets(event(user="mallory")) == [(0, "b")]
        assert targets(event(link="L2")) == [(0, "b")]
        assert targets(event(bucket_id=other.id)) == []  # L1's webhook is for its own bucket only
        assert targets(event(action="mint"), event(action="revoke"), event(bucket_id=None)) == []
        store.update_user(alice.id, status=Status.DISABLED)
        assert targets(event()) == [(0, "b")]  # a disabled signer's webhook hears nothing more
    finally:
        store.close()
