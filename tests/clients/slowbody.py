"""A request body that hangs midway, sent from a thread: tests act on the server while an upload is in flight."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.clients.server import Credentials, ServerHandle

#: Long enough for the server to read the request head and authorise it before the bucket goes.
AUTHORISED = 0.4


@dataclass
class SlowBody:
    """A request body that sends its first bytes, then waits until the test lets the rest go.

    Its length is known, so requests sends a plain Content-Length body (no chunked framing)."""

    data: bytes
    head: int = 4
    sent: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[:self.head]
        self.sent.set()
        self.go.wait(10)
        yield self.data[self.head:]


class InFlight:
    """A request sent from a thread with a :class:`SlowBody`; the test acts while it hangs."""

    def __init__(self, body: SlowBody, send: Callable[[SlowBody], requests.Response]) -> None:
        self.body = body
        self._answer: list[requests.Response | BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(send,), daemon=True)
        self._thread.start()
        assert body.sent.wait(5), "the first bytes were never sent"
        time.sleep(AUTHORISED)

    def _run(self, send: Callable[[SlowBody], requests.Response]) -> None:
        try:
            self._answer.append(send(self.body))
        except BaseException as exc:  # reported by finish()
            self._answer.append(exc)

    def finish(self) -> requests.Response:
        self.body.go.set()
        self._thread.join(15)
        assert self._answer, "the upload never answered"
        answer = self._answer[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def signed_put(server: ServerHandle, creds: Credentials, bucket: str, key: str
               ) -> Callable[[SlowBody], requests.Response]:
    """A header-signed SigV4 PUT whose body is not in the signature (UNSIGNED-PAYLOAD), as SDKs send
    large uploads over TLS: the server authorises it from the head alone."""
    url = f"{server.endpoint}/{bucket}/{key}"

    def send(body: SlowBody) -> requests.Response:
        request = AWSRequest(method="PUT", url=url, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
                                                              "Content-Length": str(len(body))})
        SigV4Auth(BotoCredentials(creds.access_key, creds.secret_key), "s3", server.region).add_auth(request)
        return requests.put(url, data=body, headers=dict(request.headers.items()), timeout=30)

    return send


#: The boundary of the multipart forms these tests send.
BOUNDARY = "satchelboundary"


def form_fields(fields: dict[str, str]) -> str:
    """Text fields of a ``multipart/form-data`` body with :data:`BOUNDARY`."""
    return "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in fields.items())


def formpost_fields(path: str, key: str, max_file_size: int, max_file_count: int) -> str:
    """The signed attributes of a Swift FormPost to ``path`` (valid 300 s, no redirect), HMAC-SHA256 with ``key``."""
    expires = int(time.time() + 300)
    signed = f"{path}\n\n{max_file_size}\n{max_file_count}\n{expires}".encode()
    signature = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()
    return form_fields({"max_file_size": str(max_file_size), "max_file_count": str(max_file_count),
                        "expires": str(expires), "signature": signature})
