"""How admin commands print: rich tables for people, JSON (``--json``) for scripts.

Every command builds plain rows (dicts of JSON-safe values) and hands them here, so the table and the
JSON always carry the same fields. Secrets never reach a row except the one-time output of
``key create``.

Every value a person sees goes through :func:`printable`: names, keys, user agents and reasons are
chosen by whoever made the request (an anonymous one writes an audit event), and a terminal obeys
escape sequences, a newline forges a row and Rich would read ``[link=...]`` as markup. JSON output is
left as it is: the encoder escapes control characters and nothing renders it.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from satchel.cli.printable import printable
from satchel.core.models import Account, Bucket, Grant, User
from satchel.meta.store import StoredKey

Row = dict[str, Any]


def timestamp(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def _console(err: bool = False) -> Console:
    # soft_wrap off and a generous width when not on a terminal: ids must never be cut in pipes.
    return Console(stderr=err, highlight=False, width=None if _isatty(err) else 200)


def _isatty(err: bool) -> bool:
    stream = sys.stderr if err else sys.stdout
    return stream.isatty()


def emit_rows(as_json: bool, rows: Sequence[Row], columns: Sequence[tuple[str, str]], title: str) -> None:
    """A list: JSON array, or a table with ``columns`` as (row key, header)."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2))
        return
    table = Table(title=Text(title), title_justify="left", show_edge=False)
    for _, header in columns:
        table.add_column(Text(header), overflow="fold")
    for row in rows:
        # Text, never str: Rich reads markup ([green], [link=...]) and :emoji: codes in a str.
        table.add_row(*(Text(_cell(row.get(key))) for key, _ in columns))
    console = _console()
    console.print(table)
    if not rows:
        console.print(Text(f"(no {title.lower()})"))


def emit_object(as_json: bool, row: Mapping[str, Any], message: str) -> None:
    """One result: JSON object, or a sentence followed by its fields."""
    if as_json:
        click.echo(json.dumps(dict(row), indent=2))
        return
    click.echo(printable(message))
    width = max(len(k) for k in row) if row else 0
    for key, value in row.items():
        click.echo(f"  {printable(key):<{width}}  {_cell(value)}")


def notice(text: str) -> None:
    """Out-of-band information (stderr), kept out of any JSON on stdout."""
    click.echo(printable(text), err=True)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return printable(str(value))


# --- rows ---------------------------------------------------------------------------------------------
def account_row(account: Account) -> Row:
    return {"id": account.id, "name": account.name, "created": timestamp(account.created)}


def user_row(user: User, account_names: Mapping[str, str]) -> Row:
    return {
        "id": user.id,
        "name": user.name,
        "account": account_names.get(user.account_id, user.account_id),
        "account_id": user.account_id,
        "role": user.role.value,
        "status": user.status.value,
        "password": user.password_hash is not None,
        "created": timestamp(user.created),
    }


def key_row(key: StoredKey, user_names: Mapping[str, str]) -> Row:
    return {
        "access_key_id": key.access_key_id,
        "user": user_names.get(key.user_id, key.user_id),
        "user_id": key.user_id,
        "status": key.status.value,
        "created": timestamp(key.created),
    }


def grant_row(grant: Grant, user_names: Mapping[str, str]) -> Row:
    return {
        "id": grant.id,
        "user": user_names.get(grant.user_id, grant.user_id),
        "user_id": grant.user_id,
        "bucket": grant.bucket,
        "prefix": grant.prefix,
        "permission": grant.permission.value,
        "share": grant.share,
        "created": timestamp(grant.created),
    }


def bucket_row(bucket: Bucket, account_names: Mapping[str, str], user_names: Mapping[str, str]) -> Row:
    owner = bucket.owner_user_id
    return {
        "name": bucket.name,
        "account": account_names.get(bucket.account_id, bucket.account_id),
        "account_id": bucket.account_id,
        "owner": user_names.get(owner, owner) if owner is not None else None,
        "owner_user_id": owner,
        "contract_owned": owner is None,
        "public_read": bucket.public_read,
        "max_link_lifetime": bucket.max_link_lifetime,
        "sharing": bucket.sharing.value,
        "created": timestamp(bucket.created),
    }
