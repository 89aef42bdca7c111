"""Crash consistency: a mixed load from several clients, ``kill -9`` of the whole server, restart, verify.

Run the long form with ``python -m tests.fault.crash --seconds 300 --kills 40`` (``make crash``); the
short form is ``tests/fault/test_crash.py``. The server runs with several workers; every kill takes the
supervisor and all workers at once (their process group), at a random moment of the load, and the next
round restarts on the same data directory.

The model. Every object key is a register; every PUT, overwrite, multipart completion, copy, presigned
POST and DELETE is a write of a value (SHA-256 and size of the body, Content-Type, x-amz-meta-*; a
DELETE writes "absent"), with an interval [start, end] on one monotonic clock: ``start`` read before the
request is sent, ``end`` after the acknowledgement. A write without a 2xx (in flight at a kill, or
failed) may or may not have happened, but never after the kill: its interval ends at the kill. After
each restart a key must hold a value that no acknowledged write follows in real time (the rule of
``tests/fault/test_kill9.py``): so an acknowledged write or delete is never lost, only replaced by one
that overlapped it or came later. Every body is unique (or a copy of an immutable source), so a torn or
mixed object matches no write.

Links. Reusable links (minted through the management API) of immutable source objects must serve the
source's bytes; once revoked with a 2xx (``DELETE /links/{id}``, or a ``/revocations`` "before now" on
the key) they must be refused, during the load and after every restart. One-time links (``max_uses=1``)
are hit again and again by every client across all rounds: the 200s each one gets over the whole run
must be at most one. An acknowledged mint must survive: its link works after a restart.

At the end ``satchel admin gc`` (orphan grace 0) runs, and every blob file on disk must be referenced by
the metadata (an object's segments or an upload's parts), with nothing left in ``blobs/tmp``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from satchel.cli.apiclient import ApiClient, ApiError, Secret
from tests.clients.server import REGION, SatchelProcess

INF = float("inf")
BUCKET = "crash"
OBJECT_KEYS = [f"obj/{i:02d}" for i in range(24)]
SOURCE_KEYS = [f"src/{i:02d}" for i in range(6)]
REVOKE_KEYS = [f"rvk/{i:02d}" for i in range(4)]
CONTENT_TYPES = ["application/octet-stream", "text/plain", "image/png", "application/x-crash-test"]
MAX_BODY = 1024 * 1024
PART_SIZE = 5 * 1024 * 1024
ONE_TIME_POOL = 12
REUSABLE_POOL = 24
HTTP_TIMEOUT = 20


@dataclass
class Write:
    """One write of a key's value; ``sha256`` None is a DELETE (the value "absent")."""

    key: str
    sha256: str | None
    size: int
    content_type: str | None
    meta: tuple[tuple[str, str], ...]
    start: float
    end: float = INF
    acknowledged: bool = False
    op: str = "put"


def initial(key: str) -> Write:
    """The value every key has before anything was written: acknowledged at the beginning of time."""
    return Write(key, None, 0, None, (), start=-INF, end=-INF, acknowledged=True, op="initial")


def candidates(writes: list[Write]) -> list[Write]:
    """The writes whose value may be the key's current one: none acknowledged started after it ended."""
    latest_acked_start = max((w.start for w in writes if w.acknowledged), default=-INF)
    return [w for w in writes if not latest_acked_start > w.end]


@dataclass
class Link:
    id: str
    url: str
    key: str
    one_time: bool
    mint_started: float
    minted_at: float  # the acknowledgement's time
    revoked_at: float = INF  # the revocation's acknowledgement (a 2xx): refused from then on
    revoke_sent: float = INF  # a DELETE was sent: refused from then on or not, depending on its outcome


