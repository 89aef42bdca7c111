"""The CLI's way into the management API (``/_satchel/api/``): find credentials, endpoint and region the
way the aws cli does, sign each call with SigV4 and turn JSON errors into one-line CLI errors.

Where things come from, first match wins:

* credentials — botocore's own chain: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
  ``AWS_SESSION_TOKEN``, then ``--profile NAME`` (or ``AWS_PROFILE``) in ``~/.aws/credentials`` and
  ``~/.aws/config`` (``AWS_SHARED_CREDENTIALS_FILE`` / ``AWS_CONFIG_FILE`` honoured), and the rest of
  the chain (SSO, process credentials, ...). What works for ``aws s3`` works here.
* endpoint — ``--endpoint-url URL``, then ``SATCHEL_ENDPOINT``; there is no default, so a link is never
  minted by a server the user did not name.
* region — ``--region``, then ``AWS_DEFAULT_REGION``, ``AWS_REGION``, the profile's ``region``, then
  ``us-east-1``. It must match the server's region setting, exactly as for S3 requests.

Every call carries ``Authorization: AWS4-HMAC-SHA256 ...`` for service ``s3`` with the body's SHA-256 in
``x-amz-content-sha256``, signed by botocore (the S3 flavour of its signer: S3 paths are neither
normalised nor double-encoded, which is what the server verifies). The transport is the standard
library's ``urllib.request``, so the CLI needs no HTTP library at run time; botocore is imported only
when a command actually calls the API, keeping ``satchel serve`` and ``satchel admin`` free of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import click

from satchel.cli.printable import printable
from satchel.signing.sigv4.presign import DEFAULT_PORTS, wire_host

F = TypeVar("F", bound=Callable[..., Any])

API_PREFIX = "/_satchel/api"
DEFAULT_REGION = "us-east-1"
TIMEOUT = 60.0
NO_ENDPOINT = "no endpoint: pass --endpoint-url or set SATCHEL_ENDPOINT"
NO_CREDENTIALS = ("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile NAME "
                  "(see ~/.aws/credentials)")
_META_KEY = "satchel.api"

Query = Mapping[str, str | int | float | bool | None]


class ApiError(click.ClickException):
    """An answer other than 200, or no answer at all: printed as ``Error: <code>: <message>``, exit 1."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(printable(f"{code}: {message}"))  # the server's words, naming keys and users
        self.code = code
        self.api_message = message
        self.status = status


