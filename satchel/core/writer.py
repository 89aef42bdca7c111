"""The metadata writer: one thread per worker that runs every metadata write, with group commit.

SQLite admits one writer at a time and every commit waits for fsync, so writes run one after the
other in this thread and never on the event loop. What queued up while a commit was running goes
into the next one together: each write is a savepoint of a shared transaction (it still happens
whole or not at all on its own) and they share one commit. Nothing waits to form a group; under
load, groups form by themselves, and a burst of small PUTs pays for one WAL fsync instead of one
each. If the shared commit fails, every write in it fails: none of them happened.

A write that has started is never abandoned. If the task awaiting it is cancelled meanwhile, it
still waits for the outcome and returns or raises it, and the cancellation arrives at its next
await: a caller that undoes its side effects when a write fails (``objects.publish`` deletes the
fresh blob) must not undo a write that committed. A write still queued when its task is cancelled
is dropped and never runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from satchel import metrics
from satchel.core.errors import ServiceUnavailable

T = TypeVar("T")

#: At most this many writes share one commit, so one group's savepoints stay a short transaction.
MAX_GROUP = 64

_QUEUED, _RUNNING, _DROPPED = "queued", "running", "dropped"


class _Job:
    __slots__ = ("_lock", "call", "future", "loop", "state")

    def __init__(self, call: Callable[[], Any], loop: asyncio.AbstractEventLoop) -> None:
        self.call = call
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.state = _QUEUED
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Writer side: claim the job; False when its caller gave up on it while it was queued."""
        return self._leave_queue(_RUNNING)

    def drop(self) -> bool:
        """Caller side: withdraw the job; False when the writer has already started it."""
        return self._leave_queue(_DROPPED)

    def _leave_queue(self, state: str) -> bool:
        """Move a queued job to ``state``; False when the other side moved it first. The writer and
        the caller race for a queued job, and exactly one of them wins."""
        with self._lock:
            if self.state == _QUEUED:
                self.state = state
                metrics.WRITE_QUEUE.dec()
            return self.state == state

    def finish(self, value: Any, error: BaseException | None) -> None:
        # A loop that closed meanwhile has no one left to tell; the writer thread must live on.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.future, value, error)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class MetadataWriter:
    """Runs blocking metadata writes in one thread, committing the ones that queue up together.

    ``group`` is the store's :meth:`~satchel.meta.store.Store.group`.
    """

    def __init__(self, group: Callable[[], AbstractContextManager[object]], *, name: str = "satchel-meta") -> None:
        self._group = group
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._started = False
        self._start_lock = threading.Lock()
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: object, bound: float | None = None, **kwargs: object) -> T:
        """Run ``fn(*args, **kwargs)`` in the writer thread and return what it returns.

        With ``bound``, wait at most that many seconds (a database that stopped answering holds the
        writer thread for as long as it hangs): a write still queued then is dropped and never runs
        (:class:`ServiceUnavailable`, nothing written); one already started is left to finish in the
        thread, unheard, and the caller gets :class:`ServiceUnavailable` marked ``outcome_unknown``: it
        may commit later.
        """
        if self._closed:
            raise RuntimeError("the metadata writer is closed")
        self._ensure_started()
        job = _Job(functools.partial(fn, *args, **kwargs), asyncio.get_running_loop())
        metrics.WRITE_QUEUE.inc()
        self._queue.put(job)
        try:
            if bound is not None:
                done, _ = await asyncio.wait({job.future}, timeout=bound)  # never cancels job.future
                if not done:
                    raise _gave_up(job, bound)
            result: T = await asyncio.shield(job.future)
            return result
        except asyncio.CancelledError:
            if job.drop():
                raise  # still queued: it will never run, so there is nothing to wait for
        # Started: what it did stands. Wait for it whatever happens, then pass the cancellation on.
        while not job.future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({job.future})
        task = asyncio.current_task()
        if task is not None:
            task.cancel()
        outcome: T = job.future.result()  # or its error
        return outcome

    def close(self) -> None:
        """Finish the writes already queued, then stop the thread."""
        self._closed = True
        with self._start_lock:
            if not self._started:
                return
        self._queue.put(None)
        self._thread.join()

    def _ensure_started(self) -> None:
        if self._started:
            return
        with self._start_lock:
            if not self._started:
                self._thread.start()
                self._started = True

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            started = time.perf_counter()
            jobs = [job for job in batch if job.start()]
            self._commit(jobs)
            if jobs:
                metrics.COMMIT_LATENCY.observe(time.perf_counter() - started)

    def _commit(self, jobs: list[_Job]) -> None:
        if not jobs:  # every caller gave up while queued
            return
        if len(jobs) == 1:
            value, error = _call(jobs[0])
            jobs[0].finish(value, error)
            return
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            with self._group():
                outcomes = [_call(job) for job in jobs]
        except BaseException as exc:  # the shared commit failed: none of the writes happened
            outcomes = [(None, exc)] * len(jobs)
        for job, (value, error) in zip(jobs, outcomes, strict=True):
            job.finish(value, error)


def _gave_up(job: _Job, bound: float) -> ServiceUnavailable:
    """The error of a write waited for ``bound`` seconds in vain (see :meth:`MetadataWriter.run`)."""
    if job.drop():
        return ServiceUnavailable(f"The metadata database did not answer within {bound:g} s; nothing was "
                                  "written. Retry.")
    unknown = ServiceUnavailable(f"The metadata database did not answer within {bound:g} s; the change may "
                                 "still be applied. Retry.")
    unknown.outcome_unknown = True
    return unknown


def _call(job: _Job) -> tuple[Any, BaseException | None]:
    try:
        return job.call(), None
    except BaseException as exc:
        return None, exc
