"""Prometheus metrics, served at ``/_satchel/metrics`` in the text exposition format.

Every metric is defined here, and only here; instrumentation points are few and central: the app's
dispatch (requests, latency, bytes), the protocol (open connections, what it refuses before the app),
the audit trail and link minting (link mints, uses and refusals), the metadata writer (queue depth,
commit latency) and the garbage collector (backlog).

Multi-worker safe: Satchel runs one process per worker (``satchel/supervisor.py``), each with its own
counters. ``satchel serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at :func:`metrics_dir` (emptied at every
start, before any worker runs) so that prometheus-client's multiprocess mode keeps each worker's values
in a memory-mapped file there, and any worker answering a scrape sums them all. The supervisor removes
a dead worker's live gauges (connections, queue depth), as ``prometheus_client.multiprocess
.mark_process_dead`` would. Without the variable (tests, a bare ``create_app``) the values live in the
process, which is then the only one.

Access (see :func:`allowed`): open to loopback clients, and to others only with
``Authorization: Bearer <metrics_token>``; with no token set, only loopback may scrape. A request that
carries a forwarding header came through a proxy and is never a loopback scrape (``app.py``), so remote
scrapers through a reverse proxy on the same host need the token too.

Example::

    $ curl -s http://127.0.0.1:9000/_satchel/metrics | grep satchel_requests_total
    satchel_requests_total{frontend="s3",operation="GetObject",status="200"} 42.0
"""

from __future__ import annotations

import bisect
import functools
import hmac
import ipaddress
import os
import shutil
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from satchel import metricfiles

metricfiles.install()  # before any metric file exists: a full disk must not SIGBUS a worker

#: The variable prometheus-client reads, at import, to choose multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

REQUESTS = Counter("satchel_requests_total", "HTTP requests answered, by front-end, operation and status.",
                   ("frontend", "operation", "status"))
LATENCY = Histogram("satchel_request_duration_seconds",
                    "Time from a request's dispatch to the end of its response, by front-end and operation.",
                    ("frontend", "operation"), buckets=_LATENCY_BUCKETS)
BYTES_IN = Counter("satchel_received_bytes_total", "Request body bytes received, by front-end and operation.",
                   ("frontend", "operation"))
BYTES_OUT = Counter("satchel_sent_bytes_total", "Response body bytes sent, by front-end and operation.",
                    ("frontend", "operation"))
CONNECTIONS = Gauge("satchel_open_connections", "HTTP connections open now, all workers together.",
                    multiprocess_mode="livesum")
REFUSED_CONNECTIONS = Counter(
    "satchel_protocol_refusals_total",
    "Requests the HTTP layer refused or cut off before the application saw them (malformed, headers or "
    "chunk framing too large, header, body or send timeouts), by reason.", ("reason",))
LINK_EVENTS = Counter(
    "satchel_link_events_total",
    "Link mints, uses and revocations, by link kind, outcome and (for a refusal) the error code.",
    ("action", "kind", "outcome", "reason"))
WRITE_QUEUE = Gauge("satchel_metadata_write_queue_depth", "Metadata writes waiting for the writer thread.",
                    multiprocess_mode="livesum")
COMMIT_LATENCY = Histogram("satchel_metadata_commit_seconds",
                           "Time to run and commit one group of metadata writes.", buckets=_COMMIT_BUCKETS)
GC_BACKLOG = Gauge("satchel_gc_backlog",
                   "What the last garbage collection pass found to collect, by kind: a figure that grows from "
                   "pass to pass means the collector falls behind.",
                   ("kind",), multiprocess_mode="mostrecent")
GC_COLLECTED = Counter("satchel_gc_collected_total", "Items garbage collection removed, by kind.", ("kind",))
#: Bounds around the 5 ms goal of issue 14 (p99 lag under load), fine enough to tell 3 from 7 ms.
_LOOP_LAG_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
                     2.5)
LOOP_LAG = Histogram("satchel_event_loop_lag_seconds",
                     "How late each worker's event loop ran a timer (event_loop_lag_interval > 0): the time any "
                     "ready request waited for the loop at that moment, all workers together.",
                     buckets=_LOOP_LAG_BUCKETS)
