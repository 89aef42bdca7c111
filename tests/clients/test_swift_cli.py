"""python-swiftclient's ``swift`` CLI, unchanged, against a real server: upload, download, list, stat,
post, copy, delete, public containers, and the refusal of segmented (DLO/SLO) uploads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.clients.server import ServerHandle
from tests.clients.swift import SwiftUser, empty_container, root_user, unique_container


@pytest.fixture
def root(satchel_server: ServerHandle) -> SwiftUser:
    return root_user(satchel_server)


@pytest.fixture
def container(root: SwiftUser) -> Iterator[str]:
    name = unique_container()
    yield name
    empty_container(root.connection(), name)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - Swift's ETag


def test_upload_download_list_stat_delete(root: SwiftUser, container: str, tmp_path: Path,
                                          random_file: Callable[[str, int], Path]) -> None:
    src = tmp_path / "src"
    files = {"a.txt": 5, "dir/b.bin": 300_000, "dir/sub/c.bin": 1, "empty": 0}
    for rel, size in files.items():
        random_file(f"src/{rel}", size)
    root.cli("upload", container, *files, cwd=src)

    listed = root.cli("list", container).stdout.split()
    assert listed == sorted(files)
    assert root.cli("list", container, "--prefix", "dir/").stdout.split() == ["dir/b.bin", "dir/sub/c.bin"]
    assert root.cli("list", container, "--delimiter", "/").stdout.split() == ["a.txt", "dir/", "empty"]
    long = root.cli("list", container, "--long").stdout
    assert "300000" in long and "dir/b.bin" in long and "application/octet-stream" in long

    stat = root.cli("stat", container, "dir/b.bin").stdout
    assert _md5(src / "dir/b.bin") in stat
    assert "Content Length: 300000" in stat
    container_stat = root.cli("stat", container).stdout
    assert "Objects: 4" in container_stat and f"Bytes: {sum(files.values())}" in container_stat

    down = tmp_path / "down"
    root.cli("download", container, "--output-dir", str(down))
    for rel in files:
        assert (down / rel).read_bytes() == (src / rel).read_bytes(), rel

    root.cli("delete", container, "dir/b.bin")
    assert "dir/b.bin" not in root.cli("list", container).stdout.split()
    root.cli("delete", container)  # every object, then the container
    gone = root.cli("stat", container, check=False)
    assert gone.returncode != 0 and "not found" in gone.stderr.lower()


def test_post_metadata_and_copy(root: SwiftUser, container: str, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("hello swift\n")
    root.cli("upload", container, "note.txt", cwd=tmp_path)
    root.cli("post", container, "note.txt", "-m", "Color:blue", "-m", "Owner:ada")
    stat = root.cli("stat", container, "note.txt").stdout
    assert "Meta Color: blue" in stat and "Meta Owner: ada" in stat
    # POST replaces the object's metadata, as in Swift.
    root.cli("post", container, "note.txt", "-m", "Color:green")
    stat = root.cli("stat", container, "note.txt").stdout
    assert "Meta Color: green" in stat and "Owner" not in stat

    root.cli("copy", container, "note.txt", "--destination", f"/{container}/copy.txt", "-m", "Extra:1")
    copied = root.cli("stat", container, "copy.txt").stdout
    assert "Meta Color: green" in copied and "Meta Extra: 1" in copied
    down = tmp_path / "copy.txt"
    root.cli("download", container, "copy.txt", "-o", str(down))
    assert down.read_text() == "hello swift\n"

    root.cli("post", container, "-m", "Project:apollo")
    assert "Meta Project: apollo" in root.cli("stat", container).stdout
    root.cli("post", "-m", "Team:storage")
    assert "Meta Team: storage" in root.cli("stat").stdout
    root.cli("post", "-m", "Team:")  # an empty value removes it
    assert "Team" not in root.cli("stat").stdout


def test_public_container(root: SwiftUser, container: str, tmp_path: Path) -> None:
    (tmp_path / "pub.txt").write_text("public bytes")
    root.cli("upload", container, "pub.txt", cwd=tmp_path)
    url = f"{root.server.endpoint}/v1/AUTH_root/{container}/pub.txt"
    assert requests.get(url, timeout=10).status_code == 401

    root.cli("post", container, "--read-acl", ".r:*")
    assert "Read ACL: .r:*,.rlistings" in root.cli("stat", container).stdout
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.text == "public bytes"
    listing = requests.get(f"{root.server.endpoint}/v1/AUTH_root/{container}", timeout=10)
    assert listing.text == "pub.txt\n"
    # Reading is all the public gets.
    assert requests.put(url, data=b"x", timeout=10).status_code == 401
    assert requests.delete(url, timeout=10).status_code == 401

    root.cli("post", container, "--read-acl", "")
    assert requests.get(url, timeout=10).status_code == 401
    refused = root.cli("post", container, "--read-acl", "otheraccount:someone", check=False)
    assert refused.returncode != 0 and "X-Container-Read" in refused.stderr


def test_segmented_upload_is_refused_clearly(root: SwiftUser, container: str, tmp_path: Path,
                                             random_file: Callable[[str, int], Path]) -> None:
    """Neither DLO nor SLO is implemented: the manifest is refused with the reason, and nothing is left
    under the object's name."""
    random_file("big.bin", 300_000)
    segments = f"{container}-segments"
    root.cli("post", container)
    try:
        run = root.cli("upload", "--segment-size", "100000", "--segment-container", segments, container,
                       "big.bin", cwd=tmp_path, check=False)
        assert run.returncode != 0
        assert "Dynamic Large Objects (X-Object-Manifest) are not supported" in run.stderr
        assert "big.bin" not in root.cli("list", container).stdout.split()
    finally:
        empty_container(root.connection(), segments)
