"""s3cmd (from the venv) with SigV4 and with SigV2 header authentication."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clients.boto import unique_bucket
from tests.clients.content import file_sha256, tree_digest
from tests.clients.server import Credentials, ServerHandle, venv_tool

MiB = 1024 * 1024


class S3cmd:
    def __init__(self, server: ServerHandle, config: Path, sigv2: bool, creds: Credentials) -> None:
        config.write_text(
            "[default]\n"
            f"access_key = {creds.access_key}\n"
            f"secret_key = {creds.secret_key}\n"
            f"host_base = {server.host_port}\n"
            f"host_bucket = {server.host_port}\n"
            "bucket_location = us-east-1\n"
            "use_https = False\n"
            f"signature_v2 = {sigv2}\n"
            "multipart_chunk_size_mb = 5\n"
            "progress_meter = False\n"
        )
        self.config = config

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [venv_tool("s3cmd"), "-c", str(self.config), "--no-check-certificate", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"s3cmd {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc



@pytest.mark.parametrize("sigv2", [False, True], ids=["sigv4", "sigv2"])
def test_s3cmd_round_trip(satchel_server: ServerHandle, tmp_path: Path, sigv2: bool,
                          random_file: Callable[[str, int], Path], member: Callable[[], Credentials]) -> None:
    # A user of its own: `s3cmd la` lists every bucket its user sees, and other test files' buckets (keys
    # with control characters, which s3cmd's XML parser refuses, as it does on AWS) are root's.
    s3cmd = S3cmd(satchel_server, tmp_path / "s3cfg", sigv2, member())
    name = unique_bucket("s3cmd")
    url = f"s3://{name}"
    s3cmd("mb", url)
    assert url in s3cmd("ls").stdout

    small = random_file("small.txt", 4096)
    large = random_file("large.bin", 11 * MiB + 3)  # three 5 MiB-chunk parts
    s3cmd("put", str(small), f"{url}/dir/small.txt")
    s3cmd("put", str(large), f"{url}/dir/large.bin")

    s3cmd("get", f"{url}/dir/small.txt", str(tmp_path / "small.back"))
    s3cmd("get", f"{url}/dir/large.bin", str(tmp_path / "large.back"))
    assert file_sha256(tmp_path / "small.back") == file_sha256(small)
    assert file_sha256(tmp_path / "large.back") == file_sha256(large)

    listing = s3cmd("ls", f"{url}/dir/").stdout
    assert f"{url}/dir/small.txt" in listing
    assert f"{url}/dir/large.bin" in listing
    everything = s3cmd("la", "--recursive").stdout
    assert f"{url}/dir/large.bin" in everything

    info = s3cmd("info", f"{url}/dir/small.txt").stdout
    assert "File size: 4096" in info
    assert f"MD5 sum:   {hashlib.md5(small.read_bytes()).hexdigest()}" in info  # noqa: S324

    tree = tmp_path / "tree"
    for rel, size in [("a.txt", 5), ("empty", 0), ("sub/b.bin", 100_000), ("sub/deeper/c.bin", 1 * MiB)]:
        random_file(f"tree/{rel}", size)
    s3cmd("sync", f"{tree}/", f"{url}/synced/")
    down = tmp_path / "down"
    down.mkdir()
    s3cmd("sync", f"{url}/synced/", f"{down}/")
    assert tree_digest(down) == tree_digest(tree)

    not_empty = s3cmd("rb", url, check=False)
    assert not_empty.returncode != 0
    s3cmd("del", f"{url}/dir/small.txt")
    assert f"{url}/dir/small.txt" not in s3cmd("ls", f"{url}/dir/").stdout
    s3cmd("del", "--recursive", "--force", url)
    assert s3cmd("ls", "--recursive", url).stdout.strip() == ""
    s3cmd("rb", url)
    assert url not in s3cmd("ls").stdout
