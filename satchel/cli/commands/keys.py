"""``satchel admin key``: S3 access keys (SigV4/SigV2). Secrets are shown once, at creation."""

from __future__ import annotations

import click

from satchel.cli.backends import admin_options, open_backend
from satchel.cli.options import CliState
from satchel.cli.output import emit_object, emit_rows
from satchel.core.models import Status

KEY_COLUMNS = (("access_key_id", "Access key id"), ("user", "User"), ("status", "Status"),
               ("created", "Created"))


@click.group("key")
def key_group() -> None:
    """Create, list, disable, enable and delete access keys.

    Disabling or deleting a key stops it, and every presigned URL signed with it, at once.
    """


@key_group.command("create")
@click.argument("user")
@admin_options
@click.pass_obj
def key_create(state: CliState, user: str) -> None:
    """Create an access key for USER and print its secret (only this once)."""
    with open_backend(state) as backend:
        owner, row = backend.create_key(user)
        emit_object(state.json, row, f"Created an access key for {owner}. The secret is shown only this once:")


@key_group.command("list")
@click.argument("user", required=False)
@admin_options
@click.pass_obj
def key_list(state: CliState, user: str | None) -> None:
    """List access keys (of USER when given). Secrets are never shown."""
    with open_backend(state) as backend:
        emit_rows(state.json, backend.keys(user), KEY_COLUMNS, "Access keys")


def _set_status(state: CliState, access_key_id: str, status: Status, verb: str) -> None:
    with open_backend(state) as backend:
        emit_object(state.json, backend.set_key_status(access_key_id, status.value),
                    f"{verb} access key {access_key_id}.")


@key_group.command("disable")
@click.argument("access_key_id")
@admin_options
@click.pass_obj
def key_disable(state: CliState, access_key_id: str) -> None:
    """Disable ACCESS_KEY_ID: requests and links signed with it are refused."""
    _set_status(state, access_key_id, Status.DISABLED, "Disabled")


@key_group.command("enable")
@click.argument("access_key_id")
@admin_options
@click.pass_obj
def key_enable(state: CliState, access_key_id: str) -> None:
    """Enable ACCESS_KEY_ID again."""
    _set_status(state, access_key_id, Status.ACTIVE, "Enabled")


@key_group.command("delete")
@click.argument("access_key_id")
@admin_options
@click.pass_obj
def key_delete(state: CliState, access_key_id: str) -> None:
    """Delete ACCESS_KEY_ID for good."""
    with open_backend(state) as backend:
        backend.delete_key(access_key_id)
        emit_object(state.json, {"access_key_id": access_key_id, "deleted": True},
                    f"Deleted access key {access_key_id}.")
