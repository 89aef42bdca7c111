"""rclone's swift backend (Debian's rclone), configured through environment variables, against
TempAuth and the Swift API: copy, check, lsjson, download, delete, purge; and objects rclone wrote
through Swift read through S3."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from tests.clients.content import tree_digest
from tests.clients.rclone import Rclone, rclone_runner
from tests.clients.server import ServerHandle
from tests.clients.swift import unique_container

MiB = 1024 * 1024
TREE = {"zero": 0, "one": 1, "kib/file": 1024, "mib/three.bin": 3 * MiB, "deep/a/b/c.txt": 300}


@pytest.fixture
def rclone(satchel_server: ServerHandle, tmp_path: Path) -> Rclone:
    return rclone_runner(tmp_path, {
        "RCLONE_CONFIG_SW_TYPE": "swift",
        "RCLONE_CONFIG_SW_USER": "root:root",
        "RCLONE_CONFIG_SW_KEY": satchel_server.secret_key,
        "RCLONE_CONFIG_SW_AUTH": f"{satchel_server.endpoint}/auth/v1.0",
    }, timeout=120)


def test_rclone_swift_copy_check_download_purge(
    rclone: Callable[..., subprocess.CompletedProcess[str]], s3: Any, tmp_path: Path,
    random_file: Callable[[str, int], Path],
) -> None:
    src = tmp_path / "src"
    for rel, size in TREE.items():
        random_file(f"src/{rel}", size)
    container = unique_container("rclone")
    remote = f"sw:{container}"
    rclone("mkdir", remote)
    try:
        rclone("copy", str(src), f"{remote}/data")
        check = rclone("check", str(src), f"{remote}/data")
        assert "0 differences found" in check.stderr
        assert f"{len(TREE)} matching files" in check.stderr

        listed = json.loads(rclone("lsjson", "--recursive", "--files-only", "--hash", f"{remote}/data").stdout)
        assert {e["Path"]: e["Size"] for e in listed} == TREE
        assert all(len(e["Hashes"]["md5"]) == 32 for e in listed)

        down = tmp_path / "down"
        rclone("copy", f"{remote}/data", str(down))
        assert tree_digest(down) == tree_digest(src)

        # The same bytes through S3, and what S3 wrote (multipart included) through rclone's swift backend.
        assert s3.get_object(Bucket=container, Key="data/kib/file")["Body"].read() == \
            (src / "kib/file").read_bytes()
        parts = random_file("parts.bin", 11 * MiB)
        s3.upload_file(str(parts), container, "s3/parts.bin",
                       Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
        rclone("copy", f"{remote}/s3", str(tmp_path / "from-s3"))
        assert (tmp_path / "from-s3/parts.bin").read_bytes() == parts.read_bytes()

        rclone("delete", f"{remote}/s3")
        assert "s3/parts.bin" not in rclone("lsf", "-R", remote).stdout
    finally:
        rclone("purge", remote, check=False)
    assert container not in rclone("lsd", "sw:").stdout