# Link notifications (webhooks/delivery.py; drops in core/audit.py).
WEBHOOK_DELIVERIES = Counter(
    "satchel_webhook_deliveries_total",
    "Webhook delivery tries, by outcome: delivered, failed (tried again later), dead (given up: tries, age or a "
    "refused destination), skipped (its event already removed by audit retention).", ("outcome",))
AUDIT_LOST = Counter(
    "satchel_audit_events_lost_total",
    "Audit events never written (core/audit.py), by reason: buffer_full (MAX_BUFFERED events already waited for "
    "the store), refused (the store kept refusing that one event) or shutdown (still unwritten when the worker "
    "stopped).", ("reason",))
for _reason in ("buffer_full", "refused", "shutdown"):
    AUDIT_LOST.labels(_reason)  # shown at 0 from the start: an alert can watch it
WEBHOOK_DROPPED = Counter("satchel_webhook_dropped_total",
                          "Link notifications not queued because the queue held webhook_queue_max deliveries.")
WEBHOOK_QUEUE = Gauge("satchel_webhook_queue_depth",
                      "Webhook deliveries in the durable queue, by state: pending (to send or retry) and dead.",
                      ("state",), multiprocess_mode="mostrecent")


#: Headers a proxy adds to what it forwards (lower-case, as ASGI gives them): a request carrying any is no
#: loopback scrape. A local forwarder that adds none of them cannot be told from a local client: behind
#: one, set ``metrics_token`` and do not rely on loopback.
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip", b"true-client-ip", b"x-client-ip",
                                b"x-forwarded-host", b"x-forwarded-proto", b"via"})

#: Seconds between two writes of a worker's request counts to the shared metric files.
FLUSH_INTERVAL = 1.0


class RequestTally:
    """Request counts (and link events) of this process, added up in plain Python on the request path and
    written to the metric files every :data:`FLUSH_INTERVAL` seconds, when this worker answers a scrape,
    and at shutdown.

    Why not update the metrics per request: in multiprocess mode every update is a locked write to a
    memory-mapped file (~2 µs), and a request makes four of them (count, latency sum and bucket, bytes):
    measured, 10 to 20 µs of a ~100 µs small GET. A tally costs a dict lookup and a few additions. The
    price: another worker's counts reach a scrape up to a second late.

    The latency histogram is added to through its series' ``_sum`` and ``_buckets`` values (the client
    has no public call to add many observations at once); ``tests/clients/test_metrics.py`` checks the
    exposition it gives."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str, str], list[Any]] = {}
        self._counts: dict[tuple[Counter, tuple[str, ...]], float] = {}

    def count(self, counter: Counter, labels: tuple[str, ...], amount: float = 1) -> None:
        """Add to a counter at the next flush (link events: one per presigned request, on the hot path)."""
        key = (counter, labels)
        self._counts[key] = self._counts.get(key, 0) + amount

    def add(self, frontend: str, operation: str, status: int, duration: float, bytes_in: int,
            bytes_out: int) -> None:
        key = (frontend, operation, str(status))
        entry = self._pending.get(key)
        if entry is None:
            entry = self._pending[key] = [0, 0.0, 0, 0, [0] * (len(_LATENCY_BUCKETS) + 1)]
        entry[0] += 1
        entry[1] += duration
        entry[2] += bytes_in
        entry[3] += bytes_out
        entry[4][bisect.bisect_left(_LATENCY_BUCKETS, duration)] += 1  # le: the first bound >= duration

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        counts, self._counts = self._counts, {}
        for (counter, labels), amount in counts.items():
            counter.labels(*labels).inc(amount)
        for (frontend, operation, status), (count, total, received, sent, buckets) in pending.items():
            REQUESTS.labels(frontend, operation, status).inc(count)
            latency = LATENCY.labels(frontend, operation)
            latency._sum.inc(total)  # private: see the class docstring
            for index, observed in enumerate(buckets):
                if observed:
                    latency._buckets[index].inc(observed)  # private too
            if received:
                BYTES_IN.labels(frontend, operation).inc(received)
            if sent:
                BYTES_OUT.labels(frontend, operation).inc(sent)


TALLY = RequestTally()


def open_worker_files() -> None:
    """Create this worker's lazily made metric files now, while the disk has room.

    prometheus-client makes a worker's file of a kind (``gauge_mostrecent_<pid>.db``) on the first
    child of a labelled metric of that kind, which for the collector's and the webhook queue's gauges is
    their first pass: on a full disk that creation fails (``metricfiles``: ENOSPC instead of SIGBUS) and
    the pass with it. Children made here hold 0 with timestamp 0, which ``mostrecent`` ranks below any
    value a pass sets, so they show nothing another process has not measured."""
    for kind in ("dead_blobs", "orphan_blobs", "abandoned_uploads"):
        GC_BACKLOG.labels(kind)
    for state in ("pending", "dead"):
        WEBHOOK_QUEUE.labels(state)


def metrics_dir(data_dir: Path) -> Path:
    """Where the workers of the server on ``data_dir`` keep their metric files."""
    return data_dir / "run" / "metrics"


def reset_dir(path: Path) -> None:
    """Empty ``path`` before any worker starts: values of a previous run must not add to this one's."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)