@dataclass
class Run:
    """Everything the clients did and what the checks found; shared by the client threads."""

    server: SatchelProcess
    seed: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    writes: dict[str, list[Write]] = field(default_factory=dict)
    sources: dict[str, Write] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    #: Per key, the [sent, acknowledged] interval of each revocation "before now" (INF: no answer).
    before: dict[str, list[list[float]]] = field(default_factory=dict)
    served: Counter[str] = field(default_factory=Counter)  # 200s per one-time link, over the whole run
    ops: Counter[str] = field(default_factory=Counter)
    acked: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # failed operations by kind and error
    refusals: Counter[str] = field(default_factory=Counter)  # link uses refused during the load, by status
    anomalies: list[str] = field(default_factory=list)
    kills: int = 0
    body_counter: int = 0
    #: The harness's own choices (round lengths, which links to re-check), from the seed.
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def anomaly(self, text: str) -> None:
        with self.lock:
            self.anomalies.append(text)

    def record(self, write: Write) -> None:
        with self.lock:
            self.writes.setdefault(write.key, []).append(write)
            self.ops[write.op] += 1

    def ack(self, write: Write) -> None:
        write.end = time.monotonic()
        write.acknowledged = True
        with self.lock:
            self.acked[write.op] += 1

    def error(self, op: str, exc: Exception) -> None:
        name = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        if isinstance(exc, ApiError):
            name = exc.code
        with self.lock:
            self.errors[f"{op}:{name}"] += 1

    def sent(self, op: str) -> None:
        with self.lock:
            self.ops[op] += 1

    def done(self, op: str) -> None:
        with self.lock:
            self.acked[op] += 1

    def body(self, rng: random.Random, size: int) -> bytes:
        with self.lock:
            self.body_counter += 1
            n = self.body_counter
        return f"{self.seed}:{n}:".encode() + rng.randbytes(size)


def s3_client(server: SatchelProcess) -> Any:
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                      connect_timeout=5, read_timeout=HTTP_TIMEOUT),
    )


def api_client(server: SatchelProcess) -> ApiClient:
    return ApiClient(server.endpoint, REGION, Secret(server.access_key, server.secret_key), timeout=HTTP_TIMEOUT)


def _value(rng: random.Random) -> tuple[str, tuple[tuple[str, str], ...]]:
    meta = (("tag", f"t{rng.randrange(1000)}"),) if rng.random() < 0.7 else ()
    return rng.choice(CONTENT_TYPES), meta