@dataclass(frozen=True)
class Secret:
    """The three credential parts botocore's signer reads; the repr never shows the secret."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PreparedCall:
    """A signed request, exactly as it goes on the wire (``headers`` include Host)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def normalize_endpoint(endpoint: str) -> str:
    """``scheme://host[:port][/base]`` with a lower-case host and no default port.

    botocore signs the host that way; sending the very same Host header keeps the signature valid
    whatever spelling the user typed (``HTTP://LocalHost:80/``)."""
    parts = urlsplit(endpoint.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise click.ClickException(f"invalid endpoint {endpoint!r}: expected http(s)://host[:port]")
    if parts.query or parts.fragment or parts.username:
        raise click.ClickException(f"invalid endpoint {endpoint!r}: no credentials, query or fragment allowed")
    try:
        port = parts.port
    except ValueError as exc:
        raise click.ClickException(f"invalid endpoint {endpoint!r}: {exc}") from exc
    return urlunsplit((scheme, wire_host(scheme, parts.hostname, port), parts.path.rstrip("/"), "", ""))


def api_url(endpoint: str, path: str, query: Query | None = None) -> str:
    """The URL of an API path with a canonical query string (RFC 3986 encoding, sorted), so botocore signs
    the query exactly as it is sent."""
    items = sorted((k, _query_value(v)) for k, v in (query or {}).items() if v is not None)
    encoded = urlencode(items, quote_via=quote, safe="-_.~")
    return f"{endpoint}{API_PREFIX}{path}" + (f"?{encoded}" if encoded else "")


def _query_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def path_segment(value: str) -> str:
    """One path segment (a link id) percent-encoded, so it can never change the route."""
    return quote(value, safe="")


def sign(method: str, url: str, body: bytes, credentials: Secret, region: str) -> PreparedCall:
    """Sign one call with SigV4 (service ``s3``) in the Authorization header."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    host = urlsplit(url).netloc
    headers = {"Host": host, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    if body:
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    S3SigV4Auth(credentials, "s3", region).add_auth(request)
    signed = {name: str(value) for name, value in request.headers.items()}
    signed["User-Agent"] = user_agent()
    return PreparedCall(method, url, signed, body)


def user_agent() -> str:
    try:
        version = metadata.version("satchel")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"satchel-cli/{version}"


@dataclass(frozen=True)
class ApiClient:
    """Signed JSON calls to one Satchel endpoint."""

    endpoint: str
    region: str
    credentials: Secret
    timeout: float = TIMEOUT

    def get(self, path: str, query: Query | None = None) -> Any:
        return self.call("GET", path, query)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.call("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def prepare(self, method: str, path: str, query: Query | None = None,
                body: Mapping[str, Any] | None = None) -> PreparedCall:
        data = json.dumps(body).encode() if body is not None else b""
        return sign(method, api_url(self.endpoint, path, query), data, self.credentials, self.region)

    def call(self, method: str, path: str, query: Query | None = None, body: Mapping[str, Any] | None = None) -> Any:
        """The decoded JSON answer of a 200; :class:`ApiError` for anything else."""
        return send(self.prepare(method, path, query, body), self.timeout)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would replay a signed call (headers included) to another place: report it instead."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def send(prepared: PreparedCall, timeout: float = TIMEOUT) -> Any:
    """Send a signed call with the standard library; the decoded answer as :func:`decode` gives it."""
    # urllib also opens file: and ftp: URLs; an API call must never read a local file.
    if urlsplit(prepared.url).scheme not in DEFAULT_PORTS:
        raise click.ClickException(f"refusing to call {prepared.url!r}: only http and https are allowed")
    request = urllib.request.Request(prepared.url, data=prepared.body or None,  # noqa: S310 (checked above)
                                     headers=prepared.headers, method=prepared.method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
        if 300 <= status < 400:
            raise ApiError(f"HTTP{status}", f"the endpoint redirects to {exc.headers.get('Location')}: "
                                            "pass that URL as --endpoint-url", status) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiError("ConnectionError", f"cannot reach {urlsplit(prepared.url).netloc}: {reason}") from exc
    return decode(status, payload)


def decode(status: int, payload: bytes) -> Any:
    """The JSON answer, or the API's ``{"error": {"code", "message"}}`` as an :class:`ApiError`."""
    try:
        value = json.loads(payload) if payload else None
    except ValueError:
        value = None
    if status == 200 and value is not None:
        return value
    if status == 200:
        raise ApiError("InvalidResponse", "the server answered 200 without a JSON body", status)
    error = value.get("error") if isinstance(value, dict) else None
    if isinstance(error, dict):
        raise ApiError(str(error.get("code") or f"HTTP{status}"), str(error.get("message") or ""), status)
    # Not the API's error shape (a proxy's page, an older server): show its start, never guess a code.
    text = error if isinstance(error, str) else payload[:200].decode(errors="replace").strip()
    raise ApiError(f"HTTP{status}", text or "(empty body)", status)


# --- where credentials, endpoint and region come from -------------------------------------------------
def resolve_endpoint(flag: str | None, environ: Mapping[str, str]) -> str:
    endpoint = flag or environ.get("SATCHEL_ENDPOINT")
    if not endpoint:
        raise click.ClickException(NO_ENDPOINT)
    return normalize_endpoint(endpoint)


def resolve_credentials_and_region(profile: str | None, region: str | None,
                                   environ: Mapping[str, str]) -> tuple[Secret, str]:
    """botocore's credential chain for ``profile`` (None: ``AWS_PROFILE`` or default) and the region."""
    import botocore.exceptions
    import botocore.session

    try:
        session = botocore.session.Session(profile=profile)
        found = session.get_credentials()
        scoped = session.get_scoped_config()
    except botocore.exceptions.BotoCoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if found is None:
        raise click.ClickException(NO_CREDENTIALS)
    frozen = found.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        raise click.ClickException(NO_CREDENTIALS)
    chosen = (region or environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION")
              or scoped.get("region") or DEFAULT_REGION)
    return Secret(frozen.access_key, frozen.secret_key, frozen.token), chosen


# --- the options every API command takes ---------------------------------------------------------------
@dataclass
class ApiOptions:
    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    json: bool = False

    def client(self, environ: Mapping[str, str] | None = None) -> ApiClient:
        env = os.environ if environ is None else environ
        endpoint = resolve_endpoint(self.endpoint_url, env)
        credentials, region = resolve_credentials_and_region(self.profile, self.region, env)
        return ApiClient(endpoint, region, credentials)


def api_state(ctx: click.Context | None = None) -> ApiOptions:
    """The options given at any level of the command (``satchel links --profile p list`` or
    ``satchel links list --profile p``; the innermost wins)."""
    context = ctx or click.get_current_context()
    state = context.meta.get(_META_KEY)
    if state is None:
        state = context.meta[_META_KEY] = ApiOptions()
    assert isinstance(state, ApiOptions)
    return state


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None and value is not False:
            setattr(api_state(ctx), name, value)
        return value

    return callback


def connection_options(fn: F, *, endpoint_help: str = "[env: SATCHEL_ENDPOINT].") -> F:
    """``--endpoint-url``, ``--profile`` and ``--region`` (for groups and leaf commands)."""
    options: Sequence[tuple[str, str, str]] = (
        ("--region", "region", "Region the server signs for [env: AWS_DEFAULT_REGION; default: us-east-1]."),
        ("--profile", "profile", "Named profile from ~/.aws/credentials and ~/.aws/config [env: AWS_PROFILE]."),
        ("--endpoint-url", "endpoint_url", f"Satchel's URL, e.g. https://s3.example.com {endpoint_help}"),
    )
    for flag, name, text in options:
        fn = click.option(flag, metavar="TEXT" if name != "endpoint_url" else "URL", default=None,
                          expose_value=False, callback=_remember(name), help=text)(fn)
    return fn


def api_options(fn: F) -> F:
    """What every API leaf command takes: the connection options and ``--json``."""
    fn = click.option("--json", "json_output", is_flag=True, expose_value=False, callback=_remember("json"),
                      help="Print the API's JSON answer instead of a table.")(fn)
    return connection_options(fn)
