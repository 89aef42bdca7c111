"""What the S3-cluster blob store adds to the contract (test_blob_contract.py): how it uses the upstream
(one PUT or a multipart upload, server-side copies), deferred deletes, abandoned uploads, and every
upstream failure becoming 503 SlowDown in bounded time. Against a real SeaweedFS."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from satchel.blobs import open_blobs, s3
from satchel.blobs.digests import Hasher
from satchel.blobs.s3 import MIN_PART, S3BlobStore
from satchel.blobs.s3upstream import DEADLINE_MARGIN, Location, Upstream
from satchel.config import SettingError, Settings, show_value
from satchel.core.errors import SlowDown
from tests.blackhole import Blackhole
from tests.seaweedfs import SeaweedFS
from tests.unit.blobs.test_blob_contract import put, read, s3_store

MiB = 1024 * 1024


def upstream_object(store: S3BlobStore, blob_id: str) -> dict[str, Any]:
    return dict(store.upstream.client.head_object(Bucket=store.location.bucket, Key=store.key(blob_id)))


def test_small_blobs_take_one_put_large_ones_a_multipart_upload(seaweedfs: SeaweedFS) -> None:
    store = s3_store(seaweedfs)
    try:
        small, _ = asyncio.run(put(store, b"s" * (MIN_PART - 1)))
        large, _ = asyncio.run(put(store, random.Random(1).randbytes(2 * MIN_PART + 1)))
        assert "-" not in upstream_object(store, small)["ETag"]
        assert upstream_object(store, large)["ETag"].strip('"').endswith("-3")
        prefix = store.location.prefix
        listed = store.upstream.client.list_objects_v2(Bucket=store.location.bucket, Prefix=prefix)["Contents"]
        assert sorted(o["Key"] for o in listed) == sorted([f"{prefix}{small}", f"{prefix}{large}"])
    finally:
        store.close()


def test_an_upload_holds_at_most_two_parts(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> None:
    """One part filling while the previous one is sent: memory is bounded whatever the blob's size."""
    store = s3_store(seaweedfs)
    held: list[int] = []
    send = s3.S3BlobWriter._send_part

    def watching(self: s3.S3BlobWriter, number: int, batch: bytearray) -> dict[str, Any]:
        held.append(len(self._buffer) + len(batch))
        return send(self, number, batch)

    monkeypatch.setattr(s3.S3BlobWriter, "_send_part", watching)
    try:
        asyncio.run(put(store, b"p" * (4 * MIN_PART), piece=MiB))
        assert len(held) == 4 and max(held) <= 2 * MIN_PART
    finally:
        store.close()


def test_small_blobs_are_cached_after_one_get_and_large_ones_not(seaweedfs: SeaweedFS) -> None:
    store = s3_store(seaweedfs)
    big = random.Random(8).randbytes(MiB)
    try:
        small_id, _ = asyncio.run(put(store, b"0123456789"))
        big_id, _ = asyncio.run(put(store, big))
        assert asyncio.run(read(store, small_id, 2, 3)) == b"234"
        assert asyncio.run(read(store, big_id, 5, 10)) == big[5:15]
        assert store.small.get(small_id) == b"0123456789" and store.small.get(big_id) is None
        store.upstream.client.delete_object(Bucket=store.location.bucket, Key=store.key(small_id))
        assert asyncio.run(read(store, small_id, 0, 10)) == b"0123456789"  # from memory: same id, same bytes
    finally:
        store.close()


def test_copies_past_the_copy_object_limit_go_by_upload_part_copy(
        seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3, "COPY_OBJECT_MAX", MiB)
    monkeypatch.setattr(s3, "COPY_PART", MIN_PART)
    store = s3_store(seaweedfs)
    data = random.Random(3).randbytes(2 * MIN_PART + 7)
    try:
        blob_id, _ = asyncio.run(put(store, data))
        copy_id = asyncio.run(store.copy(blob_id))
        assert asyncio.run(read(store, copy_id)) == data
        assert upstream_object(store, copy_id)["ETag"].strip('"').endswith("-3")
    finally:
        store.close()


