"""The connection to the upstream S3 cluster that holds blobs: one botocore client, a bounded thread pool,
and one translation of every upstream failure.

Why botocore in threads rather than an async client on h11: botocore already does what an upstream
client must get exactly right — SigV4 signing, S3's error XML (including the ``200 OK`` whose body is an
error, which ``CompleteMultipartUpload`` and ``CopyObject`` may send), retries with backoff on 5xx and
connection errors, pagination, and ``Expect: 100-continue`` — and it is a dependency already. What it
costs is one thread hop per call and per streamed 256 KiB chunk: ~0.1 ms measured on the loaded two-core
development machine, against ~1 ms for the smallest upstream round trip. ``bench/`` (``satchel-s3`` ÷
``satchel``, quick run, 256 MiB object, same machine) puts the rest in perspective: 1 KiB GETs run at
local speed (small blobs are cached), large GETs at 0.2-0.5x of local disk, bounded first by the
upstream (SeaweedFS alone served 340-380 MB/s there) and then by ~1 s of Satchel CPU per GiB for
reading through botocore/urllib3 in Python. An h11 client with botocore's signer was not built: it
would save the hops, not the upstream's share, and would have to redo the error handling and retries
above.

Threads and connections. The pool has ``blobs_threads`` threads: a call holds one while it runs, and a
streamed download only while it reads one 256 KiB chunk (``s3.py``), so far more downloads than threads
stream at once and take turns, chunk by chunk, in the pool's queue. Between chunks a download keeps its
GET's connection (its body is still arriving on it), so the connections open at once are up to one per
download in flight plus one per thread: bounded by ``max_connections`` (a download is a client
connection) plus ``blobs_threads``. urllib3 keeps that many for reuse (``connections``): sized to the
threads alone, as it once was, every download past the 16th opened a connection of its own and dropped
it at the end with a "Connection pool is full" warning, one log line per download under load.

The wait bound. No client waits on the upstream longer than

    ``deadline = blobs_attempts * (blobs_connect_timeout + blobs_read_timeout) + DEADLINE_MARGIN``

for any one upstream call (a PUT, a part, a GET, one 256 KiB read of a body) before it is answered
``503 SlowDown``: with the defaults (3 * (2 + 10) + 1) 37 s, under the 60 s after which botocore and
the aws cli stop waiting for a read (see ``config.py``); with ``attempts 2, connect 1, read 3``,
9 s. Three things make that hold end to end, not just per socket operation: botocore tries a request
``blobs_attempts`` times in all (``total_max_attempts``; its ``max_attempts`` would count *retries*,
one try more); every call is awaited for at most the remaining ``deadline`` — whatever else delays it
(botocore's back-off sleeps, a queue for a pool thread, an upstream that trickles a byte per read
timeout) — and then given up on (the thread finishes or times out on its own; a late GET's body is
closed); and a failed write's clean-up runs after the client has its answer (``s3.py``). Server-side
copies are the exception: one ``CopyObject`` of up to 5 GiB may legitimately take longer than any wait
bound before the upstream answers, so those are bounded by botocore's timeouts alone.

Failures. The upstream unreachable, timing out, or answering 5xx / ``SlowDown`` after botocore's retries
becomes :class:`~satchel.core.errors.SlowDown` (``503``; Swift ``503``), which every S3 client retries
with backoff — never an internal error, and never anything half-written (see ``s3.py``). An upstream
``403`` or ``NoSuchBucket`` (a configuration error the operator must fix) is answered the same way and
logged as an error. A missing key becomes ``FileNotFoundError``, as the blob store contract asks. The
secret key is never logged: log lines name the operation, the status and the upstream's error code only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from satchel.blobs.arenas import limit_arenas
from satchel.core.errors import SlowDown

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Upstream error codes that mean "this key (or upload) is not there".
MISSING = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchUpload"})
#: How often one failure is logged at most (seconds): an outage must not flood the log.
LOG_EVERY = 10.0
#: Bounds of one readiness check (:meth:`Upstream.probe`), far below the load balancer's check interval.
PROBE_CONNECT_TIMEOUT = 1.0
PROBE_READ_TIMEOUT = 1.5
#: Seconds added to ``attempts * (connect + read timeout)`` in the wait bound (see above): room for
#: botocore's own bookkeeping, so that the bound cuts only a call botocore would not end by itself.
DEADLINE_MARGIN = 1.0


def unavailable() -> SlowDown:
    """SlowDown itself, not a subclass: every front-end maps error classes exactly. The client learns
    nothing of the upstream but that it should retry; the log says which call failed and how."""
    return SlowDown("The storage behind this server is unavailable; please retry shortly.")


@dataclass(frozen=True)
class Location:
    """Where blobs go: ``s3://bucket/prefix`` parsed."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{url!r} is not s3://bucket or s3://bucket/prefix")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, f"{prefix}/" if prefix else "")

    def key(self, blob_id: str) -> str:
        return self.prefix + blob_id


