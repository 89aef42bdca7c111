"""Workload 5: minting presigned URLs, ops/s.

The reference is boto3's ``generate_presigned_url``, what an application does today. Satchel mints in
process with ``satchel.signing.sigv4.presign.presign_v4_url`` (the signer behind its link API and CLI)
and over its link API (``POST /_satchel/api/links``, 1000 objects per call: registry rows and audit
events included), from one client and from ``LINK_API_CLIENTS`` client processes at once (the server's
throughput, as wrk's connections measure it for GETs; one client leaves the server idle while it parses
each answer). The loops run for a fixed time with a bounded count, on distinct keys so nothing is
cached per URL.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from bench.dataset import SMALL_KEY
from bench.results import Cell, Results
from bench.servers import PRESIGN_EXPIRES, REGION, Satchel, Server

MAX_OPS = 2_000_000
ENDPOINT = "http://127.0.0.1:9000"
LINK_API_BATCH = 1000
#: Client processes of the concurrent link API figure: one per core of the development machine.
LINK_API_CLIENTS = 2


def _rate(mint: Callable[[int], object], seconds: float) -> float:
    began = time.perf_counter()
    deadline = began + seconds
    done = 0
    while done < MAX_OPS:
        for _ in range(100):
            mint(done)
            done += 1
        if time.perf_counter() > deadline:
            break
    return done / (time.perf_counter() - began)


def _boto3_minter() -> Callable[[int], object]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id="AKIDBENCHMARK0000000",
        aws_secret_access_key="benchmark-secret-benchmark-secret-000000",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )

    def mint(i: int) -> object:
        return client.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": f"obj-{i:08d}"},
                                             ExpiresIn=PRESIGN_EXPIRES)

    return mint


def satchel_signer(
    access_key: str, secret: str, endpoint: str = ENDPOINT, bucket: str = "bench", key: str | None = None
) -> Callable[[int], str] | str:
    """The in-process minting function (of ``key``, or of a fresh key per call), or why it is not
    available."""
    try:
        from satchel.signing.sigv4.presign import presign_v4_url
    except ImportError as exc:
        return f"not available: {exc}"

    def mint(i: int) -> str:
        return presign_v4_url(method="GET", endpoint=endpoint, bucket=bucket, key=key or f"obj-{i:08d}",
                              access_key_id=access_key, secret=secret, region=REGION,
                              expires=PRESIGN_EXPIRES, now=time.time())

    return mint


def client_side(results: Results, seconds: float) -> None:
    """boto3 and Satchel's signer, best of two interleaved rounds each (the machine is noisy)."""
    boto = _boto3_minter()
    signer = satchel_signer("AKIDBENCHMARK0000000", "benchmark-secret-benchmark-secret-000000")
    best_boto, best_signer = 0.0, 0.0
    for _ in range(2):
        best_boto = max(best_boto, _rate(boto, seconds))
        if not isinstance(signer, str):
            best_signer = max(best_signer, _rate(signer, seconds))
    results.globals["mint_boto3_ops"] = Cell(best_boto)
    results.globals["mint_signer_ops"] = Cell(best_signer) if not isinstance(signer, str) else Cell(None, signer)


def per_server(results: Results, server: Server, seconds: float) -> None:
    """The signer's figure belongs to every Satchel column; other servers have no signer of ours."""
    if not isinstance(server, Satchel):
        for metric in ("mint_signer_ops", "mint_link_api_ops", "mint_link_api_ops_concurrent"):
            results.skip(server.name, metric, "—")
        return
    cell = results.globals.get("mint_signer_ops", Cell(None, "not run"))
    signer = satchel_signer(server.access_key, server.secret_key, server.url, server.bucket, SMALL_KEY)
    if not isinstance(signer, str):
        # A minted URL must also be one the server accepts, or the figure means nothing.
        status = _status(signer(0))
        results.details.setdefault("signer_url_status", {})[server.name] = status
        if status != 200:
            cell = Cell(None, f"server answered {status} to a minted URL")
    results.set(server.name, "mint_signer_ops", cell.value, cell.note)
    target = ApiTarget(server.url, server.access_key, server.secret_key, server.bucket)
    for metric, clients in (("mint_link_api_ops", 1), ("mint_link_api_ops_concurrent", LINK_API_CLIENTS)):
        try:
            rate = link_api_rate(target, seconds, clients)
        except (OSError, ValueError, KeyError) as exc:
            results.skip(server.name, metric, f"link API failed: {exc}")
        else:
            results.set(server.name, metric, rate)


@dataclass(frozen=True)
class ApiTarget:
    """What a client process needs to call the link API (a Server object does not cross processes)."""

    url: str
    access_key: str
    secret_key: str
    bucket: str


def _api_call(target: ApiTarget, body: dict[str, object]) -> dict[str, object]:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=f"{target.url}/_satchel/api/links", data=data,
                         headers={"Content-Type": "application/json"})
    S3SigV4Auth(Credentials(target.access_key, target.secret_key), "s3", REGION).add_auth(request)
    prepared = urllib.request.Request(request.url, data=data, headers=dict(request.headers.items()), method="POST")
    with urllib.request.urlopen(prepared, timeout=60) as resp:
        answer: dict[str, object] = json.loads(resp.read())
    return answer


def link_api_rate(target: ApiTarget, seconds: float, clients: int = 1) -> float:
    """URLs per second through the link API from ``clients`` processes calling back to back for
    ``seconds``; one GET link is fetched first to prove they work."""
    probe = _api_call(target, {"bucket": target.bucket, "keys": [SMALL_KEY], "expires_in": PRESIGN_EXPIRES})
    items: list[dict[str, object]] = probe["links"]  # type: ignore[assignment]
    url = items[0]["url"]
    if _status(str(url)) != 200:
        raise ValueError("a URL minted by the link API was refused")
    if clients == 1:
        minted, took = _mint_loop(target, "api", time.time(), seconds)
        return minted / took
    start = time.time() + 1.0  # every process is up before the clock starts
    with ProcessPoolExecutor(clients) as pool:
        runs = list(pool.map(_mint_loop, [target] * clients, [f"api{i}" for i in range(clients)],
                             [start] * clients, [seconds] * clients))
    return sum(minted for minted, _ in runs) / max(took for _, took in runs)


def _mint_loop(target: ApiTarget, tag: str, start: float, seconds: float) -> tuple[int, float]:
    """(URLs minted, seconds taken): 1000-key calls back to back for ``seconds`` from ``start``."""
    time.sleep(max(0.0, start - time.time()))
    tag = f"{tag}-{os.getpid()}"  # fresh keys in every run and process
    began = time.perf_counter()
    minted, call = 0, 0
    while time.perf_counter() - began < seconds and call < 1000:
        keys = [f"{tag}-{call:05d}-{i:04d}" for i in range(LINK_API_BATCH)]
        answer = _api_call(target, {"bucket": target.bucket, "keys": keys, "method": "PUT",
                                    "expires_in": PRESIGN_EXPIRES})
        batch: list[dict[str, object]] = answer["links"]  # type: ignore[assignment]
        minted += sum(1 for item in batch if "url" in item)
        call += 1
    return minted, time.perf_counter() - began


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None
