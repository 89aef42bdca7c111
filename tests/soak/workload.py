"""The soak's mixed workload: client threads that each run random S3, link and management operations
against one real server until a deadline, checking every answer, timing every operation and counting
every link use they make, so that the audit trail can be compared with it afterwards.

Each thread writes only under its own prefix and keeps a model of what it stored there, so every read
is checked byte for byte without locks. Links (presigned, minted, PAR, TempURL) read a few shared
objects made before the run and never changed. Boto3 clients run without retries: a retried failure
would hide the error the soak exists to count.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from tests.clients.server import REGION, ServerHandle

TIMEOUT = 30
KIB = 1024
MIB = 1024 * KIB
#: Keys each client writes under its prefix: bounds the data a run leaves on disk.
KEYS_PER_CLIENT = 40
SHARED_OBJECTS = 4
#: Uses a minted link allows; the use after the last (or after a revocation) must be refused.
LINK_MAX_USES = 3
#: Latency samples kept per operation (enough for a 10-minute run on this machine; beyond, new ones are
#: dropped: the percentiles then describe the first ones).
MAX_SAMPLES = 200_000
MAX_ERRORS_KEPT = 50

#: (operation, weight): how often each is picked.
MIX: tuple[tuple[str, int], ...] = (
    ("put", 14), ("get", 18), ("head", 8), ("delete", 5), ("list", 5), ("multipart", 1),
    ("presigned_get", 8), ("presigned_put", 4), ("link_use", 10), ("par_get", 8), ("tempurl_get", 8),
    ("console", 6),
)
#: Every operation a run reports, including those done as part of another (minting, revocation).
OPERATIONS = (*(name for name, _ in MIX), "mint", "revoke")


class Failure(Exception):
    """An answer the workload did not expect: counted as an error of its operation."""


def boto_client(server: ServerHandle) -> Any:
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                      retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=TIMEOUT,
                      read_timeout=TIMEOUT))


def api_call(session: requests.Session, server: ServerHandle, method: str, path: str,
             body: dict[str, Any] | None = None) -> Any:
    """A SigV4-signed management API call as the root key; its JSON answer (anything but 200 fails)."""
    data = json.dumps(body).encode() if body is not None else b""
    url = f"{server.endpoint}/_satchel/api{path}"
    request = AWSRequest(method=method, url=url, data=data)
    S3SigV4Auth(BotoCredentials(server.access_key, server.secret_key), "s3", REGION).add_auth(request)
    reply = session.request(method, url, data=data, headers=dict(request.headers.items()), timeout=TIMEOUT)
    if reply.status_code != 200:
        raise Failure(f"{method} {path.split('?')[0]}: {reply.status_code} {reply.text[:200]}")
    return reply.json()


@dataclass(frozen=True)
class Shared:
    """What every client reads through links: a bucket, its fixed objects, a PAR and TempURLs to them."""

    bucket: str
    objects: dict[str, bytes]
    par_url: str  # an AnyObjectRead PAR of the bucket: the object key is appended
    tempurls: dict[str, str]

    @classmethod
    def create(cls, server: ServerHandle, bucket: str) -> Shared:
        s3 = boto_client(server)
        s3.create_bucket(Bucket=bucket)
        objects = {f"shared/{i}.bin": os.urandom(random.randint(1, 64) * KIB) for i in range(SHARED_OBJECTS)}
        for key, body in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        with requests.Session() as session:
            expires = datetime.datetime.fromtimestamp(time.time() + 86400, datetime.UTC)
            par = api_call(session, server, "POST", "/pars", {
                "name": "soak", "bucket": bucket, "accessType": "AnyObjectRead", "objectName": "shared/",
                "timeExpires": expires.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
            api_call(session, server, "PUT", f"/buckets/{bucket}/tempurl-key", {})
            minted = api_call(session, server, "POST", "/links", {
                "bucket": bucket, "keys": list(objects), "kind": "swift", "expires_in": 86400})
        tempurls = {item["key"]: item["url"] for item in minted["links"]}
        return cls(bucket, objects, str(par["fullPath"]), tempurls)


@dataclass
class Tally:
    """What all clients did, merged under a lock: latencies, errors, and link uses by audit category."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in OPERATIONS})
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    #: (kind, minted, outcome) -> uses made: the audit trail must hold exactly as many use events.
    uses: Counter[tuple[str, bool, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            samples = self.latencies[operation]
            if len(samples) < MAX_SAMPLES:
                samples.append(seconds)
            if error is not None:
                self.errors[operation] += 1
                if len(self.error_samples) < MAX_ERRORS_KEPT:
                    self.error_samples.append(f"{operation}: {error}")

    def used(self, kind: str, minted: bool, outcome: str) -> None:
        with self.lock:
            self.uses[(kind, minted, outcome)] += 1


@dataclass
class MintedLink:
    id: str
    url: str
    uses: int = 0


class Client(threading.Thread):
    """One client: its own boto3 client and HTTP session (kept-alive connections), its own key space."""

    def __init__(self, number: int, server: ServerHandle, shared: Shared, tally: Tally, deadline: float,
                 seed: int) -> None:
        super().__init__(name=f"soak-client-{number}", daemon=True)
        self.server = server
        self.shared = shared
        self.tally = tally
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.prefix = f"c{number}/"
        self.s3 = boto_client(server)
        self.http = requests.Session()
        #: What this client stored under its prefix: key -> body (None: deleted).
        self.model: dict[str, bytes | None] = {}
        self.link: MintedLink | None = None
        self.operations: dict[str, Callable[[], None]] = {
            name: getattr(self, f"op_{name}") for name, _ in MIX}
        self.names = [name for name, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                name = self.rng.choices(self.names, self.weights)[0]
                self.timed(name, self.operations[name])
        finally:
            self.http.close()

    def timed(self, name: str, operation: Callable[[], None]) -> None:
        started = time.perf_counter()
        error = None
        try:
            operation()
        except Failure as exc:
            error = str(exc)
        except (ClientError, requests.RequestException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        self.tally.record(name, time.perf_counter() - started, error)

    # --- plain S3 through boto3 -------------------------------------------------------------------
    def key(self) -> str:
        return f"{self.prefix}k{self.rng.randrange(KEYS_PER_CLIENT)}"

    def body(self) -> bytes:
        return self.rng.randbytes(self.rng.choice((0, 1, 100, 4 * KIB, 64 * KIB)))

    def op_put(self) -> None:
        key, body = self.key(), self.body()
        self.s3.put_object(Bucket=self.shared.bucket, Key=key, Body=body)
        self.model[key] = body

    def op_get(self) -> None:
        key = self.key()
        try:
            got: bytes | None = self.s3.get_object(Bucket=self.shared.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchKey":
                raise
            got = None
        if got != self.model.get(key):
            raise Failure(f"GET {key}: {_digest(got)} where {_digest(self.model.get(key))} was stored")

    def op_head(self) -> None:
        key = self.key()
        expected = self.model.get(key)
        try:
            size: int | None = self.s3.head_object(Bucket=self.shared.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                raise
            size = None
        if size != (None if expected is None else len(expected)):
            raise Failure(f"HEAD {key}: size {size}, stored {None if expected is None else len(expected)}")

    def op_delete(self) -> None:
        key = self.key()
        self.s3.delete_object(Bucket=self.shared.bucket, Key=key)
        self.model[key] = None

    def op_list(self) -> None:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.shared.bucket, Prefix=self.prefix, PaginationConfig={"PageSize": 25})
        listed = {entry["Key"]: entry["Size"] for page in pages for entry in page.get("Contents", [])}
        stored = {key: len(body) for key, body in self.model.items() if body is not None}
        if listed != stored:
            raise Failure(f"list {self.prefix}: {len(listed)} keys, {len(stored)} stored")

    def op_multipart(self) -> None:
        key = f"{self.prefix}multipart"
        parts = [self.rng.randbytes(5 * MIB), self.rng.randbytes(self.rng.randint(1, 256 * KIB))]
        upload = self.s3.create_multipart_upload(Bucket=self.shared.bucket, Key=key)["UploadId"]
        done = [{"PartNumber": n, "ETag": self.s3.upload_part(
            Bucket=self.shared.bucket, Key=key, UploadId=upload, PartNumber=n, Body=part)["ETag"]}
            for n, part in enumerate(parts, 1)]
        self.s3.complete_multipart_upload(Bucket=self.shared.bucket, Key=key, UploadId=upload,
                                          MultipartUpload={"Parts": done})
        got = self.s3.get_object(Bucket=self.shared.bucket, Key=key, Range="bytes=-1000")["Body"].read()
        if got != b"".join(parts)[-1000:]:  # the last part may be shorter than the tail
            raise Failure("multipart: the tail read back differs")
        self.s3.delete_object(Bucket=self.shared.bucket, Key=key)  # 5 MiB a time: not kept

    # --- links ------------------------------------------------------------------------------------
    def shared_key(self) -> str:
        return self.rng.choice(list(self.shared.objects))

    def fetch(self, method: str, url: str, data: bytes | None = None) -> requests.Response:
        return self.http.request(method, url, data=data, timeout=TIMEOUT)

    def expect_body(self, what: str, reply: requests.Response, body: bytes) -> None:
        if reply.status_code != 200 or reply.content != body:
            raise Failure(f"{what}: {reply.status_code}, {_digest(reply.content)} for {_digest(body)}")

    def op_presigned_get(self) -> None:
        key = self.shared_key()
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": self.shared.bucket, "Key": key},
                                             ExpiresIn=600)
        reply = self.fetch("GET", url)
        self.tally.used("s3v4", False, "allowed")
        self.expect_body("presigned GET", reply, self.shared.objects[key])

    def op_presigned_put(self) -> None:
        key, body = self.key(), self.body()
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": self.shared.bucket, "Key": key},
                                             ExpiresIn=600)
        reply = self.fetch("PUT", url, body)
        self.tally.used("s3v4", False, "allowed")
        if reply.status_code != 200:
            raise Failure(f"presigned PUT: {reply.status_code} {reply.text[:200]}")
        self.model[key] = body

    def mint(self) -> MintedLink:
        started = time.perf_counter()
        error = None
        try:
            made = api_call(self.http, self.server, "POST", "/links", {
                "bucket": self.shared.bucket, "keys": [self.shared_key()], "max_uses": LINK_MAX_USES,
                "expires_in": 3600})["links"][0]
            return MintedLink(made["link"]["id"], made["url"])
        except Failure as exc:
            error = str(exc)
            raise
        finally:
            self.tally.record("mint", time.perf_counter() - started, error)

    def op_link_use(self) -> None:
        """Use a minted link up to its limit, then once more (refused); every other link is revoked first
        instead (refused too). Each use, either way, is one audit event."""
        link = self.link = self.link or self.mint()
        revoked = link.uses == 0 and self.rng.random() < 0.1
        if revoked:
            started = time.perf_counter()
            api_call(self.http, self.server, "DELETE", f"/links/{link.id}")
            self.tally.record("revoke", time.perf_counter() - started)
        reply = self.fetch("GET", link.url)
        if revoked or link.uses >= LINK_MAX_USES:
            self.tally.used("s3v4", True, "refused")
            self.link = None
            if reply.status_code != 403:
                raise Failure(f"a spent or revoked link answered {reply.status_code}")
            return
        link.uses += 1
        self.tally.used("s3v4", True, "allowed")
        if reply.status_code != 200 or _digest(reply.content) not in map(_digest, self.shared.objects.values()):
            raise Failure(f"minted link GET: {reply.status_code} {reply.text[:200]}")

    def op_par_get(self) -> None:
        key = self.shared_key()
        reply = self.fetch("GET", self.shared.par_url + key)
        self.tally.used("par", True, "allowed")  # a PAR is a registry link
        self.expect_body("PAR GET", reply, self.shared.objects[key])

    def op_tempurl_get(self) -> None:
        key = self.shared_key()
        reply = self.fetch("GET", self.shared.tempurls[key])
        self.tally.used("swift", False, "allowed")
        self.expect_body("TempURL GET", reply, self.shared.objects[key])

    # --- the console's API ------------------------------------------------------------------------
    def op_console(self) -> None:
        bucket = self.shared.bucket
        which = self.rng.randrange(3)
        if which == 0:
            listed = api_call(self.http, self.server, "GET", f"/buckets/{bucket}/objects?{_query(prefix='shared/')}")
            if not json.dumps(listed).count("shared/"):
                raise Failure("console listing misses the shared objects")
        elif which == 1:
            key = self.shared_key()
            details = api_call(self.http, self.server, "GET", f"/buckets/{bucket}/object?{_query(key=key)}")
            if details.get("size") != len(self.shared.objects[key]):
                raise Failure(f"console object details: size {details.get('size')}")
        else:
            api_call(self.http, self.server, "GET", "/whoami")


def _query(**params: str) -> str:
    """A query string encoded as SigV4 canonicalizes it: botocore signs a URL's query as written, so a
    ``/`` left unencoded would be signed as ``/`` but canonicalized by the server as ``%2F``."""
    return urlencode(params, quote_via=quote, safe="")


def _digest(body: bytes | None) -> str:
    return "nothing" if body is None else f"{len(body)} bytes {hashlib.sha256(body).hexdigest()[:12]}"
