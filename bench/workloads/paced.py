"""Event-loop lag at a steady, sustainable load: a mix of S3 and link requests at fixed rates.

wrk is a closed loop: it keeps every connection busy, so a worker's loop always has a full batch of
ready connections and the lag probe's timer waits behind the whole batch (tens of ms at 64
connections, whatever the store; bench/loopwhy.py measures it). That is the lag of a saturated
server. Issue 14's goal asks whether the loop stays responsive under a load the server keeps up
with, so this workload sends, open loop (bench/pacer.py: separate generator processes on a fixed
schedule), each rate of :data:`RATES` for as long as one wrk run, round-robin over a mix that puts
store reads *and* writes on the path (on ``satchel-2n``, PostgreSQL round trips):

- presigned GET and presigned HEAD of the 1 KiB object (metadata read, signature check);
- GET through a link minted by the link API (admission: revocation check, a use counted, an audit
  event written);
- presigned PUT of 1 KiB to one of :data:`PUT_KEYS` keys (a blob written, a metadata row replaced);
- presigned ListObjectsV2 of those few keys.

The achieved rate is recorded beside the target; a rate the generator or the server did not hold is
marked "not held", and the lag under it is a saturated server's, not judged against the goal.
Satchel columns only (the figure is the probe's).
"""

from __future__ import annotations

import urllib.parse

from bench import pacer
from bench.dataset import SMALL_KEY
from bench.results import NOT_HELD, PACED_HALF
from bench.results import PACED_RATES as RATES
from bench.servers import PRESIGN_EXPIRES, Satchel, Server
from bench.workloads import Context, recorded
from bench.workloads.minting import ApiTarget, _api_call

PUT_KEYS = 8
PREFIX = "paced/"


def metric(rate: int) -> str:
    return f"paced{rate}"


def mix(server: Server) -> list[pacer.Request]:
    """The request mix against ``server``: every kind once per round, the PUT keys in turn."""
    client = server.client()
    bucket = server.bucket
    body = b"p" * 1024
    for i in range(PUT_KEYS):  # the listing has its few keys from the first request on
        client.put_object(Bucket=bucket, Key=f"{PREFIX}{i}", Body=body)

    def presign(op: str, **params: object) -> str:
        url = client.generate_presigned_url(op, Params={"Bucket": bucket, **params}, ExpiresIn=PRESIGN_EXPIRES)
        return _target(str(url))

    link = _api_call(ApiTarget(server.url, server.access_key, server.secret_key, bucket),
                     {"bucket": bucket, "keys": [SMALL_KEY], "expires_in": PRESIGN_EXPIRES})
    minted_url = str(link["links"][0]["url"])  # type: ignore[index]
    minted = _target(minted_url)
    get = pacer.Request("get", "GET", presign("get_object", Key=SMALL_KEY))
    head = pacer.Request("head", "HEAD", presign("head_object", Key=SMALL_KEY))
    # Signed for the name the link API was called by, which on two nodes is the node, not HAProxy.
    via_link = pacer.Request("link", "GET", minted, host=urllib.parse.urlsplit(minted_url).netloc)
    listing = pacer.Request("list", "GET", presign("list_objects_v2", Prefix=PREFIX))
    out: list[pacer.Request] = []
    for i in range(PUT_KEYS):
        put = pacer.Request("put", "PUT", presign("put_object", Key=f"{PREFIX}{i}"), body=body)
        out += [get, head, via_link, put, listing]
    return out


def _target(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def prepare(ctx: Context, server: Server) -> list[pacer.Request] | None:
    """The mix, or None (and the cells say why) for a server that is not Satchel or fails it."""
    names = [f"{metric(r)}_rps" for r in RATES]
    if not isinstance(server, Satchel):
        for m in names:
            ctx.results.skip(server.name, m, "not Satchel")
        return None
    with recorded(ctx, server.name, tuple(names)):
        return mix(server)
    return None


def half_capacity(ctx: Context, server: Server) -> int | None:
    """Half of what ``server`` answered at the highest fixed rate: when that rate was not held, the
    answered rate is the column's capacity on this mix, and half of it is a load it sustains."""
    top = ctx.results.details.get("paced", {}).get(server.name, {}).get(str(max(RATES)))
    if not top or not top.get("achieved_rps"):
        return None
    return max(10, round(min(float(max(RATES)), float(top["achieved_rps"])) / 2))


def run(ctx: Context, server: Server, requests: list[pacer.Request], rate: int | None) -> None:
    """Send the mix at ``rate`` (None: :func:`half_capacity`) and record what was answered."""
    tag = metric(rate) if rate is not None else PACED_HALF
    name = f"{tag}_rps"
    with recorded(ctx, server.name, (name,)):
        if rate is None:
            rate = half_capacity(ctx, server)
            if rate is None:
                ctx.results.skip(server.name, name, f"no capacity measured at {max(RATES)}/s")
                return
        host = urllib.parse.urlsplit(server.url)
        got = pacer.run(host.hostname or "127.0.0.1", host.port or 80, requests, rate, ctx.limits.wrk_seconds)
        summary = got.summary()
        ctx.results.details.setdefault("paced", {}).setdefault(server.name, {})[
            str(rate) if tag != PACED_HALF else PACED_HALF] = summary
        if got.failures:
            ctx.results.skip(server.name, name, f"errors: {got.failures} of {got.answered}")
            return
        note = [] if tag != PACED_HALF else [f"of {rate}/s"]
        if not got.held:
            note.append(NOT_HELD)
        ctx.results.set(server.name, name, got.achieved, ", ".join(note) or None)
