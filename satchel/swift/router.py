"""Swift routing, a pure function of the request line and headers.

``/auth/v1.0`` is TempAuth; ``/v1/AUTH_<account>[/<container>[/<object>]]`` is storage, where the
account is a Satchel account *name* and the container a bucket of that account. A request that carries
TempURL query parameters, or that POSTs a ``multipart/form-data`` form (FormPost), is a signed link,
with or without a token (Swift's tempurl and formpost run before tempauth): :data:`Target.TEMPURL` and
:data:`Target.FORMPOST` are the one branch where those are served.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from satchel.swift.errors import SwiftError

AUTH_PATHS = frozenset({"/auth/v1.0", "/auth/v1.0/"})
#: Swift's capabilities (``swift/info.py``), at the root beside ``/v1`` as clients expect.
INFO_PATH = "/info"
#: The reseller prefix of storage URLs (tempauth's default, which every client expects).
RESELLER_PREFIX = "AUTH_"
#: Swift's ``MAX_CONTAINER_NAME_LENGTH`` and ``MAX_OBJECT_NAME_LENGTH`` are 256 and 1024 bytes; Satchel's
#: containers are bucket names (3-63 characters), checked where a container is created.
MAX_OBJECT_NAME_BYTES = 1024
#: Query parameters that make a storage request a TempURL (``swift/common/middleware/tempurl.py``).
TEMPURL_PARAMS = frozenset({"temp_url_sig", "temp_url_expires"})


#: Query parameters by which Swift's middlewares (bulk, SLO, symlink, versioned_writes) take over a request.
#: Satchel has none of them: ignoring one would answer success for what was never done (a bulk delete that
#: deleted nothing, an archive stored as one object), so they are refused with the reason.
UNSUPPORTED_QUERY: dict[str, str] = {
    "bulk-delete": "Bulk delete (?bulk-delete) is not supported: delete objects one by one.",
    "extract-archive": "Archive extraction (?extract-archive) is not supported: upload the files one by one.",
    "multipart-manifest": "Static Large Objects (multipart-manifest) are not supported.",
    "symlink": "Symlinks are not supported.",
    "version-id": "Object versioning is not supported.",
    "versions": "Object versioning is not supported.",
}
#: The middleware requests that are served, (parameter, method, value): S3 multipart objects are shown as
#: Static Large Objects (``swift/objectheaders.py``), whose manifest clients read and which they delete
#: this way; ``symlink=get`` reads a symlink itself, and with no symlinks every object is itself (the swift
#: CLI's delete HEADs with it).
_SERVED = frozenset({("multipart-manifest", "GET", "get"), ("multipart-manifest", "HEAD", "get"),
                     ("multipart-manifest", "DELETE", "delete"), ("symlink", "GET", "get"),
                     ("symlink", "HEAD", "get")})


def refuse_unsupported_query(method: str, target: Target, query: Mapping[str, str]) -> None:
    """400 for a middleware's query parameter (:data:`UNSUPPORTED_QUERY`) Satchel does not serve."""
    for name in UNSUPPORTED_QUERY.keys() & query.keys():
        if target is Target.OBJECT and (name, method, query[name].strip().lower()) in _SERVED:
            continue
        raise SwiftError(400, UNSUPPORTED_QUERY[name])


class Target(enum.StrEnum):
    AUTH = "auth"
    INFO = "info"
    ACCOUNT = "account"
    CONTAINER = "container"
    OBJECT = "object"
    #: Signed links, served as their key's setter whatever token they carry (tempurl helper's).
    TEMPURL = "tempurl"
    FORMPOST = "formpost"


#: Methods each storage target answers; anything else is 405 with this Allow list.
ALLOWED: dict[Target, tuple[str, ...]] = {
    Target.ACCOUNT: ("GET", "HEAD", "POST"),
    Target.CONTAINER: ("DELETE", "GET", "HEAD", "POST", "PUT"),
    Target.OBJECT: ("COPY", "DELETE", "GET", "HEAD", "POST", "PUT"),
}


@dataclass(frozen=True, slots=True)
class SwiftEndpoint:
    target: Target
    #: The account name of ``AUTH_<name>`` (None for auth).
    account: str | None = None
    container: str | None = None
    obj: str | None = None