def test_deletes_wait_the_delay_so_a_read_in_progress_finishes(seaweedfs: SeaweedFS) -> None:
    store = s3_store(seaweedfs, delete_delay=0.5)
    big = random.Random(5).randbytes(3 * MiB)

    async def go() -> bytes:
        ids = [(await put(store, big))[0] for _ in range(2)]
        stream = store.read_pieces([(ids[0], 0, len(big)), (ids[1], 0, len(big))])
        first = await anext(stream)
        await store.delete(ids)  # the object was deleted: its blobs are dead ...
        assert store.orphans(time.time() + 3600, time.time() + 3600) == []  # ... pending, not orphans to delete again
        rest = b"".join([chunk async for chunk in stream])
        assert await read(store, ids[1], 0, 10) == big[:10]  # still there within the delay
        await asyncio.sleep(0.8)
        with pytest.raises(FileNotFoundError):
            await read(store, ids[1])
        return first + rest

    try:
        assert asyncio.run(go()) == big + big
    finally:
        store.close()


def _count_calls(store: S3BlobStore) -> list[str]:
    """The upstream operations ``store`` sends from now on, by name, in order."""
    calls: list[str] = []
    store.upstream.client.meta.events.register(
        "before-call.s3", lambda model, **_: calls.append(model.name))
    return calls