class Client:
    """One client thread's operations; every outcome it sees goes into the shared :class:`Run`."""

    def __init__(self, run: Run, seed: int) -> None:
        self.run = run
        self.rng = random.Random(seed)
        self.s3 = s3_client(run.server)
        self.api = api_client(run.server)
        self.http = requests.Session()
        self.ops: list[tuple[float, Callable[[], None]]] = [
            (30, self.put), (8, self.delete), (5, self.multipart), (8, self.copy), (6, self.post_upload),
            (6, self.mint), (12, self.use_link), (6, self.mint_one_time), (14, self.use_one_time),
            (4, self.revoke_link), (2, self.revoke_before),
        ]

    def loop(self, stop: threading.Event, limit: int = 100_000) -> None:
        weights = [w for w, _ in self.ops]
        for _ in range(limit):
            if stop.is_set():
                return
            op = self.rng.choices([f for _, f in self.ops], weights)[0]
            try:
                op()
            except (BotoCoreError, ClientError, ApiError, OSError, requests.RequestException) as exc:
                # An error is an unknown outcome, which the model allows; the server may be gone.
                self.run.error(op.__name__, exc)
                if stop.is_set():
                    return
                time.sleep(0.01)

    # --- writes ------------------------------------------------------------------------------------
    def _write(self, key: str, body: bytes, content_type: str | None, meta: tuple[tuple[str, str], ...],
               op: str) -> Write:
        write = Write(key, hashlib.sha256(body).hexdigest(), len(body), content_type, meta, time.monotonic(), op=op)
        self.run.record(write)
        return write

    def put(self) -> None:
        key = self.rng.choice(OBJECT_KEYS)
        size = self.rng.randint(0, 4096) if self.rng.random() < 0.6 else self.rng.randint(0, MAX_BODY)
        body = self.run.body(self.rng, size)
        content_type, meta = _value(self.rng)
        write = self._write(key, body, content_type, meta, "put")
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type, Metadata=dict(meta))
        self.run.ack(write)

    def delete(self) -> None:
        write = Write(self.rng.choice(OBJECT_KEYS), None, 0, None, (), time.monotonic(), op="delete")
        self.run.record(write)
        self.s3.delete_object(Bucket=BUCKET, Key=write.key)
        self.run.ack(write)

    def multipart(self) -> None:
        key = self.rng.choice(OBJECT_KEYS)
        content_type, meta = _value(self.rng)
        parts = [self.run.body(self.rng, PART_SIZE)] if self.rng.random() < 0.2 else []
        parts.append(self.run.body(self.rng, self.rng.randint(1, 256 * 1024)))
        upload = self.s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType=content_type,
                                                 Metadata=dict(meta))["UploadId"]
        done = []
        for number, part in enumerate(parts, 1):
            etag = self.s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=part)["ETag"]
            done.append({"PartNumber": number, "ETag": etag})
        # The object's value can only change from the completion on.
        write = self._write(key, b"".join(parts), content_type, meta, "multipart")
        self.s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": done})
        self.run.ack(write)

    def copy(self) -> None:
        source = self.run.sources[self.rng.choice(SOURCE_KEYS)]
        key = self.rng.choice(OBJECT_KEYS)
        write = Write(key, source.sha256, source.size, source.content_type, source.meta, time.monotonic(), op="copy")
        self.run.record(write)
        self.s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": source.key})
        self.run.ack(write)

    def post_upload(self) -> None:
        key = self.rng.choice(OBJECT_KEYS)
        content_type, meta = _value(self.rng)
        fields = {"Content-Type": content_type, **{f"x-amz-meta-{k}": v for k, v in meta}}
        form = self.s3.generate_presigned_post(BUCKET, key, Fields=fields,
                                               Conditions=[{k: v} for k, v in fields.items()], ExpiresIn=600)
        body = self.run.body(self.rng, self.rng.randint(0, 64 * 1024))
        write = self._write(key, body, content_type, meta, "post")
        answer = self.http.post(form["url"], data=form["fields"], files={"file": ("f", body)}, timeout=HTTP_TIMEOUT)
        if 200 <= answer.status_code < 300:
            self.run.ack(write)

    # --- links -------------------------------------------------------------------------------------
    def _mint(self, key: str, one_time: bool) -> None:
        body: dict[str, Any] = {"bucket": BUCKET, "keys": [key], "expires_in": 3600}
        if one_time:
            body["max_uses"] = 1
        op = "mint-one-time" if one_time else "mint"
        self.run.sent(op)
        started = time.monotonic()
        item = self.api.post("/links", body)["links"][0]
        link = Link(item["link"]["id"], item["url"], key, one_time, started, time.monotonic())
        self.run.done(op)
        with self.run.lock:
            self.run.links.append(link)

    def mint(self) -> None:
        with self.run.lock:
            reusable = sum(1 for link in self.run.links if not link.one_time and link.revoked_at == INF)
        if reusable < REUSABLE_POOL:
            self._mint(self.rng.choice(SOURCE_KEYS + REVOKE_KEYS), one_time=False)

    def mint_one_time(self) -> None:
        with self.run.lock:
            fresh = sum(1 for link in self.run.links if link.one_time and not self.run.served[link.id])
        if fresh < ONE_TIME_POOL:
            self._mint(self.rng.choice(SOURCE_KEYS), one_time=True)

    def _pick(self, one_time: bool) -> Link | None:
        """Mostly a link that should still serve (unrevoked, unspent), else any: spent and revoked links
        pile up over a long run, and must keep being refused."""
        with self.run.lock:
            pool = [link for link in self.run.links if link.one_time == one_time]
            live = [link for link in pool if not self.run.served[link.id] and not may_be_revoked(self.run, link)]
        if live and self.rng.random() < 0.7:
            return self.rng.choice(live)
        return self.rng.choice(pool) if pool else None

    def use_link(self) -> None:
        link = self._pick(one_time=False)
        if link is not None:
            use(self.run, self.http, link, during_load=True)

    def use_one_time(self) -> None:
        link = self._pick(one_time=True)
        if link is not None:
            use(self.run, self.http, link, during_load=True)

    def revoke_link(self) -> None:
        link = self._pick(one_time=False)
        if link is None or link.revoked_at != INF:
            return
        self.run.sent("revoke")
        link.revoke_sent = min(link.revoke_sent, time.monotonic())
        self.api.delete(f"/links/{link.id}")
        link.revoked_at = min(link.revoked_at, time.monotonic())
        self.run.done("revoke")

    def revoke_before(self) -> None:
        """A revocation "before now" of one key: every link of that key minted before it was sent dies."""
        key = self.rng.choice(REVOKE_KEYS)
        sent = time.monotonic()
        interval = [sent, INF]
        with self.run.lock:
            doomed = [link for link in self.run.links if link.key == key and link.minted_at < sent]
            self.run.before.setdefault(key, []).append(interval)
        self.run.sent("revoke-before")
        self.api.post("/revocations", {"scope": "object", "target": key, "bucket": BUCKET})
        interval[1] = done = time.monotonic()
        for link in doomed:
            link.revoked_at = min(link.revoked_at, done)
        self.run.done("revoke-before")


