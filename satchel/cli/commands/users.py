"""``satchel admin user``: users of an account (role admin or member, optional password).

The password is stored (argon2id) for the web console, which is not built yet: today no request logs in
with it; access keys are what S3 clients and the management API use."""

from __future__ import annotations

import sys

import click

from satchel.cli.options import CliState, admin_options
from satchel.cli.output import emit_object, emit_rows, user_row
from satchel.cli.session import account_names, admin_store
from satchel.core import identity
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
@click.option("--account", "account_name", required=True, help="Account (by name) the user belongs to.")
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
    with admin_store(state.settings()) as store:
        account = identity.account_by_name(store, account_name)
        user = identity.create_user(store, account.id, name, Role(role), password)
        emit_object(state.json, user_row(user, {account.id: account.name}),
                    f"Created user {user.name} ({user.role.value}) in account {account.name}.")


@user_group.command("list")
@click.option("--account", "account_name", default=None, help="Only the users of this account.")
@admin_options
@click.pass_obj
def user_list(state: CliState, account_name: str | None) -> None:
    """List users."""
    with admin_store(state.settings()) as store:
        account_id = identity.account_by_name(store, account_name).id if account_name is not None else None
        names = account_names(store)
        rows = [user_row(u, names) for u in identity.list_users(store, account_id)]
        emit_rows(state.json, rows, USER_COLUMNS, "Users")


def _set_status(state: CliState, name: str, status: Status, verb: str) -> None:
    with admin_store(state.settings()) as store:
        user = identity.set_user_status(store, identity.user_by_name(store, name).id, status)
        emit_object(state.json, user_row(user, account_names(store)), f"{verb} user {user.name}.")


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
    with admin_store(state.settings()) as store:
        user = identity.user_by_name(store, name)
        identity.delete_user(store, user.id)
        emit_object(state.json, {"id": user.id, "name": user.name, "deleted": True}, f"Deleted user {name}.")
