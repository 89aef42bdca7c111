"""The management API as any SDK would call it: JSON over HTTP, SigV4-signed with a user's access key."""

from __future__ import annotations

import json
from typing import Any

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.clients.server import Credentials, ServerHandle

TIMEOUT = 30


def call(server: ServerHandle, creds: Credentials | None, method: str, path: str,
         body: dict[str, Any] | None = None) -> requests.Response:
    """``method /_satchel/api{path}`` signed with ``creds`` (the root key when None)."""
    creds = creds or server.root
    data = json.dumps(body).encode() if body is not None else b""
    url = f"{server.endpoint}/_satchel/api{path}"
    request = AWSRequest(method=method, url=url, data=data)
    S3SigV4Auth(BotoCredentials(creds.access_key, creds.secret_key), "s3", server.region).add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers.items()), timeout=TIMEOUT)


def ok(reply: requests.Response) -> Any:
    assert reply.status_code == 200, reply.text
    return reply.json()


def error_code(reply: requests.Response) -> str:
    return str(reply.json()["error"]["code"])
