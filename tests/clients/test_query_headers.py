"""``x-amz-*`` headers a client moved into the query (SDK presigners do) are read as those headers
wherever the signature covers the query, and refused where it does not (hostile review C).

Before, ``x-amz-copy-source`` in the query was ignored, so a "copy link" stored its empty body over
the destination, and a header-signed DELETE skipped ``?x-amz-if-match-size`` and deleted anyway.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests
from botocore.auth import HmacV1Auth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.clients.server import ServerHandle


def _presigned(server: ServerHandle, method: str, target: str) -> str:
    request = AWSRequest(method=method, url=f"{server.endpoint}{target}")
    S3SigV4QueryAuth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1", expires=300).add_auth(
        request)
    return str(request.url)


def _header_signed(server: ServerHandle, method: str, target: str, *, v2: bool = False) -> requests.Response:
    url = f"{server.endpoint}{target}"
    request = AWSRequest(method=method, url=url, data=b"")
    credentials = Credentials(server.access_key, server.secret_key)
    (HmacV1Auth(credentials) if v2 else S3SigV4Auth(credentials, "s3", "us-east-1")).add_auth(request)
    return requests.request(method, url, data=b"", headers=dict(request.headers.items()), timeout=10)


def _code(reply: requests.Response) -> tuple[int, str]:
    return reply.status_code, reply.text.partition("<Code>")[2].partition("</Code>")[0]


def test_a_copy_source_in_the_query_copies(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"SOURCE-CONTENT")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old")
    url = _presigned(satchel_server, "PUT", f"/{bucket}/dst?x-amz-copy-source={quote(f'/{bucket}/src', safe='')}")
    reply = requests.put(url, data=b"", timeout=10)
    assert reply.status_code == 200 and b"<CopyObjectResult" in reply.content, reply.text
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"SOURCE-CONTENT"


def test_query_conditions_of_a_sigv4_request_are_evaluated(satchel_server: ServerHandle, s3: Any,
                                                           bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="hd", Body=b"12345")
    assert _code(_header_signed(satchel_server, "DELETE", f"/{bucket}/hd?x-amz-if-match-size=4")) == \
        (412, "PreconditionFailed")
    assert _code(_header_signed(satchel_server, "DELETE", f"/{bucket}/hd?x-amz-if-match-size=abc"))[0] == 400
    assert s3.get_object(Bucket=bucket, Key="hd")["Body"].read() == b"12345"


def test_query_headers_of_a_sigv2_header_request_are_refused(satchel_server: ServerHandle, s3: Any,
                                                             bucket: str) -> None:
    """SigV2 signs no x-amz-* query parameter in an Authorization header: reading one would trust an
    unsigned value, ignoring it would skip what it asks."""
    s3.put_object(Bucket=bucket, Key="hd", Body=b"12345")
    reply = _header_signed(satchel_server, "DELETE", f"/{bucket}/hd?x-amz-if-match-size=4", v2=True)
    assert _code(reply) == (400, "InvalidArgument"), reply.text
    assert s3.get_object(Bucket=bucket, Key="hd")["Body"].read() == b"12345"


def test_a_query_header_that_contradicts_the_header_is_refused(satchel_server: ServerHandle, s3: Any,
                                                               bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"S")
    s3.put_object(Bucket=bucket, Key="other", Body=b"O")
    url = f"{satchel_server.endpoint}/{bucket}/dst?x-amz-copy-source={quote(f'/{bucket}/src', safe='')}"
    request = AWSRequest(method="PUT", url=url, data=b"", headers={"x-amz-copy-source": f"/{bucket}/other"})
    S3SigV4Auth(Credentials(satchel_server.access_key, satchel_server.secret_key), "s3", "us-east-1").add_auth(request)
    reply = requests.put(url, data=b"", headers=dict(request.headers.items()), timeout=10)
    assert _code(reply) == (400, "InvalidArgument"), reply.text
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["other", "src"]
