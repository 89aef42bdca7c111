"""The console's own refusals, answered by the management API (``admin/errors.py``); S3 never raises them."""

from __future__ import annotations

from satchel.core.errors import SatchelError


class NotSignedIn(SatchelError):
    """No session, or one that expired: the console shows its sign-in form (HTTP 401)."""

    default_message = "You are not signed in, or your session has expired. Sign in again."


class TooManyAttempts(SatchelError):
    """Failed sign-ins or passphrases for one user, address or share page beyond the limit (HTTP 429)."""

    default_message = "Too many failed attempts. Wait a few minutes, then try again."
