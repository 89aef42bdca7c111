"""rclone (Debian's package) configured entirely through environment variables."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clients.boto import unique_bucket
from tests.clients.content import tree_digest
from tests.clients.rclone import Rclone, rclone_runner
from tests.clients.server import ServerHandle

MiB = 1024 * 1024
# Sizes straddle rclone's interesting thresholds; the cutoff flags force multipart for the 17 MiB file.
TREE = {"zero": 0, "one": 1, "kib/file": 1024, "mib/one.bin": MiB, "big/seventeen.bin": 17 * MiB,
        "deep/a/b/c.txt": 300}
MULTIPART = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]



@pytest.fixture
def rclone(satchel_server: ServerHandle, tmp_path: Path) -> Rclone:
    return rclone_runner(tmp_path, {
        "RCLONE_CONFIG_SATCHEL_TYPE": "s3",
        "RCLONE_CONFIG_SATCHEL_PROVIDER": "Other",
        "RCLONE_CONFIG_SATCHEL_ACCESS_KEY_ID": satchel_server.access_key,
        "RCLONE_CONFIG_SATCHEL_SECRET_ACCESS_KEY": satchel_server.secret_key,
        "RCLONE_CONFIG_SATCHEL_ENDPOINT": satchel_server.endpoint,
        "RCLONE_CONFIG_SATCHEL_REGION": "us-east-1",
        "RCLONE_CONFIG_SATCHEL_FORCE_PATH_STYLE": "true",
    })


def test_rclone_copy_check_list_delete(
    rclone: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path,
    random_file: Callable[[str, int], Path],
) -> None:
    src = tmp_path / "src"
    for rel, size in TREE.items():
        random_file(f"src/{rel}", size)
    remote = f"satchel:{unique_bucket('rclone')}"
    rclone("mkdir", remote)
    rclone("copy", str(src), f"{remote}/data", *MULTIPART)

    check = rclone("check", str(src), f"{remote}/data")
    assert "0 differences found" in check.stderr
    assert f"{len(TREE)} matching files" in check.stderr

    listed = json.loads(rclone("lsjson", "--recursive", "--files-only", "--hash", f"{remote}/data").stdout)
    assert {e["Path"]: e["Size"] for e in listed} == TREE
    big = next(e for e in listed if e["Path"] == "big/seventeen.bin")
    # rclone records the MD5 of multipart uploads in metadata, so a hash is known for every file.
    assert big["Hashes"]["md5"] == _md5_file(src / "big/seventeen.bin")

    down = tmp_path / "down"
    rclone("copy", f"{remote}/data", str(down), *MULTIPART)
    assert tree_digest(down) == tree_digest(src)

    # A modified file is a difference rclone check must see. The file holds one random byte, so the new
    # byte is derived from it: a fixed one would equal the original once in 256 runs.
    original = (src / "one").read_bytes()
    (src / "one").write_bytes(bytes([original[0] ^ 0xFF]))
    differing = rclone("check", str(src), f"{remote}/data", check=False)
    assert differing.returncode != 0
    assert "1 differences found" in differing.stderr

    rclone("delete", f"{remote}/data/big")
    after = json.loads(rclone("lsjson", "--recursive", "--files-only", f"{remote}/data").stdout)
    assert sorted(e["Path"] for e in after) == sorted(k for k in TREE if not k.startswith("big/"))
    rclone("purge", remote)
    gone = rclone("lsjson", remote, check=False)
    assert gone.returncode != 0


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - compared with rclone's reported MD5
    digest.update(path.read_bytes())
    return digest.hexdigest()
