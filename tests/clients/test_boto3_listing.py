"""ListObjects (v1 and v2): prefixes, delimiters, pagination, StartAfter and URL encoding of keys."""

from __future__ import annotations

import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import defusedxml.ElementTree as ET
import pytest
import requests

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
TREE = ["a/1", "a/2", "a/b/3", "a/b/c/4", "b/5", "c", "d.txt"]


def _put_all(s3: Any, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))


@pytest.fixture
def tree_bucket(s3: Any, bucket: str) -> str:
    _put_all(s3, bucket, TREE)
    return bucket


def test_v2_prefix_and_delimiter(s3: Any, tree_bucket: str) -> None:
    top = s3.list_objects_v2(Bucket=tree_bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c", "d.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/"]
    assert top["KeyCount"] == 4
    assert top["IsTruncated"] is False

    inner = s3.list_objects_v2(Bucket=tree_bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in inner["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["a/b/"]
    assert inner["Prefix"] == "a/"

    flat = s3.list_objects_v2(Bucket=tree_bucket, Prefix="a/")
    assert [o["Key"] for o in flat["Contents"]] == ["a/1", "a/2", "a/b/3", "a/b/c/4"]
    assert "CommonPrefixes" not in flat
    sizes = {o["Key"]: o["Size"] for o in flat["Contents"]}
    assert sizes == {k: len(k) for k in ["a/1", "a/2", "a/b/3", "a/b/c/4"]}
    assert all(o["ETag"].startswith('"') for o in flat["Contents"])

    none = s3.list_objects_v2(Bucket=tree_bucket, Prefix="zzz")
    assert none["KeyCount"] == 0
    assert "Contents" not in none


def test_v1_prefix_delimiter_and_marker(s3: Any, tree_bucket: str) -> None:
    top = s3.list_objects(Bucket=tree_bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c", "d.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/"]
    after = s3.list_objects(Bucket=tree_bucket, Marker="a/b/3")
    assert [o["Key"] for o in after["Contents"]] == ["a/b/c/4", "b/5", "c", "d.txt"]
    page = s3.list_objects(Bucket=tree_bucket, MaxKeys=2)
    assert page["IsTruncated"] is True
    assert [o["Key"] for o in page["Contents"]] == ["a/1", "a/2"]
    grouped = s3.list_objects(Bucket=tree_bucket, Delimiter="/", MaxKeys=1)
    assert grouped["IsTruncated"] is True
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/"]
    assert grouped["NextMarker"] == "a/"  # the last entry returned, here a rolled-up prefix


def test_v2_start_after_and_max_keys_with_delimiter(s3: Any, tree_bucket: str) -> None:
    after = s3.list_objects_v2(Bucket=tree_bucket, StartAfter="a/b/3")
    assert [o["Key"] for o in after["Contents"]] == ["a/b/c/4", "b/5", "c", "d.txt"]
    assert after["StartAfter"] == "a/b/3"

    # Common prefixes count toward MaxKeys, and a continuation skips the rolled-up prefix entirely.
    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        kwargs: dict[str, Any] = {"Bucket": tree_bucket, "Delimiter": "/", "MaxKeys": 1}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        entries = [o["Key"] for o in page.get("Contents", [])] + [
            p["Prefix"] for p in page.get("CommonPrefixes", [])
        ]
        assert len(entries) == 1
        seen.extend(entries)
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == ["a/", "b/", "c", "d.txt"]


def test_paginate_2500_keys(s3: Any, bucket: str) -> None:
    keys = [f"obj/{i:05d}" for i in range(2500)]
    _put_all(s3, bucket, keys)

    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1000}))
    assert [p["KeyCount"] for p in pages] == [1000, 1000, 500]
    assert [p["IsTruncated"] for p in pages] == [True, True, False]
    assert [o["Key"] for p in pages for o in p["Contents"]] == keys

    pages_v1 = list(s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1000}))
    assert [len(p["Contents"]) for p in pages_v1] == [1000, 1000, 500]
    assert [o["Key"] for p in pages_v1 for o in p["Contents"]] == keys

    default_page = s3.list_objects_v2(Bucket=bucket)
    assert default_page["KeyCount"] == 1000
    assert default_page["MaxKeys"] == 1000

    start = s3.list_objects_v2(Bucket=bucket, StartAfter="obj/02400", MaxKeys=1000)
    assert [o["Key"] for o in start["Contents"]] == keys[2401:]


ODD_KEYS = ["sp ace/x", "plus+sign", "pct%2Fslash", "amp&lt<gt>", "uni-\u00e9\u4e2d", "quote\"'", "tab\tx"]


def test_encoding_type_url(s3: Any, bucket: str) -> None:
    _put_all(s3, bucket, ODD_KEYS)
    expected = sorted(ODD_KEYS, key=lambda k: k.encode())
    # botocore asks for EncodingType=url and decodes the answer: a round trip proves both ends agree.
    decoded = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in decoded["Contents"]] == expected
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == expected

    # The raw wire form: keys are percent-encoded, '+' never appears unescaped.
    url = s3.generate_presigned_url(
        "list_objects_v2", Params={"Bucket": bucket, "EncodingType": "url", "Delimiter": "/"}, ExpiresIn=300
    )
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert root.findtext(f"{NS}EncodingType") == "url"
    raw_keys = [el.text or "" for el in root.iter(f"{NS}Key")]
    raw_prefixes = [el.text or "" for el in root.iter(f"{NS}Prefix") if el.text]
    for raw in raw_keys + raw_prefixes:
        assert not set(raw) & set(' \t&<>"'), raw
    decoded_keys = [urllib.parse.unquote_plus(k) for k in raw_keys]
    assert decoded_keys == [k for k in expected if "/" not in k]
    assert [urllib.parse.unquote_plus(p) for p in raw_prefixes] == ["sp ace/"]


def test_fetch_owner_and_v1_owner(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="owned", Body=b"o")
    whoami = s3.list_buckets()["Owner"]["ID"]
    plain = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert "Owner" not in plain
    with_owner = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert with_owner["Owner"]["ID"] == whoami
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]["ID"] == whoami
