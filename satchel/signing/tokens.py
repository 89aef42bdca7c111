"""Bearer tokens of pre-authenticated requests: made, hashed, compared. Pure, no I/O.

A token is 32 bytes from the OS's CSPRNG (256 bits), written as 43 characters of unpadded URL-safe
base64 so it fits one path segment (``/p/{token}/...``) with no escaping.

Only ``token_hash(token)`` is stored. A plain SHA-256, not a keyed hash, and why: a keyed hash (HMAC
with a server key) protects *low-entropy* secrets from offline guessing after a database leak; a
256-bit random token cannot be guessed from its hash whatever the hash, so a key would add nothing but
a second secret every node of a cluster must share and rotate. Plain SHA-256 also keeps the lookup
a single indexed equality (``WHERE token_hash = ?``) on any SQL engine.

The lookup is by hash, so a timing difference in the database's index search can tell an attacker
about the *hash* of a candidate, never about the token: a near-miss of the hash says nothing about
which token would hit. :func:`same_hash` compares in constant time anyway, for the row found.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: Random bytes per token (256 bits).
TOKEN_BYTES = 32
#: What a token looks like on the wire: exactly the 43 characters ``new_token`` makes.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).rstrip(b"=").decode("ascii")


def well_formed(token: str) -> bool:
    """Whether ``token`` could be one we made (cheap; no lookup for anything else)."""
    return TOKEN_PATTERN.fullmatch(token) is not None


def token_hash(token: str) -> str:
    """The stored form: hex SHA-256 of the token's ASCII text."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def same_hash(stored: str, candidate: str) -> bool:
    return hmac.compare_digest(stored.encode("ascii"), candidate.encode("ascii"))
