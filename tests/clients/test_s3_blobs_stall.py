"""A real ``satchel serve`` on an upstream that hangs (SeaweedFS stopped with SIGSTOP: connections are
accepted, nothing answers) and on one that lost a blob behind Satchel's back.

Hung: every client is answered ``503 SlowDown`` within the documented wait bound
``blobs_attempts * (blobs_connect_timeout + blobs_read_timeout) + 1 s`` (``blobs/s3upstream.py``) — not
after botocore's extra try, the failed write's clean-up, or one wait per part — and service resumes once
the upstream does. Lost blob: a deliberate ``500 InternalError``, one log line naming the blob, no
traceback (``core/objects.py``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, http_status, unique_bucket
from tests.clients.test_s3_blobs import (  # upstream: this module's own SeaweedFS, stopped and continued here
    PREFIX,
    UpstreamSatchel,
    upstream,  # noqa: F401
    upstream_keys,
)
from tests.seaweedfs import SeaweedFS

MiB = 1024 * 1024
CONNECT, READ, ATTEMPTS = 0.5, 1.5, 2
#: The wait bound these settings give (s3upstream.py: attempts * (connect + read) + DEADLINE_MARGIN).
BOUND = ATTEMPTS * (CONNECT + READ) + 1.0
#: Room for a loaded two-core machine (the server's answer after the bound, the client's own work).
SLACK = 2.5


class StallSatchel(UpstreamSatchel):
    def env(self) -> dict[str, str]:
        return {**super().env(), "SATCHEL_BLOBS_CONNECT_TIMEOUT": str(CONNECT),
                "SATCHEL_BLOBS_READ_TIMEOUT": str(READ), "SATCHEL_BLOBS_ATTEMPTS": str(ATTEMPTS)}


@pytest.fixture(scope="module")
def satchel(tmp_path_factory: pytest.TempPathFactory, upstream: SeaweedFS) -> Iterator[StallSatchel]:  # noqa: F811
    server = StallSatchel(tmp_path_factory.mktemp("stall") / "data", upstream, upstream.new_bucket())
    with server.running():
        yield server


def _client(server: StallSatchel) -> Any:
    """One try per call, patient reads: what is timed is the server's answer, not the client's."""
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=server.root.access_key, aws_secret_access_key=server.root.secret_key,
                        config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=60,
                                      retries={"total_max_attempts": 1, "mode": "standard"}))


def _slow_down_within_bound(call: Callable[[], Any]) -> float:
    began = time.monotonic()
    with pytest.raises(ClientError) as caught:
        call()
    took = time.monotonic() - began
    assert (error_code(caught.value), http_status(caught.value)) == ("SlowDown", 503)
    assert took < BOUND + SLACK, f"{took:.1f} s to answer, the bound is {BOUND:g} s"
    return took


def test_a_hung_upstream_is_503_within_the_wait_bound(satchel: StallSatchel, upstream: SeaweedFS) -> None:  # noqa: F811
    s3 = _client(satchel)
    bucket = unique_bucket("stall")
    s3.create_bucket(Bucket=bucket)
    kept = random.Random(1).randbytes(300_000)  # past the small-blob cache: a GET must ask the upstream
    s3.put_object(Bucket=bucket, Key="kept", Body=kept)
    large = random.Random(2).randbytes(12 * MiB)  # a multipart upload upstream (parts of 5 MiB)
    with upstream.paused():
        _slow_down_within_bound(lambda: s3.get_object(Bucket=bucket, Key="kept")["Body"].read())
        # Before: the PUT's tries, one more than blobs_attempts, then the abort's DELETE as long again.
        _slow_down_within_bound(lambda: s3.put_object(Bucket=bucket, Key="small", Body=b"s" * 1000))
        _slow_down_within_bound(lambda: s3.put_object(Bucket=bucket, Key="large", Body=large))
    # Back without a restart; nothing half-written became visible.
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == kept
    s3.put_object(Bucket=bucket, Key="small", Body=b"s" * 1000)
    assert {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]} == {"kept", "small"}
    assert "Traceback" not in satchel.log_tail(300)


def test_an_upstream_hung_mid_upload_is_503_within_the_wait_bound(satchel: StallSatchel,
                                                                  upstream: SeaweedFS) -> None:  # noqa: F811
    """Hung while a part is in flight: the upload waits for that part no longer than the bound, and
    its clean-up (abort the multipart upload) waits for no one."""
    s3 = _client(satchel)
    bucket = unique_bucket("midway")
    s3.create_bucket(Bucket=bucket)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "midway"}, ExpiresIn=60)
    stalled: list[float] = []

    class Body:
        """12 MiB that hang the upstream after 7: part 1 (5 MiB) is sent; part 2 will be in flight."""

        sent = 0

        def __len__(self) -> int:
            return 12 * MiB

        def read(self, size: int = -1) -> bytes:
            if self.sent == 7 * MiB:
                upstream.pause()
                stalled.append(time.monotonic())
            piece = min(MiB, 12 * MiB - self.sent)
            self.sent += piece
            return b"m" * piece

    try:
        answer = requests.put(url, data=Body(), timeout=60)
        assert stalled, (answer.status_code, answer.text[:300])
        took = time.monotonic() - stalled[0]
    finally:
        upstream.resume()
    assert answer.status_code == 503 and "<Code>SlowDown</Code>" in answer.text
    assert took < BOUND + SLACK, f"{took:.1f} s to answer, the bound is {BOUND:g} s"
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="midway")
    assert http_status(caught.value) == 404


def test_a_blob_lost_upstream_is_a_deliberate_500(satchel: StallSatchel, tmp_path: Path) -> None:
    """Deleted behind Satchel's back: data loss, not the upstream being away (it answered, and S3
    engines read after write consistently), so no 503 to retry forever, and no NoSuchKey contradicting
    the listing. One log line names the blob for the operator; the answer names nothing."""
    s3 = _client(satchel)
    bucket = unique_bucket("lost")
    s3.create_bucket(Bucket=bucket)
    before = upstream_keys(satchel)
    s3.put_object(Bucket=bucket, Key="lost", Body=b"v" * 100_000)
    (key,) = upstream_keys(satchel) - before
    satchel.upstream.client().delete_object(Bucket=satchel.bucket, Key=key)
    blob_id = key.removeprefix(PREFIX + "/")
    for _ in range(2):  # a client that retries a 500: the log says it once (one worker here)
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="lost")["Body"].read()
        assert (error_code(caught.value), http_status(caught.value)) == ("InternalError", 500)
        assert blob_id not in str(caught.value.response)
    assert s3.head_object(Bucket=bucket, Key="lost")["ContentLength"] == 100_000  # the metadata is intact
    log = satchel.log_tail(100)
    assert log.count(f"lost a blob of {bucket}/lost (blobs {blob_id})") == 1 and "Traceback" not in log