def may_be_revoked(run: Run, link: Link) -> bool:
    """A revocation was sent for it, or a revocation "before" of its key may be later than its issue."""
    return link.revoke_sent != INF or any(end > link.mint_started for _sent, end in run.before.get(link.key, []))


def use(run: Run, http: requests.Session, link: Link, *, during_load: bool) -> None:
    """One GET through a link, judged against what is known of the link when the request is sent."""
    revoked_before = link.revoked_at
    started = time.monotonic()
    with http.get(link.url, timeout=HTTP_TIMEOUT, stream=True) as answer:
        status = answer.status_code
        if status == 200 and link.one_time:
            with run.lock:
                run.served[link.id] += 1
                if run.served[link.id] > 1:
                    run.anomalies.append(f"one-time link {link.id} served {run.served[link.id]} times")
        body = answer.content if status == 200 else b""
    op = "use-one-time" if link.one_time else "use"
    run.sent(op)
    if status == 200:
        run.done(op)
    elif during_load:
        with run.lock:
            run.refusals[f"{op}:{status}" + (":revoked" if may_be_revoked(run, link) else "")] += 1
    source = run.sources[link.key]
    if status == 200:
        if revoked_before < started:
            run.anomaly(f"revoked link {link.id} ({link.key}) served a 200")
        if hashlib.sha256(body).hexdigest() != source.sha256:
            run.anomaly(f"link {link.id} served bytes that are not {link.key}'s")
    elif not during_load and status != 403:
        run.anomaly(f"link {link.id} answered {status} after a restart")
    elif not during_load and not link.one_time and not may_be_revoked(run, link):
        run.anomaly(f"link {link.id}: acknowledged mint lost (answered {status}, never revoked)")


# --- verification after a restart -------------------------------------------------------------------