def test_with_a_delete_delay_a_read_of_many_blobs_sends_one_get_before_its_first_byte(
        seaweedfs: SeaweedFS) -> None:
    """The delay holds every blob the read will reach, so nothing is HEADed: a HEAD per piece before the
    first byte made 64 concurrent GETs of a 128-part object wait for 8,192 HEADs (no first byte within
    10 s in bench/). A blob lost anyway (behind Satchel's back) still fails before the first byte when it
    is the first, and cuts the body short, never wrong, when it is a later one."""
    store = s3_store(seaweedfs, delete_delay=60)
    data = [random.Random(n).randbytes(MiB // 2) for n in range(6)]

    async def go() -> None:
        ids = [(await put(store, d))[0] for d in data]
        calls = _count_calls(store)
        stream = store.read_pieces([(blob_id, 0, MiB // 2) for blob_id in ids])
        first = await anext(stream)
        assert calls == ["GetObject"]
        rest = b"".join([chunk async for chunk in stream])
        assert first + rest == b"".join(data)
        assert calls == ["GetObject"] * len(ids)

        gone = "f" * 32
        with pytest.raises(FileNotFoundError):
            await anext(store.read_pieces([(gone, 0, MiB), (ids[0], 0, 10)]))
        got = b""
        with pytest.raises(FileNotFoundError):
            async for chunk in store.read_pieces([(ids[1], 0, MiB // 2), (gone, 0, MiB)]):
                got += chunk
        assert got == data[1]

    try:
        asyncio.run(go())
    finally:
        store.close()


def test_without_a_delete_delay_every_blob_is_checked_before_the_first_byte(seaweedfs: SeaweedFS) -> None:
    """Deleted at once, a blob could vanish between the metadata read and its GET: each is HEADed first."""
    store = s3_store(seaweedfs, delete_delay=0)

    async def go() -> None:
        ids = [(await put(store, random.Random(n).randbytes(MiB // 2)))[0] for n in range(3)]
        calls = _count_calls(store)
        await anext(store.read_pieces([(blob_id, 0, 10) for blob_id in ids] + [(ids[0], 100, MiB // 4)]))
        assert sorted(calls) == ["GetObject", "HeadObject", "HeadObject", "HeadObject"]

    try:
        asyncio.run(go())
    finally:
        store.close()


def test_pending_deletes_dropped_at_close_come_back_as_orphans(seaweedfs: SeaweedFS) -> None:
    store = s3_store(seaweedfs, delete_delay=60)
    blob_id, _ = asyncio.run(put(store, b"dead"))

    async def delete() -> None:
        await store.delete([blob_id])

    asyncio.run(delete())
    assert store.deletes.pending == {blob_id}
    store.deletes.close()
    assert store.orphans(time.time() + 1, time.time() + 1) == [blob_id]  # the collector finds it; delete() waits again
    store.close()


def test_orphans_abort_abandoned_multipart_uploads(seaweedfs: SeaweedFS) -> None:
    store = s3_store(seaweedfs)
    client, bucket, prefix = store.upstream.client, store.location.bucket, store.location.prefix
    try:
        old = client.create_multipart_upload(Bucket=bucket, Key=store.key("a" * 32))["UploadId"]
        foreign = client.create_multipart_upload(Bucket=bucket, Key=f"{prefix}not-a-blob")["UploadId"]
        assert store.orphans(time.time() - 600, time.time() - 600) == []
        assert len(client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)["Uploads"]) == 2  # none old yet
        assert store.orphans(time.time() + 1, time.time() + 1) == []
        uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
        left = [u["UploadId"] for u in uploads]
        assert old not in left and foreign in left  # only what looks like ours
    finally:
        store.close()


def test_a_read_cut_by_the_network_resumes_where_it_stopped(
        seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> None:
    store = s3_store(seaweedfs)
    data = random.Random(6).randbytes(3 * MiB + 5)
    blob_id, _ = asyncio.run(put(store, data))
    run = store.upstream.run
    failures = {"left": 2}

    async def flaky(fn: Callable[..., Any], *args: Any, bounded: bool = True) -> Any:
        if getattr(fn, "__name__", "") == "read" and failures["left"] and args != ():
            failures["left"] -= 1
            if failures["left"] == 0:
                raise SlowDown("cut")
        return await run(fn, *args, bounded=bounded)

    monkeypatch.setattr(store.upstream, "run", flaky)
    try:
        assert asyncio.run(read(store, blob_id, 1)) == data[1:]
        assert failures["left"] == 0
    finally:
        store.close()


def test_a_read_cancelled_while_its_get_is_in_flight_releases_the_body(
        seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> None:
    store = s3_store(seaweedfs)
    blob_id, _ = asyncio.run(put(store, b"z" * (MiB + 1)))
    call = store.upstream.call
    answers: list[Any] = []

    async def slow(operation: str, **params: Any) -> Any:
        await asyncio.sleep(0.2)
        answer = await call(operation, **params)
        answers.append(answer)
        return answer

    monkeypatch.setattr(store.upstream, "call", slow)

    async def go() -> None:
        reading = asyncio.ensure_future(read(store, blob_id))
        await asyncio.sleep(0.05)
        reading.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await reading
        await asyncio.sleep(0.5)

    try:
        asyncio.run(go())
        assert len(answers) == 1 and answers[0]["Body"]._raw_stream.closed
    finally:
        store.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unreachable(endpoint: str, secret: str = "x", timeout: float = 1,  # noqa: S107 - a test key
                 attempts: int = 1, threads: int = 2) -> S3BlobStore:
    upstream = Upstream(endpoint_url=endpoint, region="us-east-1", access_key_id="AK", secret_access_key=secret,
                        threads=threads, connect_timeout=0.5, read_timeout=timeout, attempts=attempts)
    return S3BlobStore(Location.parse("s3://bucket/p"), upstream, part_size=MIN_PART, delete_delay=0)


def test_an_unreachable_upstream_is_slow_down_in_bounded_time(caplog: pytest.LogCaptureFixture) -> None:
    store = _unreachable(f"http://127.0.0.1:{_closed_port()}")
    began = time.monotonic()
    try:
        with pytest.raises(SlowDown):
            asyncio.run(put(store, b"x" * 100))
        with pytest.raises(SlowDown):
            asyncio.run(put(store, b"x" * (MIN_PART + 1)))
        with pytest.raises(SlowDown):
            asyncio.run(read(store, "a" * 32))
        with pytest.raises(SlowDown):
            asyncio.run(store.copy("a" * 32))
        with pytest.raises(SlowDown):
            store.orphans(time.time(), time.time())
    finally:
        store.close()
    assert time.monotonic() - began < 10
    assert "blob store upstream: " in caplog.text


def test_a_silent_upstream_times_out_as_slow_down() -> None:
    """An upstream that accepts connections and never answers (hung, overloaded): each call ends after
    ``blobs_read_timeout``, not never."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes handshakes; nobody ever reads or answers
        store = _unreachable(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3)
        began = time.monotonic()
        try:
            with pytest.raises(SlowDown):
                asyncio.run(put(store, b"x" * 100))
            with pytest.raises(SlowDown):
                asyncio.run(read(store, "a" * 32))
        finally:
            store.close()
    # Two calls (PUT, GET; the abort's DELETE runs after the answer) of one try each, read_timeout 0.3 s.
    assert time.monotonic() - began < 5


def test_blobs_attempts_counts_tries_in_all_not_retries() -> None:
    """botocore's ``max_attempts`` counts retries: set to blobs_attempts, it tried once more than the
    setting says, and every bound grew by a read timeout."""
    with Blackhole() as silent:
        store = _unreachable(silent.url, timeout=0.3, attempts=2)
        try:
            with pytest.raises(SlowDown):
                asyncio.run(read(store, "a" * 32))
        finally:
            store.close()
        assert silent.accepted == 2


def test_a_failed_write_is_answered_before_its_clean_up() -> None:
    """The PUT's timeout is the client's whole wait: the abort's DELETE (as slow, on a silent upstream)
    runs after the answer, in the background."""
    attempts, connect, timeout = 1, 0.5, 1.5
    bound = attempts * (connect + timeout) + DEADLINE_MARGIN
    with Blackhole() as silent:
        store = _unreachable(silent.url, timeout=timeout, attempts=attempts)

        async def go() -> None:
            writer = store.writer(Hasher())
            await writer.write(b"x" * 100)
            began = time.monotonic()
            with pytest.raises(SlowDown):
                await writer.commit()
            took = time.monotonic() - began
            assert timeout <= took < bound + 0.5
            assert len(store.cleanups) == 1  # the DELETE of what may have landed, still waiting
            began = time.monotonic()
            await writer.abort()  # idempotent, and at once
            assert time.monotonic() - began < 0.2 and len(store.cleanups) == 1

        try:
            asyncio.run(go())
        finally:
            store.close()


def test_no_call_waits_longer_than_the_bound_whatever_delays_it() -> None:
    """Four GETs on one pool thread: each waits for the one before it, but none keeps its client longer
    than attempts * (connect + read timeout) + DEADLINE_MARGIN from when it asked."""
    timeout = 1.0
    with Blackhole() as silent:
        store = _unreachable(silent.url, timeout=timeout, threads=1)
        bound = 1 * (0.5 + timeout) + DEADLINE_MARGIN

        async def one() -> float:
            began = time.monotonic()
            with pytest.raises(SlowDown):
                await read(store, "a" * 32)
            return time.monotonic() - began

        async def go() -> list[float]:
            return list(await asyncio.gather(*(one() for _ in range(4))))

        try:
            took = asyncio.run(go())
        finally:
            store.close()  # waits for the pool's threads
        assert silent.accepted < 4  # the last was given up on before it started: never sent
    assert max(took) < bound + 0.8, took


def test_refused_keys_are_slow_down_and_the_secret_is_never_logged(
        seaweedfs: SeaweedFS, caplog: pytest.LogCaptureFixture) -> None:
    secret = "wrong-secret-" + "z" * 20
    store = _unreachable(seaweedfs.url, secret)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(SlowDown):
            asyncio.run(put(store, b"x"))
    finally:
        store.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("satchel")]
    assert errors and "403" in errors[0].getMessage()
    assert secret not in caplog.text


def test_settings_select_and_bound_the_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, blobs_url="s3://bucket/some/prefix/", blobs_access_key_id="AK",
                        blobs_secret_access_key="s3cr3t",
                        blobs_endpoint_url="http://127.0.0.1:1", max_put_size=100 * 1024**3)
    store = open_blobs(settings)
    try:
        assert isinstance(store, S3BlobStore)
        assert store.location == Location("bucket", "some/prefix/")
        assert store.part_size * s3.MAX_PARTS >= settings.max_put_size  # the largest upload fits
    finally:
        store.close()
    assert show_value("blobs_secret_access_key", "s3cr3t") == "********"
    for bad in ({"blobs_url": "http://bucket/x"}, {"blobs_url": "s3:///x"}, {"blobs_part_size": MIN_PART - 1},
                {"blobs_read_timeout": 0}, {"blobs_delete_delay": -1}, {"blobs_secret_access_key": "alone"}):
        with pytest.raises(SettingError):
            Settings(**bad)
    with pytest.raises(ValueError, match="not a blob id"):
        asyncio.run(store.delete(["../etc"]))


def test_writer_refuses_use_after_commit_or_abort(seaweedfs: SeaweedFS) -> None:
    store = s3_store(seaweedfs)

    async def go() -> None:
        writer = store.writer(Hasher())
        await writer.write(b"x")
        await writer.commit()
        await writer.commit()  # idempotent
        with pytest.raises(ValueError):
            await writer.write(b"more")
        other = store.writer(Hasher())
        await other.abort()
        with pytest.raises(ValueError):
            await other.commit()

    try:
        asyncio.run(go())
    finally:
        store.close()
