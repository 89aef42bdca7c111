"""Where an admin command acts: the node's data directory (offline, the default) or a running server's
management API (``--endpoint-url``). Each ``satchel admin`` command parses its arguments and prints its
rows once; what it does in between is one call on an :class:`AdminBackend`, of which there are two:

* :class:`~satchel.cli.backends.store.StoreBackend` opens the metadata store directly (trusted,
  node-local, whole node: every account);
* :class:`~satchel.cli.backends.remote.ApiBackend` signs calls to ``/_satchel/api/`` with the caller's
  access key, so the server's ``authorize()`` decides each one and the caller sees what it manages.

Both answer with the same rows (:mod:`satchel.cli.output`), so the table and ``--json`` are the same
whichever way a command went.

Going remote is always explicit: ``--endpoint-url URL`` (at any level of ``satchel admin``) or
``SATCHEL_ADMIN_ENDPOINT``. ``SATCHEL_ENDPOINT``, which the user commands (``links``, ``par``, ...) read,
is ignored here: an operator who exported it for those must not find ``satchel admin user list`` on the
node silently answering from somewhere else, with another view of the node. Commands with no API
counterpart (``init``, ``gc``, ``migrate``, ``backup``, ``verify``, ``restore``) refuse an endpoint
rather than run locally.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import click

from satchel.cli.apiclient import api_state, connection_options
from satchel.cli.options import CliState
from satchel.cli.options import admin_options as local_options

F = TypeVar("F", bound=Callable[..., Any])
Row = dict[str, Any]

ENDPOINT_ENV = "SATCHEL_ADMIN_ENDPOINT"
ENDPOINT_HELP = (f"(administer it through its management API, not the data dir) "
                 f"[env: {ENDPOINT_ENV}; SATCHEL_ENDPOINT is not read].")


class AdminBackend(Protocol):
    """What the admin commands need from a node; every method answers rows ready to print."""

    def accounts(self) -> list[Row]: ...
    def create_account(self, name: str) -> Row: ...
    def delete_account(self, name: str) -> Row: ...

    def users(self, account: str | None) -> list[Row]: ...
    def create_user(self, name: str, account: str, role: str, password: str | None) -> Row: ...
    def set_user_status(self, name: str, status: str) -> Row: ...
    def delete_user(self, name: str) -> Row: ...

    def keys(self, user: str | None) -> list[Row]: ...
    def create_key(self, user: str) -> tuple[str, Row]: ...
    def set_key_status(self, access_key_id: str, status: str) -> Row: ...
    def delete_key(self, access_key_id: str) -> None: ...

    def grants(self, user: str | None, bucket: str | None) -> list[Row]: ...
    def add_grant(self, user: str, bucket: str, permission: str, prefix: str, share: bool) -> Row: ...
    def remove_grant(self, grant_id: str) -> None: ...

    def buckets(self, account: str | None) -> list[Row]: ...
    def set_public(self, bucket: str, public: bool) -> Row: ...
    def set_link_lifetime(self, bucket: str, seconds: int | None) -> Row: ...
    def set_sharing(self, bucket: str, sharing: str) -> Row: ...
    def set_owner(self, bucket: str, user: str | None) -> Row: ...

    def cors(self, bucket: str) -> Row: ...

    # Block Public Access of an account (None: delete it); rows: the management API's JSON.
    def public_access_block(self, account: str) -> Row: ...
    def set_public_access_block(self, account: str, flags: dict[str, bool] | None) -> Row: ...
    def set_cors(self, bucket: str, configuration: bytes) -> Row: ...
    def delete_cors(self, bucket: str) -> None: ...


def remote_endpoint(ctx: click.Context | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The endpoint an admin command was pointed at, or None to work on the data dir."""
    env = os.environ if environ is None else environ
    return api_state(ctx).endpoint_url or env.get(ENDPOINT_ENV) or None


def _no_stray_connection_options(ctx: click.Context | None = None) -> None:
    """``--profile`` or ``--region`` without an endpoint means the endpoint was forgotten: say so rather
    than answer from the data dir."""
    options = api_state(ctx)
    if options.profile is not None or options.region is not None:
        raise click.UsageError("--profile and --region choose how to call a server: they need --endpoint-url "
                               f"(or {ENDPOINT_ENV})", ctx)


@contextlib.contextmanager
def open_backend(state: CliState) -> Iterator[AdminBackend]:
    """The backend the command line chose: the API when an endpoint is named, the store otherwise."""
    endpoint = remote_endpoint()
    if endpoint is None:
        _no_stray_connection_options()
        from satchel.cli.backends.store import StoreBackend
        from satchel.cli.session import admin_store

        settings = state.settings()
        with admin_store(settings) as store:
            yield StoreBackend(store, settings)
        return
    if state.data_dir is not None or state.config is not None:
        raise click.UsageError("--data-dir and --config name a local node, --endpoint-url a remote one: "
                               "pass one or the other")
    from satchel.cli.backends.remote import ApiBackend

    options = api_state()
    options.endpoint_url = endpoint
    yield ApiBackend(options.client())


def node_only(fn: F) -> F:
    """For commands that exist only on the data dir: refuse an endpoint (usage error, exit 2) instead
    of quietly running on whatever data dir this machine has."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if remote_endpoint(ctx) is not None:
            raise click.UsageError(
                f"`{ctx.command_path}` works on the node's data dir only and has no management API "
                f"counterpart: run it on the node without --endpoint-url (and without {ENDPOINT_ENV}).", ctx)
        _no_stray_connection_options(ctx)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def remote_options(fn: F) -> F:
    """``--endpoint-url``, ``--profile`` and ``--region`` for ``satchel admin`` and its commands."""
    return connection_options(fn, endpoint_help=ENDPOINT_HELP)


def admin_options(fn: F) -> F:
    """What every admin leaf command takes: ``--data-dir``/``--config``, ``--json`` and the remote options
    (commands that exist only on the data dir take them too, to refuse them clearly: :func:`node_only`)."""
    return remote_options(local_options(fn))