def render() -> bytes:
    """The text exposition of every metric of every worker (this one's counts written first)."""
    TALLY.flush()
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def allowed(client: str, authorization: str, token: str | None) -> bool:
    """Whether a scrape from ``client`` with this ``Authorization`` header may read the metrics."""
    if is_loopback(client):
        return True
    if not token:
        return False
    scheme, _, given = authorization.partition(" ")
    # Constant time: the token must not leak a byte at a time through response timing.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def is_loopback(client: str) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback (a dual-stack socket's view of 127.0.0.1)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


#: Refusal codes of the Swift front-end (TempURL, FormPost), besides the S3 error codes it shares.
SWIFT_REASON_CODES = frozenset({
    "TempUrlInvalid", "TempUrlHeaderNotAllowed", "FormPostInvalid", "FormPostUnauthorized", "InvalidObjectName",
    "MaxFileCountExceeded", "NoFilesToProcess", "FormPostCutOff",
})
#: The label of a refusal whose reason starts with no known code.
OTHER_REASON = "other"


@functools.cache
def reason_codes() -> frozenset[str]:
    """Every ``reason`` label a link event may carry: the S3 and PAR error codes, the names of Satchel's
    errors, the Swift codes, and :data:`OTHER_REASON`. Read lazily: the error tables import the core,
    which imports this module."""
    from satchel.core import errors
    from satchel.par.errors import TABLE
    from satchel.s3.errors import S3_ERRORS

    def subclasses(cls: type[errors.SatchelError]) -> set[type[errors.SatchelError]]:
        found = {cls}
        for sub in cls.__subclasses__():
            found |= subclasses(sub)
        return found

    return frozenset({cls.__name__ for cls in subclasses(errors.SatchelError)}
                     | {code for code, _ in S3_ERRORS.values()} | {code for code, _ in TABLE.values()}
                     | {"InternalError", "InternalServerError", "IfMatchFailed", "IfNoneMatchFailed"}
                     | SWIFT_REASON_CODES | {OTHER_REASON})


def reason_label(outcome: str, reason: str | None) -> str:
    """A refusal's label: its error code (the reason's text before ':') when it is one of
    :func:`reason_codes`, else :data:`OTHER_REASON`; never free text, which would give each refused URL
    (or form, or file count) its own series. Empty for what was not refused."""
    if outcome != "refused":
        return ""
    code = (reason or "").split(":", 1)[0].strip()
    return code if code in reason_codes() else OTHER_REASON


def link_event(action: str, kind: str | None, outcome: str, reason: str | None) -> None:
    """Count one audit event, by :func:`reason_label`."""
    TALLY.count(LINK_EVENTS, (action, kind or "", outcome, reason_label(outcome, reason)))