def _meta_of(answer: dict[str, Any]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    return answer.get("ContentType"), tuple(sorted(answer.get("Metadata", {}).items()))


def verify(run: Run) -> int:
    """Every check of the module docstring against the restarted server; returns how many were made."""
    s3 = s3_client(run.server)
    checks = 0
    found: dict[str, tuple[int, str]] = {}
    for key in OBJECT_KEYS + SOURCE_KEYS + REVOKE_KEYS:
        writes = [initial(key), *run.writes.get(key, [])]
        if key in run.sources:
            writes = [run.sources[key]]
        value: tuple[str | None, int] = (None, 0)
        meta: tuple[str | None, tuple[tuple[str, str], ...]] = (None, ())
        try:
            answer = s3.get_object(Bucket=BUCKET, Key=key)
            body = answer["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchKey":
                run.anomaly(f"{key}: GET failed with {exc.response['Error']['Code']}")
                continue
        except (BotoCoreError, OSError) as exc:
            run.anomaly(f"{key}: GET failed with {type(exc).__name__}")
            continue
        else:
            value = (hashlib.sha256(body).hexdigest(), len(body))
            meta = _meta_of(answer)
            found[key] = (len(body), answer["ETag"])
        checks += 1
        if not any((w.sha256, w.size) == value for w in writes):
            run.anomaly(f"{key}: holds {value[1]} bytes that match no write ever sent (torn or partial)")
            continue
        allowed = [w for w in candidates(writes) if (w.sha256, w.size) == value]
        if not allowed:
            what = "deleted" if value[0] is None else "an overwritten value"
            run.anomaly(f"{key}: {what}, though a later acknowledged write or delete exists (lost)")
        elif value[0] is not None and not any((w.content_type, tuple(sorted(w.meta))) == meta for w in allowed):
            run.anomaly(f"{key}: metadata {meta} belongs to no write of its bytes")
    listed: dict[str, tuple[int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            listed[item["Key"]] = (item["Size"], item["ETag"])
    checks += 1
    for key, entry in listed.items():
        if key not in found:
            run.anomaly(f"{key}: listed but not readable")
            continue
        head = s3.head_object(Bucket=BUCKET, Key=key)
        if found[key] != entry or (head["ContentLength"], head["ETag"]) != entry:
            run.anomaly(f"{key}: listed as {entry}, read as {found[key]}, HEAD says {head['ContentLength']}")
    for key in found.keys() - listed.keys():
        run.anomaly(f"{key}: readable but missing from the listing")
    http = requests.Session()
    for link in list(run.links):
        if link.revoked_at != INF or link.one_time or run.rng.random() < 0.5:
            try:
                use(run, http, link, during_load=False)
            except requests.RequestException as exc:
                run.anomaly(f"link {link.id}: GET failed after a restart with {type(exc).__name__}")
            checks += 1
    return checks


def orphan_check(run: Run) -> int:
    """After ``satchel admin gc`` with no grace: every blob file is referenced; none left in tmp/."""
    run.server.admin("gc", "--write-grace", "0", env={"SATCHEL_ORPHAN_GRACE": "0"})
    root = run.server.data_dir / "blobs"
    conn = sqlite3.connect(f"file:{run.server.data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        referenced = {blob for (segments,) in conn.execute(
                          "SELECT segments FROM objects UNION ALL SELECT segments FROM object_versions")
                      for blob, _size in json.loads(segments)}
        referenced |= {blob for (blob,) in conn.execute("SELECT blob_id FROM parts")}
    finally:
        conn.close()
    on_disk = {p.name for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp" and len(p.name) == 32}
    leftovers = [p.name for p in (root / "tmp").glob("*")] if (root / "tmp").exists() else []
    for blob in sorted(on_disk - referenced)[:20]:
        run.anomaly(f"orphan blob {blob} survived gc")
    for blob in sorted(referenced - on_disk)[:20]:
        run.anomaly(f"blob {blob} referenced by metadata is missing on disk")
    if leftovers:
        run.anomaly(f"{len(leftovers)} files left in blobs/tmp after gc")
    return len(on_disk)


# --- the run ------------------------------------------------------------------------------------------

def setup(run: Run) -> None:
    s3 = s3_client(run.server)
    s3.create_bucket(Bucket=BUCKET)
    rng = random.Random(run.seed)
    for key in SOURCE_KEYS + REVOKE_KEYS:
        body = run.body(rng, rng.randint(1, 32 * 1024))
        content_type, meta = _value(rng)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type, Metadata=dict(meta))
        run.sources[key] = Write(key, hashlib.sha256(body).hexdigest(), len(body), content_type, meta,
                                 -INF, -INF, acknowledged=True, op="source")


def wait_group_gone(pgid: int, timeout: float = 10.0) -> None:
    """kill9() reaped the leader; wait until no process of its group (a worker) is left either."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise RuntimeError(f"process group {pgid} still alive {timeout} s after SIGKILL")


def round_of_load(run: Run, clients: int, seconds: float) -> None:
    """Clients run for ``seconds``, then the whole process group gets SIGKILL while they are busy."""
    stop = threading.Event()
    threads = [threading.Thread(target=Client(run, run.rng.randrange(1 << 30)).loop, args=(stop,), daemon=True)
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    proc = run.server._proc  # the group to watch die
    pgid = proc.pid if proc is not None else None
    stop.set()  # no new operations; those in flight meet the kill
    run.server.kill9()
    killed_at = time.monotonic()
    if pgid is not None:
        wait_group_gone(pgid)
    run.kills += 1
    for thread in threads:
        thread.join(timeout=HTTP_TIMEOUT + 10)
        if thread.is_alive():
            raise RuntimeError("a client thread did not stop")
    # Nothing in flight can take effect after the kill: unknown outcomes end there.
    for writes in run.writes.values():
        for write in writes:
            if not write.acknowledged and write.end == INF:
                write.end = killed_at


def _sql(data_dir: Path, *statements: str) -> None:
    conn = sqlite3.connect(data_dir / "meta.sqlite3")
    try:
        with conn:
            for statement in statements:
                conn.execute(statement)
    finally:
        conn.close()


def _tear_sources(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / "meta.sqlite3")
    try:
        rows = conn.execute("SELECT segments FROM objects WHERE key LIKE 'src/%'").fetchall()
    finally:
        conn.close()
    for (segments,) in rows:
        for blob, size in json.loads(segments):
            path = data_dir / "blobs" / blob[:2] / blob[2:4] / blob
            os.truncate(path, size // 2)


#: Damage done to the data directory while the server is down after the first kill, to show that the
#: checks see each kind of failure they claim to (``--sabotage NAME``: the run must report anomalies).
SABOTAGES: dict[str, Callable[[Path], None]] = {
    "lose-writes": lambda d: _sql(d, "DELETE FROM objects WHERE key LIKE 'obj/%'"),
    "tear": _tear_sources,
    "reuse-links": lambda d: _sql(d, "UPDATE links SET uses = 0"),
    "unrevoke": lambda d: _sql(d, "UPDATE links SET revoked = NULL", "DELETE FROM revocations"),
    "unlist": lambda d: _sql(d, "UPDATE objects SET size = size + 1 WHERE key LIKE 'src/%'"),
}


@dataclass
class Report:
    operations: int
    acknowledged: int
    kills: int
    checks: int
    blobs: int
    anomalies: list[str]
    seconds: float
    by_op: dict[str, tuple[int, int]]
    errors: dict[str, int]
    seed: int
    refusals: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        ops = ", ".join(f"{op} {acked}/{sent}" for op, (sent, acked) in sorted(self.by_op.items()))
        lines = [f"crash: {self.operations} operations ({self.acknowledged} acknowledged), {self.kills} kills, "
                 f"{self.checks} checks after restarts, {self.blobs} blobs after gc, "
                 f"{len(self.anomalies)} anomalies, {self.seconds:.0f} s",
                 f"crash: acknowledged/sent per operation: {ops}",
                 "crash: failed operations (unknown outcome): "
                 + (", ".join(f"{k} {n}" for k, n in sorted(self.errors.items())) or "none"),
                 "crash: link uses refused during the load (status, and whether a revocation covers the link): "
                 + (", ".join(f"{k} {n}" for k, n in sorted(self.refusals.items())) or "none")]
        lines += [f"crash: ANOMALY {a}" for a in self.anomalies[:50]]
        return "\n".join(lines)


def crash_run(data_dir: Path, *, seconds: float, kills: int, clients: int = 6, workers: int = 3,
              seed: int | None = None, sabotage: str | None = None) -> Report:
    """``kills`` rounds of load (about ``seconds`` in all, each round a random share), each ended by a
    kill -9, each followed by a restart and a full verification; then gc and the orphan check."""
    began = time.monotonic()
    seed = seed if seed is not None else random.randrange(1 << 30)
    server = SatchelProcess(data_dir, extra_args=("--workers", str(workers)))
    run = Run(server, seed)
    checks = 0
    server.start()
    try:
        setup(run)
        for number in range(kills):
            round_of_load(run, clients, run.rng.uniform(0.4, 1.6) * seconds / kills)
            if sabotage and number == 0:
                SABOTAGES[sabotage](data_dir)
            server.start()
            checks += verify(run)
        blobs = orphan_check(run)
        checks += verify(run)  # gc must not have touched live data
    finally:
        server.stop()
    sent = sum(run.ops.values())
    acked = sum(run.acked.values())
    return Report(sent, acked, run.kills, checks, blobs, list(run.anomalies), time.monotonic() - began,
                  {op: (run.ops[op], run.acked[op]) for op in run.ops}, dict(run.errors), seed, dict(run.refusals))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fault.crash", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="load time in all (default 300)")
    parser.add_argument("--kills", type=int, default=40, help="kill -9 rounds (default 40)")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--sabotage", choices=sorted(SABOTAGES), default=None,
                        help="damage the data after the first kill: the run must then report anomalies")
    options = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="satchel-crash-") as tmp:
        report = crash_run(Path(tmp) / "data", seconds=options.seconds, kills=options.kills,
                           clients=options.clients, workers=options.workers, seed=options.seed,
                           sabotage=options.sabotage)
    print(f"crash: seed {report.seed}" + (f", sabotage {options.sabotage}" if options.sabotage else ""))
    print(report.text(), flush=True)
    return 1 if report.anomalies else 0


if __name__ == "__main__":
    sys.exit(main())
