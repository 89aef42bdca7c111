"""botocore as a peer: it builds the requests our router must name, and parses the XML we render.

Nothing goes over the network: a ``before-send`` hook captures each prepared request and answers
it with whatever body the test supplies, so the full client pipeline (serializer, RestXMLParser,
S3 customisations such as the ``encoding-type=url`` decoding) runs against our bytes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.model import OperationModel, Shape

DOMAIN = "s3.example.com"
ENDPOINT = f"http://{DOMAIN}:9000"
BUCKET = "examplebucket"
KEY = "photos/2006/Jan ü+ sample.jpg"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class _Captured(Exception):
    """Stops a request once it is prepared; nothing is sent anywhere."""


class Peer:
    domain = DOMAIN
    bucket = BUCKET
    key = KEY

    def __init__(self) -> None:
        session = botocore.session.get_session()
        self.model = session.get_service_model("s3")
        self.clients = {
            style: session.create_client(
                "s3",
                endpoint_url=ENDPOINT,
                region_name="us-east-1",
                aws_access_key_id="AKIDEXAMPLE",
                aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                config=Config(
                    s3={"addressing_style": style},
                    retries={"total_max_attempts": 1},
                    signature_version="s3v4",
                ),
            )
            for style in ("path", "virtual")
        }
        self._reply: tuple[int, Mapping[str, str], bytes] | None = None
        self.captured: AWSPreparedRequest | None = None
        for client in self.clients.values():
            client.meta.events.register("before-send.s3", self._before_send)

    def _before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.captured = request
        if self._reply is None:
            raise _Captured()
        status, headers, body = self._reply
        return AWSResponse(request.url, status, dict(headers), _Raw(body))

    # --- requests ---------------------------------------------------------------------------------
    def request(self, op: str, params: Mapping[str, Any] | None = None, *, style: str = "path") -> dict[str, Any]:
        """What botocore sends for ``op``, as our app hands it to ``route``."""
        self._reply = None
        method_name = self.clients[style].meta.method_to_api_mapping
        name = next(k for k, v in method_name.items() if v == op)
        call_params = self.params_for(op) if params is None else dict(params)
        with pytest.raises(_Captured):
            getattr(self.clients[style], name)(**call_params)
        assert self.captured is not None
        url = urlsplit(self.captured.url)
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in self.captured.headers.items()}
        headers.setdefault("host", url.netloc)  # added by the HTTP layer below botocore
        return {
            "method": self.captured.method,
            "path": unquote(url.path),
            "query": parse_qsl(url.query, keep_blank_values=True),
            "headers": headers,
            "body": _body_bytes(self.captured.body),
        }

    # --- responses --------------------------------------------------------------------------------
    def parse(
        self,
        op: str,
        body: bytes,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What a botocore caller gets back when the server answers ``body``."""
        self._reply = (status, {"Content-Type": "application/xml", **(headers or {})}, body)
        try:
            client = self.clients["path"]
            name = next(k for k, v in client.meta.method_to_api_mapping.items() if v == op)
            call_params = self.params_for(op) if params is None else dict(params)
            result: dict[str, Any] = getattr(client, name)(**call_params)
            return result
        finally:
            self._reply = None

    # --- minimal valid parameters -----------------------------------------------------------------
    def params_for(self, op: str) -> dict[str, Any]:
        operation: OperationModel = self.model.operation_model(op)
        shape = operation.input_shape
        return _fill(shape) if shape is not None else {}


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    data: bytes = body.read()
    return data


def _fill(shape: Shape) -> Any:
    named = {"Bucket": BUCKET, "Key": KEY, "UploadId": "VXBsb2FkIElE", "PartNumber": 2}
    if shape.type_name == "structure":
        out: dict[str, Any] = {}
        required = list(shape.required_members)
        if not required and getattr(shape, "is_tagged_union", False):
            required = list(shape.members)[:1]
        for name in required:
            member = shape.members[name]
            if name == "CopySource":
                out[name] = {"Bucket": "source-bucket", "Key": "dir/a b+c?.txt"}
            elif name in named:
                out[name] = named[name]
            else:
                out[name] = _fill(member)
        return out
    if shape.type_name == "list":
        return [_fill(shape.member)]
    if shape.type_name in ("integer", "long"):
        return 1
    if shape.type_name == "boolean":
        return True
    if shape.type_name == "timestamp":
        return datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    if shape.type_name == "blob":
        return b"x"
    if shape.type_name == "map":
        return {}
    enum = shape.enum
    if enum:
        return enum[0]
    return "x" * max(2, int(shape.metadata.get("min", 2)))


@pytest.fixture(scope="session")
def peer() -> Peer:
    return Peer()
