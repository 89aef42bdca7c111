"""A download that holds its body unread after the first bytes: what tests of many concurrent downloads
use to keep every one of them open at once (see test_s3_blobs_concurrent.py, test_local_blobs_concurrent.py)."""

from __future__ import annotations

import threading
import time

import requests

#: The first bytes each download reads before waiting for the others.
FIRST = 64 * 1024


def held_download(url: str, headers: dict[str, str], everyone: threading.Barrier) -> tuple[float, bytes, int]:
    """Seconds to the first 64 KiB, the whole body, the status; holds the body unread meanwhile until
    every download has its first 64 KiB."""
    began = time.monotonic()
    with requests.get(url, headers=headers, stream=True, timeout=30) as answer:
        first = answer.raw.read(FIRST)
        took = time.monotonic() - began
        everyone.wait()
        return took, first + answer.raw.read(), answer.status_code
