"""An admin command's access to the node: the metadata store and master key, opened directly.

Like ``radosgw-admin``, the admin CLI works on the data directory itself, whether or not a server is
running on it: SQLite's WAL lets both write, and every change bumps the store generation, so running
workers see it on their next request.

An admin command never creates a node by accident: run from the wrong directory (the default data dir
is ``./satchel-data``, relative), it would otherwise make a fresh store with new root credentials, report
success, and leave the running server unchanged. It names the data dir it looked at and how to point at
the right one instead. ``satchel admin init`` creates a node on purpose (to provision accounts before the
first start) exactly as ``satchel serve`` would: root account, user and key (see
:func:`satchel.core.identity.bootstrap`), the generated credentials printed once, on stderr.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator

import click

from satchel.config import Settings
from satchel.core.errors import SatchelError
from satchel.core.identity import BootstrapResult, bootstrap
from satchel.core.keycheck import node_master_key
from satchel.core.masterkey import MasterKey, MasterKeyError, MasterKeyMissing
from satchel.meta.store import Store


def describe(error: SatchelError) -> str:
    details = "".join(f" ({name}: {value})" for name, value in error.extra.items())
    return f"{error.message}{details}"


def no_node_here(settings: Settings) -> str:
    """Why an admin command stops on a data dir that holds no node, and how to name the right one."""
    return (f"no Satchel node in {settings.data_dir.resolve()} (the data dir it looked at; nothing was created). "
            "Point at the data dir of the server you run (its start-up banner prints it) with --data-dir DIR, "
            "SATCHEL_DATA_DIR=DIR or --config FILE; `make serve` uses satchel-data in the source tree. "
            "To create a new node before its first start: satchel admin init --data-dir DIR")


@contextlib.contextmanager
def admin_store(settings: Settings, *, create: bool = False) -> Iterator[Store]:
    """The store, with expected failures turned into one-line CLI errors (exit code 1).

    Only ``create`` (``satchel admin init``) may make a node where there is none."""
    from satchel.meta import open_store, store_exists

    if not create and not store_exists(settings):
        raise click.ClickException(no_node_here(settings))
    try:
        store = open_store(settings)
    except (OSError, ValueError, sqlite3.Error, SatchelError) as exc:  # SatchelError: PostgreSQL unreachable
        where = settings.data_dir if settings.metadata_url == "sqlite" else "PostgreSQL"
        raise click.ClickException(f"cannot open the metadata store in {where}: {exc}") from exc
    try:
        result = bootstrap(store, settings, os.environ, master_key=master_key(settings, store, create=create))
        if result is not None:
            click.echo(bootstrap_notice(settings, result), err=True)
        yield store
    except SatchelError as exc:
        raise click.ClickException(describe(exc)) from exc
    finally:
        store.close()


def master_key(settings: Settings, store: Store, *, create: bool = False) -> MasterKey:
    """The node's master key, proven against the metadata's check like a server start (``core/keycheck.py``):
    an admin command with another key would seal secrets no node can open. Only ``admin init`` creates one."""
    try:
        return node_master_key(store, settings, create=create)
    except MasterKeyMissing as exc:
        if not create and settings.master_key_file is None and store.get_key_check() is None \
                and store.sample_sealed_secret() is None:
            raise click.ClickException(no_node_here(settings)) from exc
        raise click.ClickException(str(exc)) from exc
    except (MasterKeyError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


def bootstrap_notice(settings: Settings, result: BootstrapResult) -> str:
    lines = [
        f"First use of {settings.data_dir}: created the account 'root' and its admin user 'root'.",
        "Generated values are shown only this once:" if _any_generated(result) else "",
        f"  Access key id           : {result.access_key_id}",
    ]
    if result.generated_secret_access_key:
        lines.append(f"  Secret access key       : {result.secret_access_key}")
    if result.generated_password:
        lines.append(f"  Password (root)         : {result.password}")
    return "\n".join(line for line in lines if line)


def _any_generated(result: BootstrapResult) -> bool:
    return result.generated_access_key_id or result.generated_secret_access_key or result.generated_password


def account_names(store: Store) -> dict[str, str]:
    """Account id -> name, to show names instead of ids."""
    return {account.id: account.name for account in store.list_accounts()}


def user_names(store: Store) -> dict[str, str]:
    """User id -> name, to show names instead of ids."""
    return {user.id: user.name for user in store.list_users()}
