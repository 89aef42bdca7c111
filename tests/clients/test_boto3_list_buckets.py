"""ListBuckets' paging and filters as boto3 sends them (max-buckets, continuation-token, prefix,
bucket-region): answered, never refused or ignored."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import unique_bucket


def test_list_buckets_pages_and_filters(s3: Any) -> None:
    stem = unique_bucket("lb")
    names = [f"{stem}-{i}" for i in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    try:
        first = s3.list_buckets(Prefix=stem, MaxBuckets=2)
        assert [b["Name"] for b in first["Buckets"]] == names[:2]
        assert first["Prefix"] == stem and first["ContinuationToken"]
        rest = s3.list_buckets(Prefix=stem, MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
        assert [b["Name"] for b in rest["Buckets"]] == names[2:]
        assert "ContinuationToken" not in rest
        pages = s3.get_paginator("list_buckets").paginate(Prefix=stem, PaginationConfig={"PageSize": 1})
        assert [b["Name"] for page in pages for b in page["Buckets"]] == names
        assert s3.list_buckets(Prefix=stem, BucketRegion="eu-west-3")["Buckets"] == []
        assert {b["BucketRegion"] for b in s3.list_buckets(Prefix=stem)["Buckets"]} == {"us-east-1"}
        with pytest.raises(ClientError) as refused:
            s3.list_buckets(MaxBuckets=10_001)
        assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    finally:
        for name in names:
            s3.delete_bucket(Bucket=name)
