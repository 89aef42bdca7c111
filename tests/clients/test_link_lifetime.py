"""Lifetime ceilings are enforced when a link is used: per bucket (operator CLI and JSON API) and for
SigV4 and SigV2 URLs made offline by boto3."""

from __future__ import annotations

import json
from typing import Any

import boto3
import requests
from botocore.config import Config

from tests.clients.server import SatchelProcess


def presigned(server: SatchelProcess, signature: str, bucket: str, expires: int) -> str:
    client = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=server.root.access_key,
        aws_secret_access_key=server.root.secret_key, config=Config(signature_version=signature),
    )
    return str(client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=expires))


def code_of(response: requests.Response) -> str:
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in response.text else ""


def test_bucket_link_lifetime_applies_to_links_already_handed_out(
    s3: Any, bucket: str, managed_server: SatchelProcess
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"lifetime")
    urls = [presigned(managed_server, sig, bucket, 3600) for sig in ("s3v4", "s3")]
    short = presigned(managed_server, "s3v4", bucket, 30)
    for url in [*urls, short]:
        assert requests.get(url, timeout=30).content == b"lifetime"

    out = json.loads(managed_server.admin("bucket", "link-lifetime", bucket, "60", "--json"))
    assert out["max_link_lifetime"] == 60
    for url in urls:
        refused = requests.get(url, timeout=30)
        assert refused.status_code == 403 and code_of(refused) == "AccessDenied", refused.text
        assert "maximum of 60 seconds set on this bucket" in refused.text
    assert requests.get(short, timeout=30).status_code == 200  # within the ceiling

    managed_server.admin("bucket", "link-lifetime", bucket, "off")
    for url in urls:
        assert requests.get(url, timeout=30).status_code == 200


def test_server_wide_ceiling_refuses_long_sigv2_links(s3: Any, bucket: str, managed_server: SatchelProcess) -> None:
    # SigV2 has no 7-day cap of its own; the server-wide default max_link_lifetime (7 days) applies.
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    long_url = presigned(managed_server, "s3", bucket, 8 * 86400)
    refused = requests.get(long_url, timeout=30)
    assert refused.status_code == 403 and "this server allows" in refused.text
    assert requests.get(presigned(managed_server, "s3", bucket, 6 * 86400), timeout=30).status_code == 200
