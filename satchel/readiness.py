"""Whether the blob store answers, as ``/_satchel/health/ready`` asks it: bounded, cached, shared.

A load balancer polls readiness every second or two on every node; the answer must not double the
upstream's traffic, stall the event loop, or wait longer than the balancer's own check timeout. So one
check (the blob store's ``probe``: a ``HeadBucket`` on an S3 upstream, a ``stat`` of the blob directory
on local disk) runs at a time per worker, in a thread of its own (never the upstream's pool, which a busy
node may have full: busy is not unready), is given up on after ``timeout`` seconds, and its answer
serves every readiness request for ``ttl`` seconds; requests that arrive while it runs await the same
check. A change of answer is logged once (not once per poll).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable

log = logging.getLogger("satchel")

#: Seconds one readiness answer is reused: a balancer polling every second costs the upstream one
#: request every two seconds per worker at most.
TTL = 2.0
#: Seconds a check may take before the blob store counts as not answering.
TIMEOUT = 3.0


class ReadinessProbe:
    def __init__(self, check: Callable[[], None], *, what: str, timeout: float = TIMEOUT, ttl: float = TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check = check
        self._what = what
        self._timeout = timeout
        self._ttl = ttl
        self._clock = clock
        self._answer: tuple[float, bool] | None = None
        self._running: asyncio.Future[bool] | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="satchel-ready")
        self._ok = True

    async def __call__(self) -> bool:
        """True when the last check (at most ``ttl`` seconds old) found the blob store answering."""
        if self._answer is not None and self._clock() - self._answer[0] < self._ttl:
            return self._answer[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._probe())
        # shield: a client that hangs up does not cancel the check the others await.
        return await asyncio.shield(self._running)

    async def _probe(self) -> bool:
        reason = ""
        try:
            checking = asyncio.get_running_loop().run_in_executor(self._thread, self._check)
            done, _ = await asyncio.wait({checking}, timeout=self._timeout)
            if not done:
                # The thread finishes on the check's own timeouts; the next check queues behind it.
                checking.add_done_callback(_consume)
                reason = f"no answer within {self._timeout:g} s"
            elif (failure := checking.exception()) is not None:
                reason = _describe(failure)
        finally:
            self._running = None
        ok = not reason
        self._answer = (self._clock(), ok)
        if ok != self._ok:
            self._ok = ok
            if ok:
                log.warning("%s answers again: ready", self._what)
            else:
                log.warning("%s does not answer (%s): not ready until it does", self._what, reason)
        return ok

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


def _consume(late: asyncio.Future[None]) -> None:
    if not late.cancelled():
        late.exception()  # retrieved: no "never retrieved" warning


def _describe(failure: BaseException) -> str:
    """The failure without anything secret: a type, an upstream's status and code, an errno."""
    response = getattr(failure, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return f"HTTP {status} {error.get('Code', '')}".strip()
    if isinstance(failure, OSError) and failure.strerror:
        return f"{type(failure).__name__}: {failure.strerror}"
    return type(failure).__name__
