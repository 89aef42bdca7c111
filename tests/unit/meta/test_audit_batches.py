"""Audit batches that fail (core/audit.py), on each engine: every event and every use is written exactly
once whatever the store did to the tries before (attack 11, finding 1).

- a batch whose COMMIT succeeded but whose answer was lost (a connection dropped, a failover) is tried
  again without writing an event or counting a use twice, and what came since is written too;
- one event the store keeps refusing is dropped alone (counted), never holding the others;
- at most MAX_BUFFERED events wait for the store; beyond that (and at a stop while the store is still away)
  the loss is counted, never silent;
- recording never needs the store: a bucket id it could not read is looked up when the event is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from satchel import metrics
from satchel.core import audit
from satchel.core.audit import AuditLog
from satchel.core.errors import ServiceUnavailable
from satchel.core.models import AuditEvent, AuditQuery
from satchel.meta.sqlite import SqliteStore
from tests.unit.meta.conftest import World
from tests.unit.meta.test_sqlite_sharing import link


class Writes:
    """The writer thread's stand-in: runs each write, then fails as ``fail(batch)`` says (after the write:
    the commit happened, its answer was lost; ``before``: nothing happened)."""

    def __init__(self, fail: Callable[[Any], BaseException | None], *, before: bool = False) -> None:
        self.fail = fail
        self.before = before
        self.calls = 0

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        self.calls += 1
        error = self.fail(args[0]) if args else None
        if error is not None and self.before:
            raise error
        result = fn(*args)
        if error is not None:
            raise error
        return result


def use(world: World, n: int, reason: str | None = None) -> AuditEvent:
    return AuditEvent(time=100.0 + n, action="use", outcome="allowed", kind="s3v4", link_id="l1",
                      bucket="photos", bucket_id=world.bucket.id, reason=reason, request_id=f"r{n}")


def lost(reason: str) -> float:
    return float(metrics.AUDIT_LOST.labels(reason)._value.get())


def test_a_batch_committed_but_reported_failed_is_written_once(world: World, store: SqliteStore) -> None:
    store.create_links([link("l1", world)])
    failures = iter([ServiceUnavailable("the answer to COMMIT was lost")])
    writes = Writes(lambda batch: next(failures, None))
    log = AuditLog(store, writes)

    async def scenario() -> None:
        for n in range(3):
            log.record(use(world, n))
            log.count_use("l1", 100.0 + n)
        await log.flush()  # committed, but reported failed
        assert log.buffered == 3
        log.record(use(world, 3))  # meanwhile
        log.count_use("l1", 103.0)
        await log.flush()
        assert log.buffered == 0

    asyncio.run(scenario())
    events = store.query_audit(AuditQuery(link_id="l1"))
    assert sorted(e.request_id or "" for e in events) == ["r0", "r1", "r2", "r3"]
    found = store.get_link("l1")
    assert found is not None and found.uses == 4


def test_a_batch_that_failed_before_its_commit_is_written_whole(world: World, store: SqliteStore) -> None:
    store.create_links([link("l1", world)])
    failures = iter([ServiceUnavailable("down"), ServiceUnavailable("still down")])
    log = AuditLog(store, Writes(lambda batch: next(failures, None), before=True))

    async def scenario() -> None:
        log.record(use(world, 0))
        log.count_use("l1", 100.0)
        for _ in range(3):
            await log.flush()

    asyncio.run(scenario())
    assert len(store.query_audit(AuditQuery(link_id="l1"))) == 1
    found = store.get_link("l1")
    assert found is not None and found.uses == 1


def test_one_event_the_store_refuses_never_holds_the_others(world: World, store: SqliteStore) -> None:
    store.create_links([link("l1", world)])
    poisoned = Writes(lambda batch: ValueError("refused") if any(e.reason == "poison" for e in batch.events)
                      else None, before=True)
    log = AuditLog(store, poisoned)
    before = lost("refused")

    async def scenario() -> None:
        for n in range(9):
            log.record(use(world, n, "poison" if n == 2 else None))
            log.count_use("l1", 100.0 + n)
        for _ in range(40):  # bounded: SPLIT_AFTER tries per halving, log2(9) halvings
            await log.flush()
            if log.buffered == 0:
                break

    asyncio.run(scenario())
    assert sorted(e.request_id or "" for e in store.query_audit(AuditQuery(link_id="l1"))) == [
        f"r{n}" for n in range(9) if n != 2]
    found = store.get_link("l1")
    assert found is not None and found.uses == 9  # the counts were never the trouble
    assert lost("refused") == before + 1


def test_the_buffer_is_bounded_and_its_losses_are_counted(world: World, store: SqliteStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "MAX_BUFFERED", 5)
    down = [True]
    log = AuditLog(store, Writes(lambda batch: ServiceUnavailable("down") if down[0] else None, before=True))
    before = lost("buffer_full")

    async def scenario() -> None:
        for n in range(8):
            log.record(use(world, n))
            if n % 2:
                await log.flush()
        assert log.buffered == 5
        down[0] = False
        await log.flush()

    asyncio.run(scenario())
    assert len(store.query_audit(AuditQuery(link_id="l1"))) == 5
    assert lost("buffer_full") == before + 3


def test_what_a_stopping_worker_cannot_write_is_counted(world: World, store: SqliteStore) -> None:
    log = AuditLog(store, Writes(lambda batch: ServiceUnavailable("down"), before=True))
    before = lost("shutdown")

    async def scenario() -> None:
        for n in range(3):
            log.record(use(world, n))
        await log.flush()
        log.record(use(world, 3))
        await log.close()

    asyncio.run(scenario())
    assert lost("shutdown") == before + 4
    assert log.buffered == 0


def test_recording_never_needs_the_store(world: World, store: SqliteStore) -> None:
    def unavailable(name: str) -> str | None:
        raise ServiceUnavailable("down")

    log = AuditLog(store, Writes(lambda batch: None), unavailable)
    event = AuditEvent(time=1.0, action="use", outcome="refused", kind="s3v2", bucket="photos", status=503)
    log.record(event)  # no exception
    asyncio.run(log.flush())
    assert event.bucket_id == world.bucket.id
    assert [e.bucket_id for e in store.query_audit(AuditQuery(bucket_id=world.bucket.id))] == [world.bucket.id]
