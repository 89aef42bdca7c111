"""Signatures of link notifications (webhook deliveries), the scheme Stripe and GitHub use.

Each POST carries::

    X-Satchel-Timestamp: 1765000000
    X-Satchel-Signature: sha256=<hex HMAC-SHA256(secret, "1765000000." + body)>

The timestamp (integer epoch seconds) is part of the signed bytes, so a receiver that refuses timestamps
more than a few minutes from its clock (:data:`DEFAULT_TOLERANCE`) cannot be fed a recorded delivery later;
the event id in the body lets it drop a retry of a delivery it already processed. The secret is the whole
string the server showed once (``whsec_...``), used as UTF-8 bytes. A receiver verifies with (Python)::

    import hashlib, hmac, time

    def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
        timestamp = headers.get("X-Satchel-Timestamp", "")
        given = headers.get("X-Satchel-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
            return False
        mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(given, "sha256=" + mac.hexdigest())

Pure: the clock and the secret are arguments.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Satchel-Signature"
TIMESTAMP_HEADER = "X-Satchel-Timestamp"
SCHEME = "sha256="
#: Seconds a receiver should accept between a delivery's timestamp and its own clock.
DEFAULT_TOLERANCE = 300


def signed_bytes(timestamp: int, body: bytes) -> bytes:
    """What the HMAC covers: the timestamp's decimal digits, a dot, the exact body bytes."""
    return str(timestamp).encode() + b"." + body


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Satchel-Signature`` value of ``body`` sent at ``timestamp``."""
    return SCHEME + hmac.new(secret.encode(), signed_bytes(timestamp, body), hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, signature: str, body: bytes, *, now: float,
           tolerance: int = DEFAULT_TOLERANCE) -> bool:
    """Whether ``signature`` signs ``body`` at ``timestamp`` (header values as received) within ``tolerance``
    seconds of ``now``; constant-time."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature.encode(), sign(secret, int(timestamp), body).encode())
