"""One real ``satchel serve`` for the hostile catalogue, a small world in it, and a cheap state snapshot.

The world: bucket :data:`BUCKET` with two objects, a multipart upload with one part, and two minted links
(SigV4 and SigV2, five uses each) to ``obj.txt``. The snapshot is what a hostile request must not change:
the bucket list, the bucket's objects (key, ETag, size) and ``obj.txt``'s bytes, the open uploads and
their parts, every link's use count and revocation, and the number of audit events (which a link use
raises by exactly one, a refusal).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.clients import mgmt
from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess

BUCKET = "hostile"
OBJECT = "obj.txt"
OBJECT_BYTES = b"hello hostile world\n"
UPLOAD_KEY = "mp.bin"
PART_BYTES = b"p" * (5 * 1024 * 1024)
#: Kept small so the header-size rows are cheap; a short body timeout ends a lying Content-Length fast.
#: The access log is on so that the secret-hygiene check reads every request line the catalogue made.
CONFIG = ("max_header_bytes = 16384\nheader_timeout = 2.0\nbody_timeout = 1.0\nsend_timeout = 5.0\n"
          "access_log = true\n")


@dataclass
class World:
    server: SatchelProcess
    s3: Any
    upload_id: str
    part_etag: str
    #: Minted links, as path?query: "v4" and "v2".
    links: dict[str, str]

    @property
    def host(self) -> str:
        return self.server.host_port

    def snapshot(self) -> dict[str, Any]:
        s3 = self.s3
        objects = {o["Key"]: (o["ETag"], o["Size"]) for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
        uploads = {(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])}
        parts = [(p["PartNumber"], p["ETag"]) for p in
                 s3.list_parts(Bucket=BUCKET, Key=UPLOAD_KEY, UploadId=self.upload_id).get("Parts", [])]
        links = mgmt.ok(mgmt.call(self.server, None, "GET", "/links?limit=1000"))["links"]
        return {
            "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
            "objects": objects,
            "bytes": self._object_bytes(),
            "uploads": uploads,
            "parts": parts,
            "links": {link["id"]: (link["uses"], link["revoked"]) for link in links},
        }

    def _object_bytes(self) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=BUCKET, Key=OBJECT)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def repair(self, baseline: dict[str, Any]) -> None:
        """Put the world back after a row that changed it (so one bug fails one row, not every later one):
        objects and bytes, buckets and uploads; link use counts cannot be given back."""
        s3, now = self.s3, self.snapshot()
        for name in set(now["buckets"]) - set(baseline["buckets"]):
            for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
                s3.delete_object(Bucket=name, Key=item["Key"])
            s3.delete_bucket(Bucket=name)
        for key in set(now["objects"]) - set(baseline["objects"]):
            s3.delete_object(Bucket=BUCKET, Key=key)
        for key, (etag, _size) in baseline["objects"].items():
            if now["objects"].get(key, ("", 0))[0] != etag or key == OBJECT:
                s3.put_object(Bucket=BUCKET, Key=key, Body=OBJECT_BYTES if key == OBJECT else b"second")
        for key, upload_id in now["uploads"] - baseline["uploads"]:
            s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)

    def audit_events(self) -> list[dict[str, Any]]:
        return list(mgmt.ok(mgmt.call(self.server, None, "GET", "/audit?limit=10000"))["events"])


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root: Path = tmp_path_factory.mktemp("hostile")
    config = root / "satchel.toml"
    config.write_text(CONFIG)
    server = SatchelProcess(root / "data", extra_args=("--config", str(config)))
    server.start()
    try:
        s3 = make_client(server)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=OBJECT, Body=OBJECT_BYTES)
        s3.put_object(Bucket=BUCKET, Key="dir/a b.txt", Body=b"second")
        upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=UPLOAD_KEY)["UploadId"]
        part_etag = s3.upload_part(Bucket=BUCKET, Key=UPLOAD_KEY, UploadId=upload_id, PartNumber=1,
                                   Body=PART_BYTES)["ETag"]
        links = {}
        for kind in ("s3v4", "s3v2"):
            minted = mgmt.ok(mgmt.call(server, None, "POST", "/links",
                                       {"bucket": BUCKET, "keys": [OBJECT], "max_uses": 5, "kind": kind}))
            url = urlsplit(minted["links"][0]["url"])
            links["v4" if kind == "s3v4" else "v2"] = f"{url.path}?{url.query}"
        time.sleep(0.01)
        yield World(server, s3, upload_id, part_etag.strip('"'), links)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fe_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The PAR, Swift and console catalogue's server and world (``frontends.py``)."""
    from tests.hostile import frontends

    root: Path = tmp_path_factory.mktemp("hostile-fe")
    config = root / "satchel.toml"
    config.write_text(frontends.CONFIG)
    server = SatchelProcess(root / "data", extra_args=("--config", str(config)))
    server.start()
    try:
        yield frontends.make_world(server)
    finally:
        server.stop()
