"""``satchel admin grant``: read or read-write on a bucket, or on the keys under a prefix of it."""

from __future__ import annotations

import click

from satchel.cli.backends import admin_options, open_backend
from satchel.cli.options import CliState
from satchel.cli.output import emit_object, emit_rows
from satchel.core.models import Permission

GRANT_COLUMNS = (("id", "Id"), ("user", "User"), ("bucket", "Bucket"), ("prefix", "Prefix"),
                 ("permission", "Permission"), ("share", "Share"), ("created", "Created"))


@click.group("grant")
def grant_group() -> None:
    """Give users of any account access to a bucket or a prefix of it.

    read: list (within the prefix) and download; read-write: also upload and delete. --share: the user
    may also hand out links (presigned URLs, minted links, POST forms) for what the grant gives; without
    it, links the user signs are refused when used (unless the bucket's sharing is "any"). Grants never
    give bucket administration. Granting the same (user, bucket, prefix) again replaces the permission
    and the share right.
    """


@grant_group.command("add")
@click.argument("user")
@click.argument("bucket")
@click.option("--prefix", default="", help="Only keys starting with this prefix (default: whole bucket).")
@click.option("--permission", type=click.Choice([p.value for p in Permission]), required=True)
@click.option("--share", is_flag=True, default=False,
              help="Also let the user hand out links for what this grant gives (default: no).")
@admin_options
@click.pass_obj
def grant_add(state: CliState, user: str, bucket: str, prefix: str, permission: str, share: bool) -> None:
    """Grant USER PERMISSION on BUCKET (or on --prefix of it)."""
    with open_backend(state) as backend:
        row = backend.add_grant(user, bucket, permission, prefix, share)
        where = f"{bucket}/{prefix}*" if prefix else bucket
        sharing = " with the right to share it" if row["share"] else ""
        emit_object(state.json, row, f"Granted {row['permission']} on {where} to {row['user']}{sharing}.")


@grant_group.command("list")
@click.option("--user", default=None, help="Only the grants of this user.")
@click.option("--bucket", default=None, help="Only the grants on this bucket.")
@admin_options
@click.pass_obj
def grant_list(state: CliState, user: str | None, bucket: str | None) -> None:
    """List grants."""
    with open_backend(state) as backend:
        emit_rows(state.json, backend.grants(user, bucket), GRANT_COLUMNS, "Grants")


@grant_group.command("remove")
@click.argument("grant_id")
@admin_options
@click.pass_obj
def grant_remove(state: CliState, grant_id: str) -> None:
    """Remove the grant GRANT_ID (see `grant list`); it stops applying at once."""
    with open_backend(state) as backend:
        backend.remove_grant(grant_id)
        emit_object(state.json, {"id": grant_id, "removed": True}, f"Removed grant {grant_id}.")
