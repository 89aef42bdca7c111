"""boto3 clients pointed at the server under test, and the small readers of their errors."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.clients.server import REGION, Credentials, ServerHandle

#: Builds a client for the server under test: ``factory(creds=None, **botocore_config)``.
S3Factory = Callable[..., Any]


def unique_bucket(prefix: str = "t") -> str:
    """Every test names its own buckets so tests sharing a server never see each other's objects."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])


def make_client(server: ServerHandle, creds: Credentials | None = None, **config: Any) -> Any:
    """A boto3 S3 client with botocore's defaults except path-style addressing and few retries."""
    creds = creds or server.root
    s3_conf = {"addressing_style": "path", **config.pop("s3", {})}
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        config=Config(s3=s3_conf, retries={"max_attempts": 2, "mode": "standard"}, **config),
    )


def empty_and_delete(client: Any, name: str) -> None:
    """Best-effort cleanup so one server can hold every test's buckets; failures do not mask results."""
    with contextlib.suppress(ClientError):
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for up in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
    with contextlib.suppress(ClientError):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    with contextlib.suppress(ClientError):
        client.delete_bucket(Bucket=name)


def awscli_env(server: ServerHandle, home: Path, config: Path) -> dict[str, str]:
    """Environment for the aws cli: the server's root keys, region us-east-1, ``config`` as its config
    file, and nothing from the developer's own AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return env


def presigned_object(server: ServerHandle, prefix: str, body: bytes, expires: int = 300) -> tuple[str, str]:
    """A new bucket holding ``body`` at key ``k``: (the bucket, a SigV4 presigned GET of ``k``)."""
    s3 = make_client(server, signature_version="s3v4")
    bucket = unique_bucket(prefix)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=expires)
    return bucket, url