def route(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> SwiftEndpoint:
    """The endpoint of a request to ``/auth/...``, ``/info`` or ``/v1/...``; SwiftError for a path Swift refuses."""
    if path.startswith("/auth"):
        if path not in AUTH_PATHS:
            raise SwiftError(404)
        if method not in ("GET", "HEAD"):
            raise SwiftError(405, headers=[("Allow", "GET, HEAD")])
        return SwiftEndpoint(Target.AUTH)
    if path.startswith(INFO_PATH):
        if path != INFO_PATH:
            raise SwiftError(404)
        if method not in ("GET", "HEAD"):
            raise SwiftError(405, headers=[("Allow", "GET, HEAD")])
        return SwiftEndpoint(Target.INFO)
    _check_text(path)
    parts = path.split("/", 4)  # "", "v1", "AUTH_x", container, object
    if len(parts) < 3 or parts[1] != "v1" or not parts[2].startswith(RESELLER_PREFIX) \
            or len(parts[2]) == len(RESELLER_PREFIX):
        raise SwiftError(404)
    account = parts[2][len(RESELLER_PREFIX):]
    container = parts[3] if len(parts) > 3 and parts[3] else None
    obj = parts[4] if len(parts) > 4 and parts[4] else None
    if container is None and obj is not None:
        raise SwiftError(404)
    if obj is not None:
        check_object_name(obj)
    target = Target.OBJECT if obj is not None else Target.CONTAINER if container is not None else Target.ACCOUNT
    endpoint = SwiftEndpoint(target, account, container, obj)
    # As in Swift's pipeline (tempurl and formpost before tempauth): a signed link is one whatever token
    # comes with it, so that its use is verified and audited as a link's, never answered as the token's.
    link = signed_link_target(method, target, query, headers)
    if link is not None:
        return SwiftEndpoint(link, account, container, obj)
    if method not in ALLOWED[target]:
        raise SwiftError(405, headers=[("Allow", ", ".join(ALLOWED[target]))])
    return endpoint


#: Methods a TempURL is named by in the metrics; any other is ``tempurl other``.
_TEMPURL_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
#: Every ``operation`` label of the Swift front-end's requests (``satchel_requests_total``): a fixed set.
OPERATIONS = frozenset({"auth", "info", "formpost", "refused", "tempurl other",
                        *(f"tempurl {method}" for method in _TEMPURL_METHODS),
                        *(f"{method} {target.value}" for target, methods in ALLOWED.items() for method in methods)})


def operation(method: str, endpoint: SwiftEndpoint | None) -> str:
    """The metrics' name of a routed request (``GET object``, ``PUT container``, ``tempurl GET``,
    ``formpost``); ``refused`` for one the router refused."""
    if endpoint is None:
        return "refused"
    if endpoint.target is Target.TEMPURL:
        return f"tempurl {method}" if method in _TEMPURL_METHODS else "tempurl other"
    if endpoint.target in (Target.AUTH, Target.INFO, Target.FORMPOST):
        return endpoint.target.value
    return f"{method} {endpoint.target.value}"


def signed_link_target(method: str, target: Target, query: Mapping[str, str],
                       headers: Mapping[str, str]) -> Target | None:
    """TempURL or FormPost (with or without a token, as Swift); None for any other storage request."""
    if TEMPURL_PARAMS & query.keys():
        return Target.TEMPURL
    if method == "POST" and target in (Target.CONTAINER, Target.OBJECT) \
            and headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return Target.FORMPOST
    return None


def check_object_name(name: str) -> None:
    """What an object name must be in a path, checked the same wherever a name comes from (the path, a
    copy's ``Destination`` or ``X-Copy-From``): UTF-8 without NUL (412), at most 1024 bytes (400)."""
    _check_text(name)
    if len(name.encode()) > MAX_OBJECT_NAME_BYTES:
        raise SwiftError(400, f"Object name length of {len(name.encode())} longer than {MAX_OBJECT_NAME_BYTES}")


def _check_text(path: str) -> None:
    """Swift's proxy answers 412 for a path that is not UTF-8 or holds NUL."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise SwiftError(412, "Invalid UTF8 or contains NULL") from None
    if "\x00" in path:
        raise SwiftError(412, "Invalid UTF8 or contains NULL")
