"""What a bucket policy's conditions may ask about one request, gathered once by the front-end.

A front-end builds one :class:`RequestFacts` per request (the client's address after the trusted-proxy
rule, the scheme, how the request was signed and when) and hangs it on the request's
:class:`~satchel.core.models.Principal`, so that it reaches ``authorize()`` with the principal through every
call that already carries one, links included (``Principal.through_link`` keeps it). Nothing here does
I/O: ``core/policy.py`` reads these fields, tests build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``s3:authType`` values, as AWS names them.
AUTH_HEADER = "REST-HEADER"
AUTH_QUERY = "REST-QUERY-STRING"
AUTH_POST = "POST"
#: ``s3:signatureversion`` values.
SIGV2 = "AWS"
SIGV4 = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """The request, as conditions see it. None means the request has no such fact (an anonymous
    request has no auth type, a request without a ``Referer`` no referer): a condition on an absent key
    is false, a negated one true, as in IAM — so a Deny written with ``NotIpAddress`` also refuses a
    request whose address is unknown."""

    #: Seconds since the epoch, the node clock's (``aws:CurrentTime``, ``aws:EpochTime``).
    now: float
    #: The client's address after the trusted-proxy rule (``aws:SourceIp``).
    source_ip: str | None = None
    #: https, directly or as a trusted proxy said (``aws:SecureTransport``).
    secure: bool = False
    #: :data:`AUTH_HEADER`, :data:`AUTH_QUERY` (presigned URLs and minted links) or :data:`AUTH_POST`.
    auth_type: str | None = None
    #: :data:`SIGV2` or :data:`SIGV4`.
    signature_version: str | None = None
    #: When the request (or the link it uses) was signed, seconds since the epoch (``s3:signatureAge``).
    signed_at: float | None = None
    referer: str | None = None
    user_agent: str | None = None
    #: The S3 operation as AWS names it (``GetObject``): which IAM action a coarse access action is.
    operation: str | None = None
    #: ``s3:prefix``, ``s3:delimiter``, ``s3:max-keys`` (listings), ``s3:x-amz-acl`` and the other request
    #: headers ``core/policy.HEADER_KEYS`` names: by IAM key name, lower case.
    keys: tuple[tuple[str, str], ...] = ()

    @property
    def signature_age_ms(self) -> float | None:
        return None if self.signed_at is None else max(0.0, (self.now - self.signed_at) * 1000.0)

    def key(self, name: str) -> str | None:
        """An S3-specific key's value (lower-case name), or None."""
        return next((value for key, value in self.keys if key == name), None)
