"""The AWS CLI (v1, from the venv) as a subprocess: high-level `aws s3` and low-level `aws s3api`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clients.boto import awscli_env, unique_bucket
from tests.clients.content import file_sha256, tree_digest
from tests.clients.server import ServerHandle, venv_tool

MiB = 1024 * 1024


class AwsCli:
    def __init__(self, server: ServerHandle, home: Path) -> None:
        config = home / "aws-config"
        config.write_text("[default]\nregion = us-east-1\n")
        self.server = server
        self.env = awscli_env(server, home, config)

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [venv_tool("aws"), "--endpoint-url", self.server.endpoint, *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=240, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"aws {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--output", "json").stdout)


@pytest.fixture
def aws(satchel_server: ServerHandle, tmp_path: Path) -> AwsCli:
    home = tmp_path / "home"
    home.mkdir()
    return AwsCli(satchel_server, home)



def test_s3_high_level_commands(aws: AwsCli, tmp_path: Path, random_file: Callable[[str, int], Path]) -> None:
    name = unique_bucket("awscli")
    s3url = f"s3://{name}"
    aws("s3", "mb", s3url)
    assert name in aws("s3", "ls").stdout

    small = random_file("src/small.txt", 1500)
    big = random_file("src/big.bin", 20 * MiB)  # above the CLI's 8 MiB multipart threshold
    aws("s3", "cp", str(small), f"{s3url}/files/small.txt")
    aws("s3", "cp", str(big), f"{s3url}/files/big.bin")
    head = aws.json("s3api", "head-object", "--bucket", name, "--key", "files/big.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].endswith('-3"')

    back = tmp_path / "back"
    aws("s3", "cp", f"{s3url}/files/small.txt", str(back / "small.txt"))
    aws("s3", "cp", f"{s3url}/files/big.bin", str(back / "big.bin"))
    assert file_sha256(back / "small.txt") == file_sha256(small)
    assert file_sha256(back / "big.bin") == file_sha256(big)

    listing = aws("s3", "ls", "--recursive", s3url).stdout
    assert "files/small.txt" in listing
    assert "files/big.bin" in listing
    assert str(20 * MiB) in listing

    tree = tmp_path / "tree"
    for rel, size in [("a.txt", 10), ("empty", 0), ("d1/b.bin", 70_000), ("d1/d2/c.bin", 9 * MiB),
                      ("d 3/spaced name.txt", 33)]:
        random_file(f"tree/{rel}", size)
    aws("s3", "sync", str(tree), f"{s3url}/synced")
    down = tmp_path / "down"
    aws("s3", "sync", f"{s3url}/synced", str(down))
    assert tree_digest(down) == tree_digest(tree)
    # A second sync has nothing to transfer.
    assert aws("s3", "sync", str(tree), f"{s3url}/synced").stdout.strip() == ""

    failed_rb = aws("s3", "rb", s3url, check=False)
    assert failed_rb.returncode != 0
    assert "BucketNotEmpty" in failed_rb.stderr

    aws("s3", "rm", "--recursive", s3url)
    assert aws("s3", "ls", "--recursive", s3url).stdout.strip() == ""
    aws("s3", "rb", s3url)
    assert name not in aws("s3", "ls").stdout


def test_s3api_commands(aws: AwsCli, tmp_path: Path, random_file: Callable[[str, int], Path]) -> None:
    name = unique_bucket("s3api")
    aws("s3api", "create-bucket", "--bucket", name)
    body = random_file("body.bin", 123_456)
    put = aws.json("s3api", "put-object", "--bucket", name, "--key", "dir/obj", "--body", str(body),
                   "--content-type", "application/x-cli", "--metadata", "owner=cli,purpose=test")
    assert put["ETag"].startswith('"')

    head = aws.json("s3api", "head-object", "--bucket", name, "--key", "dir/obj")
    assert head["ContentLength"] == 123_456
    assert head["ContentType"] == "application/x-cli"
    assert head["Metadata"] == {"owner": "cli", "purpose": "test"}
    assert head["ETag"] == put["ETag"]

    out = tmp_path / "out.bin"
    got = aws.json("s3api", "get-object", "--bucket", name, "--key", "dir/obj", str(out))
    assert got["ContentLength"] == 123_456
    assert file_sha256(out) == file_sha256(body)
    ranged = aws.json("s3api", "get-object", "--bucket", name, "--key", "dir/obj", "--range", "bytes=100-199",
                      str(tmp_path / "range.bin"))
    assert ranged["ContentRange"] == "bytes 100-199/123456"
    assert (tmp_path / "range.bin").read_bytes() == body.read_bytes()[100:200]

    for i in range(3):
        aws("s3api", "put-object", "--bucket", name, "--key", f"dir/n{i}", "--body", str(body))
    listed = aws.json("s3api", "list-objects-v2", "--bucket", name, "--prefix", "dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/n0", "dir/n1", "dir/n2", "dir/obj"]
    assert all(o["Size"] == 123_456 for o in listed["Contents"])
    paged = aws.json("s3api", "list-objects-v2", "--bucket", name, "--max-items", "2")
    assert len(paged["Contents"]) == 2
    assert paged["NextToken"]

    for key in ("dir/obj", "dir/n0", "dir/n1", "dir/n2"):
        aws("s3api", "delete-object", "--bucket", name, "--key", key)
    missing = aws("s3api", "head-object", "--bucket", name, "--key", "dir/obj", check=False)
    assert missing.returncode != 0
    assert "404" in missing.stderr
    assert aws.json("s3api", "list-objects-v2", "--bucket", name).get("Contents", []) == []
    aws("s3api", "delete-bucket", "--bucket", name)
