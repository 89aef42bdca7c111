"""Group commit: the metadata writer commits the writes that queued up together, each one still
whole or not at all, and never abandons a write that has started."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from satchel.core.errors import Conflict
from satchel.core.models import Bucket
from satchel.core.writer import MetadataWriter
from satchel.meta.sqlite import SqliteStore
from tests.unit.meta.conftest import World

pytestmark = pytest.mark.timeout(30)  # a writer thread that died would leave a test waiting forever


class Recorder:
    """The store's group, counting the writes each commit carried."""

    def __init__(self, store: SqliteStore, fail_commit: bool = False) -> None:
        self.store = store
        self.fail_commit = fail_commit
        self.groups: list[int] = []
        self._running = 0

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        with self.store.group():
            yield
            self.groups.append(self._running)
            if self.fail_commit:
                raise OSError("the disk went away before the commit")

    def counted(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            self._running += 1
            return fn(*args)

        return call


def bucket(world: World, name: str) -> Bucket:
    return Bucket(name, world.account.id, world.user.id, 1.0)


class Blocker:
    """A write that holds the writer thread until released; ``then`` runs once it is let go."""

    def __init__(self, then: Callable[[], Any] = lambda: None) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self._then = then

    def __call__(self) -> Any:
        self.started.set()
        self.release.wait(10)
        return self._then()

    async def running(self) -> None:
        """Until the writer thread is inside this write."""
        await asyncio.get_running_loop().run_in_executor(None, self.started.wait, 10)


async def queued_behind_a_blocker(writer: MetadataWriter, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Hold the writer thread on one write, queue ``calls`` meanwhile, then let it go."""
    blocker = Blocker()
    first = asyncio.ensure_future(writer.run(blocker))
    await blocker.running()
    rest = [asyncio.ensure_future(writer.run(call)) for call in calls]
    await asyncio.sleep(0.01)  # every call is in the queue
    blocker.release.set()
    await first
    return await asyncio.gather(*rest, return_exceptions=True)


def test_writes_that_queue_up_share_one_commit_and_each_stands_alone(store: SqliteStore, world: World) -> None:
    recorder = Recorder(store)
    writer = MetadataWriter(recorder.group)

    def half_done() -> None:
        with store._db.transaction() as c:  # changes something, then fails: its savepoint is undone
            c.execute("UPDATE buckets SET max_link_lifetime = 5 WHERE name = 'photos'")
            raise ValueError("failed half way")

    calls = [recorder.counted(f) for f in (
        lambda: store.create_bucket(bucket(world, "a")),
        lambda: store.create_bucket(bucket(world, "a")),
        half_done,
        lambda: store.create_bucket(bucket(world, "b")),
    )]
    try:
        outcomes = asyncio.run(queued_behind_a_blocker(writer, calls))
    finally:
        writer.close()
    assert recorder.groups == [4]  # the four queued writes went out in one commit
    assert isinstance(outcomes[0], Bucket) and isinstance(outcomes[3], Bucket)
    assert isinstance(outcomes[1], Conflict)
    assert isinstance(outcomes[2], ValueError)
    assert {b.name for b in store.list_buckets()} == {"photos", "a", "b"}
    photos = store.get_bucket("photos")
    assert photos is not None and photos.max_link_lifetime is None


def test_a_failed_shared_commit_fails_every_write_in_it(store: SqliteStore, world: World) -> None:
    recorder = Recorder(store, fail_commit=True)
    writer = MetadataWriter(recorder.group)
    calls = [functools.partial(store.create_bucket, bucket(world, n)) for n in ("a", "b", "c")]
    try:
        outcomes = asyncio.run(queued_behind_a_blocker(writer, calls))
    finally:
        writer.close()
    assert recorder.groups == [0]
    assert all(isinstance(o, OSError) for o in outcomes)
    assert {b.name for b in store.list_buckets()} == {"photos"}


@pytest.mark.sqlite_only
def test_a_group_rolled_back_under_the_writes_fails_them_all(store: SqliteStore, world: World) -> None:
    # SQLite rolls a whole transaction back on some errors (a full disk): the writes after that must
    # not commit on their own, and the ones before must not be reported as done.
    writer = MetadataWriter(store.group)

    def sqlite_gave_up() -> None:
        store._db.conn().execute("ROLLBACK")

    calls = [lambda: store.create_bucket(bucket(world, "a")), sqlite_gave_up,
             lambda: store.create_bucket(bucket(world, "b"))]
    try:
        outcomes = asyncio.run(queued_behind_a_blocker(writer, calls))
    finally:
        writer.close()
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    assert {b.name for b in store.list_buckets()} == {"photos"}


def test_a_lone_write_commits_on_its_own(store: SqliteStore, world: World) -> None:
    recorder = Recorder(store)
    writer = MetadataWriter(recorder.group)

    async def one() -> Bucket:
        return await writer.run(store.create_bucket, bucket(world, "solo"))

    try:
        assert asyncio.run(one()).name == "solo"
    finally:
        writer.close()
    assert recorder.groups == []
    assert store.get_bucket("solo") is not None


def test_a_queued_write_whose_caller_is_cancelled_never_runs(store: SqliteStore, world: World) -> None:
    writer = MetadataWriter(store.group)
    blocker = Blocker()

    async def scenario() -> None:
        first = asyncio.ensure_future(writer.run(blocker))
        await blocker.running()
        doomed = asyncio.ensure_future(writer.run(store.create_bucket, bucket(world, "never")))
        await asyncio.sleep(0.01)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        blocker.release.set()
        await first
        await writer.run(store.create_bucket, bucket(world, "after"))

    try:
        asyncio.run(scenario())
    finally:
        writer.close()
    assert store.get_bucket("never") is None
    assert store.get_bucket("after") is not None


def test_a_started_write_is_seen_through_before_the_cancellation_lands(store: SqliteStore, world: World) -> None:
    # publish() deletes the fresh blob when its write fails: it must learn that a write committed,
    # even when its task is cancelled while the commit runs.
    writer = MetadataWriter(store.group)
    slow_create = Blocker(then=lambda: store.create_bucket(bucket(world, "slow")))
    seen: list[object] = []

    async def caller() -> None:
        made = await writer.run(slow_create)
        seen.append(made.name)
        await asyncio.sleep(0)
        seen.append("not reached: cancelled at the next await")

    async def scenario() -> None:
        task = asyncio.ensure_future(caller())
        await slow_create.running()
        task.cancel()
        await asyncio.sleep(0.01)
        assert not task.done()  # still waiting for the write, not abandoned
        slow_create.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(scenario())
    finally:
        writer.close()
    assert seen == ["slow"]
    assert store.get_bucket("slow") is not None


def test_close_finishes_queued_writes_and_refuses_new_ones(store: SqliteStore, world: World) -> None:
    writer = MetadataWriter(store.group)

    async def scenario() -> None:
        pending = [asyncio.ensure_future(writer.run(store.create_bucket, bucket(world, f"q{i}"))) for i in range(5)]
        await asyncio.sleep(0)
        await asyncio.get_running_loop().run_in_executor(None, writer.close)
        await asyncio.gather(*pending)
        with pytest.raises(RuntimeError, match="closed"):
            await writer.run(store.create_bucket, bucket(world, "late"))

    asyncio.run(scenario())
    assert {f"q{i}" for i in range(5)} <= {b.name for b in store.list_buckets()}
    assert store.get_bucket("late") is None


def test_a_caller_whose_loop_closed_does_not_stop_the_writer(store: SqliteStore, world: World) -> None:
    writer = MetadataWriter(store.group)
    blocker = Blocker()
    left: list[asyncio.Future[None]] = []

    async def leave_early() -> None:
        left.append(asyncio.ensure_future(writer.run(blocker)))
        await blocker.running()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(leave_early())
        loop.set_exception_handler(lambda _loop, _context: None)  # "Task was destroyed but it is pending"
        loop.close()  # closed while its write still runs (run_until_complete leaves the task pending)
        blocker.release.set()

        async def later() -> Bucket:
            return await writer.run(store.create_bucket, bucket(world, "later"))

        assert asyncio.run(later()).name == "later"
    finally:
        blocker.release.set()
        writer.close()
