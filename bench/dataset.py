"""The data every server gets: a 1 KiB and a 1 GiB object, as files (for nginx and uploads) and as
objects in each S3 server's bucket.

The big file repeats one random MiB: no server compresses, so its content does not matter, and writing
it costs a second instead of ten of ``os.urandom``.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import Server

SMALL_KEY = "small.bin"
BIG_KEY = "big.bin"
SMALL_SIZE = 1024
MIB = 1024 * 1024
GIB = 1024 * MIB


class Deadline(Exception):
    """Raised from a boto3 progress callback to abandon a transfer that ran out of time."""


@dataclass
class Files:
    www: Path
    small: Path
    big: Path
    big_size: int


def check_disk(path: Path, need: int) -> None:
    free = shutil.disk_usage(path).free
    if free < need:
        raise SystemExit(
            f"bench: {path} has {free / GIB:.1f} GiB free, the run needs about {need / GIB:.1f} GiB "
            "(set TMPDIR to a roomier disk)"
        )


def make_files(root: Path, bucket: str, big_size: int) -> Files:
    """Write the objects under ``root/www/<bucket>/``, readable by nginx's unprivileged workers."""
    www = root / "www"
    folder = www / bucket
    folder.mkdir(parents=True)
    for d in (root, www, folder):
        os.chmod(d, 0o755)  # noqa: S103 - nginx workers run unprivileged and must read them
    small = folder / SMALL_KEY
    small.write_bytes(os.urandom(SMALL_SIZE))
    big = folder / BIG_KEY
    block = os.urandom(MIB)
    with open(big, "wb") as fh:
        written = 0
        while written < big_size:
            n = min(MIB, big_size - written)
            fh.write(block[:n])
            written += n
    for f in (small, big):
        os.chmod(f, 0o644)
    return Files(www, small, big, big_size)


def upload_bounded(client: Any, path: Path, bucket: str, key: str, seconds: float) -> tuple[int, float, bool]:
    """boto3 ``upload_file`` (multipart above 8 MiB, as users get it), stopped after ``seconds``.

    Returns (bytes sent, seconds taken, finished)."""
    sent = 0
    deadline = time.monotonic() + seconds

    def progress(n: int) -> None:
        nonlocal sent
        sent += n
        if time.monotonic() > deadline:
            raise Deadline()

    began = time.monotonic()
    try:
        client.upload_file(str(path), bucket, key, Callback=progress)
    except Deadline:
        return sent, time.monotonic() - began, False
    except Exception as exc:
        if isinstance(exc.__cause__, Deadline) or "Deadline" in repr(exc):
            return sent, time.monotonic() - began, False
        raise
    return sent, time.monotonic() - began, True


def seed(server: Server, files: Files, seconds: float) -> str | None:
    """Create the bucket and upload both objects; the reason when that failed, else None."""
    client = server.client()
    try:
        client.create_bucket(Bucket=server.bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    except Exception as exc:
        return f"create bucket: {_short(exc)}"
    try:
        client.put_object(Bucket=server.bucket, Key=SMALL_KEY, Body=files.small.read_bytes())
        _, _, done = upload_bounded(client, files.big, server.bucket, BIG_KEY, seconds)
        if not done:
            return f"uploading the {files.big_size // MIB} MiB object took more than {seconds:.0f} s"
        head = client.head_object(Bucket=server.bucket, Key=BIG_KEY)
    except Exception as exc:
        return f"upload: {_short(exc)}"
    if int(head["ContentLength"]) != files.big_size:
        return f"stored size {head['ContentLength']} != {files.big_size}"
    return None


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
