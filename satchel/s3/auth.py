"""Who is asking: turns a request's signature (or its absence) into a verified principal.

Every S3 authentication form ends here: SigV4 and SigV2 in the Authorization header, SigV4 and SigV2
presigned query strings, and anonymous requests. POST form uploads carry their signature in the form
and are verified by the PostObject handler with the same credential lookup.

The key lookup happens inside the signature checks (``lookup_secret``), at the point of AWS's
validation order where an unknown key must be reported, and resolves the key's *current* user and
grants: a disabled key or user fails here, on every request and every link it signed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from satchel.asgi import Request
from satchel.core.errors import InvalidArgument
from satchel.core.models import ANONYMOUS, Principal
from satchel.core.node import Node
from satchel.s3.endpoints import Endpoint
from satchel.signing import sigv2
from satchel.signing.sigv4.chunked import ChunkSigner
from satchel.signing.sigv4.parse import is_presigned_v4
from satchel.signing.sigv4.verify import verify_header_auth, verify_presigned

_BOTH = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
    "parameter or the Authorization header should be specified"
)


#: Query parameters that make a request SigV2 query-authenticated (AWS: Signature or AWSAccessKeyId).
_V2_QUERY_MARKERS = frozenset({"AWSAccessKeyId", "Signature"})


class AuthMethod(enum.StrEnum):
    ANONYMOUS = "anonymous"
    HEADER_V4 = "sigv4"
    HEADER_V2 = "sigv2"
    QUERY_V4 = "presigned-v4"
    QUERY_V2 = "presigned-v2"
    POST = "post-policy"


@dataclass(frozen=True, slots=True)
class AuthResult:
    principal: Principal
    method: AuthMethod
    #: The signed payload hash of a header-signed SigV4 request: hex SHA-256, UNSIGNED-PAYLOAD or a
    #: STREAMING-* mode; None when nothing about the payload was signed.
    payload_mode: str | None = None
    #: What aws-chunked signatures chain from (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]).
    streaming: ChunkSigner | None = None
    #: When a link (presigned URL) was issued and when it expires, for lifetime and revocation checks.
    issued_at: float | None = None
    expires_at: float | None = None
    #: The minted link id the signature covered, parsed once by the verifier (never re-read the query).
    link_id: str | None = None
    #: SigV2 URLs: a hash naming the URL, whose first sighting stands in for its issue time.
    fingerprint: str | None = None

    @property
    def presigned(self) -> bool:
        return self.method in (AuthMethod.QUERY_V4, AuthMethod.QUERY_V2)


_ANONYMOUS = AuthResult(ANONYMOUS, AuthMethod.ANONYMOUS)


class Authenticator:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def authenticate(self, request: Request, endpoint: Endpoint) -> AuthResult:
        headers = request.headers
        authorization = headers.get("authorization")
        query = request.query
        presigned_v4 = is_presigned_v4(query)
        presigned_v2 = not presigned_v4 and any(name in _V2_QUERY_MARKERS for name, _ in query)
        if authorization is not None and (presigned_v4 or presigned_v2):
            raise InvalidArgument(_BOTH, ArgumentName="Authorization")
        if authorization is not None:
            if authorization.startswith("AWS4-HMAC-SHA256"):
                return await self.node.read(self._header_v4, request)
            if authorization.startswith("AWS "):
                return await self.node.read(self._header_v2, request, endpoint)
            raise InvalidArgument("Unsupported Authorization Type", ArgumentName="Authorization",
                                  ArgumentValue=authorization.split(" ", 1)[0])
        if presigned_v4:
            return await self.node.read(self._query_v4, request)
        if presigned_v2:
            return await self.node.read(self._query_v2, request, endpoint)
        return _ANONYMOUS

    def _header_v4(self, request: Request) -> AuthResult:
        lookup = self.node.credentials.signer()
        result = verify_header_auth(
            method=request.method,
            raw_path=request.raw_path,
            query=request.query,
            headers=request.headers,
            now=self.node.clock.now(),
            region=self.node.settings.region,
            lookup_secret=lookup,
        )
        streaming = ChunkSigner.from_result(result) if result.streaming else None
        return AuthResult(lookup.principal, AuthMethod.HEADER_V4, result.payload_hash, streaming)

    def _query_v4(self, request: Request) -> AuthResult:
        lookup = self.node.credentials.signer()
        result = verify_presigned(
            method=request.method,
            raw_path=request.raw_path,
            query=request.query,
            headers=request.headers,
            now=self.node.clock.now(),
            region=self.node.settings.region,
            lookup_secret=lookup,
        )
        return AuthResult(lookup.principal.through_link(), AuthMethod.QUERY_V4, result.payload_hash, None,
                          result.request_time, result.expires_at, result.link_id)

    def _header_v2(self, request: Request, endpoint: Endpoint) -> AuthResult:
        lookup = self.node.credentials.signer()
        sigv2.verify_v2_header(
            method=request.method,
            raw_path=request.raw_path,
            query=request.query,
            headers=request.headers,
            now=self.node.clock.now(),
            lookup_secret=lookup,
            bucket_from_host=endpoint.bucket if endpoint.virtual_host else None,
        )
        return AuthResult(lookup.principal, AuthMethod.HEADER_V2)

    def _query_v2(self, request: Request, endpoint: Endpoint) -> AuthResult:
        lookup = self.node.credentials.signer()
        result = sigv2.verify_v2_presigned(
            method=request.method,
            raw_path=request.raw_path,
            query=request.query,
            headers=request.headers,
            now=self.node.clock.now(),
            lookup_secret=lookup,
            bucket_from_host=endpoint.bucket if endpoint.virtual_host else None,
        )
        return AuthResult(lookup.principal.through_link(), AuthMethod.QUERY_V2, None, None, None, result.expires_at,
                          result.link_id, result.fingerprint)