class Upstream:
    """A botocore S3 client for one endpoint and its thread pool. Thread-safe; shared by a worker's
    requests."""

    def __init__(self, *, endpoint_url: str | None, region: str, access_key_id: str | None,
                 secret_access_key: str | None, threads: int, connect_timeout: float, read_timeout: float,
                 attempts: int, connections: int = 0) -> None:
        import botocore.session
        from botocore.config import Config

        session = botocore.session.get_session()
        config = Config(
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            # Tries in all: ``max_attempts`` would count retries, one try more than blobs_attempts says.
            retries={"total_max_attempts": attempts, "mode": "standard"},
            # Kept for reuse: one per thread and one per download streaming (see the module docstring).
            max_pool_connections=threads + connections,
            s3={"addressing_style": "path"},
            # The payload is signed (SHA-256) over plain HTTP, and TLS protects it otherwise: an extra
            # CRC32 per request would only cost CPU.
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            tcp_keepalive=True,
        )
        self.client: Any = session.create_client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key, config=config)
        # Readiness checks (``probe``): one try, short timeouts, a connection of their own.
        self._probe_client: Any = session.create_client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config.merge(Config(connect_timeout=PROBE_CONNECT_TIMEOUT, read_timeout=PROBE_READ_TIMEOUT,
                                       retries={"total_max_attempts": 1, "mode": "standard"},
                                       max_pool_connections=1)))
        limit_arenas()  # before the pool's threads exist (arenas.py: 64 downloads held ~100 MiB more)
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="satchel-upstream")
        self._last_logged: dict[str, float] = {}
        #: The longest a client waits on one upstream call (see the module docstring).
        self.deadline = attempts * (connect_timeout + read_timeout) + DEADLINE_MARGIN

    async def run(self, fn: Callable[..., T], *args: Any, bounded: bool = True) -> T:
        """``fn(*args)`` on the pool; its upstream failures translated (see :meth:`translate`).

        ``bounded``: given up on after :attr:`deadline` (``SlowDown``), as when the caller is cancelled.
        A call given up on that has not started never will (an outage must not leave a queue of calls
        to send once it ends); one already running cannot be stopped: it ends by botocore's own
        timeouts, and what it returns late is released then."""
        work = self.pool.submit(self.translated, fn, *args)
        running = asyncio.wrap_future(work)
        if not bounded:
            return await running
        try:
            # asyncio.wait, not wait_for: on a timeout or a cancelled caller, the call is given up on
            # below, not cancelled under a thread that still holds what it will return.
            done, _ = await asyncio.wait({running}, timeout=self.deadline)
        except asyncio.CancelledError:
            _give_up(work, running)
            raise
        if not done:
            _give_up(work, running)
            self.note(getattr(fn, "__name__", "upstream"), f"no answer within {self.deadline:g} s", error=False)
            raise unavailable()
        return running.result()

    async def call(self, operation: str, *, bounded: bool = True, **params: Any) -> Any:
        """One upstream operation (botocore's snake_case name) off the event loop."""
        return await self.run(self.call_sync, operation, params, bounded=bounded)

    def call_sync(self, operation: str, params: dict[str, Any]) -> Any:
        return self.translated(getattr(self.client, operation), **params)

    def translated(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            translated = self.translate(exc, getattr(fn, "__name__", "upstream"))
            if translated is exc:
                raise
            raise translated from exc

    def translate(self, exc: Exception, operation: str) -> Exception:
        """The exception the blob store contract expects for an upstream failure."""
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if code in MISSING or (status == 404 and code != "NoSuchBucket"):
                return FileNotFoundError(operation)
            self.note(operation, f"HTTP {status} {code}", error=status < 500 and code not in ("SlowDown",))
            return unavailable()
        if isinstance(exc, BotoCoreError):
            self.note(operation, type(exc).__name__, error=False)
            return unavailable()
        return exc

    def note(self, operation: str, what: str, *, error: bool) -> None:
        """Log one upstream failure, at most once per LOG_EVERY seconds for the same operation and cause."""
        now = time.monotonic()
        key = f"{operation} {what}"
        if now - self._last_logged.get(key, -LOG_EVERY) < LOG_EVERY:
            return
        self._last_logged[key] = now
        level = logging.ERROR if error else logging.WARNING
        log.log(level, "blob store upstream: %s failed: %s", operation, what)

    def probe(self, bucket: str) -> None:
        """``HeadBucket``, once, within PROBE_CONNECT_TIMEOUT + PROBE_READ_TIMEOUT seconds: raises unless
        the upstream answers that the bucket is there and ours (readiness; ``satchel/readiness.py``)."""
        self._probe_client.head_bucket(Bucket=bucket)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()
        self._probe_client.close()


def _give_up(work: concurrent.futures.Future[Any], running: asyncio.Future[Any]) -> None:
    if not work.cancel():  # already running: release what it returns
        running.add_done_callback(_release)


def _release(late: asyncio.Future[Any]) -> None:
    """What a call given up on returns after all: its exception is consumed (no "never retrieved"
    warning), a GET's body closed (it holds a pooled connection)."""
    if late.cancelled() or late.exception() is not None:
        return
    result = late.result()
    if isinstance(result, dict) and "Body" in result:
        result["Body"].close()
