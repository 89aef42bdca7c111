"""Console sessions: sign in with a user name and an argon2 password, a cookie, CSRF tokens, expiry.

The cookie holds 256 random bits; the store keeps only their SHA-256, so a copy of the database signs
nobody in. A session ends ``console_session_idle`` seconds after its last request or
``console_session_lifetime`` seconds after sign-in, whichever comes first. Every state change made with a
session carries ``X-CSRF-Token``: an HMAC of the cookie, which a page of another site can neither read
(the cookie is HttpOnly, the API answers no CORS) nor compute. The cookie is also ``SameSite=Strict``.

Sign-in tries are counted per user name and per client address in the store (shared by every worker)
before the password is checked, in one transaction that refuses once the limit is reached: a burst of
parallel guesses gets at most the limit checked. A right password clears the user's count. Beyond the
limit, tries are refused for a while without checking the password, so guessing costs time and an
argon2 check is not a lever for exhausting the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from satchel.asgi import Request
from satchel.console.errors import NotSignedIn, TooManyAttempts
from satchel.core import identity
from satchel.core.errors import AccessDenied, InvalidArgument
from satchel.core.models import Principal, Role, Status, User
from satchel.core.node import Node
from satchel.meta.store import StoredSession

COOKIE = "satchel_session"
CSRF_HEADER = "x-csrf-token"
#: A session's last-request time is written at most this often (seconds): not one write per request.
TOUCH_EVERY = 30.0
#: A client address may fail this many times the per-user limit (several people behind one NAT).
ADDRESS_FACTOR = 4
WRONG_LOGIN = "The user name or password is not right."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of a session: derived from its cookie, so nothing more is stored."""
    return hmac.new(token.encode("utf-8", "surrogateescape"), b"satchel console csrf", hashlib.sha256).hexdigest()


def session_cookie(request: Request) -> str | None:
    """The session cookie's value; None when missing or when the request carries more than one: a sibling
    host or port can set a second ``satchel_session`` (cookie tossing), and which one the browser sends
    first is not ours to choose, so such a request is not signed in."""
    found = [value for name, sep, value in (part.strip().partition("=")
                                            for part in request.headers.get("cookie", "").split(";"))
             if sep and name == COOKIE]
    return found[0] if len(found) == 1 and found[0] else None


def is_tls(node: Node, request: Request) -> bool:
    return request.scope.get("scheme") == "https" or node.settings.endpoint.startswith("https://")


def set_cookie(node: Node, request: Request, token: str, max_age: int) -> str:
    """The Set-Cookie value: HttpOnly, SameSite=Strict, Secure under TLS; ``max_age`` 0 clears it."""
    secure = "; Secure" if is_tls(node, request) else ""
    return f"{COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (``Origin`` or
    ``Sec-Fetch-Site``); requests without either header (scripts, curl) pass: they carry no ambient
    cookie a page could abuse."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


@dataclass(frozen=True)
class SignedIn:
    token: str
    session: StoredSession
    user: User

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def _subjects(name: str, client: str) -> tuple[str, str]:
    return f"user:{name.lower()[:128]}", f"address:{client}"


async def reserve_attempt(node: Node, *subjects: tuple[str, int]) -> None:
    """Counts a try before its (slow) check, so parallel guesses cannot all slip under the limit;
    ``TooManyAttempts`` when a subject is locked."""
    settings = node.settings
    now = node.clock.now()
    until = await node.write(node.store.reserve_attempt, subjects, now, settings.console_throttle_window,
                             settings.console_lockout)
    if until is not None:
        raise TooManyAttempts(f"Too many failed attempts. Try again in {int(until - now) + 1} seconds.")


async def sign_in(node: Node, name: str, password: str, client: str) -> SignedIn:
    """A new session for ``name`` when ``password`` is its password and the user is active."""
    if not name or len(name) > 256 or len(password) > identity.MAX_PASSWORD_LENGTH:
        raise InvalidArgument(WRONG_LOGIN)
    user_subject, address_subject = _subjects(name, client)
    limit = node.settings.console_max_failures
    await reserve_attempt(node, (user_subject, limit), (address_subject, limit * ADDRESS_FACTOR))
    user = await node.read(node.store.get_user_by_name, name)
    candidate = user or User("", "", name, Role.MEMBER, Status.ACTIVE, 0.0)
    # argon2 takes tens of milliseconds: off the event loop. Unknown users cost the same time.
    good = await asyncio.to_thread(identity.verify_password, candidate, password)
    if user is None or not good or not user.active:
        raise AccessDenied(WRONG_LOGIN)  # the try was counted before the check
    await node.write(node.store.clear_failures, user_subject)
    await node.write(node.store.release_attempt, address_subject)
    now = node.clock.now()
    token = secrets.token_urlsafe(32)
    session = StoredSession(token_hash(token), user.id, now, now, now + node.settings.console_session_lifetime)
    await node.write(node.store.delete_sessions, expired_at=now)  # keeps the table to live sessions
    await node.write(node.store.create_session, session)
    return SignedIn(token, session, user)


async def resume(node: Node, request: Request, *, state_change: bool) -> tuple[SignedIn, Principal]:
    """The session of a request's cookie; ``NotSignedIn`` when missing or expired, ``AccessDenied`` when a
    state change lacks the CSRF token or comes from another site."""
    token = session_cookie(request)
    if token is None:
        raise NotSignedIn()
    hashed = token_hash(token)
    session = await node.read(node.store.get_session, hashed)
    now = node.clock.now()
    if session is None:
        raise NotSignedIn()
    settings = node.settings
    if now >= session.expires or now - session.last_seen >= settings.console_session_idle:
        await node.write(node.store.delete_sessions, hashed)
        raise NotSignedIn("Your session has expired. Sign in again.")
    if state_change:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_origin(request) or not hmac.compare_digest(sent.encode("latin-1"),
                                                               csrf_token(token).encode()):
            raise AccessDenied("This change was refused: its CSRF token is missing or wrong. Reload the page.")
    principal = await node.read(node.credentials.principal_for_user, session.user_id)
    user = principal.active_user
    if user is None:
        await node.write(node.store.delete_sessions, hashed)
        raise NotSignedIn("This user is disabled.")
    if now - session.last_seen >= min(TOUCH_EVERY, settings.console_session_idle / 4):
        await node.write(node.store.touch_session, hashed, now)
    return SignedIn(token, session, user), principal


def still_open(node: Node, signed_in: SignedIn) -> None:
    """``NotSignedIn`` when the session has been ended since its request started (signed out, the user's
    password changed): a console upload still receiving its body stores nothing then, as a link's does
    once revoked. Idle and absolute expiry are judged when the request starts, as a link's expiry is."""
    if node.store.get_session(signed_in.session.token_hash) is None:
        raise NotSignedIn("The session ended while the upload was arriving.")


async def sign_out(node: Node, signed_in: SignedIn) -> None:
    await node.write(node.store.delete_sessions, signed_in.session.token_hash)
