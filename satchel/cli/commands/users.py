"""``satchel admin user``: users of an account (role admin or member, optional password).

The password is what a user signs in to the web console (/_satchel/console/) with; access keys are what
S3 clients and the management API use."""

from __future__ import annotations

import sys

import click

from satchel.cli.backends import admin_options, open_backend
from satchel.cli.options import CliState
from satchel.cli.output import emit_object, emit_rows
from satchel.core.models import Role, Status

USER_COLUMNS = (("name", "Name"), ("account", "Account"), ("role", "Role"), ("status", "Status"),
                ("password", "Password"), ("created", "Created"), ("id", "Id"))


@click.group("user")
def user_group() -> None:
    """Create, list, disable, enable and delete users.

    Account admins have full control of every bucket of their account; members get what they own and
    what grants give them. Disabling a user stops its keys and every link it signed at once.
    """


@user_group.command("create")
@click.argument("name")
@click.option("--account", "account_name", required=True,
              help="Account (by name) the user belongs to (over the API: the caller's own account).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value,
              show_default=True)
@click.option("--password", default=None,
              help="Password for the web console (/_satchel/console/; visible to other local users in the "
                   "process list: prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@admin_options
@click.pass_obj
def user_create(state: CliState, name: str, account_name: str, role: str, password: str | None,
                password_stdin: bool) -> None:
    """Create the user NAME (user names are unique across the node)."""
    if password is not None and password_stdin:
        raise click.UsageError("use either --password or --password-stdin, not both")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    with open_backend(state) as backend:
        row = backend.create_user(name, account_name, role, password)
        emit_object(state.json, row, f"Created user {row['name']} ({row['role']}) in account {row['account']}.")


@user_group.command("list")
@click.option("--account", "account_name", default=None, help="Only the users of this account.")
@admin_options
@click.pass_obj
def user_list(state: CliState, account_name: str | None) -> None:
    """List users (over the API: those of the caller's account it manages)."""
    with open_backend(state) as backend:
        emit_rows(state.json, backend.users(account_name), USER_COLUMNS, "Users")


def _set_status(state: CliState, name: str, status: Status, verb: str) -> None:
    with open_backend(state) as backend:
        row = backend.set_user_status(name, status.value)
        emit_object(state.json, row, f"{verb} user {row['name']}.")


@user_group.command("disable")
@click.argument("name")
@admin_options
@click.pass_obj
def user_disable(state: CliState, name: str) -> None:
    """Disable NAME: its keys and links stop working at once."""
    _set_status(state, name, Status.DISABLED, "Disabled")


@user_group.command("enable")
@click.argument("name")
@admin_options
@click.pass_obj
def user_enable(state: CliState, name: str) -> None:
    """Enable NAME again."""
    _set_status(state, name, Status.ACTIVE, "Enabled")


@user_group.command("delete")
@click.argument("name")
@admin_options
@click.pass_obj
def user_delete(state: CliState, name: str) -> None:
    """Delete NAME with its keys and grants (refused while it owns buckets)."""
    with open_backend(state) as backend:
        emit_object(state.json, backend.delete_user(name), f"Deleted user {name}.")
