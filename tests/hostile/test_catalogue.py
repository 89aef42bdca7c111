"""The one generic runner of the hostile-input catalogue (:mod:`tests.hostile.catalogue`).

For each row: build the request (sign it as a real client would, then tamper with it), send it over a
raw socket, and assert the exact status and error code; then that nothing changed (objects and their
bytes, buckets, uploads and parts, link use counts and revocations), that the audit trail grew by exactly
one refusal for a link use and by nothing otherwise, and that the server still answers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from typing import Any
from unittest import mock

import pytest

from tests.clients.server import eventually
from tests.hostile import wire
from tests.hostile.catalogue import ROWS, Row
from tests.hostile.conftest import BUCKET, OBJECT, World

_POST_CLIENT: dict[str, Any] = {}


def _fill(text: str, world: World) -> str:
    return (text.replace("{B}", BUCKET).replace("{K}", OBJECT).replace("{U}", world.upload_id)
            .replace("{E}", world.part_etag))


def _fill_step(step: wire.Tamper, world: World, now: float, body_length: int) -> wire.Tamper:
    out: list[Any] = []
    for item in step:
        if isinstance(item, str):
            item = _fill(item, world)
            item = item.replace("{DATE+1}", _amz_date(now + 1)).replace("{DATE+86400}", _amz_date(now + 86400))
            item = item.replace("{HTTPDATE+1}", _http_date(now + 1))
            item = item.replace("{LEN+50}", str(body_length + 50)).replace("{LEN-20}", str(body_length - 20))
        out.append(item)
    return tuple(out)


def _amz_date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _http_date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _post_fields(world: World, now: float) -> list[tuple[str, str]]:
    import boto3
    from botocore.config import Config

    if "client" not in _POST_CLIENT:
        _POST_CLIENT["client"] = boto3.client(
            "s3", endpoint_url=world.server.endpoint, region_name=world.server.region,
            aws_access_key_id=world.server.access_key, aws_secret_access_key=world.server.secret_key,
            config=Config(signature_version="s3v4"))
    moment = dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None)
    with mock.patch("botocore.signers.get_current_datetime", return_value=moment), \
            mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        post = _POST_CLIENT["client"].generate_presigned_post(
            BUCKET, "post/${filename}", Conditions=[["starts-with", "$key", "post/"],
                                                     ["content-length-range", 0, 1000]], ExpiresIn=3600)
    return list(post["fields"].items())


def build(world: World, row: Row) -> bytes:
    now = time.time() + row.clock
    server = world.server
    body = _fill(row.body.decode("latin-1"), world).encode("latin-1")
    headers = [(k, _fill(v, world)) for k, v in row.headers]
    if any(v == "{MD5}" for _, v in headers):
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 (Content-MD5 is MD5)
        headers = [(k, md5 if v == "{MD5}" else v) for k, v in headers]
    auth, target = row.auth, _fill(row.target, world)
    if auth in ("link4", "link2"):
        prepared = wire.Prepared(row.method, world.links["v4" if auth == "link4" else "v2"], headers, body)
    elif auth == "post":
        prepared = wire.Prepared(row.method, target, [], b"", fields=_post_fields(world, now))
    else:
        prepared = wire.sign(auth, row.method, server.endpoint, target, headers, body, server.access_key,
                             server.secret_key, server.region, now)
    steps = tuple(_fill_step(step, world, now, len(prepared.body)) for step in row.tamper)
    prepared = wire.apply(prepared, steps)
    if auth == "post":
        prepared.headers.append(("Content-Type", f"multipart/form-data; boundary={wire.BOUNDARY}"))
        if prepared.file_data is None:
            prepared.body = wire.form_body(prepared.fields, b"")
            prepared.body = prepared.body[:prepared.body.rindex(b"--" + wire.BOUNDARY.encode() + b"\r\n")]
            prepared.body += f"--{wire.BOUNDARY}--\r\n".encode()
        else:
            prepared.body = wire.form_body(prepared.fields, prepared.file_data)
    if prepared.truncate:
        prepared.body = prepared.body[:-prepared.truncate]
    return wire.to_bytes(prepared, world.host)


@pytest.fixture(scope="module")
def baseline(world: World) -> dict[str, Any]:
    return world.snapshot()


@pytest.fixture(scope="module")
def state(world: World, baseline: dict[str, Any]) -> dict[str, Any]:
    """The last snapshot known to be current, so each row takes one snapshot instead of two."""
    return {"snapshot": baseline, "events": len(world.audit_events())}


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_hostile_request(world: World, baseline: dict[str, Any], state: dict[str, Any], row: Row) -> None:
    if "snapshot" not in state:  # the previous row failed: put the world back, take a fresh snapshot
        world.repair(baseline)
        state.update(snapshot=world.snapshot(), events=len(world.audit_events()))
    before, events_before = state.pop("snapshot"), state.pop("events")
    reply = wire.exchange("127.0.0.1", world.server.port, build(world, row))
    assert (reply.status, reply.code) == (row.status, row.code), f"{reply.status} {reply.code} {reply.body[:400]!r}"
    after = world.snapshot()
    assert after == before, "the request changed state"
    expected = events_before + (1 if row.link else 0)
    assert eventually(lambda: len(world.audit_events()) >= expected, timeout=3)
    events = world.audit_events()
    assert len(events) == expected, f"{len(events) - events_before} audit events, expected {expected - events_before}"
    if row.link:
        newest = max(events, key=lambda e: (e["time"], e["id"]))
        assert newest["outcome"] != "allowed", newest
        assert newest["status"] == reply.status, newest  # the trail says what the client was told
        assert row.code in (newest["reason"] or ""), newest
    state.update(snapshot=after, events=len(events))


def test_no_secret_in_the_log_or_the_audit_trail(world: World) -> None:
    """Neither the server's log nor any audit event holds the root secret or a live link's signature: each
    is a working credential (satchel/logs.py redacts signatures; the audit trail stores link ids, never
    signatures). Run after the catalogue it reads everything the rows sent; alone, it sends each link once
    itself (a range beyond the object: refused, no use counted)."""
    for target in world.links.values():
        raw = wire.to_bytes(wire.Prepared("GET", target, [("Range", "bytes=100-200")], b""), world.host)
        assert wire.exchange("127.0.0.1", world.server.port, raw).status == 416
    secrets = {"root secret": world.server.secret_key}
    for kind, target in world.links.items():
        name = "X-Amz-Signature=" if kind == "v4" else "Signature="
        secrets[f"{kind} link signature"] = target.split(name, 1)[1].split("&", 1)[0]
    log = world.server.log_path.read_text(errors="replace")
    assert log.count("x-amz-satchel-link-id") >= 2, "the access log did not see the link requests"
    events = json.dumps(world.audit_events())
    leaked = [what for what, value in secrets.items() if value in log or value in events]
    assert not leaked, f"found in the log or the audit trail: {leaked}"
